"""Calibration on labelled rows: label parsing, the temperature fit, the report, and applying it."""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys

import pytest

from flame_judge.calibration import Calibration, calibrate, fit_temperature, read_labels, scale_pair
from flame_judge.calibration import _pair_nll as pair_nll
from flame_judge.errors import CalibrationError
from flame_judge.testing import FakeJudge


def test_the_fit_recovers_a_known_temperature():
    # Verdicts twice as confident as the truth (logit x 2): the fitted temperature is about 2.
    rng = random.Random(0)
    orders, gold = [], []
    for _ in range(4000):
        z = rng.gauss(0, 1.5)
        truth = 1 / (1 + math.exp(-z))
        shown = 1 / (1 + math.exp(-2 * z))
        orders.append((shown, shown))
        gold.append("A" if rng.random() < truth else "B")
    t = fit_temperature(lambda t: pair_nll(orders, gold, t))
    assert t == pytest.approx(2.0, rel=0.1)
    assert scale_pair(0.5, t) == 0.5
    assert scale_pair(0.9, 1.0) == pytest.approx(0.9)


def _rows(path, n=40):
    # The fake judge prefers the answer sharing words with the prompt; people agree on 3 of 4.
    rows = []
    for i in range(n):
        prompt = f"How do I reset my password number {i}?"
        good = f"Reset password number {i} in settings."
        bad = "We are open from nine in the morning to five in the evening, every weekday."
        label = "B" if i % 8 in (0, 1) else "A"
        criteria = "helpfulness" if i % 2 else "correctness"
        rows.append({"prompt": prompt, "a": good, "b": bad, "criteria": criteria, "label": label})
    lines = [json.dumps(r) for r in rows]
    lines += ['{"prompt": "q", "a": "x", "b": "y"}', '{"prompt": "q", "a": "x", "b": "y", "label": "C"}', "not json"]
    path.write_text("\ufeff" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_labels_are_read_with_rejects_by_line(tmp_path):
    rows, rejects = read_labels(_rows(tmp_path / "labels.jsonl"))
    assert len(rows) == 40
    assert [r["line"] for r in rejects] == [41, 42, 43]
    assert "missing field 'label'" in rejects[0]["error"]
    assert "'A', 'B' or 'tie'" in rejects[1]["error"]


def test_calibrating_an_overconfident_judge_softens_it_and_reports_per_criteria(tmp_path):
    rows, _ = read_labels(_rows(tmp_path / "labels.jsonl"))
    cal = calibrate(FakeJudge(), rows, source="labels.jsonl")
    assert cal.fingerprint == "fake@0"
    assert cal.temperatures["pairwise"] > 1.0  # the fake is surer than people are
    report = cal.report["pairwise"]
    assert report["ece_after"] < report["ece_before"]
    groups = {g["criteria"]: g for g in cal.report["groups"]}
    assert set(groups) == {"correctness", "helpfulness"}
    assert groups["helpfulness"]["agreement"] == pytest.approx(0.75)
    assert groups["helpfulness"]["longer_wins"] == pytest.approx(0.25)  # the bad answer is the longer one
    assert "helpfulness: judge agrees with people on 0.750 of 20 pairs" in groups["helpfulness"]["line"]
    path = tmp_path / "calibration.json"
    cal.write(path)
    again = Calibration.read(path)
    assert again.temperatures == cal.temperatures
    raw = FakeJudge().pairwise(rows[1].request.prompt, rows[1].request.a, rows[1].request.b).prob_a
    calibrated = FakeJudge(calibration=again).pairwise(rows[1].request.prompt, rows[1].request.a, rows[1].request.b)
    assert calibrated.prob_a == pytest.approx(scale_pair(raw, cal.temperatures["pairwise"]))
    assert 0.5 < calibrated.prob_a < raw


def test_a_calibration_for_another_fingerprint_is_refused(tmp_path):
    cal = Calibration("other@1", "other", {"pairwise": 1.5})
    with pytest.raises(CalibrationError, match="fitted for the judge other@1, not for fake@0"):
        FakeJudge(calibration=cal)
    (tmp_path / "c.json").write_text('{"version": 1, "fingerprint": "x", "temperatures": {"pairwise": -1}}')
    with pytest.raises(CalibrationError, match="positive numbers"):
        Calibration.read(tmp_path / "c.json")


@pytest.mark.slow
def test_flame_calibrate_on_the_default_judge_writes_the_report(tmp_path):
    rows = [
        {"prompt": "What is 2 + 2?", "a": "4.", "b": "5.", "criteria": "correctness", "label": "A"},
        {"prompt": "Capital of France?", "a": "Lyon.", "b": "Paris.", "criteria": "correctness", "label": "B"},
        {"prompt": "Say hi.", "a": "Hi!", "b": "No.", "label": "A"},
        {"prompt": "Say hi.", "a": "Go away.", "b": "Hello there!", "label": "B"},
    ]
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "cal"
    cmd = [sys.executable, "-m", "flame_data.cli", "calibrate", str(labels), "--out", str(out), "--no-cache"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "## agreement with people, beside the baselines" in done.stdout
    cal = Calibration.read(out / "calibration.json")
    assert cal.fingerprint.startswith("flame-smol@")
    assert (out / "reliability.png").stat().st_size > 1000
    from flame_judge.judge import Judge

    with pytest.raises(CalibrationError, match="was fitted for the judge"):
        Judge.load("base", cache=False, calibration=out / "calibration.json")
    Judge.load(cache=False, calibration=out / "calibration.json").close()
