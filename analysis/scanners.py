"""Run cfn-lint and checkov once over a set of templates and index the findings by file.

Both run from this virtualenv's own bin directory, on templates this project wrote.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

_BIN = Path(sys.executable).parent


@functools.cache
def cfn_lint(templates: tuple[Path, ...]) -> dict[str, list[dict[str, Any]]]:
    """cfn-lint findings (errors, warnings and informational) per template file name.

    cfn-lint leaves its informational checks out unless asked (``--include-checks I``);
    they are asked for, so that an informational finding fails the gate like the others."""
    result = subprocess.run(  # noqa: S603 - this virtualenv's cfn-lint
        [str(_BIN / "cfn-lint"), "--format", "json", "--include-checks", "I", "--", *map(str, templates)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode not in (0, 2, 4, 6, 8, 10, 12, 14) or not result.stdout.strip():
        raise RuntimeError(f"cfn-lint did not run: {result.stderr.strip()}")
    findings: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for match in json.loads(result.stdout):
        findings[Path(match["Filename"]).name].append(match)
    return findings


@functools.cache
def checkov(templates: tuple[Path, ...]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """checkov results per template file name: {"failed": [...], "skipped": [...], "passed": [...]}."""
    args = [str(_BIN / "checkov"), "--framework", "cloudformation", "--output", "json", "--skip-download"]
    for template in templates:
        args += ["--file", str(template)]
    # No call home for check metadata: everything here is offline.
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CKV_NO_UPDATE_CHECK": "TRUE"}
    result = subprocess.run(args, capture_output=True, text=True, check=False, env=env)  # noqa: S603 - our checkov
    if result.returncode not in (0, 1) or not result.stdout.strip():
        raise RuntimeError(f"checkov did not run: {result.stderr.strip()[-2000:]}")
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    by_file: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: {"failed": [], "skipped": [], "passed": []}
    )
    for report in reports:
        if report.get("check_type") != "cloudformation":
            continue
        results = report["results"]
        for kind in ("failed", "skipped", "passed"):
            for check in results.get(f"{kind}_checks", []):
                by_file[Path(check["file_path"]).name][kind].append(check)
        if results.get("parsing_errors"):
            raise RuntimeError(f"checkov could not parse: {results['parsing_errors']}")
    return by_file
