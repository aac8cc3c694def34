from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def data_dir() -> Path:
    path = Path(os.environ["FLAME_DATA_DIR"])
    if not path.is_dir():
        pytest.fail(f"FLAME_DATA_DIR={path} does not exist; the collection tests read the real datasets there")
    return path
