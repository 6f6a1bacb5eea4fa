"""The type check reads every aws-cdk-lib module the project imports, and only those.

``pyproject.toml`` skips aws-cdk-lib's other modules (they reach 200 MB of Python through
each other's imports). A skipped module's types are Any, so a module imported without
being listed would pass the type check unchecked: these tests name it.
"""

from __future__ import annotations

import ast
import importlib.util
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
_CDK = Path(next(iter(importlib.util.find_spec("aws_cdk").submodule_search_locations or [])))


def _mypy() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]


def _read_modules() -> set[str]:
    """The aws_cdk modules the type check reads: those with ``follow_imports = "normal"``."""
    overrides = _mypy()["overrides"]
    skipped = [o for o in overrides if o.get("follow_imports") == "skip"]
    assert [o["module"] for o in skipped] == [["aws_cdk.*"]], skipped
    return {m for o in overrides if o.get("follow_imports") == "normal" for m in o["module"]}


def imported_cdk_modules(files: list[Path]) -> set[str]:
    """Every aws_cdk module these files import: ``import aws_cdk.x``, ``from aws_cdk.x
    import ...`` and ``from aws_cdk import x`` where ``x`` is a submodule, not a class."""
    found: set[str] = set()
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names if a.name.split(".")[0] == "aws_cdk"}
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "aws_cdk":
                found.add(node.module)
                if node.module == "aws_cdk":
                    found |= {f"aws_cdk.{a.name}" for a in node.names if (_CDK / a.name / "__init__.py").is_file()}
    return found


def _checked_files() -> list[Path]:
    files: list[Path] = []
    for name in _mypy()["files"]:
        path = ROOT / name
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return files


def test_every_aws_cdk_module_the_project_imports_is_type_checked() -> None:
    missing = imported_cdk_modules(_checked_files()) - _read_modules()
    assert not missing, f"add to the follow_imports = 'normal' list in pyproject.toml: {sorted(missing)}"


def test_the_list_names_only_modules_that_exist_and_are_imported() -> None:
    listed = _read_modules()
    assert {m for m in listed if m != "aws_cdk" and not (_CDK / m.split(".", 1)[1] / "__init__.py").is_file()} == set()
    assert listed - imported_cdk_modules(_checked_files()) == set(), "listed but never imported"


def test_a_submodule_imported_by_name_is_found(tmp_path: Path) -> None:
    source = tmp_path / "stack.py"
    source.write_text(
        "from aws_cdk import Duration, aws_s3 as s3\nimport aws_cdk.aws_sqs\nfrom aws_cdk.aws_sns import Topic\n",
        encoding="utf-8",
    )
    assert imported_cdk_modules([source]) == {"aws_cdk", "aws_cdk.aws_s3", "aws_cdk.aws_sqs", "aws_cdk.aws_sns"}
