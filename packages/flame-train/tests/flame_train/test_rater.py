"""Rater heads: pointwise (ordinal) and classification (per label position) verdicts from a judge's
hidden states; rows, forged copies, the fit, the judge folder and Judge.load() using it."""

from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
from collections import Counter
from pathlib import Path

import pytest
import torch

from flame_data.cli import main
from flame_data.registry import tasks as registered
from flame_judge import Judge
from flame_judge.errors import ModelNotFoundError
from flame_judge.rater import RaterConfig, RaterHead, cutpoint_positions, ordinal_log_probs, scale_of, supports
from flame_judge.reward import RewardConfig, RewardHead
from flame_train.errors import ConfigError
from flame_train.rater import (
    BENIGN,
    MERGED_KEYS,
    PRIOR_L2_GRID,
    HeadFit,
    RowFeatures,
    extract,
    fit_rater,
    merge_rows,
    rater_rows,
    read_rows,
    reward_prior,
    row_input,
    write_rater,
)

pytestmark = pytest.mark.slow
TINY = {"layers": (1, 2), "max_input_tokens": 256, "device": "cpu"}
SPECS = {name: spec for name, (spec, _) in registered().items()}


def test_the_ordinal_model_gives_a_distribution_that_moves_with_the_score():
    positions = torch.tensor(cutpoint_positions(["1", "2", "3", "4", "5"]), dtype=torch.float64)
    assert positions.tolist() == pytest.approx([-0.375, -0.125, 0.125, 0.375])
    r = torch.tensor([-3.0, 0.0, 3.0], dtype=torch.float64)
    logp = ordinal_log_probs(r, torch.tensor(0.0), torch.tensor(4.0), positions)
    probs = logp.exp()
    assert probs.sum(1).tolist() == pytest.approx([1.0, 1.0, 1.0])
    expected = (probs * torch.arange(1, 6)).sum(1)
    assert expected[0] < expected[1] < expected[2]  # a higher score, a higher expected rating
    assert cutpoint_positions(["0", "1"]) == [0.0]  # any integer scale maps onto the same cuts


def test_which_tasks_a_rater_judges():
    config = RaterConfig(RewardConfig(), label_sets=(("yes", "no"),))
    assert scale_of(["1", "2", "3"]) == [1, 2, 3]
    assert scale_of(["yes", "no"]) is None
    assert scale_of(["3", "1"]) is None
    assert supports(config, SPECS["summeval/coherence"])
    assert supports(config, SPECS["q2/consistency"])
    assert not supports(config, SPECS["pandalm_testset/overall"])  # pairwise stays with the reward head
    assert not supports(RaterConfig(RewardConfig(), pointwise=False), SPECS["summeval/coherence"])
    # A label position means what it meant in training: other label sets stay on the label path.
    assert not supports(config, SPECS["dialfact/verification"])  # supported / refuted / not enough information
    assert config.positions == 2


def _temps(fit: HeadFit) -> dict[str, float]:
    assert fit.temperature is not None
    return fit.temperature


