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
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from analysis.assembly import read_assembly
from analysis.result_cache import ResultCache, digest

PACKAGE = "cdklabs.cdk-validator-cfnguard"
METADATA_KEY = "control_tower"
# The first line of the synth-time failure (``cdk_constructs.gates.check_control_tower``).
FAILED_HEADER = "Control Tower proactive controls failed:"
# Where results are cached (default: .cache/control-tower/ in the project), and the
# version of the cache key's layout.
CACHE_ENV = "CONTROL_TOWER_CACHE"
CACHE_FORMAT = "control-tower-results/1"
ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_LEVEL = "(template)"
CONTROL_ID = re.compile(r"CT\.[A-Z0-9-]+\.PR\.\d+")
_PRIMARY_RULE = re.compile(r"^rule (\w+) when is_cfn_template", re.MULTILINE)
_RESOURCE_TYPE = re.compile(r"[\"'](AWS::[A-Za-z0-9]+::[A-Za-z0-9]+)[\"']")
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
    # Unpacked beside the target and renamed into place, so a process never reads a folder
    # another process is still writing (the synth and the tests may unpack at once).
    staging = Path(tempfile.mkdtemp(prefix=f"{target.name}.", dir=target.parent))
    with tarfile.open(tarball) as archive:
        members = [m for m in archive.getmembers() if m.name == wanted[0] or m.name.startswith(wanted[1])]
        archive.extractall(staging, members=members, filter="data")
    (staging / wanted[0]).chmod(0o755)
    (staging / ".complete").touch()
    if target.exists() and not marker.exists():
        shutil.rmtree(target, ignore_errors=True)  # left half-written by an older unpacking
    try:
        staging.rename(target)
    except OSError:  # another process put a complete copy there first
        shutil.rmtree(staging, ignore_errors=True)
        if not marker.exists():
            raise
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


def rules_for(resource_types: Iterable[str]) -> list[Path]:
    """The bundled rule files that can judge templates holding ``resource_types``."""
    return Toolchain.bundled().rules_for(resource_types)


def _stamp(path: Path) -> tuple[str, int, int]:
    status = path.stat()
    return str(path), status.st_mtime_ns, status.st_size


@functools.cache
def _rule_files(directory: Path, stamp: tuple[str, int, int]) -> dict[Path, tuple[frozenset[str], str]]:
    """Every rule file under ``directory`` (as of ``stamp``), with the resource types it
    judges and a digest of its name and text."""
    files: dict[Path, tuple[frozenset[str], str]] = {}
    for path in sorted(directory.glob("*/*.guard")):
        data = path.read_bytes()
        types = frozenset(_RESOURCE_TYPE.findall(data.decode("utf-8")))
        files[path] = (types, digest(str(path.relative_to(directory)), data))
    return files


@functools.cache
def _fingerprint(binary: Path, stamp: tuple[str, int, int]) -> str:
    """What, besides the template and the rules, decides a result: cfn-guard's version,
    the package's, and this module's own text (which reads cfn-guard's report)."""
    run = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=False)  # noqa: S603
    if run.returncode != 0 or not run.stdout.strip():
        raise RuntimeError(f"cfn-guard did not run (--version exit {run.returncode}): {run.stderr.strip()[-500:]}")
    return digest(run.stdout.strip(), metadata.version(PACKAGE), Path(__file__).read_bytes())


@dataclass(frozen=True)
class Toolchain:
    """A cfn-guard binary and the folder of Control Tower rules it runs."""

    binary: Path
    rules: Path

    @staticmethod
    def bundled() -> Toolchain:
        return Toolchain(guard_binary(), rules_directory())

    def _files(self) -> dict[Path, tuple[frozenset[str], str]]:
        files = _rule_files(self.rules, _stamp(self.rules)) if self.rules.is_dir() else {}
        if not files:  # no rule would run, and every template would look compliant
            raise RuntimeError(f"cfn-guard did not run: no rule files (*/*.guard) in {self.rules}")
        return files

    def rules_for(self, resource_types: Iterable[str], *, every_rule: bool = False) -> list[Path]:
        """The rule files that can judge a template holding ``resource_types``: those that
        name one of them (or name no type at all); every file with ``every_rule``. A rule
        whose type is absent would only skip, and leaving it out makes a run several times
        faster (cfn-guard parses every rule it is given)."""
        present = set(resource_types)
        return [path for path, (types, _) in self._files().items() if every_rule or not types or types & present]

    def key(self, template: bytes, rules: Sequence[Path]) -> str:
        """The cache key of ``template`` judged by ``rules`` with this cfn-guard."""
        files = self._files()
        return digest(
            CACHE_FORMAT, _fingerprint(self.binary, _stamp(self.binary)), *(files[r][1] for r in rules), template
        )

    def run(self, template: Path, rules: Sequence[Path]) -> list[Finding]:
        """cfn-guard on one template; every finding, exempt or not. Raises unless cfn-guard
        ran and reported on exactly this template in agreement with its exit code."""
        if not rules:
            return []  # no rule judges any resource type in it
        template = template.resolve()  # cfn-guard names each report by the absolute path of its data
        args = [str(self.binary), "validate"]
        for rule in rules:
            args += ["--rules", str(rule)]
        args += ["--data", str(template), "--output-format", "json", "--show-summary", "none", "--structured"]
        run = subprocess.run(args, capture_output=True, text=True, check=False)  # noqa: S603 - our own binary
        # cfn-guard exits 19 when a rule fails, 0 when all pass; anything else is an error.
        # A rule file it cannot parse is skipped with a message on stderr, and the exit is
        # 5 only when no other rule failed, so a normal run (which writes nothing to stderr)
        # is told apart by both.
        if run.returncode not in (0, 19) or run.stderr.strip():
            raise RuntimeError(
                f"cfn-guard did not run on {template.name} (exit {run.returncode}): {run.stderr.strip()[-2000:]}"
            )
        try:
            reports = json.loads(run.stdout)
        except ValueError:
            raise RuntimeError(f"cfn-guard did not run on {template.name}: its output is not JSON") from None
        if not (isinstance(reports, list) and len(reports) == 1 and reports[0].get("name") == str(template)):
            raise RuntimeError(f"cfn-guard did not report on {template.name}")
        entries = reports[0].get("not_compliant")
        if not isinstance(entries, list):
            raise RuntimeError(f"cfn-guard's report on {template.name} has no list of non-compliant rules")
        findings = [finding for entry in entries for finding in _findings(entry)]
        if (run.returncode == 19) != bool(findings):
            raise RuntimeError(
                f"cfn-guard exited {run.returncode} but its report on {template.name} holds {len(findings)} finding(s)"
            )
        return findings


