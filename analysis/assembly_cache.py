"""Whole cloud assemblies cached by everything a synth reads, so that ``cdk synth`` with
nothing changed copies the last assembly instead of building it again.

The key is a SHA-256 over every input of ``app.py``:

- every file under the project's root except what a synth never reads (``tests``,
  ``docs``, version control, the virtualenv and Node packages, caches, cloud assembly
  folders): the app, stacks, constructs, config code, analyses, Lambda and Flink code
  (the assets), ``cdk.json``, the lock files, and anything else put there;
- the config file the app will load (``-c config=``, else ``ORG_CONFIG``), by its bytes;
- the context the CLI hands the app (``CDK_CONTEXT_JSON`` and its overflow file), every
  other ``CDK_*`` variable but the output folder, and the working directory;
- the Python version, every installed distribution with its version, and the Node.js
  binary the jsii runtime starts.

So any edit, a different config or context, or another library version is a miss. An
entry is a copy of the assembly folder with a list of its files' SHA-256; it is used
only when every file still matches (an edited, truncated or missing file is a miss), and
it is written to a temporary folder and renamed into place, so a reader never sees half
an entry. Only a synth that passed its synth-time gates is stored (cdk-nag fails
``app.synth()``, the Control Tower check runs again on every restored assembly), and a
key that changed while the synth ran is not stored at all.

``ASSEMBLY_CACHE`` names the folder (default: ``.cache/assembly/`` in the project);
``ASSEMBLY_CACHE=off`` synthesizes every time. ``make check`` and the tests always do.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

from analysis.result_cache import digest

ROOT = Path(__file__).resolve().parents[1]
CACHE_ENV = "ASSEMBLY_CACHE"
OFF = "off"
DEFAULT_DIRECTORY = ROOT / ".cache" / "assembly"
# The version of the key's and the entry's layout.
FORMAT = "assembly-cache/1"
# What app.py says on stderr when it restored an assembly (``make synth`` repeats it).
RESTORED_NOTE = "nothing the synth reads changed since an earlier one: its assembly was copied from the cache"
# Entries kept: enough for a few configs and pattern selections side by side.
KEEP = 8
# Top-level folders a synth never reads, and folders skipped at any depth.
_NOT_READ_AT_ROOT = frozenset({".git", ".github", ".ci", ".venv", "node_modules", ".cache", ".bench", "tests", "docs"})
_NOT_READ_ANYWHERE = frozenset({"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"})
_ENTRY_FILES = "files.json"
_CONTEXT_ENV = "CDK_CONTEXT_JSON"
_CONTEXT_OVERFLOW_ENV = "CONTEXT_OVERFLOW_LOCATION"
_OUTDIR_ENV = "CDK_OUTDIR"


def _file_digest(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _is_assembly_folder(name: str) -> bool:
    return name.startswith("cdk.out")  # cdk.out, cdk.out.staging, cdk.out.sandbox, ...


def source_files(root: Path = ROOT, skip: Path | None = None) -> Iterator[Path]:
    """Every file under ``root`` a synth may read, in a stable order (``skip``: a folder
    left out, the cache's own)."""
    for folder, subfolders, files in os.walk(root):
        here = Path(folder)
        at_root = here == root
        subfolders[:] = sorted(
            name
            for name in subfolders
            if name not in _NOT_READ_ANYWHERE
            and not name.endswith(".egg-info")
            and not (at_root and (name in _NOT_READ_AT_ROOT or _is_assembly_folder(name)))
            and (skip is None or here / name != skip)
        )
        for name in sorted(files):
            path = here / name
            if path.is_file():
                yield path


def _config_path(context: Mapping[str, object], environment: Mapping[str, str]) -> Path | None:
    chosen = context.get("config") or environment.get("ORG_CONFIG") or None
    return Path(str(chosen)) if chosen else None


def _context(environment: Mapping[str, str]) -> tuple[str, dict[str, object]]:
    """The context as the CLI passed it: its text for the key, parsed for the config path.
    A large context arrives in a file named by ``CONTEXT_OVERFLOW_LOCATION``."""
    texts = [environment.get(_CONTEXT_ENV, "")]
    overflow = environment.get(_CONTEXT_OVERFLOW_ENV)
    if overflow:
        try:
            texts.append(Path(overflow).read_text(encoding="utf-8"))
        except OSError:
            texts.append("unreadable")
    parsed: dict[str, object] = {}
    for text in texts:
        try:
            value = json.loads(text) if text else {}
        except ValueError:
            value = {}
        if isinstance(value, dict):
            parsed.update(value)
    return "\n".join(texts), parsed


def _installed() -> list[str]:
    """Every installed distribution as ``name-version.dist-info``, from each import path."""
    found: set[str] = set()
    for entry in sys.path:
        try:
            found.update(name for name in os.listdir(entry or ".") if name.endswith((".dist-info", ".egg-info")))
        except OSError:
            continue  # a zip or a missing folder on sys.path
    return sorted(found)


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        return "no node"
    stat = Path(node).resolve().stat()
    return f"{Path(node).resolve()}:{stat.st_size}:{stat.st_mtime_ns}"


def synth_key(root: Path = ROOT, environment: Mapping[str, str] | None = None) -> str:
    """The key of the assembly ``app.py`` would synthesize now (see the module docstring)."""
    environment = os.environ if environment is None else environment
    context_text, context = _context(environment)
    parts: list[str | bytes] = [FORMAT, sys.version, os.getcwd(), _node(), *_installed(), context_text]
    # The CLI names files inside its output folder (CDK_ERROR_FILE, ...): the folder is not an input.
    outdir = environment.get(_OUTDIR_ENV)
    parts += sorted(
        f"{name}={value.replace(outdir, '<outdir>') if outdir else value}"
        for name, value in environment.items()
        if name.startswith("CDK_") and name not in (_OUTDIR_ENV, _CONTEXT_ENV)
    )
    config = _config_path(context, environment)
    if config is not None:
        parts += [f"config:{config.resolve()}", config.read_bytes() if config.is_file() else b"missing"]
    cache = environment.get(CACHE_ENV)
    for path in source_files(root, skip=Path(cache).resolve() if cache and cache.lower() != OFF else None):
        parts += [path.relative_to(root).as_posix(), _file_digest(path)]
    return digest(*parts)


def _entry_files(folder: Path) -> dict[str, str]:
    return {
        path.relative_to(folder).as_posix(): _file_digest(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != _ENTRY_FILES
    }


class AssemblyCache:
    """Cloud assemblies by :func:`synth_key`, one folder per entry in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @classmethod
    def from_environment(cls, environment: Mapping[str, str] | None = None) -> AssemblyCache | None:
        """The cache ``ASSEMBLY_CACHE`` names, the project's by default; ``None`` when off."""
        environment = os.environ if environment is None else environment
        chosen = environment.get(CACHE_ENV, "")
        if chosen.lower() == OFF:
            return None
        return cls(Path(chosen) if chosen else DEFAULT_DIRECTORY)

    def restore(self, key: str, outdir: Path) -> bool:
        """Copy the entry for ``key`` into ``outdir`` if it is there and intact."""
        entry = self.directory / key
        try:
            recorded = json.loads((entry / _ENTRY_FILES).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if not isinstance(recorded, dict) or recorded.get("key") != key:
            return False
        if _entry_files(entry) != recorded.get("files"):
            return False  # a file was edited, truncated, removed or added
        outdir.mkdir(parents=True, exist_ok=True)
        for name in recorded["files"]:
            target = outdir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(entry / name, target)
        os.utime(entry)  # most recently used: kept longest
        return True

    def store(self, key: str, assembly: Path) -> None:
        """Keep a copy of the assembly at ``assembly`` under ``key``; a cache that cannot be
        written only costs time."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(dir=self.directory, prefix=".entry-"))
        except OSError:
            return
        try:
            shutil.copytree(assembly, staging, dirs_exist_ok=True)
            files = _entry_files(staging)
            (staging / _ENTRY_FILES).write_text(json.dumps({"key": key, "files": files}), encoding="utf-8")
            target = self.directory / key
            shutil.rmtree(target, ignore_errors=True)
            os.replace(staging, target)
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
            return
        self._evict()

    def _evict(self) -> None:
        entries = [path for path in self.directory.iterdir() if path.is_dir() and not path.name.startswith(".")]
        entries.sort(key=lambda path: path.stat().st_mtime, reverse=True)
        for stale in entries[KEEP:]:
            shutil.rmtree(stale, ignore_errors=True)
        for leftover in self.directory.glob(".entry-*"):  # a store interrupted an hour ago or more
            if leftover.stat().st_mtime < time.time() - 3600:
                shutil.rmtree(leftover, ignore_errors=True)
