"""`flame export` and `flame reward fit` never delete a folder they were not asked to replace."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from flame_data.cli import main
from flame_judge.loading import fingerprint_of
from flame_judge.reward import RewardConfig, RewardHead
from flame_train.errors import OutputExistsError
from flame_train.reward import FeatureSet, FitResult, write_judge


def _checkpoint(folder: Path) -> Path:
    """A LoRA checkpoint as `flame train` writes it (weights, adapter config, flame.json, state)."""
    folder.mkdir(parents=True)
    save_file({"lora_A": torch.ones(2, 2)}, str(folder / "adapter_model.safetensors"))
    (folder / "adapter_config.json").write_text("{}")
    meta = {"format": "lora", "base": "smollm2-135m-instruct", "fingerprint": "run-final@0", "step": 3}
    (folder / "flame.json").write_text(json.dumps(meta))
    (folder / "trainer_state.json").write_text(json.dumps({"step": 3}))
    return folder


def _export(checkpoint: Path, out: Path, *extra: str) -> int:
    return main(["export", str(checkpoint), "--out", str(out), "--name", "j", *extra])


def _user_folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "notes.txt").write_text("my notes")
    return path


def test_export_refuses_a_folder_of_other_files_and_keeps_them(tmp_path: Path, capsys):
    ckpt, out = _checkpoint(tmp_path / "ckpt"), _user_folder(tmp_path / "mine")
    assert _export(ckpt, out) == 1
    err = capsys.readouterr().err
    assert "is a folder that is not a flame output" in err
    assert "notes.txt" in err
    assert "--overwrite" in err
    assert (out / "notes.txt").read_text() == "my notes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt", "mine"]  # no temporary folder left behind


def test_export_with_overwrite_replaces_the_folder_and_says_so(tmp_path: Path, capsys):
    ckpt, out = _checkpoint(tmp_path / "ckpt"), _user_folder(tmp_path / "mine")
    assert _export(ckpt, out, "--overwrite") == 0
    captured = capsys.readouterr()
    assert "replacing" in captured.err
    assert "notes.txt" in captured.err
    assert not (out / "notes.txt").exists()
    assert json.loads((out / "flame.json").read_text())["fingerprint"].startswith("j@")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt", "mine"]


def test_export_replaces_an_earlier_export_naming_what_it_replaces(tmp_path: Path, capsys):
    ckpt, out = _checkpoint(tmp_path / "ckpt"), tmp_path / "judge"
    assert _export(ckpt, out) == 0
    old = json.loads((out / "flame.json").read_text())["fingerprint"]
    capsys.readouterr()
    assert main(["export", str(ckpt), "--out", str(out), "--name", "k"]) == 0
    err = capsys.readouterr().err
    assert f"replacing the flame judge {old}" in err
    assert json.loads((out / "flame.json").read_text())["fingerprint"].startswith("k@")


def test_export_never_replaces_its_own_checkpoint_or_another_training_checkpoint(tmp_path: Path, capsys):
    ckpt = _checkpoint(tmp_path / "ckpt")
    assert _export(ckpt, ckpt, "--overwrite") == 1
    assert "overlaps the input" in capsys.readouterr().err
    assert _export(ckpt, ckpt / "inside") == 1
    other = _checkpoint(tmp_path / "other")
    assert _export(ckpt, other) == 1
    assert "training checkpoint" in capsys.readouterr().err
    assert (ckpt / "trainer_state.json").is_file()
    assert (other / "trainer_state.json").is_file()


def test_export_leaves_a_sibling_named_like_its_old_temporary_folder_alone(tmp_path: Path):
    ckpt = _checkpoint(tmp_path / "ckpt")
    sibling = _user_folder(tmp_path / "judge.tmp")  # export used to rmtree OUT.tmp unasked
    assert _export(ckpt, tmp_path / "judge") == 0
    assert (sibling / "notes.txt").read_text() == "my notes"


def test_a_failed_write_keeps_the_old_output(tmp_path: Path):
    ckpt, out = _checkpoint(tmp_path / "ckpt"), tmp_path / "judge"
    assert _export(ckpt, out) == 0
    before = (out / "flame.json").read_text()
    (ckpt / "adapter_config.json").unlink()  # fails midway, after the new weights were written
    with pytest.raises(FileNotFoundError):
        main(["export", str(ckpt), "--out", str(out), "--name", "k"])
    assert (out / "flame.json").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt", "judge"]


def _features(source: Path) -> FeatureSet:
    """Features as `flame reward features` reads them from `source` (its fingerprint, as it loads)."""
    a, b = torch.randn(4, 3), torch.randn(4, 3)
    fingerprint = fingerprint_of(source.resolve().name, source)
    manifest = {"fingerprint": fingerprint, "config": {"layers": [1], "max_input_tokens": 64}}
    return FeatureSet(a, b, torch.tensor([1.0, 0.0, 1.0, 0.0], dtype=torch.float64), ["t"] * 4, manifest)


def _source_judge(folder: Path) -> Path:
    """A LoRA judge over the real base model (recorded fingerprints are not trusted: it is computed)."""
    folder.mkdir()
    (folder / "flame.json").write_text(json.dumps({"format": "lora", "base": "smollm2-135m-instruct"}))
    save_file({"w": torch.zeros(1)}, str(folder / "adapter_model.safetensors"))
    return folder


def test_write_judge_refuses_a_folder_of_other_files(tmp_path: Path):
    head = RewardHead(RewardConfig((1,), 64), torch.zeros(3), torch.zeros(3), torch.ones(3))
    fit = FitResult(1.0, 0.5, 0.5, 0.7, {})
    source, out = _source_judge(tmp_path / "src"), _user_folder(tmp_path / "mine")
    with pytest.raises(OutputExistsError, match="not a flame output"):
        write_judge(head, fit, _features(source), source, out, name="rm")
    assert (out / "notes.txt").is_file()
    with pytest.raises(OutputExistsError, match="overlaps the input"):
        write_judge(head, fit, _features(source), source, source, name="rm", overwrite=True)
    said: list[str] = []
    write_judge(head, fit, _features(source), source, out, name="rm", overwrite=True, log=said.append)
    assert "notes.txt" in said[0]
    assert (out / "reward_head.safetensors").is_file()
    assert not (out / "notes.txt").exists()


def test_reward_fit_refuses_the_output_before_reading_any_features(tmp_path: Path, capsys):
    out = _user_folder(tmp_path / "mine")
    missing = tmp_path / "no-features"
    judge = _source_judge(tmp_path / "j")
    args = ["reward", "fit", "--train", str(missing), "--dev", str(missing), "--judge", str(judge)]
    assert main([*args, "--out", str(out), "--name", "x"]) == 1
    assert "is a folder that is not a flame output" in capsys.readouterr().err
    assert (out / "notes.txt").is_file()
