"""Reward-style pairwise judging: each response scored alone, P(A better) = sigmoid(r_A - r_B).

A linear Bradley-Terry head reads the judge model's hidden states (the last token and the mean
of two layers) at the pointwise answer position of `templates.reward_task`, plus the response's
length in tokens before truncation (truncation would otherwise hide it). Each response is read
alone, so a pair has no order to be biased by; both responses see the same cut of the context.
Features are fp32 and taken from each row's own positions, so a verdict is the same in any batch.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flame_data import templates
from flame_data.format import TRUNCATION_MARKER, fit_inputs, render_input, scoring_prefix
from flame_data.schema import TaskSpec
from flame_judge.backends.prefix import plan_group_batches, prefix_groups, run_groups, sharing_works
from flame_judge.errors import InputTooLongError, JudgeError, ModelLoadError
from flame_judge.prompting import TokenizerView, chat_prefix_suffix
from flame_judge.scoring import GenerativeBackend, LabelQuery, pad_right, plan_batches

if TYPE_CHECKING:
    import torch

    from flame_judge.loading import LoadedModel

HEAD_FILE = "reward_head.safetensors"
MIN_RESPONSE_TOKENS = 16  # a response is never cut shorter than this (fit_inputs' floor per field)


@dataclass(frozen=True)
class RewardConfig:
    """What the head reads; stored beside its weights so training and judging read the same thing."""

    layers: tuple[int, ...] = (20, 30)  # indices into the model's hidden states (0 = embeddings)
    max_input_tokens: int = 384  # the budget the head was fitted at; the judge's default reward budget
    length_feature: bool = True  # log1p(response tokens before truncation) as the last feature

    def to_json(self) -> dict[str, Any]:
        return {"layers": list(self.layers), "max_input_tokens": self.max_input_tokens, "length": self.length_feature}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RewardConfig:
        return cls(tuple(int(x) for x in data["layers"]), int(data["max_input_tokens"]), bool(data.get("length", True)))


@dataclass(frozen=True)
class RewardQuery:
    """One response as the model sees it, its full length in tokens (a head feature), and what was cut."""

    query: LabelQuery  # the pointwise rendering, ending at the answer position
    response_tokens: int
    context_cut: tuple[str, ...] = ()  # context fields cut to fit, the same for both responses of a pair
    response_cut: bool = False

    @property
    def key(self) -> str:
        return f"{self.query.text}\n\x00tokens={self.response_tokens}"


class RewardHead:
    """Standardize the features, then a dot product: r = w . (f - mean) / scale."""

    def __init__(self, config: RewardConfig, weight: torch.Tensor, mean: torch.Tensor, scale: torch.Tensor) -> None:
        if not (weight.shape == mean.shape == scale.shape and weight.ndim == 1):
            raise ModelLoadError(f"reward head tensors disagree in shape: {weight.shape}, {mean.shape}, {scale.shape}")
        self.config, self.weight, self.mean, self.scale = config, weight, mean, scale

    def __call__(self, features: torch.Tensor) -> torch.Tensor:
        x = (features.double() - self.mean.double()) / self.scale.double()
        # Row by row, not a matrix product: BLAS may sum a row in another order by its place in the
        # batch (1e-15 apart), and two equal inputs must tie exactly at 0.5.
        return (x * self.weight.double()).sum(dim=1)

    def save(self, directory: Path) -> None:
        from safetensors.torch import save_file

        tensors = {"weight": self.weight.float(), "mean": self.mean.float(), "scale": self.scale.float()}
        save_file(tensors, str(directory / HEAD_FILE), metadata={"config": json.dumps(self.config.to_json())})

    @classmethod
    def load(cls, directory: Path) -> RewardHead:
        from safetensors import safe_open

        path = directory / HEAD_FILE
        try:
            with safe_open(str(path), framework="pt") as fh:
                meta = fh.metadata() or {}
                tensors = {k: fh.get_tensor(k) for k in ("weight", "mean", "scale")}
            config = RewardConfig.from_json(json.loads(meta["config"]))
        except (OSError, KeyError, ValueError, json.JSONDecodeError) as exc:
            raise ModelLoadError(f"{path} is not a flame reward head ({exc}); re-export it with flame reward") from exc
        return cls(config, tensors["weight"], tensors["mean"], tensors["scale"])


class RewardView:
    """A pairwise example's two responses, each alone in flame's reward view of the task
    (`templates.reward_task`), rendered as the label path renders it and ending at its answer position."""

    def __init__(self, loaded: LoadedModel, max_input_tokens: int) -> None:
        self.loaded = loaded
        self.max_input_tokens = max_input_tokens
        # Reuses the generative renderer's chat wrap, answer position and label tokens.
        self._render = GenerativeBackend(loaded, max_input_tokens=max_input_tokens)
        self._view = TokenizerView(loaded.tokenizer)

    def model_input(self, query: RewardQuery) -> list[int]:
        """The token ids a forward pass reads for one response; its last is where the reward is read."""
        return self._render.model_input(query.query)

    def label_query(self, spec: TaskSpec, inputs: Sequence[tuple[str, str]]) -> LabelQuery:
        """Any task's input rendered and cut exactly as the label path does, at this view's budget."""
        return self._render.prepare(spec, inputs)

    def label_input(self, spec: TaskSpec, inputs: Sequence[tuple[str, str]]) -> list[int]:
        """The token ids of any task's input as the label path renders and cuts it."""
        return self._render.model_input(self.label_query(spec, inputs))

    def tokens(self, text: str) -> int:
        return len(self._view.encode(text))

    def _query(self, spec: TaskSpec, inputs: Sequence[tuple[str, str]]) -> LabelQuery:
        before, after = chat_prefix_suffix(self.loaded.tokenizer)
        prefix = scoring_prefix(spec)
        return LabelQuery(render_input(spec, inputs), spec.outputs[0].labels, prefix, before=before, after=after)

    def _size(self, query: LabelQuery) -> int:
        return len(self._render.model_input(query))

    def prepare(self, pairwise: TaskSpec, fields: Sequence[tuple[str, str]]) -> tuple[RewardQuery, RewardQuery]:
        """Both responses of one pairwise example, in the order they appear in `fields`.

        The context is cut once for the pair (fitted beside the longer response, so the shorter fits
        too), then each response is cut to the room left: both responses see exactly the same context.
        """
        spec = templates.reward_task(pairwise)
        views = templates.reward_inputs(fields)
        lengths = [len(self._view.encode(v[-1][1])) for v in views]
        longer = views[0] if lengths[0] >= lengths[1] else views[1]
        before, after = chat_prefix_suffix(self.loaded.tokenizer)
        prefix = scoring_prefix(spec)
        wrap = LabelQuery("", spec.outputs[0].labels, prefix, before=before, after=after)  # all but the fields
        budget = self.max_input_tokens - self._size(wrap)
        for _ in range(4):
            context = fit_inputs(spec, longer, max_tokens=budget, tokenizer=self._view)[:-1]
            cut = tuple(name for (name, value), (_, kept) in zip(longer[:-1], context, strict=True) if value != kept)
            fitted = [self._fit_response(spec, context, v[-1]) for v in views]
            over = max(excess for _, _, excess in fitted)
            if over <= 0:
                (qa, cut_a, _), (qb, cut_b, _) = fitted
                return RewardQuery(qa, lengths[0], cut, cut_a), RewardQuery(qb, lengths[1], cut, cut_b)
            budget -= over  # a response cannot fit beside this context even at its floor: cut the context more
        raise InputTooLongError(f"task {spec.name!r}: could not fit a response into {self.max_input_tokens} tokens")

    def _fit_response(
        self, spec: TaskSpec, context: Sequence[tuple[str, str]], response: tuple[str, str]
    ) -> tuple[LabelQuery, bool, int]:
        """The query with `response` cut (as `fit_inputs` cuts a value) to fit beside `context`,
        whether it was cut, and how many tokens it still is over the budget (<= 0: it fits)."""
        label, value = response
        query = self._query(spec, (*context, response))
        excess = self._size(query) - self.max_input_tokens
        if excess <= 0:
            return query, False, excess
        ids = list(self._view.encode(value))
        keep = len(ids) - excess - len(self._view.encode(TRUNCATION_MARKER))
        for _ in range(8):
            if keep < MIN_RESPONSE_TOKENS:
                return query, True, MIN_RESPONSE_TOKENS - keep
            query = self._query(spec, (*context, (label, self._view.decode(ids[:keep]).rstrip() + TRUNCATION_MARKER)))
            excess = self._size(query) - self.max_input_tokens
            if excess <= 0:
                return query, True, excess
            keep -= excess  # tokens merge differently across the cut; cut again, tighter
        return query, True, max(excess, 1)


