"""Training data: mixture rows rendered through the shared format under a token budget, wrapped in
the chat template, tokenized with loss on the target only, sampled by the mixture's rates.

Batches are a pure function of (seed, step), so a resumed run sees exactly the data an
uninterrupted run would have seen.
"""

from __future__ import annotations

import json
import random
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flame_data.errors import InputTooLongError
from flame_data.format import fit_inputs, render_input, render_target, scoring_prefix
from flame_data.registry import tasks as registered_tasks
from flame_data.schema import TaskSpec
from flame_judge.prompting import TokenizerView, chat_prefix_suffix
from flame_train.errors import ConfigError

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedTokenizerBase

IGNORE = -100
GROUP_BATCHES = 32  # batches drawn, sorted by length and reshuffled together


def load_split(mixture: str | Path, split: str, tasks: Sequence[str] = ()) -> list[dict[str, Any]]:
    from datasets import load_from_disk

    path = Path(mixture) / "data"
    if not path.is_dir():
        raise ConfigError(f"mixture {mixture} has no data/ folder; build one with `flame data build --out {mixture}`")
    splits: Any = load_from_disk(str(path))
    if split not in splits:
        raise ConfigError(f"mixture {mixture} has no {split!r} split; it has {sorted(splits)}")
    dataset: Any = splits[split]
    rows: list[dict[str, Any]] = dataset.to_list()
    if tasks:
        missing = set(tasks) - {r["task"] for r in rows}
        if missing:
            raise ConfigError(f"tasks not in the {split} split of {mixture}: {sorted(missing)}")
        rows = [r for r in rows if r["task"] in set(tasks)]
    return rows


def load_rates(mixture: str | Path, rates_file: str | None, present: Sequence[str]) -> dict[str, float]:
    """Sampling rates over the tasks present: a rates file if given, else the mixture's mixture.json."""
    if rates_file:
        path = Path(rates_file)
        text = path.read_text()
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    else:
        data = json.loads((Path(mixture) / "mixture.json").read_text())
    rates = data.get("rates", data)
    picked = {t: float(rates[t]) for t in present if float(rates.get(t, 0.0)) > 0}
    if not picked:
        raise ConfigError("no task has a positive sampling rate; check the rates file and the task filter")
    total = sum(picked.values())
    return {t: r / total for t, r in picked.items()}


def swap_pair(fields: list[list[str]], target: list[list[str]]) -> tuple[list[list[str]], list[list[str]]]:
    """The same pairwise example with its two responses (the last two fields) in the other order."""
    a, b = fields[-2], fields[-1]
    swapped = [*fields[:-2], [a[0], b[1]], [b[0], a[1]]]
    flip = {"A": "B", "B": "A"}
    return swapped, [[k, flip.get(v, v) if k == "answer" else v] for k, v in target]


@dataclass(frozen=True)
class Encoded:
    ids: list[int]
    labels: list[int]


