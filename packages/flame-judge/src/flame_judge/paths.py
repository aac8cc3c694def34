"""Where flame keeps converted models and the judgment cache."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir


def cache_dir() -> Path:
    """`FLAME_CACHE_DIR` if set, else the platform's user cache dir (~/.cache/flame on Linux)."""
    env = os.environ.get("FLAME_CACHE_DIR")
    return Path(env).expanduser() if env else Path(user_cache_dir("flame", appauthor=False))


def default_judgment_cache() -> Path:
    return cache_dir() / "judgments.sqlite"
