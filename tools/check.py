"""``make check CONFIG=org.yaml``: every gate of the test suite, on your organization.

Synthesizes the organization in the config file and runs the gates the tests run on the
example (the same functions, from :mod:`analysis.gates`): the synth-time cdk-nag and
Control Tower checks, cfn-lint, checkov, the Control Tower rules on every template,
acknowledgement reasons, CloudFormation limits and the resource budget, retention of
stateful resources, offline synthesis, deployability (the order, deploy-time values,
permissions and organization prerequisites of a first deploy), determinism (a second
synth must give identical templates) and the guardrail request table evaluated against
your service control policies. Prints one table (gate, templates, findings) and every
finding; exits 1 on any finding, 2 on an invalid config, and 3, with one line saying why,
when it cannot go on (no CDK CLI, an unreadable assembly, a gate that crashed): never a
traceback.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from analysis.assembly import read_assembly
from analysis.control_tower import FAILED_HEADER
from analysis.gates import Finding, determinism, guardrail_table, run_template_gates
from org_config import ConfigError, load_config
from tools.synth import cdk_synth, selected_config, start_cdk_synth


def synth_time_findings(outdir: Path, stderr: str) -> list[Finding]:
    """What failed the synth: cdk-nag's report, else the CLI's own error. (A Control Tower
    failure leaves the templates written; the template gates report it in detail.)"""
    if FAILED_HEADER in stderr:
        return []
    report = outdir / "policy-validation-report.json"
    if not report.exists():
        return [Finding("synth", "-", (stderr.strip().splitlines() or ["cdk synth failed"])[-1])]
    return [
        Finding("cdk-nag", construct["constructPath"].split("/")[0], violation["description"])
        for plugin in json.loads(report.read_text(encoding="utf-8"))["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]


def run_gates(config_path: Path | None, workdir: Path, *, twice: bool = True) -> tuple[dict[str, int], list[Finding]]:
    """Synthesize and gate the organization; (templates per gate, findings). The second
    synth, for determinism, runs while the gates read the first one."""
    config = load_config(config_path)
    first = workdir / "first"
    result = cdk_synth(first, config_path, fresh=True)
    findings = synth_time_findings(first, result.stderr) if result.returncode != 0 else []
    if not (first / "manifest.json").exists():
        return {"synth": 0}, findings
    second = start_cdk_synth(workdir / "second", config_path, fresh=True) if twice else None
    stacks = read_assembly(first)
    templates: dict[str, int] = {"synth (cdk-nag, control-tower)": len(stacks)}
    for name, gate_findings in run_template_gates(stacks).items():
        templates[name] = len(stacks)
        findings += gate_findings
    templates["guardrails"] = 1
    findings += _guarded("guardrails", lambda: guardrail_table(config, stacks))
    if second is not None:
        templates["determinism"] = len(stacks)
        if second.wait() != 0:
            findings.append(Finding("determinism", "-", "the second synth failed"))
        else:
            findings += determinism(stacks, read_assembly(workdir / "second"))
    return templates, findings


def _guarded(gate: str, run: Callable[[], list[Finding]]) -> list[Finding]:
    """The gate's findings; a gate that cannot evaluate this organization is itself a
    finding of that gate, so the table is still printed."""
    try:
        return run()
    except (ValueError, KeyError, LookupError) as error:
        return [Finding(gate, "-", f"the gate cannot evaluate this organization: {_one_line(error)}")]


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or "no detail"
    return f"{type(error).__name__}: {text}" if not isinstance(error, ConfigError) else text


def render(templates: dict[str, int], findings: list[Finding]) -> str:
    per_gate = Counter(f.gate for f in findings)
    rows = [("gate", "templates", "findings")]
    rows += [(gate, str(count), str(per_gate.get(gate, 0))) for gate, count in templates.items()]
    rows += [(gate, "-", str(n)) for gate, n in per_gate.items() if gate not in templates]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join([*lines, *([""] if findings else []), *(str(f) for f in findings)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--config", help="the organization's config file (default: ORG_CONFIG, else the example)")
    args = parser.parse_args(argv)
    config_path = selected_config(args.config)
    workdir = Path(tempfile.mkdtemp(prefix="check-"))
    try:
        templates, findings = run_gates(config_path, workdir)
    except ConfigError as error:
        print(f"config error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # anything else that stops the check: one line, not a traceback
        print(f"check cannot go on: {_one_line(error)}", file=sys.stderr)
        return 3
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(render(templates, findings))
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
