"""`flame encode`, `flame train --set encoded=...` and `flame export` through the real `flame` entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flame_data.cli import main

pytestmark = pytest.mark.slow


def test_encode_train_export_round_trip(tiny_model: Path, tiny_mixture: Path, tmp_path: Path, capsys):
    sets = ["--set", f"mixture={tiny_mixture}", "--set", f"base_model={tiny_model}", "--set", "max_length=256"]
    assert main(["encode", *sets, "--out", str(tmp_path / "train.tokens"), "--workers", "1"]) == 0
    encoded = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert encoded["sequences"] >= encoded["rows"] > 0
    assert encoded["target_tokens"] < encoded["tokens"]
    run = [
        *sets,
        "--set", f"encoded={tmp_path / 'train.tokens'}",
        "--set", f"output_dir={tmp_path / 'run'}",
        "--set", "max_steps=2", "--set", "batch_size=2", "--set", "eval_examples_per_task=1",
    ]  # fmt: skip
    assert main(["train", *run]) == 0
    capsys.readouterr()
    assert main(["export", str(tmp_path / "run" / "final"), "--out", str(tmp_path / "judge"), "--name", "t"]) == 0
    assert json.loads(capsys.readouterr().out)["bytes"] > 0
    meta = json.loads((tmp_path / "judge" / "flame.json").read_text())
    assert meta["fingerprint"].startswith("t@")
    assert meta["trained_from"]["step"] == 2
    # Provenance by content, not by the training machine's (temporary) paths.
    mixture = meta["provenance"]["mixture"]
    assert mixture["path_at_build"] == str(tiny_mixture)
    assert "flame data build --out MIX" in mixture["built_with"]
    assert "--datasets q2 pandalm_testset summeval" in mixture["built_with"]
    assert "--cap 40" in mixture["built_with"]
    assert mixture["tasks"] > 0
    assert mixture["rows"]["train"] > 0
    assert len(mixture["digest"]) == 16
    assert meta["provenance"]["encoded"]["bytes"] == (tmp_path / "train.tokens").stat().st_size
    assert meta["provenance"]["exported_by"].startswith("flame ")
    adapter = json.loads((tmp_path / "judge" / "adapter_config.json").read_text())
    assert adapter["base_model_name_or_path"] == str(tiny_model)
    # flame.json names the base relative to the export, so the judge folder and base can move together.
    assert not Path(meta["base"]).is_absolute()
    assert (tmp_path / "judge" / meta["base"]).resolve() == tiny_model.resolve()


def test_export_of_a_folder_that_is_no_checkpoint_is_an_error_not_a_traceback(tmp_path: Path, capsys):
    assert main(["export", str(tmp_path), "--out", str(tmp_path / "j"), "--name", "x"]) == 1
    assert "is not a flame checkpoint" in capsys.readouterr().err