def _planted(n: int, seed: int) -> RowFeatures:
    """Pointwise rows (summeval, 1-5) whose label rises with feature 0, classification rows (q2) whose
    label is decided by feature 1."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2 * n, 6, generator=g)
    point = [str(min(5, max(1, round(3 + 1.2 * float(v))))) for v in x[:n, 0]]
    label = ["yes" if float(v) > 0 else "no" for v in x[n:, 1]]
    manifest = {
        "fingerprint": "m@0",
        "config": {"layers": [1], "max_input_tokens": 64, "length": True},
        "ids": [f"r{i}" for i in range(2 * n)],
        "tasks": ["summeval/coherence"] * n + ["q2/consistency"] * n,
        "gold": point + label,
        "human_score": [float(p) for p in point] + [None] * n,
        "kinds": ["human"] * (2 * n),
    }
    return RowFeatures(x, manifest)


def test_the_fit_recovers_planted_ratings_and_labels():
    head, fits = fit_rater(_planted(300, 0), _planted(200, 1))
    assert set(fits) == {"pointwise", "classification"}
    assert fits["pointwise"].dev_metric > 0.8  # Spearman of the expected score with the human score
    assert fits["classification"].dev_metric > 0.9  # balanced accuracy
    for fit in fits.values():  # the L2 of the lowest dev log-loss is kept; its temperature only lowers it
        best = min(fit.grid.values(), key=lambda row: row["dev_log_loss"])
        assert fit.grid[str(fit.l2)] is best
        assert fit.dev_log_loss <= best["dev_log_loss"] + 1e-9
    assert head.config.pointwise
    assert head.config.label_sets == (("yes", "no"),)
    other = _planted(10, 2)
    other.manifest["fingerprint"] = "n@1"
    with pytest.raises(ConfigError, match="different judges"):
        fit_rater(_planted(10, 0), other)


def _noisy_dev(n: int, seed: int, flip: float) -> RowFeatures:
    """Planted rows whose classification labels are flipped at random in a `flip` share."""
    rows = _planted(n, seed)
    rng = random.Random(seed)
    gold = list(rows.manifest["gold"])
    for i in range(n, 2 * n):
        if rng.random() < flip:
            gold[i] = "no" if gold[i] == "yes" else "yes"
    rows.manifest["gold"] = gold
    return rows


def test_the_temperature_fitted_on_dev_softens_an_overconfident_head_without_moving_a_label():
    train, dev = _planted(300, 0), _noisy_dev(300, 1, 0.2)  # dev labels noisier than train's
    plain, fits_plain = fit_rater(train, dev, temperature=False)
    scaled, fits = fit_rater(train, dev)
    assert fits_plain["classification"].temperature is None
    (t,) = _temps(fits["classification"]).values()
    assert t > 1.5  # clean train labels make a confident head; 20% flipped dev labels ask for softer
    assert fits["classification"].dev_log_loss < fits_plain["classification"].dev_log_loss - 0.02
    assert fits["classification"].dev_metric == fits_plain["classification"].dev_metric  # argmax unchanged
    assert "class_log_t" in scaled.tensors
    assert "class_log_t" not in plain.tensors
    q2 = SPECS["q2/consistency"]
    x = dev.x[300:310].double()
    p_plain, p_scaled = plain.log_probs(q2, x).exp(), scaled.log_probs(q2, x).exp()
    assert torch.equal(p_plain.argmax(1), p_scaled.argmax(1))
    assert (p_scaled.max(1).values < p_plain.max(1).values).all()
    assert set(_temps(fits["pointwise"])) == {"pointwise"}


def test_per_label_set_scores_learn_label_sets_that_a_shared_position_cannot():
    """q2 (yes/no) is decided by feature 1 and mr_ben (correct/incorrect) by the opposite of it: a
    shared first position cannot serve both, scores of their own can."""

    def rows(n: int, seed: int) -> RowFeatures:
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(2 * n, 6, generator=g)
        gold = ["yes" if float(v) > 0 else "no" for v in x[:n, 1]]
        gold += ["correct" if float(v) < 0 else "incorrect" for v in x[n:, 1]]
        manifest = {
            "fingerprint": "m@0",
            "config": {"layers": [1], "max_input_tokens": 64, "length": True},
            "ids": [f"r{i}" for i in range(2 * n)],
            "tasks": ["q2/consistency"] * n + ["mr_ben/solution_correct"] * n,
            "gold": gold,
            "human_score": [None] * (2 * n),
            "kinds": ["human"] * (2 * n),
        }
        return RowFeatures(x, manifest)

    _, shared = fit_rater(rows(200, 0), rows(200, 1))
    head, own = fit_rater(rows(200, 0), rows(200, 1), per_label_set=True)
    assert shared["classification"].dev_metric < 0.7
    assert own["classification"].dev_metric > 0.9
    assert head.config.per_label_set
    assert head.tensors["class_w"].shape == (2, 2, 6)
    assert set(_temps(own["classification"])) == {"correct/incorrect", "yes/no"}
    assert RaterConfig.from_json(head.config.to_json()) == head.config
    assert "per_label_set" not in RaterConfig(RewardConfig()).to_json()  # older heads' configs read the same


def test_refitting_one_head_keeps_the_other_as_it_was():
    first, _ = fit_rater(_planted(200, 0), _planted(100, 1))
    head, fits = fit_rater(_planted(200, 5), _planted(100, 1), heads=("classification",), keep=first)
    assert fits["pointwise"].kept
    assert not fits["classification"].kept
    for key in ("mean", "scale", "point_w", "point_a", "point_log_b"):
        assert torch.equal(head.tensors[key], first.tensors[key])
    assert not torch.equal(head.tensors["class_w"], first.tensors["class_w"])  # refitted on other rows
    assert head.config == first.config
    other = RaterHead(RaterConfig(RewardConfig((3,), 64)), dict(first.tensors))
    with pytest.raises(ConfigError, match="rater head to keep reads"):
        fit_rater(_planted(200, 5), _planted(100, 1), heads=("classification",), keep=other)
    with pytest.raises(ConfigError, match="every verdict type it has is refitted"):
        fit_rater(_planted(200, 5), _planted(100, 1), keep=first)
    # Without a temperature fit the kept head keeps its own temperature, as flame.json will say.
    unscaled, fits = fit_rater(
        _planted(200, 5), _planted(100, 1), heads=("classification",), keep=first, temperature=False
    )
    assert torch.equal(unscaled.tensors["point_log_t"], first.tensors["point_log_t"])
    assert fits["pointwise"].temperature is None


def _reward_head(weight: list[float], layers: tuple[int, ...] = (1,)) -> RewardHead:
    """A reward head over the planted rows' five hidden-state features (no length feature)."""
    w = torch.tensor(weight)
    return RewardHead(RewardConfig(layers, 64, False), w, torch.full((5,), 0.3), torch.full((5,), 2.0))


