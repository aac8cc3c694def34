"""The guard around candidate code in `flame eval rerank`: each test is something a model-written
program could do, and checks both that the run fails and that the thing did not happen."""

from __future__ import annotations

import os
import time
from pathlib import Path

from flame_judge.sandbox import Limits, run_python

FAST = Limits(timeout=5.0)


def _alive(marker: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if marker.encode() in (proc / "cmdline").read_bytes():
                found.append(proc.name)
        except OSError:
            continue
    return found


def _no_survivor(marker: str) -> bool:
    deadline = time.monotonic() + 3.0
    while _alive(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not _alive(marker)


def test_a_plain_program_passes_and_a_failing_one_does_not():
    assert run_python("assert sum([1, 2]) == 3\n", limits=FAST).passed
    failed = run_python("assert 1 == 2\n", limits=FAST)
    assert not failed.passed
    assert "AssertionError" in failed.output


def test_exiting_early_with_status_0_is_not_a_pass():
    for early in ("import sys\nsys.exit(0)\n", "import os\nos._exit(0)\n"):
        outcome = run_python(early + "assert False\n", limits=FAST)
        assert outcome.returncode == 0
        assert not outcome.passed


def test_a_grandchild_left_behind_is_killed_with_the_process_group():
    # With the guard and the process limit off, only the process-group kill stands between a
    # forked sleeper and a leaked process, both on timeout and after a normal exit.
    open_limits = Limits(timeout=2.0, processes=None, guard=False)
    for tail in ("while True:\n    pass\n", "print('done')\n"):
        marker = f"flame-sleeper-{os.getpid()}-{len(tail)}"
        spawn = f"import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', '{marker}'])\n"
        outcome = run_python(spawn + tail, limits=open_limits)
        assert _no_survivor(marker), f"a grandchild outlived the run ({tail.strip()})"
        assert outcome.timed_out == tail.startswith("while")


def test_the_guard_refuses_new_processes():
    marker = f"flame-fork-{os.getpid()}"
    for spawn in (
        f"import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)', '{marker}'])\n",
        "import posix\nposix.fork()\n",
        "import os\nos.system('true')\n",
    ):
        outcome = run_python(spawn, limits=FAST)
        assert not outcome.passed
        assert "not allowed" in outcome.output or "NoneType" in outcome.output
    assert _no_survivor(marker)


def test_writes_outside_the_working_directory_are_refused(tmp_path: Path):
    outside = tmp_path / "outside.txt"
    outcome = run_python(f"open({str(outside)!r}, 'w').write('x')\n", limits=FAST)
    assert not outcome.passed
    assert "not allowed" in outcome.output
    assert not outside.exists()
    inside = "open('scratch.txt', 'w').write('x')\nassert open('scratch.txt').read() == 'x'\n"
    assert run_python(inside, limits=FAST).passed  # its own temporary folder is writable


def test_reading_private_files_and_removing_things_is_refused(tmp_path: Path):
    keep = tmp_path / "keep.txt"
    keep.write_text("data")
    for program in (f"open({str(keep)!r}).read()\n", f"import os\nos.remove({str(keep)!r})\n"):
        assert not run_python(program, limits=FAST).passed
    assert keep.read_text() == "data"


def test_the_parent_environment_does_not_reach_the_candidate(monkeypatch):
    monkeypatch.setenv("FLAME_TEST_SECRET", "s3cret")
    assert os.environ["FLAME_TEST_SECRET"] == "s3cret"
    sees = run_python("import os\nassert os.environ.get('FLAME_TEST_SECRET') == 's3cret'\n", limits=FAST)
    assert not sees.passed
    # Only what Python itself sets at start-up (C locale coercion) may be there.
    assert run_python("import os\nassert set(os.environ) <= {'LC_CTYPE'}\n", limits=FAST).passed


def test_output_is_capped():
    limits = Limits(timeout=10.0, file_bytes=1024 * 1024)
    start = time.monotonic()
    outcome = run_python("print('x' * 100_000_000)\n", limits=limits)
    assert not outcome.passed
    assert outcome.output_bytes <= limits.file_bytes
    assert len(outcome.output) <= 8192
    assert time.monotonic() - start < 10.0


def test_memory_and_cpu_are_limited():
    big = run_python("block = bytearray(8 * 1024 ** 3)\n", limits=Limits(timeout=5.0, memory_bytes=512 * 1024**2))
    assert not big.passed
    assert "MemoryError" in big.output
    spin = run_python("while True:\n    pass\n", limits=Limits(timeout=1.0))
    assert spin.timed_out
    assert not spin.passed


def test_sockets_and_native_code_are_refused():
    for program in (
        "import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=1)\n",
        "import ctypes\nctypes.CDLL(None).system(b'true')\n",
    ):
        outcome = run_python(program, limits=FAST)
        assert not outcome.passed
        assert "not allowed" in outcome.output
