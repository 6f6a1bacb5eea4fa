"""AWS Control Tower proactive controls, evaluated offline on synthesized templates.

Control Tower turns its proactive controls on as CloudFormation hooks; the rules behind
them are public cfn-guard rules, shipped with the cfn-guard binary in the
``cdklabs-cdk-validator-cfnguard`` package. The synth runs that package's validation
plugin on the app's stacks; this module runs the same binary and rules on any set of
templates (the StackSet body, which no plugin sees, and every template in the tests and
in ``make check``), so one rule set judges everything we ship.

An exemption is resource metadata written by ``cdk_constructs.gates.exempt_control``::

    "Metadata": {"control_tower": {"exempt": [{"control": "CT.S3.PR.2",
                                               "rule": "s3_bucket_logging_enabled_check",
                                               "reason": "..."}]}}

A finding on a resource that carries an exemption for that rule is reported as exempted,
not as a failure.
"""

from __future__ import annotations

import functools
import json
import platform
import re
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

PACKAGE = "cdklabs.cdk-validator-cfnguard"
METADATA_KEY = "control_tower"
# The first line of the synth-time failure (``cdk_constructs.gates.check_control_tower``).
FAILED_HEADER = "Control Tower proactive controls failed:"
CONTROL_ID = re.compile(r"CT\.[A-Z0-9-]+\.PR\.\d+")
_PRIMARY_RULE = re.compile(r"^rule (\w+) when is_cfn_template", re.MULTILINE)
_RESOURCE_TYPE = re.compile(r'"(AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)"')
_RESOURCE_PATH = re.compile(r"^/Resources/([^/]+)")


@dataclass(frozen=True)
class Finding:
    """One resource that one control's rule does not accept."""

    control: str  # e.g. CT.S3.PR.2
    rule: str  # the cfn-guard rule name, e.g. s3_bucket_logging_enabled_check
    logical_id: str
    description: str


@dataclass(frozen=True)
class Result:
    failed: tuple[Finding, ...]
    exempted: tuple[Finding, ...]


@functools.cache
def _bundle() -> Path:
    """The package's cfn-guard binary and Control Tower rules, unpacked once per version
    into the temporary directory (they ship inside the package's jsii tarball)."""
    version = metadata.version(PACKAGE)
    target = Path(tempfile.gettempdir()) / f"cfn-guard-control-tower-{version}"
    marker = target / ".complete"
    if marker.exists():
        return target
    tarball = next(
        Path(str(entry))
        for entry in resources.files("cdklabs.cdk_validator_cfnguard._jsii").iterdir()
        if entry.name.endswith(".jsii.tgz")
    )
    machine = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}[platform.machine()]
    system = {"linux": "ubuntu", "darwin": "macos"}[sys.platform]
    wanted = (f"package/bin/{system}/{machine}/cfn-guard", "package/rules/control-tower/cfn-guard/")
    with tarfile.open(tarball) as archive:
        members = [m for m in archive.getmembers() if m.name == wanted[0] or m.name.startswith(wanted[1])]
        archive.extractall(target, members=members, filter="data")
    (target / wanted[0]).chmod(0o755)
    marker.touch()
    return target


def guard_binary() -> Path:
    return next((_bundle() / "package" / "bin").glob("*/*/cfn-guard"))


def rules_directory() -> Path:
    return _bundle() / "package" / "rules" / "control-tower" / "cfn-guard"


@functools.cache
def rule_names() -> dict[str, str]:
    """Control id (CT.S3.PR.2) -> the cfn-guard rule that implements it."""
    names: dict[str, str] = {}
    for path in sorted(rules_directory().glob("*/*.guard")):
        text = path.read_text(encoding="utf-8")
        controls = set(CONTROL_ID.findall(text))
        rules = set(_PRIMARY_RULE.findall(text))
        if len(controls) == 1 and len(rules) == 1:
            names[controls.pop()] = rules.pop()
    return names


@functools.cache
def _rule_files() -> dict[Path, frozenset[str]]:
    """Every rule file, with the resource types it judges."""
    return {
        path: frozenset(_RESOURCE_TYPE.findall(path.read_text(encoding="utf-8")))
        for path in sorted(rules_directory().glob("*/*.guard"))
    }