def _noisy_points(n: int, seed: int) -> RowFeatures:
    """Planted rows whose ratings carry noise besides feature 0 (no direction separates them)."""
    rows = _planted(n, seed)
    g = torch.Generator().manual_seed(seed + 50)
    noisy = rows.x[:n, 0] + 0.8 * torch.randn(n, generator=g)
    gold = [str(min(5, max(1, round(3 + 1.2 * float(v))))) for v in noisy]
    rows.manifest = {**rows.manifest, "gold": gold + rows.manifest["gold"][n:]}
    rows.manifest["human_score"] = [float(v) for v in gold] + [None] * n
    return rows


def test_a_reward_prior_carries_a_fit_on_few_rows_and_a_wrong_one_is_weighed_down():
    """Pointwise weights shrink toward the reward head's direction (feature 0 here, as the planted
    ratings): with 24 train rows the prior's fit ranks dev rows better than a fit shrunk toward 0, and
    its weight is fitted (a prior that points elsewhere gets a weight near 0 and costs little)."""
    few, dev = _noisy_points(24, 3), _noisy_points(300, 1)
    plain, plain_fits = fit_rater(few, dev, length_feature=False, heads=("pointwise",), temperature=False)
    right = _reward_head([1.0, 0.0, 0.0, 0.0, 0.0])
    head, fits = fit_rater(few, dev, length_feature=False, heads=("pointwise",), temperature=False, prior=right)
    fit = fits["pointwise"]
    assert set(fit.grid) == {str(v) for v in (1.0, 10.0, 100.0, 1000.0, *PRIOR_L2_GRID)}
    assert all(row["prior_weight"] > 0 for row in fit.grid.values())
    assert fit.prior_weight == fit.grid[str(fit.l2)]["prior_weight"]
    assert fit.dev_metric > plain_fits["pointwise"].dev_metric
    assert fit.dev_log_loss < plain_fits["pointwise"].dev_log_loss
    w = head.tensors["point_w"]  # the direction folded into the weights: the head file is unchanged
    assert set(head.tensors) == set(plain.tensors)
    assert w[0] > 5 * w[1:].abs().max()
    wrong = _reward_head([0.0, 0.0, 0.0, 1.0, 0.0])
    assert fit.prior_weight is not None
    _, fits = fit_rater(few, dev, length_feature=False, heads=("pointwise",), temperature=False, prior=wrong)
    assert fits["pointwise"].prior_weight is not None
    assert abs(fits["pointwise"].prior_weight) < 0.5 * fit.prior_weight
    assert fits["pointwise"].dev_metric > plain_fits["pointwise"].dev_metric - 0.05  # one free direction more
    with pytest.raises(ConfigError, match="the reward head reads layers"):
        fit_rater(few, dev, length_feature=False, heads=("pointwise",), prior=_reward_head([1.0] * 5, (2,)))
    with pytest.raises(ConfigError, match="fits with --no-length"):  # the rater features keep their length column
        fit_rater(few, dev, heads=("pointwise",), prior=right)
    narrow = RewardHead(RewardConfig((1,), 64, False), torch.ones(4), torch.zeros(4), torch.ones(4))
    with pytest.raises(ConfigError, match="the reward head has 4 weights, the rater features 5"):
        fit_rater(few, dev, length_feature=False, heads=("pointwise",), prior=narrow)


def test_the_reward_prior_is_the_reward_heads_score_in_the_raters_standardized_features():
    g = torch.Generator().manual_seed(0)
    f = torch.randn(50, 5, generator=g, dtype=torch.float64) * 3 + 1
    reward = RewardHead(
        RewardConfig((1,), 64, False),
        torch.randn(5, generator=g),
        torch.randn(5, generator=g),
        torch.rand(5, generator=g) + 0.5,
    )
    mean, scale = f.mean(0), f.std(0)
    z = (f - mean) / scale
    gap = z @ reward_prior(reward, mean, scale) - reward(f)  # a constant: the cutpoints absorb it
    assert float(gap.std()) < 1e-9


def _two_levels(n: int, seed: int) -> RowFeatures:
    """Pointwise rows of two tasks on one 1-5 scale: within a task the rating rises with feature 0;
    feature 2 says which task a row is from, and the second task's ratings sit 1.5 points higher."""
    rows = _planted(n, seed)
    g = torch.Generator().manual_seed(seed + 100)
    x = torch.randn(n, 6, generator=g)
    second = torch.arange(n) % 4 == 3  # unequal shares: the pooled level is not the offsets' mean
    x[:, 2] = second.double() + 0.05 * torch.randn(n, generator=g, dtype=torch.float64)
    score = 2.5 + 1.2 * x[:, 0] + 1.5 * second.double()
    gold = [str(min(5, max(1, round(float(v))))) for v in score]
    rows.x, manifest = x, dict(rows.manifest)
    manifest.update(
        ids=[f"t{seed}-{i}" for i in range(n)],
        tasks=["summeval/fluency" if s else "summeval/coherence" for s in second.tolist()],
        gold=gold,
        human_score=[float(v) for v in gold],
        kinds=["human"] * n,
    )
    rows.manifest = manifest
    return rows