class RewardFeatures:
    """Hidden-state features of single responses, batched by length, in fp32."""

    def __init__(
        self,
        loaded: LoadedModel,
        config: RewardConfig,
        *,
        max_input_tokens: int | None = None,
        batch_tokens: int = 16384,
        max_batch_size: int = 64,
        share_prefixes: bool = True,
    ) -> None:
        self.loaded = loaded
        self.config = config
        self.max_input_tokens = max_input_tokens or config.max_input_tokens
        self.batch_tokens = batch_tokens
        self.max_batch_size = max_batch_size
        self.share_prefixes = share_prefixes  # run the context both responses share once (exact; see prefix.py)
        self._shares: bool | None = None  # sharing_works(model), probed on first use
        self.view = RewardView(loaded, self.max_input_tokens)

    def prepare(self, pairwise: TaskSpec, fields: Sequence[tuple[str, str]]) -> tuple[RewardQuery, RewardQuery]:
        return self.view.prepare(pairwise, fields)

    def __call__(self, queries: Sequence[RewardQuery], *, batch_size: int | None = None) -> torch.Tensor:
        """(len(queries), dim) float32: per layer the answer-position and the mean state, then log1p(tokens).

        `batch_size` = None packs by length to `batch_tokens`; a number takes queries in order, that
        many at a time. The features do not depend on the batching (fp32, no padding in any sum).
        """
        import torch

        model, device = self.loaded.model, self.loaded.device
        encoded = [self.view.model_input(q) for q in queries]
        # An input met twice is read once: the same input then has the same features exactly (two
        # responses that differ only past the cut tie at 0.5, not at 0.5 plus float noise).
        length = self.config.length_feature  # without the length feature the tokens alone decide the features
        keys = [(tuple(e), q.response_tokens if length else 0) for e, q in zip(encoded, queries, strict=True)]
        first: dict[tuple[tuple[int, ...], int], int] = {}
        for i, key in enumerate(keys):
            first.setdefault(key, i)
        if len(first) < len(queries):
            slot = {key: n for n, key in enumerate(first)}
            unique = self([queries[i] for i in first.values()], batch_size=batch_size)
            return unique[[slot[key] for key in keys]]
        n_states = int(getattr(model.config, "num_hidden_layers")) + 1  # noqa: B009
        if any(not -n_states <= layer < n_states for layer in self.config.layers):
            raise JudgeError(f"reward head reads layers {self.config.layers} but the model has {n_states} states")
        pad_id = self.loaded.tokenizer.pad_token_id
        pad = pad_id if isinstance(pad_id, int) else 0
        if not queries:
            return torch.zeros((0, 0), dtype=torch.float32)
        rows: list[torch.Tensor] = [torch.empty(0)] * len(queries)
        body, layers = model.get_decoder(), self.config.layers
        # Both responses of a pair share the wrapped context: it runs once, each response after it
        # from its KV cache (flame_judge.backends.prefix); rows sharing nothing run whole.
        if self.share_prefixes and self._shares is None:
            self._shares = sharing_works(body, device, pad=pad)
        share = self.share_prefixes and self._shares
        groups, alone = prefix_groups(encoded) if share else ([], list(range(len(encoded))))
        cap = batch_size or self.max_batch_size
        budget = None if batch_size is not None else self.batch_tokens
        lengths = [len(encoded[i]) for i in alone]
        if batch_size is None:
            batches = plan_batches(lengths, batch_tokens=self.batch_tokens, max_batch_size=self.max_batch_size)
        else:
            batches = [list(range(i, min(i + batch_size, len(alone)))) for i in range(0, len(alone), batch_size)]
        # fp32 arithmetic (never bf16 autocast): bf16 rounding depends on the batch shape and moved
        # verdicts by up to 0.03 between a pair judged alone and inside a batch.
        with torch.inference_mode():
            for shared in plan_group_batches(groups, encoded, batch_tokens=budget, max_batch_size=cap):
                try:
                    run = run_groups(body, shared, encoded, pad=pad, device=device, hidden_states=True)
                except torch.OutOfMemoryError as exc:
                    members = sum(len(g.members) for g in shared)
                    raise JudgeError(f"out of memory reading {members} rows after shared prefixes on {device}") from exc
                before, after = run.first.hidden_states, run.second.hidden_states
                for n, (i, g) in enumerate(zip(run.members, run.owner, strict=True)):
                    start = run.width - run.lengths[g]
                    own = [torch.cat([before[layer][g, start:], after[layer][n, : run.tails[n]]]) for layer in layers]
                    rows[i] = self._row(own, queries[i].response_tokens)
            for batch in batches:
                picked = [alone[n] for n in batch]
                ids, mask = pad_right([encoded[i] for i in picked], pad)
                width = ids.shape[1]
                try:
                    states = body(
                        input_ids=ids.to(device), attention_mask=mask.to(device), output_hidden_states=True
                    ).hidden_states
                except torch.OutOfMemoryError as exc:
                    raise JudgeError(f"out of memory reading {len(batch)} x {width} tokens on {device}") from exc
                for row, i in enumerate(picked):
                    length = len(encoded[i])
                    rows[i] = self._row([states[layer][row, :length] for layer in layers], queries[i].response_tokens)
        return torch.stack(rows)

    def _row(self, states: Sequence[torch.Tensor], response_tokens: int) -> torch.Tensor:
        """One response's features from its own positions only ([length, D] per read layer), so padding
        never enters the sums."""
        import torch

        parts = []
        for layer in states:
            h = layer.float()
            parts.append(h[-1])
            parts.append(h.mean(0))
        if self.config.length_feature:
            parts.append(torch.tensor([math.log1p(response_tokens)], dtype=torch.float32, device=states[0].device))
        return torch.cat(parts).cpu()