def default_cache() -> ResultCache:
    """The project's Control Tower cache: ``.cache/control-tower/``, or ``$CONTROL_TOWER_CACHE``."""
    return _cache_at(Path(os.environ.get(CACHE_ENV) or ROOT / ".cache" / "control-tower"))


@functools.cache
def _cache_at(directory: Path) -> ResultCache:
    return ResultCache(directory)


def _decode(cached: Any) -> list[Finding] | None:
    """Findings from a cache entry, or ``None`` for an entry of another shape."""
    if not isinstance(cached, list):
        return None
    if not all(isinstance(item, list) and len(item) == 4 and all(isinstance(x, str) for x in item) for item in cached):
        return None
    return [Finding(*item) for item in cached]


def _types(document: Mapping[str, Any]) -> set[str]:
    return {resource["Type"] for resource in document.get("Resources", {}).values()}


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


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
    # A rule that fails without naming a resource still fails: it is reported on the
    # template as a whole, where no exemption can match it.
    for logical_id in sorted(logical_ids) or [TEMPLATE_LEVEL]:
        yield Finding(control or rule, rule, logical_id, description)


def exemptions(template: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """(logical id, rule) -> reason, from the resources' ``control_tower`` metadata."""
    found: dict[tuple[str, str], str] = {}
    for logical_id, resource in template.get("Resources", {}).items():
        for exempt in resource.get("Metadata", {}).get(METADATA_KEY, {}).get("exempt", []):
            found[(logical_id, exempt["rule"])] = exempt.get("reason", "")
    return found


def evaluate(
    templates: Sequence[Path],
    *,
    every_rule: bool = False,
    toolchain: Toolchain | None = None,
    cache: ResultCache | None = None,
) -> dict[str, Result]:
    """Run the Control Tower rules on ``templates``; results per template file name.

    Each template is judged alone, by only the rules for the resource types it holds,
    which decides the same (a test compares with ``every_rule=True``). A template whose
    bytes, rules and cfn-guard are unchanged since an earlier run anywhere in the project
    (the synth, the tests, ``make check``) takes its findings from the cache; the others
    run in parallel, one cfn-guard process per template and core."""
    toolchain = toolchain or Toolchain.bundled()
    cache = cache if cache is not None else default_cache()
    documents: dict[str, Mapping[str, Any]] = {}
    found: dict[str, list[Finding]] = {}
    pending: list[tuple[Path, list[Path], str]] = []
    for template in templates:
        data = template.read_bytes()
        document = json.loads(data)
        documents[template.name] = document
        rules = toolchain.rules_for(_types(document), every_rule=every_rule)
        key = toolchain.key(data, rules)
        cached = cache.get(key)
        if cached is not None and (findings := _decode(cached)) is not None:
            found[template.name] = findings
        else:
            pending.append((template, rules, key))
    with ThreadPoolExecutor(max_workers=max(1, min(len(pending), _cores()))) as pool:
        runs = pool.map(lambda job: toolchain.run(job[0], job[1]), pending)
        for (template, _, key), findings in zip(pending, runs, strict=True):
            cache.put(key, [[f.control, f.rule, f.logical_id, f.description] for f in findings])
            found[template.name] = findings
    results: dict[str, Result] = {}
    for name, findings in found.items():
        exempt = exemptions(documents[name])
        failed = tuple(f for f in findings if (f.logical_id, f.rule) not in exempt)
        exempted = tuple(f for f in findings if (f.logical_id, f.rule) in exempt)
        results[name] = Result(failed, exempted)
    return results


def unused_exemptions(template: Mapping[str, Any], result: Result) -> list[str]:
    """Exemptions in ``template`` that no finding needed (stale after a fix)."""
    used = {(f.logical_id, f.rule) for f in result.exempted}
    return [f"{logical_id}: {rule}" for (logical_id, rule) in exemptions(template) if (logical_id, rule) not in used]


def describe(findings: Iterable[Finding]) -> list[str]:
    return [f"{f.control} {f.logical_id}: {f.description}" for f in findings]


def assembly_failures(assembly: str | Path) -> list[str]:
    """Every finding without an exemption on the templates of the cloud assembly at
    ``assembly`` (nested assemblies such as the StackSet body included), one line each,
    named by its stack; empty when the assembly passes."""
    stacks = read_assembly(assembly)
    results = evaluate([stack.template_path for stack in stacks])
    return [f"{stack.name}: {line}" for stack in stacks for line in describe(results[stack.template_path.name].failed)]
