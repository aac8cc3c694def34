"""The transformers engine: the model in this process (CPU or one GPU), batched by padded size."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from flame_judge.backends import EngineName, ModelKind
from flame_judge.errors import JudgeError, UnsupportedModelError

if TYPE_CHECKING:
    from flame_judge.backends.output_path import OutputPath
    from flame_judge.loading import LoadedModel


class TransformersEngine:
    engine: EngineName = "transformers"

    def __init__(
        self,
        loaded: LoadedModel,
        *,
        kind: ModelKind = "generative",
        batch_tokens: int = 16384,
        max_batch_size: int = 64,
    ) -> None:
        self.loaded = loaded
        self.model_kind: ModelKind = kind
        self.fingerprint = loaded.fingerprint
        self.batch_tokens = batch_tokens
        self.max_batch_size = max_batch_size
        self._path: OutputPath | None = None

    @property
    def output_path(self) -> OutputPath:
        """The model's logits computation for one position, checked once against its full forward."""
        if self._path is None:
            from flame_judge.backends.output_path import output_path, verify

            path = output_path(self.loaded.model)
            verify(self.loaded.model, path)
            self._path = path
        return self._path

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

        from flame_judge.backends.output_path import final_hidden
        from flame_judge.scoring import pad_right

        if self.model_kind != "generative":
            raise UnsupportedModelError(
                f"{self.loaded.name} is a reward model: it gives pairwise verdicts only (no label probabilities)"
            )
        if not rows:
            return []
        model, device, path = self.loaded.model, self.loaded.device, self.output_path
        results: list[list[float]] = [[] for _ in rows]
        with torch.inference_mode():
            for batch in self._batches(rows, batch_size):
                ids, mask = pad_right([rows[i] for i in batch], self._pad())
                try:
                    hidden = final_hidden(model, ids.to(device), mask.to(device))
                except torch.OutOfMemoryError as exc:
                    raise JudgeError(
                        f"out of memory scoring a batch of {len(batch)} x {ids.shape[1]} tokens on {device}; "
                        "lower batch_tokens"
                    ) from exc
                last = torch.tensor([len(rows[i]) - 1 for i in batch], device=device)
                answer = hidden[torch.arange(len(batch), device=device), last]
                # Label sets may differ across rows of one batch; score each distinct set once.
                by_labels: dict[tuple[int, ...], list[int]] = {}
                for n, i in enumerate(batch):
                    by_labels.setdefault(tuple(labels[i]), []).append(n)
                for label_ids, members in by_labels.items():
                    full = path.label_logprobs(answer[members], torch.tensor(list(label_ids), device=device))
                    for n, values in zip(members, full.tolist(), strict=True):
                        results[batch[n]] = values
        return results

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
