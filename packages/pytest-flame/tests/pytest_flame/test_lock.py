"""Judgment locks: record, replay, --flame-locked, stale entries, and the file format."""

from __future__ import annotations

import json
import threading

import pytest

from pytest_flame.lock import LockEntry, dumps, load_entries, write_atomic

FAKE = ("--flame-model", "fake", "-p", "no:cacheprovider")

TWO_FILES = {
    "test_a": """
from pytest_flame import assert_judged_better, assert_judged

PROMPT = "How do I reset my password?"
GOOD = "To reset your password, open settings and choose reset password."
BAD = "Our office is open from nine to five."

def test_better():
    assert_judged_better(GOOD, BAD, prompt=PROMPT, criteria="helpfulness")

def test_two_judgments():
    assert_judged_better(GOOD, BAD, prompt=PROMPT)
    assert_judged("reset it in settings", prompt=PROMPT, criteria="help", min_score=1)
""",
    "test_b": """
from pytest_flame import assert_judged_faithful

def test_faithful():
    assert_judged_faithful("The sky is blue.", source="The sky is blue today.")
""",
}


def _lock(pytester: pytest.Pytester) -> dict:
    return json.loads((pytester.path / "flame-lock.json").read_text())


def test_record_then_replay_then_locked(pytester: pytest.Pytester):
    pytester.makepyfile(**TWO_FILES)
    first = pytester.runpytest(*FAKE, "--flame-record")
    first.assert_outcomes(passed=3)
    first.stdout.fnmatch_lines(["lock: wrote */flame-lock.json: 4 entries (4 new, 0 removed)"])
    lock = _lock(pytester)
    text = (pytester.path / "flame-lock.json").read_text()
    assert [(e["test"], e["position"]) for e in lock["entries"]] == [
        ("test_a.py::test_better", 0),
        ("test_a.py::test_two_judgments", 0),
        ("test_a.py::test_two_judgments", 1),
        ("test_b.py::test_faithful", 0),
    ]
    better = lock["entries"][0]
    assert better["judge"] == {"model": "fake", "fingerprint": "fake@0", "max_input_tokens": None, "calibration": None}
    assert better["inputs"]["candidate"].startswith("To reset your password")
    assert better["passed"] is True
    assert better["threshold"] == 0.5
    assert set(better["verdict"]) == {"name", "kind", "prob_a", "prob_a_first", "prob_a_second"}
    # Recording again changes nothing: stable order and formatting.
    pytester.runpytest(*FAKE, "--flame-record")
    assert (pytester.path / "flame-lock.json").read_text() == text
    replay = pytester.runpytest(*FAKE)
    replay.assert_outcomes(passed=3)
    replay.stdout.fnmatch_lines(["lock: */flame-lock.json: 4 judgments answered from it, 0 new"])
    # --flame-locked opens no judge at all (no model spec is even resolved).
    pytester.makepyfile(
        test_z="""
from pytest_flame.session import SESSION_KEY

def test_no_judge_was_opened(request):
    assert request.config.stash[SESSION_KEY]._judges == {}
"""
    )
    locked = pytester.runpytest(*FAKE, "--flame-locked", "-p", "no:randomly")
    locked.assert_outcomes(passed=4)
    locked.stdout.fnmatch_lines(
        ["lock: */flame-lock.json (--flame-locked: no model loaded); 4 judgments answered from it"]
    )


def test_a_changed_input_is_new_by_default_and_an_error_when_locked(pytester: pytest.Pytester):
    pytester.makepyfile(**TWO_FILES)
    pytester.runpytest(*FAKE, "--flame-record").assert_outcomes(passed=3)
    changed = TWO_FILES["test_a"].replace('BAD = "Our office is open from nine to five."', 'BAD = "We are closed."')
    pytester.makepyfile(test_a=changed)
    default = pytester.runpytest(*FAKE)
    default.assert_outcomes(passed=3)
    default.stdout.fnmatch_lines(
        [
            "lock: */flame-lock.json: 2 judgments answered from it, 2 new (not in the lock: run `pytest --flame-record` to add them)"
        ]
    )
    locked = pytester.runpytest(*FAKE, "--flame-locked")
    locked.assert_outcomes(passed=1, errors=2)
    locked.stdout.fnmatch_lines(
        [
            "*LockMismatchError: flame: judgment 1 of test_a.py::test_better (assert_judged_better) changed since the "
            "lock was recorded: field 'baseline' (locked: 'Our office is open from nine to five.', now: 'We are closed.'); "
            "run `pytest --flame-record` with the judge to re-record the lock"
        ]
    )
    locked.stdout.no_fnmatch_line("*FAILED*")


