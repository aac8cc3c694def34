from __future__ import annotations

import pytest

from flame_judge import ModelNotFoundError
from flame_judge.loading import default_gguf_path, fingerprint_of, resolve


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
