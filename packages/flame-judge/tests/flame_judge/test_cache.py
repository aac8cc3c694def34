from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from flame_judge.cache import JudgmentCache, cache_key
from flame_judge.errors import JudgeError


def test_round_trip_and_key_depends_on_every_part(tmp_path):
    cache = JudgmentCache(tmp_path / "c.sqlite")
    n = "cpu/float32/scoring-v2"
    key = cache_key("m@1", "generative", "text", ["A", "B"], numerics=n)
    assert key != cache_key("m@2", "generative", "text", ["A", "B"], numerics=n)
    assert key != cache_key("m@1", "reward", "text", ["A", "B"], numerics=n)
    assert key != cache_key("m@1", "generative", "text ", ["A", "B"], numerics=n)
    assert key != cache_key("m@1", "generative", "text", ["B", "A"], numerics=n)
    cache.put_many({key: [-0.1, -2.5]}, fingerprint="m@1")
    assert cache.get_many([key, "missing"]) == {key: [-0.1, -2.5]}
    cache.close()


WRITER = textwrap.dedent(
    """
    import sys
    from flame_judge.cache import JudgmentCache
    cache = JudgmentCache(sys.argv[1], timeout_s=30)
    tag = sys.argv[2]
    for batch in range(40):
        cache.put_many({f"{tag}-{batch}-{i}": [float(i), -1.0] for i in range(25)}, fingerprint=tag)
        cache.get_many([f"{tag}-{batch}-0"])
    cache.close()
    """
)


def test_two_processes_write_at_once_without_loss(tmp_path):
    path = tmp_path / "shared.sqlite"
    JudgmentCache(path).close()
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), tag], stderr=subprocess.PIPE, text=True)
        for tag in ("w1", "w2")
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    cache = JudgmentCache(path)
    assert len(cache) == 2 * 40 * 25
    got = cache.get_many([f"w2-39-{i}" for i in range(25)])
    assert got == {f"w2-39-{i}": [float(i), -1.0] for i in range(25)}


def test_a_corrupt_cache_file_is_a_clear_error(tmp_path):
    path = tmp_path / "bad.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(JudgeError, match="delete it or pass --no-cache"):
        JudgmentCache(path)
