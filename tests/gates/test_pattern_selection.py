"""Pattern selection for the edit loop (``make synth PATTERNS=network``,
``cdk synth -c patterns=network``): only the chosen patterns' stacks and the stacks they
depend on are built, each exactly as in the full synth, gates included; an unknown name
is one line naming the valid ones; without a selection everything is built."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import aws_cdk as cdk
import pytest

import app as entry_point
from org_config import load_config
from org_config.patterns import PATTERNS, parse_patterns
from stacks.organization_app import build_organization
from tests.support.synthesis import ROOT, Synthesis, new_app, synthesize, temporary_outdir
from tools import synth as make_synth
from tools.check import run_gates

# Which stacks of the example belong to which pattern, by name.
MEMBERS: dict[str, tuple[str, ...]] = {
    "organization": (
        "log-archive-baseline-",
        "organization-",
        "identity-center-",
        "audit-services-",
        "stackset-member-roles/",
    ),
    "network": ("network-",),
    "disaster-recovery": ("dr-",),
    "object-index": ("object-index-",),
    "streaming": ("streaming-",),
}
UNKNOWN = (
    "patterns: unknown pattern 'netwrk'; the patterns are "
    "organization, network, disaster-recovery, object-index, streaming"
)


def _dependencies(outdir: Path) -> dict[str, set[str]]:
    """Stack name -> the stacks it depends on, from the assembly's manifest."""
    artifacts = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))["artifacts"]
    names = {aid: a.get("displayName", aid) for aid, a in artifacts.items() if a["type"] == "aws:cloudformation:stack"}
    return {names[aid]: {names[d] for d in artifacts[aid].get("dependencies", []) if d in names} for aid in names}


def _closure(members: set[str], dependencies: dict[str, set[str]]) -> set[str]:
    found = set(members)
    while extra := {d for name in found for d in dependencies.get(name, set())} - found:
        found |= extra
    return found


@pytest.fixture(scope="module")
def selections() -> dict[str, Synthesis]:
    """The example organization synthesized once per pattern, alone."""
    config = load_config()
    result: dict[str, Synthesis] = {}
    for pattern in PATTERNS:
        outdir = temporary_outdir(f"cdk-out-{pattern}-")
        app = new_app(outdir)
        build_organization(app, config, patterns={pattern})
        result[pattern] = synthesize(app, outdir)
    return result


def test_a_selection_builds_its_patterns_stacks_and_the_stacks_they_depend_on_as_the_full_synth(
    selections: dict[str, Synthesis], synthesis: Synthesis
) -> None:
    dependencies = _dependencies(synthesis.outdir)
    full = {stack.name: stack for stack in synthesis.stacks}
    seen: set[str] = set()
    for pattern, selected in selections.items():
        members = {name for name in full if name.startswith(MEMBERS[pattern])}
        assert members, pattern
        built = {stack.name for stack in selected.stacks}
        closure = _closure(members, dependencies)
        assert closure <= built, pattern
        # Beyond the closure, only more stacks of the patterns it touches: a pattern's stacks
        # are built together (the network's peering stacks with its hub, for DR's subnets).
        touched = {other for other, prefixes in MEMBERS.items() if any(n.startswith(prefixes) for n in closure)}
        assert all(any(n.startswith(MEMBERS[other]) for other in touched) for n in built - closure), pattern
        seen |= members
        assert selected.validation_error is None, selected.validation_error  # cdk-nag ran and passed
        for stack in selected.stacks:  # byte for byte, cdk-nag's records included
            assert stack.template_path.read_bytes() == full[stack.name].template_path.read_bytes(), stack.name
    # The delivery pipeline deploys the whole organization, so no selection builds it.
    pipeline = {name for name in full if name.startswith("delivery-pipeline-")}
    assert seen == set(full) - pipeline, "every stack of the full synth belongs to a pattern"


def test_the_dependency_rule_adds_stacks_that_a_pattern_alone_would_miss(selections: dict[str, Synthesis]) -> None:
    """The example puts streaming and DR in the object index's account, and the network's
    flow logs go to the log archive: those dependencies are built with them."""
    streaming = {stack.name for stack in selections["streaming"].stacks}
    assert "object-index-api-eu-west-1" in streaming
    assert "log-archive-baseline-eu-west-1" in {stack.name for stack in selections["network"].stacks}
    assert {stack.name for stack in selections["object-index"].stacks} == {
        "object-index-api-eu-west-1",
        "object-index-data-eu-west-1",
    }


