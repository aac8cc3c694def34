"""Engines: what runs the model under a judge, behind one small protocol.

Everything above an engine (prompt rendering, the judgment cache, verdicts, the CLI, pytest-flame)
prepares token ids and reads numbers back, unaware of which engine ran them:

- `transformers` (flame_judge.backends.transformers): in-process, CPU or one GPU; the reference.
- `vllm` (flame_judge.backends.vllm): vLLM in-process, for batch evaluation and GPU scale.
- `remote` (flame_judge.backends.remote): an OpenAI-compatible server such as `vllm serve`.

Heavy imports (torch, vllm, the HTTP client) live only inside the engine modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from flame_data.schema import TaskSpec

EngineName = Literal["transformers", "vllm", "remote"]
ModelKind = Literal["generative", "reward"]


class Engine(Protocol):
    """What every engine answers. Rows are token ids exactly as the model reads them (no BOS added)."""

    engine: EngineName
    model_kind: ModelKind  # "generative": a causal LM; "reward": a one-label sequence classifier
    fingerprint: str  # pins the weights (and, for a served model, the served name) in the cache key

    def label_logprobs(
        self, rows: Sequence[Sequence[int]], labels: Sequence[Sequence[int]], *, batch_size: int | None = None
    ) -> list[list[float]]:
        """Per row: the full-vocabulary log-probability of each of its label token ids as the next token."""
        ...

    def rewards(self, rows: Sequence[Sequence[int]], *, batch_size: int | None = None) -> list[float]:
        """Per row: the reward model's scalar score of the whole row (read at its last token)."""
        ...

    def close(self) -> None: ...


class RewardScorer(Protocol):
    """The reward side of a Judge: flame's Bradley-Terry head (flame_judge.reward) or a Hugging Face
    reward model (flame_judge.backends.hf_reward). Prepared queries have a `.key` (their cache text)."""

    def prepare(self, pairwise: TaskSpec, fields: Sequence[tuple[str, str]]) -> tuple[Any, Any]: ...

    def score(self, queries: Sequence[Any], *, batch_size: int | None = None) -> list[float]: ...


__all__ = ["Engine", "EngineName", "ModelKind", "RewardScorer"]