def test_a_changed_judge_is_an_error_when_locked(pytester: pytest.Pytester):
    pytester.makepyfile(test_b=TWO_FILES["test_b"])
    pytester.runpytest(*FAKE, "--flame-record").assert_outcomes(passed=1)
    result = pytester.runpytest(*FAKE, "--flame-locked", "--flame-max-input-tokens", "64")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*the judge changed since the lock was recorded: judge.max_input_tokens was None, now 64*"]
    )
    missing = pytester.runpytest(*FAKE, "--flame-locked", "--flame-lock", "elsewhere.json")
    missing.assert_outcomes(errors=1)
    missing.stdout.fnmatch_lines(
        ["*--flame-locked but there is no lock file */elsewhere.json; run `pytest --flame-record`*"]
    )


def test_unused_entries_are_listed_and_removed_by_record_but_deselected_ones_are_kept(pytester: pytest.Pytester):
    pytester.makepyfile(**TWO_FILES)
    pytester.runpytest(*FAKE, "--flame-record").assert_outcomes(passed=3)
    fewer = TWO_FILES["test_a"].split("def test_two_judgments")[0]
    pytester.makepyfile(test_a=fewer)
    # test_b is deselected: its entry is neither unused nor removed.
    listed = pytester.runpytest(*FAKE, "--flame-locked", "-k", "not faithful")
    listed.assert_outcomes(passed=1, deselected=1)
    listed.stdout.fnmatch_lines(
        [
            "lock: 2 entries no test used (`pytest --flame-record` removes them):",
            "  unused: test_a.py::test_two_judgments judgment 1 (assert_judged_better)",
            "  unused: test_a.py::test_two_judgments judgment 2 (assert_judged)",
        ]
    )
    recorded = pytester.runpytest(*FAKE, "--flame-record", "-k", "not faithful")
    recorded.stdout.fnmatch_lines(["lock: wrote */flame-lock.json: 2 entries (0 new, 2 removed)"])
    assert [e["test"] for e in _lock(pytester)["entries"]] == ["test_a.py::test_better", "test_b.py::test_faithful"]


def test_a_malformed_lock_is_a_usage_error_naming_the_line(pytester: pytest.Pytester):
    pytester.makepyfile(test_b=TWO_FILES["test_b"])
    (pytester.path / "flame-lock.json").write_text('{"version": 1,\n "entries": [\n<<<<<<< HEAD\n]}\n')
    result = pytester.runpytest(*FAKE)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*the lock file */flame-lock.json is not valid JSON (line 3, column 1*"])


def test_record_and_locked_exclude_each_other(pytester: pytest.Pytester):
    result = pytester.runpytest(*FAKE, "--flame-record", "--flame-locked")
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def _entry(n: int) -> LockEntry:
    from pytest_flame.lock import JudgeId

    return LockEntry(
        test=f"t.py::test_{n:04d}",
        position=0,
        assertion="assert_judged_better",
        mode="pairwise",
        key=f"{n:064x}",
        judge=JudgeId("fake", "fake@0", None, None),
        inputs={"prompt": "x" * 150},
        verdict={"prob_a": n / 1000},
    )


def test_lock_writes_are_atomic_for_a_concurrent_reader(tmp_path):
    path = tmp_path / "flame-lock.json"
    texts = [dumps([_entry(i) for i in range(size)]) for size in (300, 5, 600, 1)]
    write_atomic(path, texts[0])
    seen, errors, done = [], [], threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                seen.append(len(load_entries(path)))
            except Exception as exc:  # a half-written file would land here
                errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    for n in range(60):
        write_atomic(path, texts[n % len(texts)])
    done.set()
    reader.join()
    assert not errors
    assert set(seen) <= {300, 5, 600, 1}
    assert seen
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flame-lock.json"]  # no temporary file left


def test_xdist_workers_send_entries_to_the_controller_for_one_write(pytester: pytest.Pytester):
    pytester.makepyfile(**TWO_FILES)
    recorded = pytester.runpytest_subprocess(*FAKE, "-n", "2", "--flame-record")
    recorded.assert_outcomes(passed=3)
    recorded.stdout.fnmatch_lines(["lock: wrote */flame-lock.json: 4 entries (4 new, 0 removed)"])
    assert len(_lock(pytester)["entries"]) == 4
    locked = pytester.runpytest_subprocess(*FAKE, "-n", "2", "--flame-locked")
    locked.assert_outcomes(passed=3)
    locked.stdout.fnmatch_lines(["lock: * 4 judgments answered from it"])
