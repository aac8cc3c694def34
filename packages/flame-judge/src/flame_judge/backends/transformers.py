"""The transformers engine: the model in this process (CPU or one GPU), batched by padded size."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from flame_judge.backends import EngineName, ModelKind
from flame_judge.errors import JudgeError, UnsupportedModelError

if TYPE_CHECKING:
    import torch

    from flame_judge.backends.output_path import OutputPath
    from flame_judge.loading import LoadedModel


@contextmanager
def _out_of_memory(shape: str, device: torch.device) -> Iterator[None]:
    import torch

    try:
        yield
    except torch.OutOfMemoryError as exc:
        raise JudgeError(f"out of memory scoring {shape} on {device}; lower batch_tokens") from exc


class TransformersEngine:
    engine: EngineName = "transformers"

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        kind: ModelKind = "generative",
        batch_tokens: int = 16384,
        max_batch_size: int = 64,
        share_prefixes: bool = True,
    ) -> None:
        self.loaded = loaded
        self.share_prefixes = share_prefixes  # run a prefix common to several rows once (exact; see prefix.py)
        self.model_kind: ModelKind = kind
        self.fingerprint = loaded.fingerprint
        self.batch_tokens = batch_tokens
        self.max_batch_size = max_batch_size
        self._path: OutputPath | None = None
        self._shares: bool | None = None  # sharing_works(model), probed on first use

    @property
    def output_path(self) -> OutputPath:
        """The model's logits computation for one position, checked once against its full forward."""
        if self._path is None:
            from flame_judge.backends.output_path import output_path, verify

            path = output_path(self.loaded.model)
            verify(self.loaded.model, path)
            self._path = path
        return self._path

    def _sharing(self) -> bool:
        """`share_prefixes`, once the model has shown on a probe that it continues exactly from a cache."""
        if self.share_prefixes and self._shares is None:
            from flame_judge.backends.prefix import sharing_works

            self._shares = sharing_works(self.loaded.model.get_decoder(), self.loaded.device, pad=self._pad())
        return self.share_prefixes and bool(self._shares)

    def _batches(self, rows: Sequence[Sequence[int]], batch_size: int | None) -> list[list[int]]:
        from flame_judge.scoring import plan_batches

        if batch_size is not None:
            return [list(range(i, min(i + batch_size, len(rows)))) for i in range(0, len(rows), batch_size)]
        return plan_batches([len(r) for r in rows], batch_tokens=self.batch_tokens, max_batch_size=self.max_batch_size)

    def _pad(self) -> int:
        pad_id = self.loaded.tokenizer.pad_token_id
        return pad_id if isinstance(pad_id, int) else 0

    def label_logprobs(
        self, rows: Sequence[Sequence[int]], labels: Sequence[Sequence[int]], *, batch_size: int | None = None
    ) -> list[list[float]]:
        import torch

        if self.model_kind != "generative":
            raise UnsupportedModelError(
                f"{self.loaded.name} is a reward model: it gives pairwise verdicts only (no label probabilities)"
            )
        if not rows:
            return []
        device, path = self.loaded.device, self.output_path
        with torch.inference_mode():
            answers = self._answer_states(rows, batch_size)
            # Label sets may differ across rows; score each distinct set once, in chunks of a batch.
            by_labels: dict[tuple[int, ...], list[int]] = {}
            for i, label_ids in enumerate(labels):
                by_labels.setdefault(tuple(label_ids), []).append(i)
            results: list[list[float]] = [[] for _ in rows]
            step = batch_size or self.max_batch_size
            for label_ids, members in by_labels.items():
                ids = torch.tensor(list(label_ids), device=device)
                for at in range(0, len(members), step):
                    chunk = members[at : at + step]
                    full = path.label_logprobs(answers[torch.tensor(chunk, device=device)], ids)
                    for i, values in zip(chunk, full.tolist(), strict=True):
                        results[i] = values
        return results

    def _answer_states(self, rows: Sequence[Sequence[int]], batch_size: int | None) -> torch.Tensor:
        """[N, D] final hidden state at each row's last token (its answer position).

        Rows that share a long prefix (both orders of a pair) run it once and continue from its KV
        cache (flame_judge.backends.prefix); the others run whole, right-padded.
        """
        import torch

        from flame_judge.backends.output_path import final_hidden
        from flame_judge.backends.prefix import plan_group_batches, prefix_groups, run_groups
        from flame_judge.scoring import pad_right

        model, device = self.loaded.model, self.loaded.device
        groups, alone = prefix_groups(rows) if self._sharing() else ([], list(range(len(rows))))
        answers: list[torch.Tensor | None] = [None] * len(rows)
        cap = batch_size or self.max_batch_size
        budget = None if batch_size is not None else self.batch_tokens
        for batch in plan_group_batches(groups, rows, batch_tokens=budget, max_batch_size=cap):
            shape = f"{sum(len(g.members) for g in batch)} rows after {len(batch)} shared prefixes"
            with _out_of_memory(shape, device):
                run = run_groups(model.get_decoder(), batch, rows, pad=self._pad(), device=device)
            hidden = run.second.last_hidden_state
            for n, (i, tail) in enumerate(zip(run.members, run.tails, strict=True)):
                answers[i] = hidden[n, tail - 1]
        for batch in self._batches([rows[i] for i in alone], batch_size):
            picked = [alone[n] for n in batch]
            ids, mask = pad_right([rows[i] for i in picked], self._pad())
            with _out_of_memory(f"a batch of {len(picked)} x {ids.shape[1]} tokens", device):
                hidden = final_hidden(model, ids.to(device), mask.to(device))
            for n, i in enumerate(picked):
                answers[i] = hidden[n, len(rows[i]) - 1]
        return torch.stack([a for a in answers if a is not None])

    def rewards(self, rows: Sequence[Sequence[int]], *, batch_size: int | None = None) -> list[float]:
        """Scores of a `*ForSequenceClassification` model through its own forward, at each row's last token."""
        import torch

        from flame_judge.scoring import pad_right

        if self.model_kind != "reward":
            raise UnsupportedModelError(f"{self.loaded.name} is not a reward model (a sequence classifier)")
        if not rows:
            return []
        model, device = self.loaded.model, self.loaded.device
        pad = model.config.pad_token_id
        # The model finds each row's score position as its last non-pad token; without a pad id it
        # cannot batch, so rows go one at a time.
        size = batch_size if isinstance(pad, int) else 1
        out: list[float] = [0.0] * len(rows)
        with torch.inference_mode():
            for batch in self._batches(rows, size):
                ids, mask = pad_right([rows[i] for i in batch], pad if isinstance(pad, int) else 0)
                try:
                    scores = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
                except torch.OutOfMemoryError as exc:
                    raise JudgeError(f"out of memory scoring {len(batch)} x {ids.shape[1]} tokens on {device}") from exc
                for n, i in enumerate(batch):
                    out[i] = float(scores[n, 0].float())
        return out

    def close(self) -> None:
        pass
