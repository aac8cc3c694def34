"""Judgment cache: sqlite in WAL mode, keyed by model fingerprint, judge kind and the exact model input.

Several processes (pytest-xdist workers, parallel CLI runs) may read and write one file at once:
WAL lets readers proceed during a write, and the busy timeout serializes writers. A cache that this
process may not write (a read-only file or folder, e.g. a warm cache shipped to CI) is opened
read-only: every answer in it is served, new verdicts are returned but not stored, and `note` says so.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

from flame_judge.errors import CacheError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS judgments (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    value TEXT NOT NULL,
    created REAL NOT NULL
)
"""
_FIX = "delete it (its answers are recomputed) or run without the cache (--no-cache / --flame-no-cache)"


# Bump when the scoring arithmetic changes what a verdict is for the same model and input (2: reward
# features in fp32, read from each response's own positions; the reward view's pair-wide truncation).
SCORING_VERSION = 2


def numerics(device_type: str, dtype: str) -> str:
    """What besides the weights decides a verdict's digits: the device kind, the weights' dtype and
    the scoring code's version (a CUDA judge in bf16 and a CPU judge in fp32 disagree in the last digits)."""
    return f"{device_type}/{dtype}/scoring-v{SCORING_VERSION}"


def cache_key(fingerprint: str, kind: str, text: str, labels: Sequence[str], *, numerics: str) -> str:
    """The key of one judgment: the model, how it computes (`numerics()`), the judge kind and the exact input."""
    payload = json.dumps([fingerprint, numerics, kind, text, list(labels)], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def _is_read_only_error(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "readonly" in text or "read-only" in text or "unable to open" in text


class JudgmentCache:
    """Maps a key to a JSON list of floats (log-probabilities or a score)."""

    def __init__(self, path: str | Path, *, timeout_s: float = 60.0) -> None:
        self.path = Path(path)
        self.read_only = False
        self.note: str | None = None  # why new verdicts are not stored, for callers to show once
        self.unstored = 0  # verdicts computed but not stored (read-only cache)
        self._timeout = timeout_s
        self._lock = threading.Lock()
        if self.path.is_dir():
            raise CacheError(f"the judgment cache {self.path} is a directory; give a file path")
        if not self.path.exists():
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CacheError(f"cannot create the folder of the judgment cache {self.path}: {exc}") from exc
        writable = os.access(self.path.parent, os.W_OK) and (not self.path.exists() or os.access(self.path, os.W_OK))
        if writable:
            try:
                self._db = self._open_writable()
                return
            except sqlite3.OperationalError as exc:
                if not (_is_read_only_error(exc) and self.path.exists()):
                    raise CacheError(f"the judgment cache {self.path} cannot be opened ({exc}); {_FIX}") from exc
            except sqlite3.DatabaseError as exc:
                raise CacheError(f"the judgment cache {self.path} cannot be opened ({exc}); {_FIX}") from exc
        if not self.path.exists():
            raise CacheError(f"the judgment cache {self.path} cannot be created: {self.path.parent} is not writable")
        self._db = self._open_read_only()

    def _open_writable(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(_SCHEMA)
        except sqlite3.Error:
            db.close()
            raise
        return db

    def _open_read_only(self) -> sqlite3.Connection:
        # A folder nobody may write cannot hold sqlite's WAL side files, and nobody can change the
        # database there either, so it is opened as immutable.
        folder_writable = os.access(self.path.parent, os.W_OK)
        uri = f"file:{quote(str(self.path.resolve()))}?mode=ro" + ("" if folder_writable else "&immutable=1")
        try:
            db = sqlite3.connect(uri, uri=True, timeout=self._timeout, isolation_level=None, check_same_thread=False)
            db.execute("SELECT COUNT(*) FROM judgments").fetchone()
        except sqlite3.DatabaseError as exc:
            raise CacheError(f"the read-only judgment cache {self.path} cannot be read ({exc}); {_FIX}") from exc
        self.read_only = True
        self.note = (
            f"the judgment cache {self.path} is read-only: answers are read from it, new verdicts are not stored"
        )
        return db

    def get_many(self, keys: Iterable[str]) -> dict[str, list[float]]:
        keys = list(dict.fromkeys(keys))
        found: dict[str, list[float]] = {}
        with self._lock:
            try:
                for start in range(0, len(keys), 500):
                    chunk = keys[start : start + 500]
                    marks = ",".join("?" * len(chunk))
                    rows = self._db.execute(f"SELECT key, value FROM judgments WHERE key IN ({marks})", chunk)
                    found.update((k, json.loads(v)) for k, v in rows)
            except (sqlite3.DatabaseError, ValueError) as exc:
                raise CacheError(f"the judgment cache {self.path} is damaged ({exc}); {_FIX}") from exc
        return found

    def put_many(self, items: Mapping[str, list[float]], *, fingerprint: str) -> None:
        """Store verdicts; in a read-only cache count them as unstored instead (the caller keeps them)."""
        if not items:
            return
        if self.read_only:
            self.unstored += len(items)
            return
        now = time.time()
        rows = [(k, fingerprint, json.dumps(v), now) for k, v in items.items()]
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.executemany("INSERT OR REPLACE INTO judgments VALUES (?, ?, ?, ?)", rows)
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                if not _is_read_only_error(exc):
                    raise CacheError(f"the judgment cache {self.path} cannot be written ({exc}); {_FIX}") from exc
                self.read_only = True
                self.unstored += len(items)
                self.note = f"the judgment cache {self.path} is read-only ({exc}): new verdicts are not stored"
            except sqlite3.DatabaseError as exc:
                raise CacheError(f"the judgment cache {self.path} is damaged ({exc}); {_FIX}") from exc

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM judgments").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
