"""Fingerprints and cache keys cover everything that changes a verdict, and hashing is not redone."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from flame_judge.cache import SCORING_VERSION, cache_key, numerics
from flame_judge.loading import adapter_digest, fingerprint_of, hidden_states_of, weights_digest


@pytest.fixture(autouse=True)
def private_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAME_CACHE_DIR", str(tmp_path / "cache"))


def folder(path: Path, **files: bytes) -> Path:
    path.mkdir()
    for name, data in files.items():
        (path / name.replace("__", ".")).write_bytes(data)
    return path


def test_a_lora_fingerprint_covers_its_base_and_ignores_a_recorded_one(tmp_path: Path):
    base = folder(tmp_path / "base", config__json=b"{}", model__safetensors=b"base weights 1")
    lora = folder(tmp_path / "lora", adapter_model__safetensors=b"delta", adapter_config__json=b'{"r": 8}')
    meta = {"format": "lora", "base": str(base), "name": "j", "fingerprint": "j@0000000000000000"}
    (lora / "flame.json").write_text(json.dumps(meta))
    first = fingerprint_of("j", lora)
    assert first != meta["fingerprint"]
    assert first == f"j@{adapter_digest(weights_digest(base), lora)[:16]}"
    (base / "model.safetensors").write_bytes(b"base weights 2")
    assert fingerprint_of("j", lora) != first  # same adapter over other base weights
    (lora / "adapter_config.json").write_bytes(b'{"r": 16}')
    assert fingerprint_of("j", lora) != first


def test_heads_change_the_fingerprint_but_not_the_hidden_states(tmp_path: Path):
    base = folder(tmp_path / "base", config__json=b"{}", model__safetensors=b"base weights 1")
    lora = folder(tmp_path / "lora", adapter_model__safetensors=b"delta", adapter_config__json=b'{"r": 8}')
    (lora / "flame.json").write_text(json.dumps({"format": "lora", "base": str(base), "name": "j"}))
    fingerprint, hidden = fingerprint_of("j", lora), hidden_states_of(lora)
    (lora / "reward_head.safetensors").write_bytes(b"head 1")
    (lora / "rater_head.safetensors").write_bytes(b"head 2")
    assert fingerprint_of("j", lora) != fingerprint  # the verdicts change: so does the cache key
    assert hidden_states_of(lora) == hidden  # the features a head reads do not
    (lora / "adapter_model.safetensors").write_bytes(b"another delta")
    assert hidden_states_of(lora) != hidden
    (lora / "adapter_model.safetensors").write_bytes(b"delta")
    (base / "model.safetensors").write_bytes(b"base weights 2")
    assert hidden_states_of(lora) != hidden


def test_weight_hashes_are_cached_by_path_size_and_mtime(tmp_path: Path):
    model = folder(tmp_path / "m", config__json=b"{}", model__safetensors=b"aaaa")
    weights = model / "model.safetensors"
    first = fingerprint_of("m", model)
    stat = weights.stat()
    weights.write_bytes(b"bbbb")  # same size; restore the mtime: only a cached hash can match now
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert fingerprint_of("m", model) == first
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert fingerprint_of("m", model) != first  # a newer mtime: hashed again
    assert (tmp_path / "cache" / "file-hashes.json").is_file()


def test_hashing_works_when_the_cache_dir_cannot_be_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("")
    monkeypatch.setenv("FLAME_CACHE_DIR", str(blocked))
    model = folder(tmp_path / "m", model__safetensors=b"aaaa")
    assert fingerprint_of("m", model) == fingerprint_of("m", model)


def test_cache_keys_separate_device_dtype_and_scoring_version():
    cpu, cuda = numerics("cpu", "float32"), numerics("cuda", "bfloat16")
    assert f"v{SCORING_VERSION}" in cpu
    key = cache_key("m@1", "generative", "text", ["A", "B"], numerics=cpu)
    assert key != cache_key("m@1", "generative", "text", ["A", "B"], numerics=cuda)
    assert key == cache_key("m@1", "generative", "text", ["A", "B"], numerics=numerics("cpu", "float32"))


def test_a_judge_keys_its_cache_by_where_and_how_it_computes():
    from flame_judge import Judge

    judge = Judge.load(cache=False, device="cpu")  # the tokenizer only: no weights are read
    assert judge.numerics == numerics("cpu", "float32")
    assert judge.fingerprint.startswith("flame-smol@")


def test_a_base_converted_offline_has_the_digest_of_one_converted_online(tmp_path: Path):
    """transformers records HF_HUB_OFFLINE as `local_files_only: true` in tokenizer_config.json; the
    converted base pins it, so a GPU box or CI converting offline gets this machine's fingerprint."""
    from flame_judge.loading import normalize_tokenizer_config

    def converted(name: str, offline: bool) -> Path:
        config = {"backend": "tokenizers", "local_files_only": offline, "model_max_length": 8192}
        text = json.dumps(config, indent=2, sort_keys=True, ensure_ascii=False) + "\n"  # as transformers writes it
        return folder(tmp_path / name, model__safetensors=b"w", tokenizer_config__json=text.encode())

    online, offline = converted("online", False), converted("offline", True)
    before = (online / "tokenizer_config.json").read_bytes()
    assert weights_digest(online) != weights_digest(offline)
    normalize_tokenizer_config(online)
    normalize_tokenizer_config(offline)
    assert (online / "tokenizer_config.json").read_bytes() == before  # an online copy is left byte for byte
    assert (offline / "tokenizer_config.json").read_bytes() == before
    assert weights_digest(offline) == weights_digest(online)
