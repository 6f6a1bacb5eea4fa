"""The assembly cache (``analysis.assembly_cache``): a synth with nothing changed copies
the last assembly; any change to what the synth reads is a miss; a damaged entry is a
miss; the Control Tower gate still judges a restored assembly; a synth that failed a gate
is never stored."""

from __future__ import annotations

import filecmp
import json
import os
from pathlib import Path

import aws_cdk as cdk
import pytest

import app as entry_point
from analysis import assembly_cache
from analysis.assembly_cache import KEEP, RESTORED_NOTE, AssemblyCache, source_files, synth_key
from tests.support.synthesis import app_context

# The CLI's context for `cdk synth -c patterns=object-index`: two small stacks.
SELECTION = {**app_context(), "patterns": "object-index"}


def _tree(root: Path) -> Path:
    """A small project: code, a Lambda asset, and folders a synth never reads."""
    for name, text in {
        "app.py": "print('app')",
        "cdk.json": "{}",
        "stacks/a.py": "A = 1",
        "lambdas/handler/index.py": "def handler(event, context): ...",
        "tests/test_a.py": "def test(): ...",
        "docs/a.md": "# A",
        "cdk.out/manifest.json": "{}",
        ".cache/control-tower/x.json": "{}",
        "stacks/__pycache__/a.cpython-311.pyc": "compiled",
    }.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _env(**extra: str) -> dict[str, str]:
    return {"CDK_CONTEXT_JSON": json.dumps({"patterns": "network"}), "CDK_OUTDIR": "/out/a", **extra}


def test_the_key_covers_code_and_assets_and_leaves_out_what_a_synth_never_reads(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    read = sorted(p.relative_to(root).as_posix() for p in source_files(root))
    assert read == ["app.py", "cdk.json", "lambdas/handler/index.py", "stacks/a.py"]


@pytest.mark.parametrize(
    "change",
    ["edit code", "edit an asset", "add a file", "remove a file", "edit the config", "other context", "CDK variable"],
)
def test_any_change_to_what_the_synth_reads_changes_the_key(tmp_path: Path, change: str) -> None:
    root = _tree(tmp_path / "project")
    config = tmp_path / "org.yaml"
    config.write_text("accounts: []", encoding="utf-8")
    env = _env(ORG_CONFIG=str(config))
    before = synth_key(root, env)
    assert synth_key(root, env) == before  # stable
    if change == "edit code":
        (root / "stacks" / "a.py").write_text("A = 2", encoding="utf-8")
    elif change == "edit an asset":
        (root / "lambdas" / "handler" / "index.py").write_text("def handler(e, c): return 1", encoding="utf-8")
    elif change == "add a file":
        (root / "stacks" / "b.py").write_text("", encoding="utf-8")
    elif change == "remove a file":
        (root / "stacks" / "a.py").unlink()
    elif change == "edit the config":
        config.write_text("accounts: [x]", encoding="utf-8")
    elif change == "other context":
        env["CDK_CONTEXT_JSON"] = json.dumps({"patterns": "streaming"})
    else:
        env["CDK_DEFAULT_REGION"] = "us-east-1"
    assert synth_key(root, env) != before, change


def test_the_config_named_in_the_context_is_read(tmp_path: Path) -> None:
    root = _tree(tmp_path / "project")
    config = tmp_path / "org.yaml"
    config.write_text("a: 1", encoding="utf-8")
    env = _env(CDK_CONTEXT_JSON=json.dumps({"config": str(config)}))
    before = synth_key(root, env)
    config.write_text("a: 2", encoding="utf-8")
    assert synth_key(root, env) != before


def test_another_library_version_changes_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _tree(tmp_path)
    before = synth_key(root, _env())
    monkeypatch.setattr(assembly_cache, "_installed", lambda: ["aws_cdk_lib-2.999.0.dist-info"])
    assert synth_key(root, _env()) != before


def test_the_output_folder_and_what_is_not_read_leave_the_key_alone(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    before = synth_key(root, _env())
    elsewhere = _env(CDK_OUTDIR="/out/b", CDK_ERROR_FILE="/out/b/error.txt")
    assert synth_key(root, elsewhere) == synth_key(root, _env(CDK_ERROR_FILE="/out/a/error.txt"))
    (root / "tests" / "test_a.py").write_text("changed", encoding="utf-8")
    (root / "docs" / "a.md").write_text("changed", encoding="utf-8")
    (root / "cdk.out" / "manifest.json").write_text("changed", encoding="utf-8")
    (root / "stacks" / "__pycache__" / "a.cpython-311.pyc").write_text("changed", encoding="utf-8")
    assert synth_key(root, _env()) == before


def _assembly(folder: Path) -> Path:
    for name, text in {
        "manifest.json": '{"version": "1"}',
        "a.template.json": '{"Resources": {}}',
        "asset.1/index.py": "code",
    }.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def test_a_stored_assembly_is_restored_file_for_file(tmp_path: Path) -> None:
    cache = AssemblyCache(tmp_path / "cache")
    source = _assembly(tmp_path / "synth")
    assert not cache.restore("k", tmp_path / "out")  # nothing stored yet
    cache.store("k", source)
    assert cache.restore("k", tmp_path / "out")
    match, mismatch, errors = filecmp.cmpfiles(
        source, tmp_path / "out", ["manifest.json", "a.template.json", "asset.1/index.py"], shallow=False
    )
    assert len(match) == 3 and not mismatch and not errors
    assert not cache.restore("other key", tmp_path / "elsewhere")


@pytest.mark.parametrize("damage", ["edited", "truncated", "removed", "added", "renamed entry", "bad list"])
def test_a_damaged_entry_is_a_miss(tmp_path: Path, damage: str) -> None:
    cache = AssemblyCache(tmp_path / "cache")
    cache.store("k", _assembly(tmp_path / "synth"))
    entry = tmp_path / "cache" / "k"
    if damage == "edited":
        (entry / "a.template.json").write_text('{"Resources": {"X": {}}}', encoding="utf-8")
    elif damage == "truncated":
        (entry / "a.template.json").write_text('{"Resourc', encoding="utf-8")
    elif damage == "removed":
        (entry / "asset.1" / "index.py").unlink()
    elif damage == "added":
        (entry / "b.template.json").write_text("{}", encoding="utf-8")
    elif damage == "renamed entry":
        entry.rename(tmp_path / "cache" / "other")
        assert not cache.restore("other", tmp_path / "out")
        return
    else:
        (entry / "files.json").write_text("not json", encoding="utf-8")
    assert not cache.restore("k", tmp_path / "out")


def test_only_the_most_recently_used_entries_are_kept(tmp_path: Path) -> None:
    cache = AssemblyCache(tmp_path / "cache")
    source = _assembly(tmp_path / "synth")
    for number in range(KEEP):
        cache.store(f"k{number}", source)
        os.utime(tmp_path / "cache" / f"k{number}", (number, number))  # k0 the oldest
    cache.restore("k0", tmp_path / "out")  # used now: the newest
    cache.store("new-1", source)
    cache.store("new-2", source)
    kept = sorted(p.name for p in (tmp_path / "cache").iterdir())
    assert len(kept) == KEEP
    assert {"k0", "new-1", "new-2"} <= set(kept) and not {"k1", "k2"} & set(kept)


def test_off_means_no_cache() -> None:
    assert AssemblyCache.from_environment({"ASSEMBLY_CACHE": "off"}) is None
    chosen = AssemblyCache.from_environment({"ASSEMBLY_CACHE": "/somewhere"})
    assert chosen is not None and chosen.directory == Path("/somewhere")


def _as_the_cli_runs_it(monkeypatch: pytest.MonkeyPatch, outdir: Path, cache: Path) -> None:
    """The CLI's variables; the context also goes to the App directly, since the jsii
    runtime of this process started before they were set."""
    monkeypatch.setenv("CDK_OUTDIR", str(outdir))
    monkeypatch.setenv("CDK_CONTEXT_JSON", json.dumps(SELECTION))
    monkeypatch.setenv("ASSEMBLY_CACHE", str(cache))
    monkeypatch.delenv("ORG_CONFIG", raising=False)
    real_app = cdk.App
    monkeypatch.setattr(cdk, "App", lambda outdir=None: real_app(outdir=outdir, context=SELECTION))


def test_app_py_stores_a_synth_and_restores_it_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Through app.py's own ``main``, the way the CDK CLI runs it; a restore says so."""
    _as_the_cli_runs_it(monkeypatch, tmp_path / "first", tmp_path / "cache")
    entry_point.main()
    assert RESTORED_NOTE not in capsys.readouterr().err
    entries = [p for p in (tmp_path / "cache").iterdir() if not p.name.startswith(".")]
    assert len(entries) == 1, "the passing synth was stored"
    assert not list((tmp_path / "cache").glob(".synth-*")), "the synth's own folder was moved out"

    def must_not_build(*_: object) -> Path:
        raise AssertionError("nothing changed: the assembly must come from the cache")

    monkeypatch.setattr(entry_point, "synthesize", must_not_build)
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path / "second"))
    entry_point.main()
    assert RESTORED_NOTE in capsys.readouterr().err
    names = sorted(p.relative_to(tmp_path / "first").as_posix() for p in (tmp_path / "first").rglob("*") if p.is_file())
    assert "object-index-api-eu-west-1.template.json" in names
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / "first", tmp_path / "second", names, shallow=False)
    assert not mismatch and not errors


