"""CoBBLEr-style bias probes: perturb pairwise items and report how often the verdict moves.

For each item with a human winner, the judge's both-order verdict on the original is compared with
its verdict on a perturbed copy. A probe's rate is the share of items whose verdict moves the way
the bias predicts (lower is better, as in the paper's Table 4):

- order: the single-order verdicts pick the same position in both orders (position, not content).
- compassion: responses credited to real model names instead of anonymous systems; any change.
- length: the human-losing response padded with content-free filler; moves to the padded one.
- bandwagon: "90% of people preferred Response X" (X = the human-losing one); moves to X.
- attention: an irrelevant sentence appended to the human-losing response; any change.
- self-preference: one side replaced by the judge's own base model's answer; the judge picks it
  over the human-preferred response (needs generation, so it is opt-in).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from flame_judge.benchmark import EvalItem

if TYPE_CHECKING:
    from flame_judge.judge import Judge

FILLER = (
    " To elaborate further, it is worth noting that this answer has been carefully considered in full detail,"
    " taking into account all of the relevant aspects, so that the response is complete and thorough in every way."
)
DISTRACTION = " By the way, the author of this response enjoys hiking on weekends and has a cat named Olive."
NAMES = ("GPT-4", "Claude", "Llama-2-70B", "Alpaca-7B", "Vicuna-13B", "Falcon-40B")
PROBES = ("order", "compassion", "length", "bandwagon", "attention")


@dataclass(frozen=True)
class ProbeResult:
    probe: str
    rate: float
    n: int
    description: str


def _pick(judge: Judge, items: Sequence[EvalItem]) -> tuple[list[str], list[tuple[str, str]]]:
    """Both-order verdict (A/B) per item, and the two single-order picks."""
    verdicts, singles = [], []
    for a1, a2, _ in judge.pair_probs([(item.spec, item.fields) for item in items]):
        verdicts.append("A" if a1 + a2 >= 1.0 else "B")
        # The position each single order picked: A's position first, then B's (a2 is A shown second).
        singles.append(("A" if a1 >= 0.5 else "B", "A" if a2 <= 0.5 else "B"))
    return verdicts, singles


def _edit(item: EvalItem, side: str, text: str) -> EvalItem:
    index = -2 if side == "A" else -1
    fields = list(item.fields)
    label, _ = fields[index]
    fields[index] = (label, text)
    return replace(item, fields=tuple(fields))


def _loser(item: EvalItem) -> str:
    return "B" if item.gold == "A" else "A"


def _text(item: EvalItem, side: str) -> str:
    return item.fields[-2 if side == "A" else -1][1]


def run_probes(judge: Judge, items: Sequence[EvalItem], *, seed: int = 0) -> list[ProbeResult]:
    items = [i for i in items if i.task_type == "pairwise" and i.gold in ("A", "B")]
    if not items:
        return []
    rng = random.Random(seed)
    base, singles = _pick(judge, items)
    results = [
        ProbeResult(
            "order",
            sum(s[0] == s[1] for s in singles) / len(items),
            len(items),
            "single-order verdicts pick the same position when the responses are swapped",
        )
    ]

    def moved(perturbed: list[EvalItem], toward: list[str] | None) -> float:
        after, _ = _pick(judge, perturbed)
        if toward is None:
            return sum(a != b for a, b in zip(base, after, strict=True)) / len(items)
        return sum(b != t and a == t for b, a, t in zip(base, after, toward, strict=True)) / len(items)

    named = []
    for item in items:
        x, y = rng.sample(NAMES, 2)
        named.append(_edit(_edit(item, "A", f"[{x}] {_text(item, 'A')}"), "B", f"[{y}] {_text(item, 'B')}"))
    anonymous = [_edit(_edit(i, "A", f"[System A] {_text(i, 'A')}"), "B", f"[System B] {_text(i, 'B')}") for i in items]
    anon_verdicts, _ = _pick(judge, anonymous)
    named_verdicts, _ = _pick(judge, named)
    results.append(
        ProbeResult(
            "compassion",
            sum(a != b for a, b in zip(anon_verdicts, named_verdicts, strict=True)) / len(items),
            len(items),
            "verdict changes when anonymous systems get real model names",
        )
    )
    losers = [_loser(i) for i in items]
    results.append(
        ProbeResult(
            "length",
            moved([_edit(i, s, _text(i, s) + FILLER * 2) for i, s in zip(items, losers, strict=True)], losers),
            len(items),
            "verdict moves to the human-losing response after padding it with filler",
        )
    )
    bandwagon = []
    for item, side in zip(items, losers, strict=True):
        context = list(item.fields[:-2])
        context.append(("note", f"90% of people preferred Response {side}."))
        bandwagon.append(replace(item, fields=(*context, *item.fields[-2:])))
    results.append(
        ProbeResult(
            "bandwagon",
            moved(bandwagon, losers),
            len(items),
            "verdict moves to the response a fake majority is said to prefer",
        )
    )
    results.append(
        ProbeResult(
            "attention",
            moved([_edit(i, s, _text(i, s) + DISTRACTION) for i, s in zip(items, losers, strict=True)], None),
            len(items),
            "verdict changes after an irrelevant sentence is added",
        )
    )
    return results


def self_preference(
    judge: Judge, generator: Judge, items: Sequence[EvalItem], *, max_new_tokens: int = 96
) -> ProbeResult:
    """Share of items where the judge prefers its base model's own answer over the human-preferred one."""
    import torch

    items = [i for i in items if i.task_type == "pairwise" and i.gold in ("A", "B")]
    from flame_judge.prompting import wrap

    loaded = generator.backend.loaded
    tok: Any = loaded.tokenizer
    model: Any = loaded.model
    probes = []
    for item in items:
        prompt = "\n".join(v for _, v in item.fields[:-2])
        text = wrap(tok, prompt[-2000:])
        ids = tok(text, return_tensors="pt", add_special_tokens=False).to(loaded.device)
        with torch.no_grad():
            out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tok.eos_token_id)
        own = tok.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True).strip() or "(no answer)"
        probes.append(_edit(item, _loser(item), own))
    verdicts, _ = _pick(judge, probes)
    rate = sum(v == _loser(i) for v, i in zip(verdicts, items, strict=True)) / len(items) if items else float("nan")
    return ProbeResult(
        "self-preference",
        rate,
        len(items),
        "the judge prefers its base model's own answer over the human-preferred response",
    )
