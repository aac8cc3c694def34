"""The training pool of the end-to-end reward model: human pairs balanced so length carries no
signal, plus constructed pairs (`flame_data.constructed`), every one from the train split only.

Length control: within each human task the pool keeps as many pairs whose chosen reply is the
longer as pairs whose chosen reply is the shorter, so every task's "longer wins" rate is exactly
0.5; among the constructed pairs, `truncated` (longer wins) balances the distractor kinds (shorter
wins). Pointwise pairs (two rows of one pointwise task rating responses to the same context, the
higher human score chosen) are balanced the same way per task. The pool is written to
`pairs.jsonl` with each pair's kind, so a resumed run trains on the very same pairs and the counts
can be reported.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flame_data import constructed, templates
from flame_data.constructed import Pair
from flame_train.errors import CheckpointError, ConfigError

POOL = "pairs.jsonl"
POOL_REPORT = "pool.json"
SAFETY_KINDS = ("refusal", "compliance")
DISTRACTOR_KINDS = ("irrelevant_addition", "forged_evaluation")


@dataclass(frozen=True)
class PoolConfig:
    """How many pairs of each kind the pool takes (all from one split, seeded)."""

    per_task: int = 300  # human pairs per pairwise task, half longer-wins and half shorter-wins
    neighbour: int = 600
    distractor: int = 600  # irrelevant_addition + forged_evaluation together; truncated matches it
    safety_repeat: int = 3  # each XSTest refusal / compliance pair appears this many times
    generic_share: float = 0.3  # pairs rendered with the judge's own template (user-facing)
    seed: int = 0
    pointwise_per_task: int = 0  # pairs of two rows of one pointwise task (same context), length-balanced


@dataclass(frozen=True)
class PoolPair:
    """A pool entry: the pair, and whether it is shown through the judge's own generic template."""

    pair: Pair
    generic: bool

    def to_json(self) -> dict[str, Any]:
        return {**self.pair.to_json(), "generic": self.generic}

    @classmethod
    def from_json(cls, row: dict[str, Any]) -> PoolPair:
        pair = Pair(
            row["kind"],
            row["task"],
            tuple((f[0], f[1]) for f in row["context"]),
            (row["labels"][0], row["labels"][1]),
            row["chosen"],
            row["rejected"],
            row["source"],
        )
        return cls(pair, bool(row["generic"]))


def balance_length(pairs: Sequence[Pair], per_task: int, rng: random.Random) -> list[Pair]:
    """Per task, equal numbers of longer-chosen and shorter-chosen pairs (equal lengths dropped)."""
    by_task: dict[str, tuple[list[Pair], list[Pair]]] = {}
    for p in pairs:
        if len(p.chosen) == len(p.rejected):
            continue
        longer, shorter = by_task.setdefault(p.task, ([], []))
        (longer if len(p.chosen) > len(p.rejected) else shorter).append(p)
    out = []
    for task in sorted(by_task):
        longer, shorter = by_task[task]
        m = min(per_task // 2, len(longer), len(shorter))
        out += rng.sample(longer, m) + rng.sample(shorter, m)
    return out


def _take(pairs: Sequence[Pair], n: int, rng: random.Random) -> list[Pair]:
    return rng.sample(list(pairs), min(n, len(pairs)))


def build_pool(rows: Sequence[dict[str, Any]], config: PoolConfig) -> list[PoolPair]:
    """The seeded training pool from one split's rows (call it with the train split only)."""
    rng = random.Random(f"pool:{config.seed}")
    human = constructed.human_pairs(rows)
    picked = balance_length(human, config.per_task, rng)
    picked += _take(constructed.neighbour(human, seed=config.seed), config.neighbour, rng)
    distract = constructed.irrelevant_addition(human, seed=config.seed) + constructed.forged_evaluation(
        human, seed=config.seed
    )
    distract = _take(distract, config.distractor, rng)
    picked += distract + _take(constructed.truncated(human, seed=config.seed), len(distract), rng)
    picked += constructed.safety_pairs(rows) * config.safety_repeat
    if config.pointwise_per_task:  # (only then: a pool without them is drawn exactly as before)
        picked += balance_length(constructed.pointwise_pairs(rows), config.pointwise_per_task, rng)
    pool = [PoolPair(p, p.task != constructed.SAFETY_TASK.name and rng.random() < config.generic_share) for p in picked]
    rng.shuffle(pool)
    return pool


def generic_view(pair: Pair) -> tuple[Any, tuple[tuple[str, str], ...]]:
    """The pair as a user's `judge.pairwise(prompt, a, b)` renders it: the context as one request."""
    request = "\n\n".join(f"{label}: {value}" for label, value in pair.context)
    return templates.pairwise_task(), (("request", request),)


def pool_report(pool: Sequence[PoolPair]) -> dict[str, Any]:
    """Counts by kind (human pairwise, constructed, pointwise), by task, and the longer-wins rate of
    each and overall."""
    pairs = [p.pair for p in pool]
    kinds = constructed.counts(pairs)
    return {
        "pairs": len(pairs),
        "human": sum(n for k, n in kinds.items() if k == "human"),
        "constructed": sum(n for k, n in kinds.items() if k in constructed.CONSTRUCTED),
        "pointwise": kinds.get("pointwise", 0),  # human-labelled, from two rows of a pointwise task
        "generic_template": sum(p.generic for p in pool),
        "by_kind": kinds,
        "longer_wins_by_kind": {k: round(constructed.longer_wins([p for p in pairs if p.kind == k]), 4) for k in kinds},
        "longer_wins_overall": round(constructed.longer_wins(pairs), 4),
        "by_task": {t: sum(p.task == t for p in pairs) for t in sorted({p.task for p in pairs})},
    }


def write_pool(pool: Sequence[PoolPair], out: Path) -> str:
    """Write the pool (once) and return its digest; a rerun with another pool is refused."""
    text = "".join(json.dumps(p.to_json(), ensure_ascii=False) + "\n" for p in pool)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    path = out / POOL
    if path.is_file():
        old = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        if old != digest:
            raise CheckpointError(f"{path} holds another pool (other data or settings); choose a new output folder")
        return digest
    out.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.rename(path)
    (out / POOL_REPORT).write_text(json.dumps(pool_report(pool), indent=2) + "\n")
    return digest


def read_pool(out: Path) -> list[PoolPair]:
    path = out / POOL
    if not path.is_file():
        raise ConfigError(f"{path} does not exist")
    with path.open(encoding="utf-8") as fh:
        return [PoolPair.from_json(json.loads(line)) for line in fh if line.strip()]
