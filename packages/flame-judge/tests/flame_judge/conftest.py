from __future__ import annotations

from collections.abc import Iterator

import pytest

from flame_judge import Judge


@pytest.fixture(scope="session")
def real_judge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Judge]:
    """The real default model with a private judgment cache (the converted weights are shared)."""
    judge = Judge.load(cache=tmp_path_factory.mktemp("judge-cache") / "judgments.sqlite")
    yield judge
    judge.close()