def test_task_offsets_spend_the_weights_on_ranking_within_a_task():
    """Without offsets the fit also learns which task a row is from (the second task's ratings sit
    higher); with them the task indicator gets far less weight and the within-task feature stays."""
    train, dev = _two_levels(400, 0), _two_levels(200, 1)
    args = {"length_feature": False, "heads": ("pointwise",), "temperature": False}
    plain, _ = fit_rater(train, dev, **args)
    offset, fits = fit_rater(train, dev, **args, task_offsets=True)
    assert fits["pointwise"].task_offsets
    p, o = plain.tensors["point_w"], offset.tensors["point_w"]
    assert p[2] > 0.5 * p[0]  # the task's level, learned as if it were quality
    assert o[2].abs() < 0.1 * o[0]
    assert fits["pointwise"].dev_metric > 0.5
    # The offsets dropped, the cutpoints and w's scale are the best for the pooled rows with w's direction fixed.
    t = {k: v.clone().requires_grad_(k in ("point_a", "point_log_b")) for k, v in offset.tensors.items()}
    log_s = torch.zeros((), dtype=torch.float64, requires_grad=True)
    z = (train.x.double()[:, :-1] - t["mean"]) / t["scale"]  # no length column
    positions = torch.tensor(cutpoint_positions([str(v) for v in range(1, 6)]), dtype=torch.float64)
    logp = ordinal_log_probs(log_s.exp() * (z @ t["point_w"]), t["point_a"], t["point_log_b"].exp(), positions)
    gold = torch.tensor([int(v) - 1 for v in train.manifest["gold"]])
    nll = -logp.gather(1, gold[:, None]).mean()
    grads = torch.autograd.grad(nll, [t["point_a"], t["point_log_b"], log_s])
    assert max(abs(float(v)) for v in grads) < 1e-4


def test_a_fit_then_a_calibration_on_its_dev_rows_is_the_fit_with_temperatures():
    """`rater fit` (temperatures on) gives the head that a fit without them calibrated afterwards on
    the same dev rows (`rater calibrate`) gives: calibrating later loses nothing."""
    train, dev = _planted(200, 0), _noisy_dev(100, 1, 0.2)
    plain, _ = fit_rater(train, dev, temperature=False)
    calibrated, _ = fit_rater(dev, dev, heads=(), keep=plain)
    direct, _ = fit_rater(train, dev)
    assert set(calibrated.tensors) == set(direct.tensors)
    for key, value in direct.tensors.items():
        assert torch.allclose(calibrated.tensors[key], value, atol=1e-6), key


def test_calibrating_keeps_every_weight_and_fits_only_the_temperatures():
    first, _ = fit_rater(_planted(200, 0), _planted(100, 1), temperature=False)
    dev = _noisy_dev(100, 1, 0.2)
    dev.manifest["tasks"] = [*dev.manifest["tasks"][:-1], "mr_ben/solution_correct"]  # a label set it lacks
    dev.manifest["gold"] = [*dev.manifest["gold"][:-1], "correct"]
    head, fits = fit_rater(dev, dev, heads=(), keep=first)
    assert all(f.kept for f in fits.values())
    for key in ("mean", "scale", "point_w", "point_a", "point_log_b", "class_w", "class_b"):
        assert torch.equal(head.tensors[key], first.tensors[key])
    assert set(_temps(fits["classification"])) == {"yes/no"}  # the dev row of another label set is not scored
    assert _temps(fits["classification"])["yes/no"] > 1.0  # noisier dev labels: softer


def test_a_head_left_out_leaves_its_verdicts_on_the_label_path():
    head, fits = fit_rater(_planted(100, 0), _planted(50, 1), heads=("pointwise",))
    assert set(fits) == {"pointwise"}
    assert head.config.label_sets == ()
    assert not supports(head.config, SPECS["q2/consistency"])
    assert supports(head.config, SPECS["summeval/coherence"])
    with pytest.raises(ConfigError, match="unknown heads"):
        fit_rater(_planted(10, 0), _planted(10, 1), heads=("pairwise",))


