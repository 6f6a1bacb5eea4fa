"""The Control Tower runner: its cache can cost time but never hide a finding, and a
cfn-guard that did not run (or did not report on a template) fails the gate instead of
passing it. Plain templates, no synth: the real cfn-guard and rules, or a fake binary."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from analysis import control_tower
from analysis.control_tower import Finding, Toolchain
from analysis.result_cache import ResultCache
from cdk_constructs.gates import check_control_tower

# A queue with a dead-letter queue and a KMS key: no SQS control fails on it.
_QUEUE = {
    "Type": "AWS::SQS::Queue",
    "Properties": {
        "KmsMasterKeyId": "alias/aws/sqs",
        "RedrivePolicy": {"deadLetterTargetArn": "arn:aws:sqs:eu-west-1:111111111111:dead", "maxReceiveCount": 3},
    },
}


def _template(path: Path, *, dead_letter_queue: bool = True) -> Path:
    queue: dict[str, Any] = json.loads(json.dumps(_QUEUE))
    if not dead_letter_queue:
        del queue["Properties"]["RedrivePolicy"]
    path.write_text(json.dumps({"Resources": {"Queue": queue}}), encoding="utf-8")
    return path


def _controls(results: dict[str, control_tower.Result], name: str) -> set[tuple[str, str]]:
    return {(f.control, f.logical_id) for f in results[name].failed}


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the templates cfn-guard is actually run on, in order."""
    seen: list[str] = []
    real = Toolchain.run

    def counting(self: Toolchain, template: Path, rules: list[Path]) -> list[Finding]:
        seen.append(template.name)
        return real(self, template, rules)

    monkeypatch.setattr(Toolchain, "run", counting)
    return seen


def test_an_unchanged_template_comes_from_the_cache_and_a_changed_one_is_evaluated_again(
    tmp_path: Path, runs: list[str]
) -> None:
    template = _template(tmp_path / "queue.template.json")
    cache_dir = tmp_path / "cache"
    assert _controls(control_tower.evaluate([template], cache=ResultCache(cache_dir)), template.name) == set()
    # A new process (a fresh cache object on the same folder) does not run cfn-guard again.
    assert _controls(control_tower.evaluate([template], cache=ResultCache(cache_dir)), template.name) == set()
    assert runs == [template.name]
    _template(template, dead_letter_queue=False)
    changed = control_tower.evaluate([template], cache=ResultCache(cache_dir))
    assert _controls(changed, template.name) == {("CT.SQS.PR.1", "Queue")}
    assert runs == [template.name, template.name]


def _assembly(outdir: Path, *, dead_letter_queue: bool) -> Path:
    outdir.mkdir(exist_ok=True)
    _template(outdir / "queues.template.json", dead_letter_queue=dead_letter_queue)
    manifest = {
        "version": "48.0.0",
        "artifacts": {
            "queues": {
                "type": "aws:cloudformation:stack",
                "environment": "aws://111111111111/eu-west-1",
                "properties": {"templateFile": "queues.template.json"},
            }
        },
    }
    (outdir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return outdir


def test_a_new_finding_in_a_changed_template_fails_the_synth_despite_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, runs: list[str]
) -> None:
    """The synth-time gate (what ``app.py`` runs after ``app.synth()``) on the shared cache."""
    monkeypatch.setenv(control_tower.CACHE_ENV, str(tmp_path / "shared-cache"))
    assembly = _assembly(tmp_path / "cdk.out", dead_letter_queue=True)
    check_control_tower(assembly)
    check_control_tower(assembly)
    assert len(runs) == 1
    assert len(list((tmp_path / "shared-cache").glob("*.json"))) == 1
    _assembly(assembly, dead_letter_queue=False)
    with pytest.raises(RuntimeError, match=control_tower.FAILED_HEADER) as failed:
        check_control_tower(assembly)
    assert "queues: CT.SQS.PR.1 Queue" in str(failed.value)


def _forge_empty(entry: dict[str, Any]) -> dict[str, Any]:
    return {**entry, "result": []}  # the finding removed, the check left as it was


def _rename_key(entry: dict[str, Any]) -> dict[str, Any]:
    return {**entry, "key": "0" * 64}  # an entry of another template copied over this one


