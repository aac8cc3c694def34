"""Generative scoring: render and tokenize label queries; an engine scores the answer position."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING

from flame_data.format import fit_inputs, render_input, scoring_prefix
from flame_data.schema import TaskSpec
from flame_judge.errors import InputTooLongError, LabelTokenError
from flame_judge.prompting import TokenizerView

if TYPE_CHECKING:
    import torch

    from flame_judge.backends import Engine
    from flame_judge.loading import LoadedModel


@dataclass(frozen=True)
class LabelQuery:
    """One scoring request: the rendered input, its labels, and the chat template around it.

    `text` is the exact model text (ending at the answer position); only `before` and `after`,
    the template's parts, are tokenized with special tokens (`TokenizerView.encode_chat`).
    """

    user: str  # the rendered FLAMe input: plain text, whatever it contains
    labels: tuple[str, ...]
    prefix: str  # the target text the label follows, e.g. "EVALUATION:\nanswer:"
    before: str = field(kw_only=True)
    after: str = field(kw_only=True)
    truncated: tuple[str, ...] = field(default=(), kw_only=True)  # the input fields cut to fit the budget, by name

    @property
    def text(self) -> str:
        return f"{self.before}{self.user}{self.after}{self.prefix}"


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
    """A causal LM scored by the log-probability of each label's first token after the prefix.

    Rendering and tokenization happen here, with the judge's tokenizer; an engine
    (flame_judge.backends) runs the prepared token ids on whatever executes the model.
    """

    kind = "generative"

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        max_input_tokens: int = 2048,
        batch_tokens: int = 16384,
        max_batch_size: int = 64,
        engine: Engine | None = None,
    ) -> None:
        self.loaded = loaded
        if engine is None:
            from flame_judge.backends.transformers import TransformersEngine

            self.engine: Engine = TransformersEngine(loaded, batch_tokens=batch_tokens, max_batch_size=max_batch_size)
        else:
            self.engine = engine  # runs the model; this class renders, tokenizes and checks lengths
        self.name = loaded.name
        self.fingerprint = self.engine.fingerprint
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
        before, after = self._view.encode_template(query.before), self._view.encode_template(query.after)
        user, prefix = self._encode(query.user), self._encode(query.prefix)
        return before + user + after + prefix + list(self._label_ids(query.prefix, query.labels)[0])

    def prepare(self, spec: TaskSpec, inputs: Sequence[tuple[str, str]]) -> LabelQuery:
        """Render, truncate to the token budget and wrap one request in the chat template."""
        prefix = scoring_prefix(spec)
        labels = spec.outputs[0].labels
        shared, _ = self._label_ids(prefix, labels)  # also fails early on labels it cannot tell apart
        before, after = self._view.chat
        # The model input is the wrapped text plus the tokens every label shares (see score()).
        frame = self._view.encode_template(before) + self._view.encode_template(after) + self._encode(prefix)
        budget = self.max_input_tokens - len(frame) - len(shared)
        for _ in range(4):
            fitted = fit_inputs(spec, inputs, max_tokens=budget, tokenizer=self._view)
            query = LabelQuery(render_input(spec, fitted), labels, prefix, before=before, after=after)
            excess = len(self.model_input(query)) - self.max_input_tokens
            if excess <= 0:
                cut = tuple(name for (name, value), (_, kept) in zip(inputs, fitted, strict=True) if value != kept)
                return replace(query, truncated=cut) if cut else query
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
        encoded = [self.model_input(q) for q in queries]
        for q, ids in zip(queries, encoded, strict=True):
            if len(ids) > self.max_input_tokens:
                raise InputTooLongError(
                    f"a prompt of {len(ids)} tokens exceeds max_input_tokens={self.max_input_tokens}: {q.text[:80]!r}"
                )
        labels = [self._label_ids(q.prefix, q.labels)[1] for q in queries]
        return self.engine.label_logprobs(encoded, labels, batch_size=batch_size)
