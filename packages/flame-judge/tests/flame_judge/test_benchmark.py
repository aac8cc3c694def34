from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from flame_judge.benchmark import (
    EvalItem,
    Predictions,
    _pairwise,
    baseline_longer,
    by_category,
    load_jsonl_items,
    subset_scores,
    verdict_calibration,
)
from flame_judge.eval_report import build_report, markdown
from flame_judge.metrics import balanced_accuracy, calibration, ece_noise, kendall_tau_b, roc_auc, spearman

ROWS = [
    {"type": "pairwise", "prompt": "2+2?", "a": "4", "b": "It is five, I think.", "label": "A", "category": "math"},
    {"type": "pairwise", "prompt": "Hi", "a": "Hello there, friend!", "b": "Hey", "label": "tie"},
    {"type": "pointwise", "prompt": "Say hi", "response": "Hi!", "score": 4, "scale": [1, 5]},
    {"type": "classification", "context": "Sky is blue.", "response": "Sky is blue.", "label": "yes"},
]


def test_jsonl_items_and_rejects(tmp_path: Path):
    path = tmp_path / "bench.jsonl"
    bad = [
        '{"type": "pairwise", "prompt": "q", "a": "x", "b": "y", "label": "C"}',
        '{"type": "ranking"}',
        "[1]",
        '{"type": "pointwise", "prompt": "q", "response": "r", "score": 9}',
        '{"type": "pairwise", "prompt": "q", "a": 1, "b": "y", "label": "A"}',
    ]
    path.write_text("\n".join([json.dumps(r) for r in ROWS] + bad) + "\n")
    items, rejects = load_jsonl_items(path)
    assert [i.task_type for i in items] == ["pairwise", "pairwise", "pointwise", "classification"]
    assert items[0].category == "math"
    assert items[1].subset == "bench"
    assert [r["line"] for r in rejects] == [5, 6, 7, 8, 9]
    assert "must be A, B or tie" in rejects[0]["error"]
    assert "score" in rejects[3]["error"]
    assert "must be a string, got int" in rejects[4]["error"]


def test_rewardbench_credit_counts_order_disagreement_as_a_tie(tmp_path: Path):
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps(ROWS[0]) + "\n")
    item = load_jsonl_items(path)[0][0]
    out = Predictions("x")
    _pairwise(out, item, 0.9, 0.8)  # both orders pick A, gold A
    _pairwise(out, item, 0.9, 0.2)  # orders disagree
    _pairwise(out, item, 0.1, 0.3)  # both pick B
    assert out.pair_credit == [1.0, 0.5, 0.0]
    assert out.consistent == [True, False, True]


def test_longer_wins_baseline(tmp_path: Path):
    path = tmp_path / "b.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in ROWS) + "\n")
    items, _ = load_jsonl_items(path)
    pred = baseline_longer(items)
    scores = {s.subset + s.task_type: s for s in subset_scores(items, pred)}
    assert scores["bpairwise"].metrics["accuracy"] == 0.0  # the longer answer was wrong; the tie is left out
    assert scores["bpairwise"].n == 1


