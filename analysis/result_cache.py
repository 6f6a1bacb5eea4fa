"""A verified on-disk cache of gate results, shared by the synth, the tests and ``make check``.

An entry is one JSON file named by its key (a SHA-256 of everything the result depends
on) holding the key again, the result, and a SHA-256 of key and result together. An
entry is used only when all three agree; anything else (a truncated write, an edited
file, a file copied under another name, invalid JSON) is a miss, and the caller evaluates
again and overwrites it. So a damaged cache can cost time, never hide a finding.

Entries are written to a temporary file and renamed into place, so two processes (a
synth and a test run) filling the cache at once never see half an entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def digest(*parts: bytes | str) -> str:
    """SHA-256 over ``parts``, each length-prefixed so that no two sequences collide."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class ResultCache:
    """JSON results by key, in ``directory`` (``None``: kept in memory for this process only)."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._memory: dict[str, Any] = {}

    def _path(self, key: str) -> Path | None:
        return None if self.directory is None else self.directory / f"{key}.json"

    def get(self, key: str) -> Any | None:
        """The verified result stored under ``key``, else ``None``."""
        if key in self._memory:
            return self._memory[key]
        path = self._path(key)
        if path is None:
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # missing, unreadable or not JSON: a miss
        if not isinstance(entry, dict) or entry.get("key") != key or "result" not in entry:
            return None
        if entry.get("check") != digest(key, _canonical(entry["result"])):
            return None
        self._memory[key] = entry["result"]
        return entry["result"]

    def put(self, key: str, result: Any) -> None:
        """Store ``result`` under ``key``; a cache that cannot be written only costs time."""
        self._memory[key] = result
        path = self._path(key)
        if path is None:
            return
        entry = {"key": key, "result": result, "check": digest(key, _canonical(result))}
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".entry-", suffix=".tmp")
        except OSError:
            return
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(_canonical(entry))
            os.replace(temporary, path)
        except OSError:
            Path(temporary).unlink(missing_ok=True)