CORRUPTIONS: dict[str, Callable[[Path], object]] = {
    "findings removed": lambda path: path.write_text(json.dumps(_forge_empty(json.loads(path.read_text())))),
    "other key": lambda path: path.write_text(json.dumps(_rename_key(json.loads(path.read_text())))),
    "truncated": lambda path: path.write_text(path.read_text()[:40]),
    "not text": lambda path: path.write_bytes(b"\xff\xfe\x00garbage"),
    "emptied": lambda path: path.write_text(""),
}


@pytest.mark.parametrize("corrupt", list(CORRUPTIONS.values()), ids=list(CORRUPTIONS))
def test_a_corrupted_cache_entry_is_evaluated_again(
    tmp_path: Path, runs: list[str], corrupt: Callable[[Path], object]
) -> None:
    template = _template(tmp_path / "queue.template.json", dead_letter_queue=False)
    cache_dir = tmp_path / "cache"
    control_tower.evaluate([template], cache=ResultCache(cache_dir))
    (entry,) = cache_dir.glob("*.json")
    corrupt(entry)
    results = control_tower.evaluate([template], cache=ResultCache(cache_dir))
    assert _controls(results, template.name) == {("CT.SQS.PR.1", "Queue")}
    assert runs == [template.name, template.name]
    # The entry was rewritten whole: the next run takes it from the cache again.
    control_tower.evaluate([template], cache=ResultCache(cache_dir))
    assert len(runs) == 2


def test_an_entry_of_another_shape_with_a_valid_check_is_evaluated_again(tmp_path: Path, runs: list[str]) -> None:
    """A verified entry whose result is not a list of findings (another cache format)."""
    template = _template(tmp_path / "queue.template.json", dead_letter_queue=False)
    cache = ResultCache(tmp_path / "cache")
    control_tower.evaluate([template], cache=cache)
    (entry,) = (tmp_path / "cache").glob("*.json")
    ResultCache(tmp_path / "cache").put(entry.stem, {"failed": []})
    results = control_tower.evaluate([template], cache=ResultCache(tmp_path / "cache"))
    assert _controls(results, template.name) == {("CT.SQS.PR.1", "Queue")}
    assert len(runs) == 2


