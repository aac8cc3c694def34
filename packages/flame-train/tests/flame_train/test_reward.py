"""The reward-style judge: features, Bradley-Terry fit, the judge folder, and Judge.load() using it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from flame_data.cli import main
from flame_data.registry import tasks as registered
from flame_judge import Judge
from flame_train.errors import CheckpointError, ConfigError
from flame_train.provenance import describe_mixture
from flame_train.reward import (
    FeatureSet,
    extract,
    fit_bradley_terry,
    fit_head,
    merge_features,
    pool_reward_pairs,
    read_features,
    reward_pairs,
    suite_reward_pairs,
    write_judge,
)
from flame_train.rm_data import PoolConfig

pytestmark = pytest.mark.slow
TINY = {"layers": (1, 2), "max_input_tokens": 192, "device": "cpu"}


def _synthetic(n: int, seed: int, fingerprint: str = "m@0") -> FeatureSet:
    """Pairs whose winner is planted in feature 0 (plus noise features)."""
    g = torch.Generator().manual_seed(seed)
    a, b = torch.randn(n, 6, generator=g), torch.randn(n, 6, generator=g)
    won = (a[:, 0] > b[:, 0]).double()
    config = {"layers": [1], "max_input_tokens": 64}
    manifest = {"fingerprint": fingerprint, "config": config, "ids": [f"s{seed}-{i}" for i in range(n)]}
    return FeatureSet(a, b, won, ["t"] * n, manifest)


def test_bradley_terry_fit_recovers_a_planted_preference():
    train, dev = _synthetic(400, 0), _synthetic(200, 1)
    head, result = fit_head(train, dev)
    assert result.dev_accuracy > 0.9
    assert set(result.grid) == {"0.1", "1.0", "10.0", "100.0", "1000.0", "10000.0"}
    # The head alone (standardization inside) ranks each pair's winner higher.
    assert ((head(dev.a) > head(dev.b)).double() == dev.a_won).double().mean() > 0.9
    assert head.weight[0].abs() == head.weight.abs().max()


def _two_kinds(n: int, seed: int) -> FeatureSet:
    """Half "human" pairs decided by feature 0, half "refusal" pairs decided by feature 1 (against 0)."""
    g = torch.Generator().manual_seed(seed)
    a, b = torch.randn(n, 6, generator=g), torch.randn(n, 6, generator=g)
    human = torch.arange(n) < n // 2
    won = torch.where(human, a[:, 0] > b[:, 0], a[:, 1] - 0.5 * a[:, 0] > b[:, 1] - 0.5 * b[:, 0]).double()
    kinds = ["human" if h else "refusal" for h in human.tolist()]
    config = {"layers": [1], "max_input_tokens": 64}
    manifest = {"fingerprint": "m@0", "config": config, "kinds": kinds, "ids": [f"k{seed}-{i}" for i in range(n)]}
    return FeatureSet(a, b, won, ["t"] * n, manifest)


def test_dev_kinds_are_scored_apart_and_train_kinds_can_be_weighed():
    train, dev = _two_kinds(400, 0), _two_kinds(400, 1)
    _, plain = fit_head(train, dev)
    _, without = fit_head(train, dev, kind_weights={"refusal": 0.0})
    for result in (plain, without):
        assert set(result.grid[str(result.l2)]["dev_by_kind"]) == {"human", "refusal"}
        # The L2 strength is chosen by the mean of the kinds' log-losses, not by the pooled one.
        assert result.dev_log_loss == min(row["dev_log_loss"] for row in result.grid.values())
    refusal_taught = plain.grid[str(plain.l2)]["dev_by_kind"]["refusal"]
    refusal_untaught = without.grid[str(without.l2)]["dev_by_kind"]["refusal"]
    assert refusal_taught > refusal_untaught + 0.1  # pairs of weight 0 teach nothing
    assert without.dev_accuracy == without.grid[str(without.l2)]["dev_by_kind"]["human"]
    with pytest.raises(ConfigError, match=r"kinds the train pairs do not have: \['neighbour'\]"):
        fit_head(train, dev, kind_weights={"neighbour": 2.0})
    with pytest.raises(ConfigError, match="finite and >= 0"):
        fit_head(train, dev, kind_weights={"human": float("nan")})


def test_features_folders_merge_with_their_kinds():
    merged = merge_features([_synthetic(10, 0), _two_kinds(6, 1)])
    assert merged.a.shape == (16, 6)
    assert merged.kinds == ["human"] * 13 + ["refusal"] * 3
    assert merged.a_won.shape == (16,)
    with pytest.raises(ConfigError, match="different judges"):
        merge_features([_synthetic(4, 0), _synthetic(4, 1, "other@1")])


def test_a_human_pair_in_two_folders_counts_once_and_constructed_pairs_are_kept():
    twice = merge_features([_two_kinds(6, 1), _two_kinds(6, 1)])
    assert twice.kinds == ["human"] * 3 + ["refusal"] * 3 + ["refusal"] * 3  # constructed copies all kept
    assert twice.a.shape[0] == twice.b.shape[0] == twice.a_won.shape[0] == 9
    assert twice.provenance is not None
    assert (twice.provenance["rows_read"], twice.provenance["read_twice"]) == (12, 3)
    assert twice.manifest["a_won"] == [bool(v) for v in twice.a_won.tolist()]


def test_stronger_l2_shrinks_the_weights():
    x = torch.randn(100, 3, dtype=torch.float64)
    y = (x[:, 0] > 0).double()
    assert fit_bradley_terry(x, y, 1000.0).norm() < fit_bradley_terry(x, y, 0.1).norm()


def test_features_from_another_judge_are_refused():
    with pytest.raises(ConfigError, match="different judges"):
        fit_head(_synthetic(10, 0, "a@1"), _synthetic(10, 1, "b@2"))


def test_an_unknown_split_is_a_clear_error(tiny_mixture: Path):
    with pytest.raises(ConfigError, match=r"no 'bogus' split; it has \['dev', 'test', 'train'\]"):
        reward_pairs(tiny_mixture, "bogus", per_task=5)


def test_pairs_are_sampled_per_task_with_ties_left_out(tiny_mixture: Path):
    pairs = reward_pairs(tiny_mixture, "train", per_task=5)
    by_task: dict[str, int] = {}
    for p in pairs:
        by_task[p.task] = by_task.get(p.task, 0) + 1
        assert p.fields[-1][0] != p.fields[-2][0]  # the two responses are the last fields
    assert by_task
    assert max(by_task.values()) <= 5
    assert pairs == reward_pairs(tiny_mixture, "train", per_task=5)  # seeded


@pytest.fixture(scope="module")
def reward_judge(tiny_model: Path, tiny_mixture: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("reward")
    train = reward_pairs(tiny_mixture, "train", per_task=12)
    dev = reward_pairs(tiny_mixture, "dev", per_task=6, seed=1)
    extract(train, work / "train", model=str(tiny_model), chunk=8, **TINY)
    extract(dev, work / "dev", model=str(tiny_model), chunk=8, **TINY)
    features_train, features_dev = read_features(work / "train"), read_features(work / "dev")
    head, result = fit_head(features_train, features_dev)
    out = write_judge(head, result, features_train, tiny_model, work / "judge", name="tiny-rm")
    return {"work": work, "judge": out, "dev": dev, "train": train, "head": head, "features_dev": features_dev}


def test_extraction_resumes_and_refuses_other_pairs(reward_judge: dict, tiny_model: Path):
    work, train = reward_judge["work"], reward_judge["train"]
    before = read_features(work / "train")
    (work / "train" / "chunk-00001.safetensors").unlink()
    with pytest.raises(CheckpointError, match=r"chunk-00001\.safetensors is missing"):
        read_features(work / "train")
    extract(train, work / "train", model=str(tiny_model), chunk=8, **TINY)
    after = read_features(work / "train")
    assert torch.equal(before.a, after.a)
    assert torch.equal(before.b, after.b)
    with pytest.raises(CheckpointError, match="other pairs or another judge"):
        extract(train[:-1], work / "train", model=str(tiny_model), chunk=8, **TINY)


def test_judge_folder_declares_the_head_and_a_new_fingerprint(reward_judge: dict, tiny_model: Path):
    meta = json.loads((reward_judge["judge"] / "flame.json").read_text())
    assert meta["fingerprint"].startswith("tiny-rm@")
    head = meta["reward_head"]
    assert head["config"] == {"layers": [1, 2], "max_input_tokens": 192, "length": True}
    assert head["features_from"].startswith(tiny_model.name + "@")
    assert head["train_pairs"] == len(reward_judge["train"])
    assert head["l2"] > 0
    assert (reward_judge["judge"] / "reward_head.safetensors").is_file()


def test_judge_uses_the_head_order_free_and_matches_the_fitted_features(reward_judge: dict, tmp_path: Path):
    specs = {name: spec for name, (spec, _) in registered().items()}
    dev, head, feats = reward_judge["dev"], reward_judge["head"], reward_judge["features_dev"]
    with Judge.load(reward_judge["judge"], device="cpu", cache=tmp_path / "c.sqlite") as judge:
        assert judge.kind == "reward"
        probs = judge.pair_probs([(specs[p.task], p.fields) for p in dev])
        # What the judge says is what the head gives on the features it was fitted with.
        expected = torch.sigmoid(head(feats.a) - head(feats.b))
        for (first, second, cached), want in zip(probs, expected.tolist(), strict=True):
            assert first == second
            assert not cached
            assert first == pytest.approx(want, abs=1e-4)
        verdict = judge.pairwise("Say hi.", "Hello there!", "Go away.", criteria="politeness")
        flipped = judge.pairwise("Say hi.", "Go away.", "Hello there!", criteria="politeness")
        assert verdict.kind == "reward"
        assert verdict.order_consistent
        assert math.isclose(verdict.prob_a, 1 - flipped.prob_a, abs_tol=1e-9)
        judge.backend.loaded._model = None  # a warm re-run must not need the weights
        again = judge.pairwise("Say hi.", "Hello there!", "Go away.", criteria="politeness")
        assert again.cached
        assert again.prob_a == verdict.prob_a
        assert not judge.backend.loaded.is_loaded
        # Pointwise stays generative.
        assert judge.pointwise("Say hi.", "Hello!").kind == "generative"


def test_a_head_without_the_length_feature_reads_one_feature_less(reward_judge: dict, tmp_path: Path):
    work = reward_judge["work"]
    train, dev = read_features(work / "train"), read_features(work / "dev")
    head, result = fit_head(train, dev, length_feature=False)
    assert head.weight.shape[0] == train.a.shape[1] - 1
    assert not head.config.length_feature
    # Re-fitting from a judge that already has a head checks the features against its generative part.
    out = write_judge(head, result, train, reward_judge["judge"], tmp_path / "judge", name="nolen")
    assert json.loads((out / "flame.json").read_text())["reward_head"]["config"]["length"] is False
    with Judge.load(out, device="cpu", cache=False) as judge:
        verdict = judge.pairwise("Say hi.", "Hello there!", "Go away.")
    assert verdict.kind == "reward"
    assert 0.0 < verdict.prob_a < 1.0


def test_a_head_on_some_of_the_layers_read_is_the_head_a_read_of_those_layers_gives(
    reward_judge: dict, tiny_model: Path, tmp_path: Path
):
    work, dev = reward_judge["work"], reward_judge["dev"]
    train, dev_features = read_features(work / "train"), read_features(work / "dev")
    head, result = fit_head(train, dev_features, length_feature=False, layers=[2])
    assert head.config.layers == (2,)
    assert not head.config.length_feature
    # The columns kept are exactly what a read of layer 2 alone gives.
    extract(dev, tmp_path / "dev2", model=str(tiny_model), chunk=8, **{**TINY, "layers": (2,)})
    alone = read_features(tmp_path / "dev2")
    assert head.weight.shape[0] == alone.a.shape[1] - 1
    with_length, _ = fit_head(train, dev_features, layers=[2])  # the length feature, last, stays
    assert with_length.weight.shape[0] == alone.a.shape[1]
    assert with_length.config.length_feature
    out = write_judge(head, result, train, reward_judge["judge"], tmp_path / "judge", name="layer2")
    specs = {name: spec for name, (spec, _) in registered().items()}
    with Judge.load(out, device="cpu", cache=False) as judge:
        probs = judge.pair_probs([(specs[p.task], p.fields) for p in dev])
    want = torch.sigmoid(head(alone.a[:, :-1]) - head(alone.b[:, :-1]))
    assert [p[0] for p in probs] == pytest.approx(want.tolist(), abs=1e-4)
    for wrong in ([3], [2, 2], []):
        with pytest.raises(ConfigError, match="distinct layers among those the features read"):
            fit_head(train, dev_features, layers=wrong)


def test_a_declared_head_that_is_missing_is_a_load_error(reward_judge: dict, tmp_path: Path):
    import shutil

    from flame_judge.errors import ModelNotFoundError

    broken = tmp_path / "broken"
    shutil.copytree(reward_judge["judge"], broken)
    (broken / "reward_head.safetensors").unlink()
    with pytest.raises(ModelNotFoundError, match=r"reward_head\.safetensors is missing"):
        Judge.load(broken, device="cpu", cache=False)


def test_reward_cli_features_then_fit(tiny_model: Path, tiny_mixture: Path, tmp_path: Path, capsys):
    common = ["--mixture", str(tiny_mixture), "--model", str(tiny_model), "--device", "cpu", "--layers", "1", "2"]
    common += ["--max-input-tokens", "192"]
    assert main(["reward", "features", *common, "--per-task", "4", "--out", str(tmp_path / "tr")]) == 0
    assert (
        main(["reward", "features", *common, "--split", "dev", "--per-task", "3", "--out", str(tmp_path / "dv")]) == 0
    )
    out = capsys.readouterr().out
    assert "pairs (" in out
    assert "human) from" in out
    fit = ["reward", "fit", "--train", str(tmp_path / "tr"), "--dev", str(tmp_path / "dv"), "--judge", str(tiny_model)]
    assert main([*fit, "--out", str(tmp_path / "j"), "--name", "cli-rm"]) == 0
    out = capsys.readouterr().out
    assert "kept L2" in out
    assert "cli-rm@" in out
    head = json.loads((tmp_path / "j" / "flame.json").read_text())["reward_head"]["provenance"]
    assert head["train_pairs"]["split"] == "train"
    assert head["train_pairs"]["per_task"] == 4
    assert head["dev_pairs"]["split"] == "dev"
    assert head["train_pairs"]["mixture"] == describe_mixture(tiny_mixture)
    assert head["train_pairs"]["mixture"]["rows"]["train"] > 0
    assert main([*fit[:-2], "--judge", str(tmp_path), "--out", str(tmp_path / "k"), "--name", "x"]) == 1
    assert "neither an exported flame judge" in capsys.readouterr().err
    # Suites for dev, two dev folders, a weight per kind, and a bad weight named.
    suites = ["reward", "features", *common, "--split", "dev", "--pairs", "suites", "--per-task", "2"]
    assert main([*suites, "--out", str(tmp_path / "su")]) == 0
    assert "in_distribution" in capsys.readouterr().out
    two = [*fit[:4], "--dev", str(tmp_path / "dv"), str(tmp_path / "su"), *fit[6:]]
    assert main([*two, "--kind-weight", "human=2", "--out", str(tmp_path / "w"), "--name", "w"]) == 0
    assert "| " in capsys.readouterr().out  # per-kind dev accuracies
    meta = json.loads((tmp_path / "w" / "flame.json").read_text())["reward_head"]
    assert meta["kind_weights"] == {"human": 2.0}
    assert "neighbour" in meta["dev_by_kind"]
    assert main([*two, "--kind-weight", "human:2", "--out", str(tmp_path / "v"), "--name", "v"]) == 1
    assert "expected KIND=NUMBER" in capsys.readouterr().err
    assert main(["reward", "features", *common, "--split", "dev", "--pairs", "pool", "--out", str(tmp_path / "p")]) == 1
    assert "train split only" in capsys.readouterr().err


def test_pool_and_suite_pairs_keep_their_kinds(tiny_model: Path, tiny_mixture: Path, tmp_path: Path):
    pool = pool_reward_pairs(tiny_mixture, config=PoolConfig(per_task=4, neighbour=3, distractor=2))
    kinds = {p.kind for p in pool}
    assert {"human", "neighbour", "truncated"} <= kinds
    assert 0 < sum(p.a_won for p in pool) < len(pool)  # the chosen reply's position is a coin
    assert pool == pool_reward_pairs(tiny_mixture, config=PoolConfig(per_task=4, neighbour=3, distractor=2))
    suites = suite_reward_pairs(tiny_mixture, "dev", per_suite=2)
    assert {p.kind for p in suites} >= {"in_distribution", "neighbour", "forged_evaluation"}
    extract(pool, tmp_path / "pool", model=str(tiny_model), chunk=8, **TINY)
    extract(suites, tmp_path / "suites", model=str(tiny_model), chunk=8, **TINY)
    train, dev = read_features(tmp_path / "pool"), read_features(tmp_path / "suites")
    assert train.kinds == [p.kind for p in pool]
    assert dev.kinds == [p.kind for p in suites]
    _, result = fit_head(train, dev, kind_weights={"neighbour": 3.0})
    by_kind = result.grid[str(result.l2)]["dev_by_kind"]
    assert "human" in by_kind
    assert "in_distribution" not in by_kind
    assert "forged_evaluation" in by_kind


def test_a_judge_can_be_refitted_from_its_own_features(reward_judge: dict, tiny_mixture: Path, tmp_path: Path):
    # Features read with the judge that already has a head (its hidden states are the generative
    # part's) fit a new head for it; the new judge records what they were read with.
    pairs = reward_pairs(tiny_mixture, "train", per_task=4, seed=5)
    extract(pairs, tmp_path / "own", model=str(reward_judge["judge"]), chunk=8, **TINY)
    own = read_features(tmp_path / "own")
    assert own.manifest["fingerprint"].startswith("tiny-rm@")
    head, result = fit_head(own, own)
    out = write_judge(head, result, own, reward_judge["judge"], tmp_path / "refit", name="refit")
    meta = json.loads((out / "flame.json").read_text())["reward_head"]
    assert meta["features_from"] == own.manifest["fingerprint"]
    assert meta["train_by_kind"] == {"human": len(pairs)}
    with pytest.raises(ConfigError, match="the features were read with m@0"):
        write_judge(head, result, _synthetic(4, 0), reward_judge["judge"], tmp_path / "x", name="x")