class Encoder:
    """Turns a mixture row into token ids and labels (IGNORE on the prompt)."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, max_length: int) -> None:
        self.tok = tokenizer
        self.view = TokenizerView(tokenizer)
        self.max_length = max_length
        self.before, self.after = chat_prefix_suffix(tokenizer)
        eos = tokenizer.eos_token
        self.end = eos if isinstance(eos, str) else ""
        self.specs: dict[str, TaskSpec] = {name: spec for name, (spec, _) in registered_tasks().items()}
        self._overhead = len(self.view.encode_template(self.before) + self.view.encode_template(self.after))
        self._end_ids = self.view.encode_template(self.end)

    @cache  # noqa: B019 - one encoder per run; rows repeat across steps
    def encode(self, task: str, fields_json: str, target_json: str, swap: bool) -> Encoded:
        spec = self.specs.get(task)
        if spec is None:
            raise ConfigError(f"task {task!r} of the mixture is not registered in flame-data")
        fields: list[list[str]] = json.loads(fields_json)
        target: list[list[str]] = json.loads(target_json)
        if swap:
            fields, target = swap_pair(fields, target)
        # The target's text is data (explanations): plain text; only the end-of-turn token is special.
        target_ids = self.view.encode(render_target([(t[0], t[1]) for t in target])) + self._end_ids
        budget = self.max_length - self._overhead - len(target_ids)
        if budget < self.max_length // 2:  # a long explanation: the input keeps half, the target is cut
            budget = self.max_length // 2
            target_ids = target_ids[: self.max_length - self._overhead - budget]
        try:
            inputs = fit_inputs(spec, [tuple(f) for f in fields], max_tokens=budget, tokenizer=self.view)  # type: ignore[arg-type]
        except InputTooLongError as exc:
            raise ConfigError(f"max_length = {self.max_length} is too short for task {task!r}: {exc}") from None
        prompt_ids = self.view.encode_chat(render_input(spec, inputs))  # as the judge reads it
        ids = (prompt_ids + target_ids)[: self.max_length]
        labels = ([IGNORE] * len(prompt_ids) + target_ids)[: self.max_length]
        return Encoded(ids, labels)

    def row(self, row: dict[str, Any], swap: bool = False) -> Encoded:
        return self.encode(row["task"], row["fields"], row["target_fields"], swap)


class LabelMask:
    """`loss_tokens = label`: keep the loss on the first output field's label only (the token a judge
    scores: ` A`, ` 3`, ` yes`), not on the `EVALUATION:` boilerplate, the end token or an explanation.

    A pairwise target is ~10 tokens of which only the label carries information, so with the plain
    loss it is a few percent of the gradient. A task without declared labels (open-ended) has no
    label lines; the trainer refuses such tasks under `loss_tokens = label`.
    """

    def __init__(self, tokenizer: PreTrainedTokenizerBase) -> None:
        self.view = TokenizerView(tokenizer)
        self.specs: dict[str, TaskSpec] = {name: spec for name, (spec, _) in registered_tasks().items()}

    @cache  # noqa: B019 - one mask per run; a task's label lines never change
    def lines(self, task: str) -> tuple[int, tuple[tuple[int, ...], ...]]:
        """The prefix length (`EVALUATION:\nanswer:`) and each label's first target line, longest first."""
        spec = self.specs.get(task)
        if spec is None:
            raise ConfigError(f"task {task!r} of the mixture is not registered in flame-data")
        out = spec.outputs[0]
        if not out.labels:
            return 0, ()
        prefix = self.view.encode(scoring_prefix(spec))
        lines = [tuple(self.view.encode(render_target([(out.name, label)]))) for label in out.labels]
        if any(line[: len(prefix)] != tuple(prefix) or len(line) == len(prefix) for line in lines):
            raise ConfigError(f"loss_tokens = label: the labels of task {task!r} do not follow its scoring prefix")
        return len(prefix), tuple(sorted(lines, key=len, reverse=True))

    def __call__(self, task: str, example: Encoded) -> Encoded:
        start, lines = self.lines(task)
        if not lines:
            return example
        first = next((i for i, label in enumerate(example.labels) if label != IGNORE), len(example.labels))
        target = tuple(example.ids[first:])
        line = next((line for line in lines if target[: len(line)] == line), None)
        if line is None:
            raise ConfigError(
                f"loss_tokens = label: a target of task {task!r} does not start with one of its label lines "
                "(the target was cut by max_length?); raise max_length or use loss_tokens = target"
            )
        a, b = first + start, first + len(line)
        labels = [IGNORE] * a + list(example.labels[a:b]) + [IGNORE] * (len(example.labels) - b)
        return Encoded(example.ids, labels)


@dataclass(frozen=True)
class SampleRow:
    """What the sampler needs of a row: its task, whether its responses may swap, its input length."""

    task: str
    task_type: str
    swappable: bool
    length: int


def sample_rows(rows: Sequence[dict[str, Any]]) -> list[SampleRow]:
    return [
        SampleRow(
            r["task"],
            r["task_type"],
            r["task_type"] == "pairwise" and "explanation" not in r["target_fields"],
            len(r["input"]),
        )
        for r in rows
    ]


class MixtureSampler:
    """Which rows (and in which order of responses) make up the batch of each step."""

    def __init__(
        self,
        rows: Sequence[SampleRow],
        rates: dict[str, float],
        *,
        batch_size: int,
        seed: int,
        both_orders: bool,
        group_by_length: bool,
    ) -> None:
        self.rows = rows
        self.by_task: dict[str, list[int]] = {}
        for i, r in enumerate(rows):
            self.by_task.setdefault(r.task, []).append(i)
        self.tasks = [t for t in rates if t in self.by_task]
        self.weights = [rates[t] for t in self.tasks]
        self.batch_size = batch_size
        self.seed = seed
        self.both_orders = both_orders
        self.group_by_length = group_by_length

    def _group(self, index: int) -> list[list[tuple[int, bool]]]:
        rng = random.Random(f"{self.seed}:{index}")
        picks = []
        for _ in range(GROUP_BATCHES * self.batch_size):
            task = rng.choices(self.tasks, self.weights)[0]
            row = rng.choice(self.by_task[task])
            swap = self.both_orders and self.rows[row].task_type == "pairwise" and rng.random() < 0.5
            picks.append((row, swap and self.rows[row].swappable))
        if self.group_by_length:
            picks.sort(key=lambda p: self.rows[p[0]].length)
        batches = [picks[i : i + self.batch_size] for i in range(0, len(picks), self.batch_size)]
        rng.shuffle(batches)
        return batches

    def batch(self, step: int) -> list[tuple[int, bool]]:
        return self._group(step // GROUP_BATCHES)[step % GROUP_BATCHES]


def collate(items: list[Encoded], pad_id: int) -> dict[str, torch.Tensor]:
    import torch

    width = max(len(e.ids) for e in items)
    ids = torch.full((len(items), width), pad_id, dtype=torch.long)
    labels = torch.full((len(items), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(items), width), dtype=torch.long)
    for i, e in enumerate(items):
        ids[i, : len(e.ids)] = torch.tensor(e.ids)
        labels[i, : len(e.labels)] = torch.tensor(e.labels)
        mask[i, : len(e.ids)] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}
