"""One model spec everywhere: local names and folders, `vllm:`, served URLs, hub ids via the local cache."""

from __future__ import annotations

import socket
import time

import pytest

from flame_judge import Judge, JudgeUnavailableError, ModelLoadError, ModelNotFoundError, ModelSpecError
from flame_judge.loading import ModelSpec, parse_spec, resolve


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (None, ModelSpec("transformers", None)),
        ("base", ModelSpec("transformers", "base")),
        ("./runs/ckpt", ModelSpec("transformers", "./runs/ckpt")),
        ("org/model", ModelSpec("transformers", "org/model")),
        ("vllm:/models/judge", ModelSpec("vllm", "/models/judge")),
        ("vllm:org/model", ModelSpec("vllm", "org/model")),
        ("http://127.0.0.1:8000/v1", ModelSpec("remote", None, "http://127.0.0.1:8000/v1")),
        ("http://h:8000/v1/#judge", ModelSpec("remote", None, "http://h:8000/v1", "judge")),
        (
            "https://h/v1#model=judge&tokenizer=org/tok&fingerprint=abc",
            ModelSpec("remote", "org/tok", "https://h/v1", "judge", "abc"),
        ),
    ],
)
def test_spec_forms(text, want):
    assert parse_spec(text) == want


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("vllm:", "names no model"),
        ("http://h:1/v1#model=x&colour=red", "unknown option 'colour'"),
        ("http://h:1/v1?model=x", "after '#'"),
        ("http:///v1", "no host"),
    ],
)
def test_bad_specs_say_how_to_fix_them(text, match):
    with pytest.raises(ModelSpecError, match=match):
        parse_spec(text)


def _hub_cache(root, repo_id, source):
    """The Hugging Face cache layout (models--org--name/snapshots/REV + refs/main) holding `source`'s files."""
    import shutil

    folder = root / f"models--{repo_id.replace('/', '--')}"
    snapshot = folder / "snapshots" / ("0" * 40)
    shutil.copytree(source, snapshot)
    (folder / "refs").mkdir()
    (folder / "refs" / "main").write_text("0" * 40)
    return snapshot


def test_a_hub_id_resolves_through_the_local_cache_offline(tmp_path, monkeypatch):
    from flame_judge.loading import converted_base_dir

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    import huggingface_hub.constants as constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    snapshot = _hub_cache(tmp_path, "someorg/judge", converted_base_dir())
    assert resolve("someorg/judge").directory == snapshot.resolve()
    with pytest.raises(ModelNotFoundError, match="HF_HUB_OFFLINE is set"):
        resolve("someorg/missing")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_server_that_is_down_is_unavailable_not_a_verdict():
    url = f"http://127.0.0.1:{_closed_port()}/v1#judge"
    start = time.perf_counter()
    with pytest.raises(JudgeUnavailableError, match=r"did not answer .* after 3 tries") as info:
        Judge.load(url, cache=False, engine_options={"retries": 2, "backoff_s": 0.05, "timeout_s": 2})
    assert time.perf_counter() - start < 10
    assert isinstance(info.value, ConnectionError)  # also a built-in, for callers that catch those


def test_the_api_key_never_appears_in_errors(monkeypatch):
    monkeypatch.setenv("FLAME_API_KEY", "sk-secret-123")
    with pytest.raises(JudgeUnavailableError) as info:
        Judge.load(f"http://127.0.0.1:{_closed_port()}/v1", cache=False, engine_options={"retries": 0})
    assert "sk-secret" not in str(info.value)


def test_the_vllm_engine_without_vllm_says_how_to_get_it():
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed in this environment")  # the vLLM env's own tests cover it there
    with pytest.raises(ModelLoadError, match=r"tools/vllm_env\.sh"):
        Judge.load("vllm:base", cache=False)
