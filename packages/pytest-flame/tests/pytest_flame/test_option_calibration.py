from __future__ import annotations

import json

import pytest

from flame_judge.calibration import calibrate, read_labels
from flame_judge.testing import FakeJudge


def test_calibration_is_applied_and_its_verdict_line_is_printed(pytester: pytest.Pytester):
    rows = []
    for i in range(30):
        label = "B" if i % 4 == 0 else "A"
        rows.append(
            {"prompt": f"How do I reset password {i}?", "a": f"Reset password {i} here.", "b": "Hi.", "label": label}
        )
    labels = pytester.path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cal = calibrate(FakeJudge(), read_labels(labels)[0], source="labels.jsonl")
    cal.write(pytester.path / "calibration.json")
    t = cal.temperatures["pairwise"]
    pytester.makepyfile(
        f"""
        from flame_judge.calibration import scale_pair
        from flame_judge.testing import FakeJudge
        from pytest_flame import assert_judged_better

        def test_calibrated():
            v = assert_judged_better("Reset password 99 here.", "Hi.", prompt="How do I reset password 99?")
            raw = FakeJudge().pairwise("How do I reset password 99?", "Reset password 99 here.", "Hi.").prob_a
            assert v.prob_a == scale_pair(raw, {t!r})
        """
    )
    result = pytester.runpytest("--flame-model", "fake", "--flame-calibration", "calibration.json")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            f"calibration: */calibration.json for fake@0 (pairwise T = {t:.3f})",
            "calibration: overall quality: judge agrees with people on 0.733 of 30 pairs (95% Wilson *): *",
        ]
    )
