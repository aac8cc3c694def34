"""Resolving chained flame checkpoints (a LoRA trained over a LoRA): every adapter in order, bases
found relative to the checkpoint after a move, and clear errors for cycles, missing bases and a
malformed flame.json. Only files are made: resolve() reads no weights."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flame_judge.errors import ModelLoadError, ModelNotFoundError
from flame_judge.loading import base_reference, relocate_base, resolve


def full_model(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}")
    return folder


def lora(folder: Path, base: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "adapter_model.safetensors").write_bytes(b"")
    (folder / "flame.json").write_text(json.dumps({"format": "lora", "base": base}))
    return folder


def test_a_chain_resolves_every_adapter_in_order_and_survives_a_move(tmp_path):
    runs = tmp_path / "runs"
    full_model(runs / "base")
    lora(runs / "flame" / "final", base_reference(str(runs / "base"), runs / "flame" / "final"))
    lora(runs / "rm" / "final", base_reference(str(runs / "flame" / "final"), runs / "rm" / "final"))
    assert json.loads((runs / "rm" / "final" / "flame.json").read_text())["base"] == "../../flame/final"
    shutil.move(runs, tmp_path / "moved")
    moved = tmp_path / "moved"
    found = resolve(moved / "rm" / "final")
    assert found.directory == (moved / "base").resolve()
    assert found.adapters == ((moved / "flame" / "final").resolve(), (moved / "rm" / "final").resolve())
    assert found.adapter == (moved / "rm" / "final").resolve()


def test_a_copy_elsewhere_records_its_base_from_its_new_folder(tmp_path):
    full_model(tmp_path / "base")
    ckpt = lora(tmp_path / "runs" / "a" / "final", "../../../base")
    assert relocate_base("../../../base", ckpt, tmp_path / "judge") == "../base"
    assert relocate_base("smollm2-135m-instruct", ckpt, tmp_path / "judge") == "smollm2-135m-instruct"


def test_a_checkpoint_that_names_itself_as_base_is_a_clear_error(tmp_path):
    lora(tmp_path / "a", ".")
    with pytest.raises(ModelLoadError, match=r"form a cycle .*a -> .*a\); set \"base\" in .*flame\.json"):
        resolve(tmp_path / "a")


def test_two_checkpoints_that_name_each_other_are_a_clear_error(tmp_path):
    lora(tmp_path / "a", "../b")
    lora(tmp_path / "b", "../a")
    with pytest.raises(ModelLoadError, match=r"form a cycle .*a -> .*b -> .*a\)"):
        resolve(tmp_path / "a")


def test_a_missing_base_names_the_file_and_the_fix(tmp_path):
    lora(tmp_path / "a", "../gone")
    with pytest.raises(
        ModelNotFoundError, match=r"a/flame\.json names the base '\.\./gone'.* set \"base\" in that file"
    ):
        resolve(tmp_path / "a")


@pytest.mark.parametrize(("text", "where"), [('{"format": "lora",', "line 1 column 19"), ("[1, 2]", "found list")])
def test_a_malformed_flame_json_names_the_file(tmp_path, text, where):
    full_model(tmp_path / "m")
    (tmp_path / "m" / "flame.json").write_text(text)
    with pytest.raises(ModelLoadError, match=rf"m/flame\.json.*{where}"):
        resolve(tmp_path / "m")