def rules_for(resource_types: Iterable[str]) -> list[Path]:
    """The rule files that can judge templates holding ``resource_types``: those that name
    one of them (or name no type at all). A rule whose type is absent would only skip, and
    leaving it out makes a run several times faster (cfn-guard parses every rule it is given)."""
    present = set(resource_types)
    return [path for path, types in _rule_files().items() if not types or types & present]


def _walk(node: Any) -> Iterator[Mapping[str, Any]]:
    if isinstance(node, Mapping):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _findings(entry: Mapping[str, Any]) -> Iterator[Finding]:
    """The (control, resource) pairs in one not-compliant rule of cfn-guard's output."""
    rule = entry.get("Rule", {}).get("name", "")
    control, description = "", ""
    logical_ids: set[str] = set()
    for node in _walk(entry):
        message = (node.get("messages") or {}).get("custom_message") if "messages" in node else None
        if message and not control:
            match = CONTROL_ID.search(message)
            if match:
                control = match.group(0)
                description = next((line.strip() for line in message.splitlines() if match.group(0) in line), "")
        path = node.get("path")
        if isinstance(path, str) and (resource := _RESOURCE_PATH.match(path)):
            logical_ids.add(resource.group(1))
    for logical_id in sorted(logical_ids):
        yield Finding(control or rule, rule, logical_id, description)


def exemptions(template: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """(logical id, rule) -> reason, from the resources' ``control_tower`` metadata."""
    found: dict[tuple[str, str], str] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        for exempt in resource.get("Metadata", {}).get(METADATA_KEY, {}).get("exempt", []):
            found[(logical_id, exempt["rule"])] = exempt.get("reason", "")
    return found


def evaluate(templates: Sequence[Path], *, every_rule: bool = False) -> dict[str, Result]:
    """Run the Control Tower rules on ``templates``; results per template file name.

    Only the rules that judge a resource type present are given to cfn-guard, which
    decides the same (a test compares with ``every_rule=True``)."""
    return _evaluate(tuple(templates), every_rule)


@functools.cache
def _evaluate(templates: tuple[Path, ...], every_rule: bool) -> dict[str, Result]:
    if not templates:
        return {}
    documents = {template.name: json.loads(template.read_text(encoding="utf-8")) for template in templates}
    types = {r["Type"] for document in documents.values() for r in document.get("Resources", {}).values()}
    args = [str(guard_binary()), "validate"]
    for rules in [rules_directory()] if every_rule else rules_for(types):
        args += ["--rules", str(rules)]
    for template in templates:
        args += ["--data", str(template)]
    args += ["--output-format", "json", "--show-summary", "none", "--structured"]
    run = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603 - our own binary
    # cfn-guard exits 19 when a rule fails, 0 when all pass; anything else is an error.
    if run.returncode not in (0, 19) or not run.stdout.strip():
        raise RuntimeError(f"cfn-guard did not run (exit {run.returncode}): {run.stderr.strip()[-2000:]}")
    results: dict[str, Result] = {}
    for report in json.loads(run.stdout):
        name = Path(report["name"]).name
        exempt = exemptions(documents[name])
        failed: list[Finding] = []
        exempted: list[Finding] = []
        for entry in report.get("not_compliant", []):
            for finding in _findings(entry):
                (exempted if (finding.logical_id, finding.rule) in exempt else failed).append(finding)
        results[name] = Result(tuple(failed), tuple(exempted))
    for name in documents:
        results.setdefault(name, Result((), ()))
    return results


def unused_exemptions(template: Mapping[str, Any], result: Result) -> list[str]:
    """Exemptions in ``template`` that no finding needed (stale after a fix)."""
    used = {(f.logical_id, f.rule) for f in result.exempted}
    return [f"{logical_id}: {rule}" for (logical_id, rule) in exemptions(template) if (logical_id, rule) not in used]


def describe(findings: Iterable[Finding]) -> list[str]:
    return [f"{f.control} {f.logical_id}: {f.description}" for f in findings]
