from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from flame_judge.cache import JudgmentCache, cache_key
from flame_judge.errors import CacheError, JudgeError

AS_ROOT = pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes read-only files anyway")


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
    with pytest.raises(JudgeError, match=r"delete it .*--no-cache"):
        JudgmentCache(path)


def _warm(path, n=400):
    cache = JudgmentCache(path)
    cache.put_many({f"k{i}": [float(i), -1.0] for i in range(n)}, fingerprint="m@1")
    cache.close()


def test_a_partly_corrupt_cache_is_a_cache_error_naming_the_file(tmp_path):
    path = tmp_path / "c.sqlite"
    _warm(path, 4000)
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 8192] = b"\xff" * 8192  # damage pages, keep the header
    path.write_bytes(bytes(data))
    cache = JudgmentCache(path)
    with pytest.raises(CacheError, match=r"c\.sqlite is damaged \(database disk image is malformed\)"):
        cache.get_many([f"k{i}" for i in range(4000)])


@AS_ROOT
def test_a_read_only_cache_file_serves_answers_and_keeps_new_verdicts_unstored(tmp_path):
    path = tmp_path / "c.sqlite"
    _warm(path)
    path.chmod(0o444)
    cache = JudgmentCache(path)
    assert cache.read_only
    assert cache.get_many(["k1"]) == {"k1": [1.0, -1.0]}
    cache.put_many({"new": [0.0]}, fingerprint="m@1")  # no error: the caller keeps its verdict
    assert cache.unstored == 1
    assert "read-only" in (cache.note or "")


@AS_ROOT
def test_a_warm_cache_in_a_read_only_folder_is_opened_read_only(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    _warm(folder / "c.sqlite")
    (folder / "c.sqlite").chmod(0o444)
    folder.chmod(0o555)
    try:
        cache = JudgmentCache(folder / "c.sqlite")
        assert cache.get_many(["k399"]) == {"k399": [399.0, -1.0]}
        assert cache.read_only
        cache.close()
    finally:
        folder.chmod(0o755)