def test_pattern_names_are_parsed_and_an_unknown_one_is_one_line_naming_the_valid_ones() -> None:
    assert parse_patterns("network, streaming") == {"network", "streaming"}
    assert parse_patterns(None) is None
    assert parse_patterns(" ") is None
    with pytest.raises(ValueError) as failed:
        parse_patterns("network,netwrk")
    assert str(failed.value) == UNKNOWN
    with pytest.raises(ValueError, match=r"^patterns: a comma-separated list of names"):
        parse_patterns(["network"])


def test_cdk_synth_with_an_unknown_pattern_stops_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """app.py as ``cdk synth -c patterns=network,netwrk`` runs it (the CLI hands the
    context to the app), in-process: it stops before building anything."""
    outdir, real_app = temporary_outdir("cdk-out-unknown-"), cdk.App
    monkeypatch.delenv("CDK_OUTDIR", raising=False)  # no CLI folder: the assembly cache is not consulted
    monkeypatch.setattr(cdk, "App", lambda **_: real_app(outdir=str(outdir), context={"patterns": "network,netwrk"}))
    monkeypatch.setattr("stacks.organization_app.build_organization", _must_not_build)
    with pytest.raises(SystemExit) as stopped:
        entry_point.main()
    assert stopped.value.code == f"error: {UNKNOWN}"


def _must_not_build(*_: object, **__: object) -> None:
    raise AssertionError("an unknown pattern must stop the app before it builds")


def test_make_synth_with_an_unknown_pattern_leaves_cdk_out_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cdk.out"
    out.mkdir()
    (out / "kept").write_text("previous synth")
    assert make_synth.main(["--patterns", "netwrk", "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"error: {UNKNOWN.replace('network,netwrk', 'netwrk')}\n"
    assert (out / "kept").read_text() == "previous synth"


def test_make_synth_passes_the_selection_to_the_app_and_make_check_never_does(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """... and ``make check`` always synthesizes for real (never a copy from the assembly
    cache), while ``make synth`` may reuse one."""
    commands: list[list[str]] = []
    fresh_flags: list[bool] = []

    def recording(
        outdir: Path, config: Path | None, patterns: frozenset[str] | None = None, *, fresh: bool = False
    ) -> object:
        commands.append(make_synth._synth_command(outdir, config, patterns))
        fresh_flags.append(fresh)
        return subprocess.CompletedProcess([], 1, "", "stopped here")

    monkeypatch.setattr(make_synth, "cdk_synth", recording)
    make_synth.main(["--patterns", "streaming,network", "--out", str(tmp_path / "cdk.out")])
    assert commands[-1][-2:] == ["--context", "patterns=network,streaming"]
    make_synth.main(["--out", str(tmp_path / "cdk.out")])
    assert not any("patterns=" in part for part in commands[-1])
    assert fresh_flags == [False, False]
    monkeypatch.setattr("tools.check.cdk_synth", recording)
    run_gates(None, tmp_path, twice=False)
    assert not any("patterns=" in part for part in commands[-1])
    assert fresh_flags[-1] is True
    assert make_synth.cli_environment(fresh=True)["ASSEMBLY_CACHE"] == "off"
    assert "ASSEMBLY_CACHE" not in make_synth.cli_environment() or "ASSEMBLY_CACHE" in os.environ


def test_make_synth_of_one_pattern_through_the_cli(tmp_path: Path) -> None:
    """The whole path: tools.synth, the CDK CLI, app.py with its Control Tower check."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("ORG_CONFIG", None)
    out = tmp_path / "cdk.out"
    result = subprocess.run(
        [sys.executable, "-m", "tools.synth", "--patterns", "object-index", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Synthesized 2 stack(s) for object-index and what it depends on" in result.stdout
    assert sorted(p.name for p in out.glob("*.template.json")) == [
        "object-index-api-eu-west-1.template.json",
        "object-index-data-eu-west-1.template.json",
    ]
