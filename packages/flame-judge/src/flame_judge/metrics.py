"""Agreement metrics between a judge and human labels (pure Python, no numpy needed)."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence


def accuracy(pred: Sequence[str], gold: Sequence[str]) -> float:
    pairs = list(zip(pred, gold, strict=True))
    return sum(p == g for p, g in pairs) / len(pairs) if pairs else float("nan")


def order_credit(prob_a: float, gold: str) -> float:
    """Credit for one presentation order: 1 if P(A better) picks the gold side, 0.5 at exactly 0.5, else 0."""
    if prob_a == 0.5:
        return 0.5
    return float(("A" if prob_a > 0.5 else "B") == gold)


def pair_credit(prob_a_first: float, prob_a_second: float, gold: str) -> float | None:
    """The one pairwise credit used everywhere: the mean of both orders' credits (orders that disagree
    give 0.5, like RewardBench), None for a gold tie. A reward judge passes the same P twice."""
    if gold not in ("A", "B"):
        return None
    return (order_credit(prob_a_first, gold) + order_credit(prob_a_second, gold)) / 2


def pairwise_accuracy(prob_a_first: Sequence[float], prob_a_second: Sequence[float], gold: Sequence[str]) -> float:
    """Mean `pair_credit` over items whose gold label is A or B (NaN when there are none)."""
    credits = [pair_credit(f, s, g) for f, s, g in zip(prob_a_first, prob_a_second, gold, strict=True)]
    kept = [c for c in credits if c is not None]
    return sum(kept) / len(kept) if kept else float("nan")


def balanced_accuracy(pred: Sequence[str], gold: Sequence[str]) -> float:
    """Mean per-class recall over the gold classes present."""
    recalls = []
    for label in sorted(set(gold)):
        idx = [i for i, g in enumerate(gold) if g == label]
        recalls.append(sum(pred[i] == label for i in idx) / len(idx))
    return sum(recalls) / len(recalls) if recalls else float("nan")


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    n = len(x)
    if n < 2 or n != len(y):
        return float("nan")
    mx, my = sum(x) / n, sum(y) / n
    sx = math.sqrt(sum((a - mx) ** 2 for a in x))
    sy = math.sqrt(sum((b - my) ** 2 for b in y))
    if sx == 0 or sy == 0:
        return float("nan")
    return sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True)) / (sx * sy)


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    return pearson(_ranks(x), _ranks(y))


def kendall_tau_b(x: Sequence[float], y: Sequence[float]) -> float:
    concordant = discordant = ties_x = ties_y = 0
    for i in range(len(x)):
        for j in range(i + 1, len(x)):
            dx, dy = x[i] - x[j], y[i] - y[j]
            if dx == 0 and dy == 0:
                continue
            if dx == 0:
                ties_x += 1
            elif dy == 0:
                ties_y += 1
            elif (dx > 0) == (dy > 0):
                concordant += 1
            else:
                discordant += 1
    denom = math.sqrt((concordant + discordant + ties_x) * (concordant + discordant + ties_y))
    return (concordant - discordant) / denom if denom else float("nan")


def roc_auc(scores: Sequence[float], positive: Sequence[bool]) -> float:
    """Probability that a random positive outranks a random negative (ties count half)."""
    n_pos = sum(positive)
    n_neg = len(positive) - n_pos
    if not n_pos or not n_neg:
        return float("nan")
    pos_rank = sum(r for r, p in zip(_ranks(scores), positive, strict=True) if p)
    return (pos_rank - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def _bins(confidence: Sequence[float], bins: int) -> list[int]:
    """Each confidence's bin: [b / bins, (b + 1) / bins), with 1.0 in the last one."""
    out = []
    for i, c in enumerate(confidence):
        if not 0.0 <= c <= 1.0:  # also NaN
            raise ValueError(f"confidence {i} is {c}: a probability in [0, 1] is needed")
        out.append(next((b for b in range(bins) if c < (b + 1) / bins), bins - 1))
    return out


def _ece(
    confidence: Sequence[float], correct: Sequence[bool], bin_of: Sequence[int]
) -> tuple[float, list[tuple[float, float, int]]]:
    members: dict[int, list[int]] = {}
    for i, b in enumerate(bin_of):
        members.setdefault(b, []).append(i)
    table = []
    ece = 0.0
    for b in sorted(members):
        idx = members[b]
        conf = sum(confidence[i] for i in idx) / len(idx)
        acc = sum(correct[i] for i in idx) / len(idx)
        table.append((conf, acc, len(idx)))
        ece += len(idx) / len(confidence) * abs(conf - acc)
    return ece, table


def calibration(
    confidence: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> tuple[float, list[tuple[float, float, int]]]:
    """Expected calibration error and the reliability bins (mean confidence, accuracy, count)."""
    return _ece(confidence, correct, _bins(confidence, bins))


def ece_noise(confidence: Sequence[float], bins: int = 10, draws: int = 200, seed: int = 0) -> tuple[float, float]:
    """(mean, 95th percentile) of the ECE that a perfectly calibrated judge with these confidences
    scores on this many items, each verdict drawn right with its own confidence. On a few hundred
    items both are well above 0: an ECE below the 95th percentile is consistent with sampling noise."""
    if not confidence:
        return float("nan"), float("nan")
    rng = random.Random(seed)
    bin_of = _bins(confidence, bins)
    eces = sorted(_ece(confidence, [rng.random() < c for c in confidence], bin_of)[0] for _ in range(draws))
    return sum(eces) / draws, eces[min(draws - 1, math.ceil(0.95 * draws) - 1)]