def test_metric_values():
    assert roc_auc([0.9, 0.8, 0.3, 0.1], [True, True, False, False]) == 1.0
    assert roc_auc([0.5, 0.5], [True, False]) == 0.5
    assert balanced_accuracy(["a", "a", "a", "b"], ["a", "a", "a", "b"]) == 1.0
    assert balanced_accuracy(["a", "a", "a", "a"], ["a", "a", "a", "b"]) == 0.5
    assert spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert kendall_tau_b([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    ece, bins = calibration([0.9, 0.9, 0.6, 0.6], [True, False, True, True])
    assert ece == pytest.approx(0.5 * 0.4 + 0.5 * 0.4)
    assert [b[2] for b in bins] == [2, 2]


def test_pointwise_ece_counts_the_top_score_right_when_it_is_nearest_the_human_score(tmp_path: Path):
    path = tmp_path / "b.jsonl"
    rows = [
        {"type": "pointwise", "prompt": "q", "response": "r", "score": 4, "scale": [1, 5]},
        {"type": "pointwise", "prompt": "q", "response": "r", "score": 3.5, "scale": [1, 5]},  # 3 and 4 both nearest
        {"type": "pointwise", "prompt": "q", "response": "r", "score": 1.2, "scale": [1, 5]},
        ROWS[0],  # other verdict types are left out
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    items, _ = load_jsonl_items(path)
    dist = {"1": 0.1, "2": 0.1, "3": 0.2, "4": 0.6, "5": 0.0}
    pred = Predictions("x", label_probs=[dist, dist, dist, None])
    cal = verdict_calibration("pointwise", items, pred)
    # every item's top score is 4 at confidence 0.6: right for 4 and 3.5, wrong for 1.2
    assert cal.ece == pytest.approx(abs(0.6 - 2 / 3))
    assert [b[2] for b in cal.bins] == [3]
    assert cal.noise == ece_noise([0.6, 0.6, 0.6])
    assert verdict_calibration("pointwise", items, baseline_longer(items)).bins == []  # a score alone has no ECE

    full = Predictions(
        "x", [None, None, None, 1.0], [None, None, None, 0.9], [None, None, None, True], [4.0, 4.0, 4.0, None],
        [None] * 4, [dist, dist, dist, None],
    )  # fmt: skip
    report = build_report(items, [full])
    assert report["runs"]["x"]["pointwise_ece_noise"] == {"mean": cal.noise[0], "p95": cal.noise[1]}
    pair = ece_noise([0.9])
    cell = f"{cal.ece:.3f} ({cal.noise[0]:.3f} / {cal.noise[1]:.3f})"
    assert f"| x | 0.100 ({pair[0]:.3f} / {pair[1]:.3f}) | {cell} | - |" in markdown(report)
    del report["runs"]["x"]["pointwise_ece_noise"]  # a report written before the noise existed
    assert f"| x | 0.100 ({pair[0]:.3f} / {pair[1]:.3f}) | {cal.ece:.3f} | - |" in markdown(report)


def test_calibration_bins_hold_their_lower_edge_and_put_one_in_the_last_bin():
    conf = [0.0, 0.1 * 3, 0.3, math.nextafter(0.3, 0), 0.95, 1.0]
    _, bins = calibration(conf, [True] * len(conf))
    assert [b[2] for b in bins] == [1, 1, 2, 2]  # bin 0; bin 2 holds the float just below 0.3; 3; 9
    assert bins[2][0] == pytest.approx(0.3)
    with pytest.raises(ValueError, match="confidence 1 is nan"):
        calibration([0.5, float("nan")], [True, False])
    with pytest.raises(ValueError, match=r"confidence 0 is 1\.5"):
        calibration([1.5], [True])


def test_ece_noise_is_what_a_calibrated_judge_scores_on_this_many_items():
    # four verdicts at 0.5 in one bin: E|k/4 - 1/2| for k ~ Binomial(4, 1/2) = (2 * 0.5 + 8 * 0.25) / 16
    mean, p95 = ece_noise([0.5] * 4, draws=20000)
    assert mean == pytest.approx(3 / 16, abs=0.01)
    assert p95 == 0.5  # k = 0 or 4 has probability 1/8 > 5%
    assert ece_noise([1.0] * 50) == (0.0, 0.0)  # always right at confidence 1: nothing to be off by
    few, many = ece_noise([0.7] * 100)[0], ece_noise([0.7] * 10000, draws=20)[0]
    assert many < few / 5  # it falls as 1/sqrt(n): only small samples need it
    assert ece_noise([0.6, 0.8, 0.9]) == ece_noise([0.6, 0.8, 0.9])  # seeded: a report is reproducible
    assert all(math.isnan(v) for v in ece_noise([]))  # nothing judged


def test_category_average_is_weighted_by_examples():
    from flame_judge.benchmark import SubsetScore

    scores = [
        SubsetScore("a", "general", "pairwise", 30, {"accuracy": 0.8}),
        SubsetScore("b", "general", "pairwise", 10, {"accuracy": 0.4}),
        SubsetScore("c", "safety", "pairwise", 10, {"accuracy": 0.5}),
    ]
    out = by_category(scores, "pairwise")
    assert out["general"] == pytest.approx(0.7)
    assert out["overall"] == pytest.approx((24 + 4 + 5) / 50)


@pytest.mark.slow
def test_flame_eval_end_to_end_on_the_real_model(tmp_path: Path, capsys, data_dir_env):
    from flame_data.cli import main
    from flame_data.mixture import BuildConfig, build, save

    config = BuildConfig(data_dir=Path(data_dir_env), datasets=("q2", "pandalm_testset"), on_error="skip")
    save(build(config, log=lambda s: None), tmp_path / "mix", config)
    code = main(
        [
            "eval",
            "--mixture",
            str(tmp_path / "mix"),
            "--per-task",
            "3",
            "--out",
            str(tmp_path / "report"),
            "--cache",
            str(tmp_path / "c.sqlite"),
            "--max-input-tokens",
            "768",
        ]
    )
    assert code == 0
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    assert set(report["runs"]) == {"flame-smol", "zero-shot smollm2-135m-instruct", "longer wins", "random"}
    assert "overall" in report["runs"]["random"]["by_category"]["pairwise"]
    assert (tmp_path / "report" / "reliability.png").stat().st_size > 5000
    assert "| **overall** |" in capsys.readouterr().out


def test_items_are_frozen():
    item = EvalItem("s", "general", "pairwise", None, (), "A")  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        item.gold = "B"  # type: ignore[misc]


@pytest.mark.slow
def test_bias_probes_on_the_real_model(real_judge, tmp_path: Path):
    from flame_judge.bias import PROBES, run_probes

    path = tmp_path / "b.jsonl"
    rows = [
        {"type": "pairwise", "prompt": "What is 2 + 2?", "a": "4", "b": "5", "label": "A"},
        {"type": "pairwise", "prompt": "Capital of France?", "a": "Lyon", "b": "Paris", "label": "B"},
        {"type": "pairwise", "prompt": "Opposite of hot?", "a": "Cold", "b": "Warm", "label": "A"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    items, _ = load_jsonl_items(path)
    results = run_probes(real_judge, items)
    assert [r.probe for r in results] == list(PROBES)
    by = {r.probe: r for r in results}
    # The default judge has a reward head: order and compassion are n/a, not a flattering zero.
    assert by["order"].rate is None
    assert by["compassion"].rate is None
    for probe in ("salience", "bandwagon", "attention", "injection-pairwise"):
        rate = by[probe].rate
        assert rate is not None, probe
        assert 0.0 <= rate <= 1.0, probe