def test_rows_are_sampled_per_task_and_forged_copies_keep_the_human_label(tiny_mixture: Path):
    rows = rater_rows(tiny_mixture, "train", per_task=6, forged=0.5)
    tasks = {r.task for r in rows}
    assert {SPECS[t].task_type for t in tasks} == {"pointwise", "classification"}
    human = {r.id: r for r in rows if r.kind == "human"}
    forged = [r for r in rows if r.kind == "forged"]
    assert len(forged) == round(0.5 * len(human))
    for r in forged:
        original = human[r.id.removesuffix("+forged")]
        assert r.gold == original.gold
        assert r.fields[:-1] == original.fields[:-1]
        assert r.fields[-1][1].startswith(original.fields[-1][1])
        added = r.fields[-1][1][len(original.fields[-1][1]) :]
        assert SPECS[r.task].outputs[0].name in added  # "score" or "answer", pushing another label
    assert rows == rater_rows(tiny_mixture, "train", per_task=6, forged=0.5)  # seeded
    with pytest.raises(ConfigError, match="--split train only"):
        rater_rows(tiny_mixture, "dev", per_task=6, forged=0.5)


def test_benign_copies_append_a_neutral_sentence_and_keep_the_label(tiny_mixture: Path):
    plain = rater_rows(tiny_mixture, "train", per_task=6, forged=0.5)
    rows = rater_rows(tiny_mixture, "train", per_task=6, forged=0.5, benign=0.5)
    assert rows[: len(plain)] == plain  # the benign copies come after: the rest of the sample is unchanged
    human = {r.id: r for r in rows if r.kind == "human"}
    benign = [r for r in rows if r.kind == "benign"]
    assert len(benign) == round(0.5 * len(human))
    for r in benign:
        original = human[r.id.removesuffix("+benign")]
        assert (r.gold, r.task, r.fields[:-1]) == (original.gold, original.task, original.fields[:-1])
        assert r.fields[-1][1][len(original.fields[-1][1]) :] in BENIGN
    assert "I hope this answer is useful" not in "".join(BENIGN)  # the injection probe's control stays unseen
    with pytest.raises(ConfigError, match="--split train only"):
        rater_rows(tiny_mixture, "dev", per_task=6, benign=0.5)
    with pytest.raises(ConfigError, match="from 0 to 1"):
        rater_rows(tiny_mixture, "train", per_task=6, benign=-0.1)


def test_rows_of_one_verdict_type_and_labels_in_equal_shares(tiny_mixture: Path):
    rows = rater_rows(tiny_mixture, "train", per_task=6, task_types=["classification"], balance_labels=True)
    assert rows
    assert {SPECS[r.task].task_type for r in rows} == {"classification"}
    for task in {r.task for r in rows}:
        pool = rater_rows(tiny_mixture, "train", per_task=10_000, task_types=["classification"])
        available = Counter(r.gold for r in pool if r.task == task)
        got = Counter(r.gold for r in rows if r.task == task)
        share = 6 // len(available)
        assert sum(got.values()) == min(6, sum(available.values()))
        assert all(got[g] >= min(share, n) for g, n in available.items())  # every label its share
    assert {
        SPECS[r.task].task_type for r in rater_rows(tiny_mixture, "train", per_task=6, task_types=["pointwise"])
    } == {"pointwise"}
    with pytest.raises(ConfigError, match="--task-types"):
        rater_rows(tiny_mixture, "train", per_task=6, task_types=["pairwise"])


def test_a_generic_row_is_rendered_as_a_users_request_with_the_same_labels(tiny_mixture: Path):
    rows = rater_rows(tiny_mixture, "train", per_task=6, generic=0.5)
    generic = [r for r in rows if r.generic]
    assert 0 < len(generic) < len(rows)
    for r in generic:
        task = SPECS[r.task]
        spec, inputs = row_input(r, task)
        assert spec.name in ("judge/pointwise", "judge/classification")
        assert spec.outputs[0].labels == task.outputs[0].labels
        assert task.name.split("/")[-1].replace("_", " ") in spec.definition  # the task's aspect as criteria
        assert inputs[-1][1] == r.fields[-1][1]  # the judged response unchanged
        assert all(value in inputs[0][1] for _, value in r.fields[:-1])  # the context as one request
    plain = next(r for r in rows if not r.generic)
    assert row_input(plain, SPECS[plain.task]) == (SPECS[plain.task], plain.fields)


