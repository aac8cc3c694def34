"""Generative scoring: one forward pass per batch, label log-probabilities at the answer position."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from flame_data.format import fit_inputs, render_input, scoring_prefix
from flame_data.schema import TaskSpec
from flame_judge.errors import InputTooLongError, JudgeError, LabelTokenError
from flame_judge.prompting import TokenizerView, chat_prefix_suffix

if TYPE_CHECKING:
    import torch

    from flame_judge.loading import LoadedModel


@dataclass(frozen=True)
class LabelQuery:
    """One scoring request: the exact model text (ending at the answer position) and its labels."""

    text: str
    labels: tuple[str, ...]
    prefix: str  # the target text the label follows, e.g. "EVALUATION:\nanswer:"
    truncated: tuple[str, ...] = ()  # the input fields cut to fit the token budget, by name


def plan_batches(lengths: Sequence[int], *, batch_tokens: int, max_batch_size: int) -> list[list[int]]:
    """Group indices, longest first, so each padded batch holds at most `batch_tokens` tokens."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        width = lengths[current[0]] if current else lengths[i]
        if current and ((len(current) + 1) * width > batch_tokens or len(current) >= max_batch_size):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def pad_right(rows: Sequence[Sequence[int]], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(input ids, attention mask), right-padded to the longest row."""
    import torch

    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for n, r in enumerate(rows):
        ids[n, : len(r)] = torch.tensor(list(r))
        mask[n, : len(r)] = 1
    return ids, mask


class GenerativeBackend:
    """A causal LM scored by the log-probability of each label's first token after the prefix."""

    kind = "generative"

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        max_input_tokens: int = 2048,
        batch_tokens: int = 16384,
        max_batch_size: int = 64,
    ) -> None:
        self.loaded = loaded
        self.name = loaded.name
        self.fingerprint = loaded.fingerprint
        self.max_input_tokens = max_input_tokens
        self.batch_tokens = batch_tokens
        self.max_batch_size = max_batch_size
        self._view = TokenizerView(loaded.tokenizer)
        self._label_ids: Callable[[str, tuple[str, ...]], tuple[tuple[int, ...], tuple[int, ...]]] = cache(
            self._first_tokens
        )

    def _encode(self, text: str) -> list[int]:
        return list(self._view.encode(text))

    encode = _encode

    def model_input(self, query: LabelQuery) -> list[int]:
        """The token ids one forward pass reads: the query text plus the tokens every label shares."""
        return self._encode(query.text) + list(self._label_ids(query.prefix, query.labels)[0])

    def prepare(self, spec: TaskSpec, inputs: Sequence[tuple[str, str]]) -> LabelQuery:
        """Render, truncate to the token budget and wrap one request in the chat template."""
        prefix = scoring_prefix(spec)
        labels = spec.outputs[0].labels
        shared, _ = self._label_ids(prefix, labels)  # also fails early on labels it cannot tell apart
        before, after = chat_prefix_suffix(self.loaded.tokenizer)
        # The model input is the wrapped text plus the tokens every label shares (see score()).
        budget = self.max_input_tokens - len(self._encode(f"{before}{after}{prefix}")) - len(shared)
        for _ in range(4):
            fitted = fit_inputs(spec, inputs, max_tokens=budget, tokenizer=self._view)
            text = f"{before}{render_input(spec, fitted)}{after}{prefix}"
            excess = len(self._encode(text)) + len(shared) - self.max_input_tokens
            if excess <= 0:
                cut = tuple(name for (name, value), (_, kept) in zip(inputs, fitted, strict=True) if value != kept)
                return LabelQuery(text, labels, prefix, cut)
            budget -= excess  # tokens merged differently across the joins; fit again, tighter
        raise InputTooLongError(f"task {spec.name!r}: could not fit the input into {self.max_input_tokens} tokens")

    def _first_tokens(self, prefix: str, labels: tuple[str, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """(tokens every label shares after the prefix, the first distinct token of each label).

        Tokenizers that split digits off the space (`score: 4` -> `score`, `:`, ` `, `4`) share a
        leading token; it is appended to the input so one forward pass still scores the labels.
        """
        base = self._encode(prefix)
        tails = []
        for label in labels:
            full = self._encode(f"{prefix} {label}")
            if full[: len(base)] != base or len(full) == len(base):
                raise LabelTokenError(f"label {label!r} does not start a new token after {prefix!r}")
            tails.append(full[len(base) :])
        shared = 0
        while all(len(t) > shared + 1 for t in tails) and len({t[shared] for t in tails}) == 1:
            shared += 1
        firsts = [t[shared] if len(t) > shared else -1 for t in tails]
        if len(set(firsts)) != len(firsts) or -1 in firsts:
            first_of: dict[int, str] = {}
            clash = ""
            for label, token in zip(labels, firsts, strict=True):
                if token in first_of:
                    clash = f"{first_of[token]!r} and {label!r}"
                    break
                first_of[token] = label
            raise LabelTokenError(
                f"labels {list(labels)} cannot be told apart by one token in this tokenizer ({clash} start with "
                "the same token), so one forward pass cannot score them; use labels that differ in their first "
                "token. For a scale: a tokenizer that splits numbers into digits can score single-digit "
                "values only, at most the ten values of (0, 9): e.g. (1, 5) or (0, 9), not (1, 10)"
            )
        return tuple(tails[0][:shared]), tuple(firsts)

    def score(self, queries: Sequence[LabelQuery], *, batch_size: int | None = None) -> list[list[float]]:
        """Full-vocabulary log-probability of each query's labels, in query order."""
        import torch

        from flame_judge.kernels import label_logprobs

        model, device = self.loaded.model, self.loaded.device
        encoded = [self.model_input(q) for q in queries]
        for q, ids in zip(queries, encoded, strict=True):
            if len(ids) > self.max_input_tokens:
                raise InputTooLongError(
                    f"a prompt of {len(ids)} tokens exceeds max_input_tokens={self.max_input_tokens}: {q.text[:80]!r}"
                )
        if batch_size is None:
            batches = plan_batches(
                [len(e) for e in encoded], batch_tokens=self.batch_tokens, max_batch_size=self.max_batch_size
            )
        else:
            batches = [list(range(i, min(i + batch_size, len(queries)))) for i in range(0, len(queries), batch_size)]
        pad_id = self.loaded.tokenizer.pad_token_id
        pad = pad_id if isinstance(pad_id, int) else 0
        head = model.get_output_embeddings()
        if head is None:
            raise JudgeError(f"{self.name} has no output embeddings (LM head) to score labels with")
        results: list[list[float]] = [[] for _ in queries]
        body = model.get_decoder()
        with torch.inference_mode():
            for batch in batches:
                ids, mask = pad_right([encoded[i] for i in batch], pad)
                width = ids.shape[1]
                try:
                    hidden = body(input_ids=ids.to(device), attention_mask=mask.to(device)).last_hidden_state
                except torch.OutOfMemoryError as exc:
                    raise JudgeError(
                        f"out of memory scoring a batch of {len(batch)} x {width} tokens on {device}; "
                        "lower batch_tokens"
                    ) from exc
                last = torch.tensor([len(encoded[i]) - 1 for i in batch], device=device)
                answer = hidden[torch.arange(len(batch), device=device), last]
                # Label sets differ across queries in one batch; score each distinct set once.
                by_labels: dict[tuple[str, tuple[str, ...]], list[int]] = {}
                for row, i in enumerate(batch):
                    by_labels.setdefault((queries[i].prefix, queries[i].labels), []).append(row)
                for (prefix, labels), rows in by_labels.items():
                    _, label_ids = self._label_ids(prefix, labels)
                    full, _ = label_logprobs(answer[rows], head.weight, torch.tensor(list(label_ids), device=device))
                    for r, values in zip(rows, full.tolist(), strict=True):
                        results[batch[r]] = values
        return results
