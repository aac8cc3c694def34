"""A judge that cannot run is an ERROR with the reason, never a FAIL; a bug in the judge is not hidden."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flame_judge.loading import SHIPPED

ONE = """
from pytest_flame import assert_judged_better

def test_one():
    assert_judged_better("Paris.", "Lyon.", prompt="What is the capital of France?")
"""


@pytest.mark.slow
def test_a_damaged_cache_is_an_error_naming_the_file(pytester: pytest.Pytester):
    from flame_judge.cache import JudgmentCache

    path = pytester.path / "judgments.sqlite"
    cache = JudgmentCache(path)
    cache.put_many({f"k{i}": [float(i)] * 8 for i in range(4000)}, fingerprint="x")
    cache.close()
    data = path.read_bytes()
    path.write_bytes(data[:4096] + b"\xff" * (len(data) - 4096))  # the schema page survives, the rest does not
    pytester.makepyfile(test_one=ONE)
    result = pytester.runpytest_subprocess("--flame-cache", str(path), "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*judgments.sqlite is damaged (database disk image is malformed); delete it*"])


@pytest.mark.slow
def test_broken_judge_folders_and_a_down_server_are_errors(pytester: pytest.Pytester):
    bad_json = pytester.path / "bad_json"
    shutil.copytree(SHIPPED / "flame-smol", bad_json)
    (bad_json / "flame.json").write_text('{"format": "lora", ')
    bad_weights = pytester.path / "bad_weights"
    shutil.copytree(SHIPPED / "flame-smol", bad_weights)
    weights = bad_weights / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    pytester.makepyfile(
        test_broken=f"""
import pytest
from pytest_flame import assert_judged_better

def _one():
    assert_judged_better("Paris.", "Lyon.", prompt="What is the capital of France?")

@pytest.mark.flame(model={str(bad_json)!r})
def test_malformed_flame_json():
    _one()

@pytest.mark.flame(model={str(bad_weights)!r})
def test_truncated_safetensors():
    _one()

@pytest.mark.flame(model="http://127.0.0.1:9/v1")
def test_server_down():
    _one()
"""
    )
    result = pytester.runpytest_subprocess("--flame-no-cache", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=3)
    result.stdout.no_fnmatch_line("*FAILED*")
    result.stdout.fnmatch_lines(["*bad_json/flame.json line 1 column 20: not valid JSON*"])
    result.stdout.fnmatch_lines(["*cannot read the LoRA adapter in */bad_weights*"])
    result.stdout.fnmatch_lines(["*could not be loaded*http://127.0.0.1:9/v1*"])


def test_a_bug_inside_the_judge_is_a_failure_not_judge_unavailable(pytester: pytest.Pytester):
    # A RuntimeError is not one of the judge's own errors: it is a bug and must show as one.
    pytester.makeconftest(
        """
        import pytest
        from flame_judge.testing import FakeJudge

        def broken(self, requests, **_):
            raise RuntimeError("index bug in the scorer")

        @pytest.fixture(autouse=True)
        def _broken_judge(monkeypatch):  # undone after the test: pytester runs in this process
            monkeypatch.setattr(FakeJudge, "pairwise_batch", broken)
        """
    )
    pytester.makepyfile(test_one=ONE)
    result = pytester.runpytest("--flame-model", "fake", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*RuntimeError: index bug in the scorer"])


def test_a_calibration_for_another_judge_is_an_error(pytester: pytest.Pytester):
    from flame_judge.calibration import Calibration

    Calibration("flame-smol@0000", "flame-smol", {"pairwise": 2.0}).write(pytester.path / "cal.json")
    pytester.makepyfile(test_one=ONE)
    result = pytester.runpytest("--flame-model", "fake", "--flame-calibration", "cal.json", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*was fitted for the judge flame-smol@0000, not for fake@0*"])


def test_a_malformed_calibration_file_is_a_usage_error(pytester: pytest.Pytester):
    Path(pytester.path / "cal.json").write_text("{}")
    result = pytester.runpytest("--flame-model", "fake", "--flame-calibration", "cal.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*cal.json is not a flame calibration file*"])
