"""Judgment cache: sqlite in WAL mode, keyed by model fingerprint, judge kind and the exact model input.

Several processes (pytest-xdist workers, parallel CLI runs) may read and write one file at once:
WAL lets readers proceed during a write, and the busy timeout serializes writers.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from flame_judge.errors import JudgeError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS judgments (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    value TEXT NOT NULL,
    created REAL NOT NULL
)
"""


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


class JudgmentCache:
    """Maps a key to a JSON list of floats (log-probabilities or a score)."""

    def __init__(self, path: str | Path, *, timeout_s: float = 60.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, timeout=timeout_s, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise JudgeError(
                f"the judgment cache {self.path} cannot be opened ({exc}); delete it or pass --no-cache"
            ) from exc

    def get_many(self, keys: Iterable[str]) -> dict[str, list[float]]:
        keys = list(dict.fromkeys(keys))
        found: dict[str, list[float]] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                chunk = keys[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(f"SELECT key, value FROM judgments WHERE key IN ({marks})", chunk)
                found.update((k, json.loads(v)) for k, v in rows)
        return found

    def put_many(self, items: Mapping[str, list[float]], *, fingerprint: str) -> None:
        if not items:
            return
        now = time.time()
        rows = [(k, fingerprint, json.dumps(v), now) for k, v in items.items()]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT OR REPLACE INTO judgments VALUES (?, ?, ?, ?)", rows)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM judgments").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