def test_each_template_is_judged_only_by_the_rules_for_its_own_resource_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = _template(tmp_path / "queue.template.json")
    bucket = tmp_path / "bucket.template.json"
    bucket.write_text(json.dumps({"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}}), encoding="utf-8")
    given: dict[str, set[str]] = {}
    real = Toolchain.run

    def recording(self: Toolchain, template: Path, rules: list[Path]) -> list[Finding]:
        given[template.name] = {rule.parent.name for rule in rules}
        return real(self, template, rules)

    monkeypatch.setattr(Toolchain, "run", recording)
    results = control_tower.evaluate([queue, bucket], cache=ResultCache(None))
    assert given[queue.name] == {"sqs"}
    assert "s3" in given[bucket.name] and "sqs" not in given[bucket.name]
    assert ("CT.S3.PR.2", "Bucket") in _controls(results, bucket.name)
    assert _controls(results, queue.name) == set()


# A stand-in for cfn-guard: answers --version, then prints the report in REPORT (with
# {data} replaced by the template path it was given) and exits with EXIT.
_FAKE = """#!{python}
import sys
if sys.argv[1:] == ["--version"]:
    print("cfn-guard 3.1.1")
    sys.exit(0)
data = sys.argv[sys.argv.index("--data") + 1]
print({report!r}.replace("{{data}}", data))
sys.exit({exit})
"""


def _fake_guard(tmp_path: Path, report: Any, exit_code: int) -> Toolchain:
    """A fake cfn-guard printing ``report`` (as JSON, or as it is when it is text)."""
    output = report if isinstance(report, str) else json.dumps(report)
    binary = tmp_path / "fake-cfn-guard"
    binary.write_text(_FAKE.format(python=sys.executable, report=output, exit=exit_code))
    binary.chmod(0o755)
    return Toolchain(binary, control_tower.rules_directory())


_CLEAN = [{"name": "{data}", "metadata": {}, "status": "PASS", "not_compliant": [], "compliant": []}]
_UNNAMED_FAILURE = [
    {
        "name": "{data}",
        "status": "FAIL",
        "not_compliant": [
            {"Rule": {"name": "sqs_dlq_check", "messages": {"custom_message": "[CT.SQS.PR.1]: needs a DLQ"}}}
        ],
    }
]
BROKEN_RUNS: dict[str, tuple[Any, int, str]] = {
    "error exit with a clean report": (_CLEAN, 1, "cfn-guard did not run on queue.template.json \\(exit 1\\)"),
    "crash": (_CLEAN, 101, "cfn-guard did not run on queue.template.json \\(exit 101\\)"),
    "report on another template": (
        [{**_CLEAN[0], "name": "/elsewhere/other.json"}],
        0,
        "cfn-guard did not report on queue.template.json",
    ),
    "no report at all": ([], 0, "cfn-guard did not report on queue.template.json"),
    "output not JSON": ("done", 0, "its output is not JSON"),
    "failure exit with no finding": (_CLEAN, 19, "exited 19 but its report on queue.template.json holds 0"),
    "success exit with a finding": (_UNNAMED_FAILURE, 0, "exited 0 but its report on queue.template.json holds 1"),
    "no list of findings": ([{"name": "{data}", "status": "PASS"}], 0, "has no list of non-compliant rules"),
}


@pytest.mark.parametrize(("report", "exit_code", "error"), list(BROKEN_RUNS.values()), ids=list(BROKEN_RUNS))
def test_a_cfn_guard_that_did_not_run_or_report_fails_the_gate(
    tmp_path: Path, report: Any, exit_code: int, error: str
) -> None:
    template = _template(tmp_path / "queue.template.json", dead_letter_queue=False)
    toolchain = _fake_guard(tmp_path, report, exit_code)
    with pytest.raises(RuntimeError, match=error):
        control_tower.evaluate([template], toolchain=toolchain, cache=ResultCache(tmp_path / "cache"))
    assert not list((tmp_path / "cache").glob("*.json")), "a failed run must not be cached"


def test_a_rule_failing_without_naming_a_resource_fails_the_template(tmp_path: Path) -> None:
    template = _template(tmp_path / "queue.template.json")
    toolchain = _fake_guard(tmp_path, _UNNAMED_FAILURE, 19)
    results = control_tower.evaluate([template], toolchain=toolchain, cache=ResultCache(None))
    assert _controls(results, template.name) == {("CT.SQS.PR.1", control_tower.TEMPLATE_LEVEL)}


@pytest.mark.parametrize("with_failing_rule", [False, True], ids=["alone", "beside-a-failing-rule"])
def test_a_broken_rules_folder_fails_the_gate(tmp_path: Path, with_failing_rule: bool) -> None:
    """cfn-guard skips a rule file it cannot parse: alone it exits 5 yet prints a report
    that skips every rule; beside a rule that fails it exits 19 as if all were well. A
    broken rule must not pass silently either way."""
    rules = tmp_path / "rules" / "sqs"
    rules.mkdir(parents=True)
    if with_failing_rule:
        (rules / "ct-sqs-pr-1.guard").write_text(
            (control_tower.rules_directory() / "sqs" / "ct-sqs-pr-1.guard").read_text(encoding="utf-8")
        )
    (rules / "broken.guard").write_text("# judges AWS::SQS::Queue\nrule broken when { this is not guard\n")
    template = _template(tmp_path / "queue.template.json", dead_letter_queue=False)
    toolchain = Toolchain(control_tower.guard_binary(), tmp_path / "rules")
    exit_code = 19 if with_failing_rule else 5
    with pytest.raises(RuntimeError, match=f"did not run on queue.template.json \\(exit {exit_code}\\).*broken.guard"):
        control_tower.evaluate([template], toolchain=toolchain, cache=ResultCache(None))


@pytest.mark.parametrize("folder", ["empty", "missing"])
def test_a_rules_folder_without_rules_fails_the_gate(tmp_path: Path, folder: str) -> None:
    rules = tmp_path / "rules"
    if folder == "empty":
        rules.mkdir()
    template = _template(tmp_path / "queue.template.json", dead_letter_queue=False)
    toolchain = Toolchain(control_tower.guard_binary(), rules)
    with pytest.raises(RuntimeError, match="no rule files"):
        control_tower.evaluate([template], toolchain=toolchain, cache=ResultCache(None))


def test_a_template_named_by_a_relative_path_is_judged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``make synth`` writes into a relative folder (cdk.out.staging); cfn-guard names its
    report by the absolute path, which the runner must still recognise as the template's."""
    _template(tmp_path / "queue.template.json", dead_letter_queue=False)
    monkeypatch.chdir(tmp_path)
    results = control_tower.evaluate([Path("queue.template.json")], cache=ResultCache(tmp_path / "cache"))
    assert _controls(results, "queue.template.json") == {("CT.SQS.PR.1", "Queue")}
