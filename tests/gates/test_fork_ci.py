"""The workflow and pre-commit hooks offered to forks run what the README promises.

The repository's own CI calls ``.ci/run``; a fork on GitHub gets ``.github/workflows/``
and ``.pre-commit-config.yaml`` instead. These tests keep them from drifting away from the
README's test command and from the linters ``make test`` runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def _readme_test_command() -> str:
    first_block = re.search(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines()]
    test_commands = [c for c in commands if c.endswith(" test")]
    assert len(test_commands) == 1, commands
    return test_commands[0]


def _workflow() -> dict[Any, Any]:
    files = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert files, "no workflow for forks"
    return {path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in files}


def test_a_workflow_runs_the_readme_test_command_on_pull_requests() -> None:
    command = _readme_test_command()
    runs_it = []
    for name, workflow in _workflow().items():
        triggers = workflow.get(True, workflow.get("on"))  # YAML 1.1 reads a bare `on` as True
        if "pull_request" not in triggers:
            continue
        steps = [step for job in workflow["jobs"].values() for step in job["steps"]]
        if any(step.get("run", "").strip() == command for step in steps):
            runs_it.append(name)
    assert runs_it, f"no workflow runs `{command}` on pull requests"


def test_the_workflow_may_only_read_the_repository() -> None:
    for workflow in _workflow().values():
        assert workflow["permissions"] == {"contents": "read"}


def _make_test_linters() -> set[str]:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\ntest: ", 1)[1].split("\n\n", 1)[0]
    tools = set()
    for tool in ("ruff check", "ruff format --check", "mypy"):
        if f"$(BIN)/{tool}" in recipe:
            tools.add(tool)
    return tools


def test_pre_commit_runs_the_linters_make_test_runs() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    entries = [hook["entry"] for repo in config["repos"] for hook in repo["hooks"]]
    linters = _make_test_linters()
    assert linters == {"ruff check", "ruff format --check", "mypy"}
    for tool in linters:
        assert any(entry.startswith(f".venv/bin/{tool}") for entry in entries), tool
