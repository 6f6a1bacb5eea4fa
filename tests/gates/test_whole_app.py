"""Gates over the whole app: cdk-nag, determinism and the synth itself."""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path

from tests.support.synthesis import ROOT, Synthesis, temporary_outdir


def test_cdk_nag_has_no_unacknowledged_findings(synthesis: Synthesis) -> None:
    """cdk-nag AwsSolutions runs at synth; any finding not acknowledged fails the synth."""
    if synthesis.validation_error is None:
        return
    lines = [
        f"{v['ruleName']} at {c['constructPath']}: {v['description']}"
        for plugin in synthesis.validation_report["pluginReports"]
        for v in plugin["violations"]
        for c in v["violatingConstructs"]
    ]
    raise AssertionError("cdk-nag findings:\n" + "\n".join(lines or [synthesis.validation_error]))


def test_every_stack_has_an_environment(synthesis: Synthesis) -> None:
    """Account and region come from the config, never from the caller's credentials."""
    assert synthesis.stacks, "the example organization synthesized no stack"
    for stack in synthesis.stacks:
        if stack.environment_agnostic:  # a StackSet body, deployed to the accounts of its OUs
            assert stack.name.startswith("stackset-"), stack.name
            continue
        assert stack.account.isdigit() and len(stack.account) == 12, stack.name
        assert stack.region != "unknown-region", stack.name


def test_cli_synth_is_identical_to_in_process_synth(synthesis: Synthesis) -> None:
    """Determinism, through the real entry point: `cdk synth` in a second process gives
    byte-identical templates to the session's in-process synth."""
    outdir = temporary_outdir("cdk-out-cli-")
    cdk = ROOT / "node_modules" / ".bin" / "cdk"
    env = {
        **os.environ,
        # cdk.json runs `python3 app.py`: the virtualenv's Python and Node come first.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "CDK_DISABLE_VERSION_CHECK": "true",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "ASSEMBLY_CACHE": "off",  # a second real synth, never a copy of an earlier one
    }
    env.pop("ORG_CONFIG", None)
    result = subprocess.run(
        [str(cdk), "synth", "--quiet", "--no-notices", "--output", str(outdir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    names = sorted(str(p.relative_to(outdir)) for p in Path(outdir).glob("**/*.template.json"))
    assert names == sorted(str(s.template_path.relative_to(synthesis.outdir)) for s in synthesis.stacks)
    _, mismatch, errors = filecmp.cmpfiles(outdir, synthesis.outdir, names, shallow=False)
    assert not mismatch and not errors, f"templates differ between two synths: {mismatch + errors}"
