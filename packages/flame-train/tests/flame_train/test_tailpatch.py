"""Tail-patch mixture optimization at toy scale: a tiny model, two candidate tasks, two steps each."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from flame_train.config import TrainConfig
from flame_train.tailpatch import Thresholds, bundle_of, run_tailpatch, write_report
from flame_train.trainer import Trainer

pytestmark = pytest.mark.slow


def test_ratings_and_bundles():
    t = Thresholds(helpful=0.02, somewhat=0.005, harmful=-0.005)
    assert [t.rate(d) for d in (0.05, 0.01, 0.0, -0.01, math.nan)] == [2, 1, 0, -1, 0]
    assert bundle_of({"general": 1, "safety": 2}) == "general"
    assert bundle_of({"general": 0, "safety": 2}) == "category"
    assert bundle_of({"general": -1, "safety": -1, "math": 2}) == "harmful"
    assert bundle_of({"general": 0, "safety": -1}) == "other"


def test_tailpatch_writes_a_weighted_mixture(tiny_model: Path, tiny_mixture: Path, tmp_path: Path):
    base = TrainConfig(
        mixture=str(tiny_mixture),
        base_model=str(tiny_model),
        output_dir=str(tmp_path / "partial"),
        max_steps=2,
        batch_size=2,
        max_length=256,
        eval_every=0,
        save_every=0,
        eval_examples_per_task=3,
    )
    checkpoint = Trainer(base, log=lambda s: None).train()["checkpoint"]
    patch = TrainConfig(**{**base.to_dict(), "max_steps": 2})
    report = run_tailpatch(
        checkpoint, patch, candidates=["q2/consistency", "pandalm_testset/overall"], log=lambda s: None
    )
    assert set(report.bundles) == {"q2/consistency", "pandalm_testset/overall"}
    assert set(report.bundles.values()) <= {"general", "category", "other", "harmful"}
    assert report.categories == sorted(report.baseline)
    assert all(set(d) == set(report.baseline) for d in report.deltas.values())
    out = tmp_path / "opt.json"
    write_report(report, out)
    rates = json.loads(out.read_text())["rates"]
    assert sum(rates.values()) == pytest.approx(1.0)
    assert json.loads(out.with_suffix(".report.json").read_text())["ratings"]
    # The rates file drives a FLAMe-RM style continuation.
    rm = TrainConfig(
        **{
            **base.to_dict(),
            "init_checkpoint": checkpoint,
            "rates": str(out),
            "max_steps": 1,
            "output_dir": str(tmp_path / "rm"),
        }
    )
    assert Trainer(rm, log=lambda s: None).train()["steps"] == 1