class RewardBackend:
    """Rewards for single responses: features from the judge model, then the head (read on first use)."""

    def __init__(
        self,
        loaded: LoadedModel,
        reward: tuple[RewardConfig, Path],
        *,
        max_input_tokens: int | None = None,
        batch_tokens: int = 16384,
    ) -> None:
        self.config, self.path = reward
        self.features = RewardFeatures(
            loaded, self.config, max_input_tokens=max_input_tokens, batch_tokens=batch_tokens
        )
        self._head: RewardHead | None = None

    @property
    def max_input_tokens(self) -> int:
        """The token budget of each response's input (default: the one the head was fitted at)."""
        return self.features.max_input_tokens

    @property
    def head(self) -> RewardHead:
        if self._head is None:
            head = RewardHead.load(self.path.parent)
            if head.config != self.config:
                raise ModelLoadError(f"{self.path} was fitted with {head.config}, but flame.json says {self.config}")
            self._head = head
        return self._head

    def prepare(self, pairwise: TaskSpec, fields: Sequence[tuple[str, str]]) -> tuple[RewardQuery, RewardQuery]:
        return self.features.prepare(pairwise, fields)

    def score(self, queries: Sequence[RewardQuery], *, batch_size: int | None = None) -> list[float]:
        if not queries:
            return []
        head = self.head
        feats = self.features(queries, batch_size=batch_size)
        if feats.shape[1] != head.weight.shape[0]:
            raise JudgeError(f"reward head expects {head.weight.shape[0]} features, the model gives {feats.shape[1]}")
        return [float(r) for r in head(feats)]


def prob_a(reward_a: float, reward_b: float) -> float:
    """Bradley-Terry: P(A better) = sigmoid(r_A - r_B)."""
    d = reward_a - reward_b
    return 1 / (1 + math.exp(-d)) if d >= 0 else math.exp(d) / (1 + math.exp(d))