def test_a_restored_assembly_is_judged_by_control_tower(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An intact entry whose template breaks a control (stored by hand under the key the
    app computes) fails the synth: a restore never skips the gate."""
    _as_the_cli_runs_it(monkeypatch, tmp_path / "out", tmp_path / "cache")
    unversioned = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {}}}}
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "bucket.template.json").write_text(json.dumps(unversioned), encoding="utf-8")
    manifest = {
        "version": "1",
        "artifacts": {
            "bucket": {
                "type": "aws:cloudformation:stack",
                "environment": "aws://111111111111/eu-west-1",
                "properties": {"templateFile": "bucket.template.json"},
            }
        },
    }
    (broken / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    AssemblyCache(tmp_path / "cache").store(synth_key(), broken)
    with pytest.raises(SystemExit) as failed:
        entry_point.main()
    assert str(failed.value.code).startswith("Control Tower proactive controls failed:")
    assert "CT.S3.PR." in str(failed.value.code)


def test_a_synth_that_fails_a_gate_is_not_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _as_the_cli_runs_it(monkeypatch, tmp_path / "out", tmp_path / "cache")
    monkeypatch.setattr(entry_point.control_tower, "assembly_failures", lambda _: ["stack: CT.X.PR.1 Thing: broken"])
    with pytest.raises(SystemExit):
        entry_point.main()
    assert not [p for p in (tmp_path / "cache").iterdir() if not p.name.startswith(".")]
    assert (tmp_path / "out" / "manifest.json").exists(), "what the synth wrote is still in the CLI's folder"