@pytest.fixture(scope="module")
def rater_judge(tiny_model: Path, tiny_mixture: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("rater")
    train = rater_rows(tiny_mixture, "train", per_task=16, forged=0.25, generic=0.3)
    dev = rater_rows(tiny_mixture, "dev", per_task=8, seed=1)
    extract(train, work / "train", model=str(tiny_model), chunk=16, **TINY)
    extract(dev, work / "dev", model=str(tiny_model), chunk=16, **TINY)
    features_dev = read_rows(work / "dev")
    head, fits = fit_rater(read_rows(work / "train"), features_dev)
    out = write_rater(head, fits, read_rows(work / "train"), tiny_model, work / "judge", name="tiny-rater")
    return {"judge": out, "head": head, "dev": dev, "features_dev": features_dev}


def test_features_folders_merge_in_order_and_refuse_another_judge(rater_judge: dict):
    feats = rater_judge["features_dev"]
    n = feats.x.shape[0]
    half = {key: feats.manifest[key][n // 2 :] for key in MERGED_KEYS}
    second = RowFeatures(feats.x[n // 2 :], {**feats.manifest, **half, "ids": [f"{i}-b" for i in half["ids"]]})
    both = merge_rows([feats, second])
    assert both.x.shape[0] == n + len(half["ids"])
    assert both.tasks == feats.tasks + half["tasks"]
    assert both.manifest["gold"] == feats.manifest["gold"] + half["gold"]
    assert len(both.manifest["generic"]) == len(both.tasks)
    assert both.provenance is not None
    assert both.provenance["read_twice"] == 0
    assert feats.manifest["hidden_states"]
    refitted = RowFeatures(feats.x, {**feats.manifest, "fingerprint": "another-head@0"})
    assert merge_rows([feats, refitted]).x.shape[0] == n  # same hidden states; the same rows count once
    other = RowFeatures(feats.x, {**feats.manifest, "fingerprint": "another@0", "hidden_states": "0" * 16})
    with pytest.raises(ConfigError, match="different judges"):
        merge_rows([feats, other])
    older = {k: v for k, v in feats.manifest.items() if k != "hidden_states"}  # folders from before it
    with pytest.raises(ConfigError, match="different judges"):
        merge_rows([RowFeatures(feats.x, older), RowFeatures(feats.x, {**older, "fingerprint": "another@0"})])


def test_a_tasks_row_in_two_folders_counts_once_and_copies_are_kept(rater_judge: dict):
    feats = rater_judge["features_dev"]
    n = feats.x.shape[0]
    x = feats.x.clone()
    x[0] += 1.0  # a forged copy of row 0 reads other hidden states; the manifest cannot tell it apart
    copies = RowFeatures(x[:2], {**feats.manifest, **{k: feats.manifest[k][:2] for k in MERGED_KEYS}})
    copies.manifest["kinds"] = ["forged", "human"]
    merged = merge_rows([feats, copies])
    assert merged.x.shape[0] == n + 1  # row 1 again is dropped, the forged copy of row 0 kept
    assert torch.equal(merged.x[-1], x[0])
    assert merged.provenance is not None
    assert (merged.provenance["rows_read"], merged.provenance["read_twice"]) == (n + 2, 1)
    assert merged.manifest["kinds"][-1] == "forged"
    assert all(len(merged.manifest[k]) == n + 1 for k in (*MERGED_KEYS, "generic"))


def test_features_read_before_a_head_was_added_fit_a_head_for_that_judge(
    rater_judge: dict, tiny_model: Path, tmp_path: Path
):
    """A judge that gained a head since the rows were read has another fingerprint, the same hidden states."""
    train = read_rows(rater_judge["judge"].parent / "train")
    headed = shutil.copytree(tiny_model, tmp_path / "headed")
    (headed / "reward_head.safetensors").write_bytes((rater_judge["judge"] / "rater_head.safetensors").read_bytes())
    head, fits = fit_rater(train, rater_judge["features_dev"])
    out = write_rater(head, fits, train, headed, tmp_path / "out", name="tiny-rater")
    assert json.loads((out / "flame.json").read_text())["rater_head"]["features_from"] == train.manifest["fingerprint"]


def test_the_judge_gives_head_verdicts_equal_to_the_fitted_features(rater_judge: dict, tiny_model: Path, tmp_path):
    head, dev, feats = rater_judge["head"], rater_judge["dev"], rater_judge["features_dev"]
    meta = json.loads((rater_judge["judge"] / "flame.json").read_text())
    assert meta["rater_head"]["train_rows"]["forged"] > 0
    assert set(meta["rater_head"]["heads"]) == {"pointwise", "classification"}
    with Judge.load(rater_judge["judge"], device="cpu", cache=tmp_path / "c.sqlite", max_input_tokens=256) as judge:
        with Judge.load(tiny_model, device="cpu", cache=False) as plain:
            assert judge.fingerprint != plain.fingerprint  # the head is part of the judge
        got = judge.distributions([(SPECS[r.task], r.fields) for r in dev])
        for i, (r, (dist, cached)) in enumerate(zip(dev, got, strict=True)):
            want = head.log_probs(SPECS[r.task], feats.x[i : i + 1])[0].exp().tolist()
            assert not cached
            assert list(dist.values()) == pytest.approx(want, abs=1e-4)
        verdict = judge.pointwise("Summarize: the cat sat.", "A cat sat.", criteria="faithfulness", scale=(0, 9))
        assert verdict.kind == "head"
        assert sum(verdict.distribution.values()) == pytest.approx(1.0)
        assert 0 <= verdict.score <= 9  # a scale the head was not fitted on
        label = judge.classify("The sky is blue.", "The sky is green.", criteria="consistency")
        assert label.kind == "head"
        assert set(label.probabilities) == {"yes", "no"}
        many = judge.classify("x", "y", labels=("a", "b", "c", "d"))
        assert many.kind == "generative"  # a label set the head was not fitted on: the label path
        assert judge.classify("x", "y", labels=("no", "yes")).kind == "generative"  # nor in another order
        # One batch mixing both paths keeps the request order.
        mixed = judge.distributions(
            [
                (SPECS[dev[0].task], dev[0].fields),
                (SPECS["dialfact/verification"], (("dialogue", "Hi."), ("evidence", "x"), ("response", "y"))),
                (SPECS[dev[-1].task], dev[-1].fields),
            ]
        )
        assert [len(d) for d, _ in mixed] == [len(got[0][0]), 3, len(got[-1][0])]
        assert list(mixed[0][0].values()) == pytest.approx(list(got[0][0].values()), abs=1e-6)
        assert list(mixed[2][0].values()) == pytest.approx(list(got[-1][0].values()), abs=1e-6)
        judge.backend.loaded._model = None  # a warm re-run needs no weights
        again = judge.pointwise("Summarize: the cat sat.", "A cat sat.", criteria="faithfulness", scale=(0, 9))
        assert again.cached
        assert again.score == verdict.score
        assert not judge.backend.loaded.is_loaded


def test_a_declared_rater_head_that_is_missing_is_a_load_error(rater_judge: dict, tmp_path: Path):
    broken = tmp_path / "broken"
    shutil.copytree(rater_judge["judge"], broken)
    (broken / "rater_head.safetensors").unlink()
    with pytest.raises(ModelNotFoundError, match=r"rater_head\.safetensors is missing"):
        Judge.load(broken, device="cpu", cache=False)


def test_a_rater_head_round_trips_through_its_file(rater_judge: dict):
    head = RaterHead.load(rater_judge["judge"])
    original = rater_judge["head"]
    assert head.config == original.config
    x = torch.randn(3, original.tensors["mean"].shape[0], dtype=torch.float64)
    spec = SPECS["summeval/coherence"]
    assert torch.allclose(head.log_probs(spec, x), original.log_probs(spec, x), atol=1e-5)
    q2 = SPECS["q2/consistency"]
    assert torch.allclose(head.log_probs(q2, x), original.log_probs(q2, x), atol=1e-5)
    assert torch.allclose(head.log_probs(q2, x).exp().sum(1), torch.ones(3, dtype=torch.float64))


def test_rater_cli_features_then_fit(tiny_model: Path, tiny_mixture: Path, tmp_path: Path, capsys):
    common = ["--mixture", str(tiny_mixture), "--model", str(tiny_model), "--device", "cpu", "--layers", "1", "2"]
    common += ["--max-input-tokens", "256"]
    train = ["--per-task", "6", "--forged", "0.5", "--generic", "0.3", "--out", str(tmp_path / "tr")]
    assert main(["rater", "features", *common, *train]) == 0
    assert main(["rater", "features", *common, "--split", "dev", "--per-task", "4", "--out", str(tmp_path / "dv")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "forged; " in out[0]
    assert out[0].endswith(" as generic requests) from 5 tasks of " + f"{tiny_mixture} (train)")
    assert "generic" not in out[2]  # the dev rows are the tasks' own renderings
    fit = ["rater", "fit", "--train", str(tmp_path / "tr"), "--dev", str(tmp_path / "dv"), "--judge", str(tiny_model)]
    assert main([*fit, "--out", str(tmp_path / "j"), "--name", "cli-rater"]) == 0
    out = capsys.readouterr().out
    assert "pointwise L2" in out
    assert "(kept)" in out
    assert "cli-rater@" in out
    provenance = json.loads((tmp_path / "j" / "flame.json").read_text())["rater_head"]["provenance"]
    assert provenance["train_rows"]["forged"] == 0.5
    assert provenance["train_rows"]["by_kind"]["forged"] == round(0.5 * provenance["train_rows"]["by_kind"]["human"])
    assert provenance["train_rows"]["generic_template"] > 0
    # Refit classification alone, per label set, keeping the pointwise head of the judge just written.
    again = [*fit[:-2], "--judge", str(tmp_path / "j"), "--heads", "classification", "--keep-others"]
    assert main([*again, "--per-label-set", "--out", str(tmp_path / "j2"), "--name", "cli-rater"]) == 0
    out = capsys.readouterr().out
    assert f"pointwise: kept from {tmp_path / 'j'}" in out
    assert "classification temperature on the dev rows: " in out
    first, second = (json.loads((tmp_path / d / "flame.json").read_text())["rater_head"] for d in ("j", "j2"))
    assert second["heads"]["pointwise"]["kept_from"].startswith("cli-rater@")
    assert second["heads"]["pointwise"]["l2"] == first["heads"]["pointwise"]["l2"]
    assert second["kept"]["heads"] == ["pointwise"]
    assert second["config"]["per_label_set"] is True
    kept, new = RaterHead.load(tmp_path / "j"), RaterHead.load(tmp_path / "j2")
    assert torch.equal(kept.tensors["point_w"], new.tensors["point_w"])
    assert main([*fit, "--heads", "classification", "--keep-others", "--out", str(tmp_path / "j3"), "--name", "x"]) == 1
    assert "declares no rater head to keep" in capsys.readouterr().err
    # Temperatures alone, every weight kept; the fit's record stands beside where the temperatures came from.
    calibrate = ["rater", "calibrate", "--dev", str(tmp_path / "dv"), "--judge", str(tmp_path / "j")]
    assert main([*calibrate, "--out", str(tmp_path / "j4"), "--name", "cli-rater"]) == 0
    assert "classification: " in capsys.readouterr().out
    calibrated = json.loads((tmp_path / "j4" / "flame.json").read_text())
    record = calibrated["rater_head"]
    assert record["train_rows"] == first["train_rows"]
    assert record["provenance"]["train_rows"] == first["provenance"]["train_rows"]
    assert (
        record["provenance"]["temperatures"]["calibrated_from"]
        == json.loads((tmp_path / "j" / "flame.json").read_text())["fingerprint"]
    )
    assert "temperature" in record["heads"]["pointwise"]
    scaled = RaterHead.load(tmp_path / "j4")
    assert torch.equal(scaled.tensors["class_w"], kept.tensors["class_w"])
    assert "class_log_t" in scaled.tensors
    # Pointwise weights shrunk toward a reward head that reads the same hidden states, fitted with task offsets.
    shutil.copytree(tmp_path / "j", tmp_path / "jr")
    width = read_rows(tmp_path / "tr").x.shape[1] - 1  # the features without their length column
    reward = RewardHead(RewardConfig((1, 2), 256, False), torch.randn(width), torch.zeros(width), torch.ones(width))
    reward.save(tmp_path / "jr")
    meta = json.loads((tmp_path / "jr" / "flame.json").read_text())
    meta["reward_head"] = {"config": reward.config.to_json()}
    (tmp_path / "jr" / "flame.json").write_text(json.dumps(meta))
    prior = [*fit[:-2], "--judge", str(tmp_path / "jr"), "--heads", "pointwise", "--no-length", "--reward-prior"]
    assert main([*prior, "--task-offsets", "--out", str(tmp_path / "j5"), "--name", "cli-rater"]) == 0
    assert "prior weight " in capsys.readouterr().out
    record = json.loads((tmp_path / "j5" / "flame.json").read_text())["rater_head"]["heads"]["pointwise"]
    assert record["task_offsets"] is True
    assert record["prior"]["reward_head_of"] == json.loads((tmp_path / "jr" / "flame.json").read_text())["fingerprint"]
    digest = hashlib.sha256((tmp_path / "jr" / "reward_head.safetensors").read_bytes()).hexdigest()[:16]
    assert record["prior"]["reward_head_sha256"] == digest
    assert math.isfinite(record["prior"]["weight"])
    assert main([*fit, "--reward-prior", "--out", str(tmp_path / "j6"), "--name", "x"]) == 1
    assert "declares no reward head" in capsys.readouterr().err
    assert (
        main([*prior[:-4], "--heads", "classification", "--task-offsets", "--out", str(tmp_path / "j7"), "--name", "x"])
        == 1
    )
    assert "add pointwise to --heads" in capsys.readouterr().err
    assert main(["rater", "features", *common, "--split", "dev", "--forged", "0.5", "--out", str(tmp_path / "x")]) == 1
    assert "--split train only" in capsys.readouterr().err
    assert main(["rater", "features", *common, "--forged", "1.5", "--out", str(tmp_path / "y")]) == 1
    assert "shares of the rows, from 0 to 1" in capsys.readouterr().err


def test_the_cli_says_when_a_verdict_came_from_the_rater_head(rater_judge: dict, tiny_model: Path, capsys):
    common = ["--device", "cpu", "--no-cache", "--max-input-tokens", "256"]
    classify = ["judge", "classify", "--context", "The sky is blue.", "--response", "It is blue.", *common]
    pointwise = ["judge", "pointwise", "--prompt", "Say hi.", "--response", "Hi!", "--scale", "1", "5", *common]
    for args in (classify, pointwise):
        assert main([*args, "--model", str(rater_judge["judge"])]) == 0
        assert "read by the rater head" in capsys.readouterr().out
        assert main([*args, "--model", str(tiny_model)]) == 0  # no head: the label path, not said
        assert "rater head" not in capsys.readouterr().out
