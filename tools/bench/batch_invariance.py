"""Batch invariance of the default judge: each request judged alone vs inside batches of 8 of mixed
lengths, through `Judge.load()` (the reward head for pairwise, label scoring for the rest).

    uv run python tools/bench/batch_invariance.py            # prints the max |difference| per verdict type

The judgment cache is off, so every call does its model work.
"""

from __future__ import annotations

import argparse
import time

from flame_judge import ClassificationRequest, Judge, PairwiseRequest, PointwiseRequest

LONG = "The capital of France is Paris, on the Seine; it has been the capital since 987. "
ITEMS = [
    ("What is the capital of France?", "Paris.", "Lyon."),
    ("What is the capital of France? Answer in detail.", LONG * 4, "Paris."),
    ("Name a primary colour.", "Red.", "Colours are a social construct. " * 6),
    ("How many legs does a spider have?", "Eight.", "Six, like all insects."),
    ("Is 17 prime?", "Yes, 17 has no divisors other than 1 and itself.", "No."),
    ("Translate 'gracias'.", "Thank you.", "Please. " * 12),
    ("Give me a synonym for happy.", "Joyful.", "Sad."),
    ("Boil spaghetti for how long? " * 5, "About 9 to 11 minutes in salted water.", "Forever."),
    ("Summarize the French capital's history.", LONG * 8, LONG * 2),
    ("What does CPU stand for?", "Central processing unit.", "Computer power unit, a kind of battery."),
    ("Explain recursion in one sentence.", "A function calling itself on a smaller part.", "Bad code."),
    ("Suggest a name for a bakery.", "Rise & Shine Bakery.", "Bakery. " * 20),
    ("What is 2 + 2?", "4", "5"),
    ("Why is the sky blue?", "Rayleigh scattering: air scatters blue light more. " * 3, "Because."),
    ("Is water wet?", "Yes.", "No."),
    ("Reset my password?", "Open Settings, choose Security, then Reset password.", "Try turning it off."),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None)
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    judge = Judge.load(args.model, cache=False, eager=True)
    pairs = [PairwiseRequest(q, a, b, "helpfulness") for q, a, b in ITEMS]
    points = [PointwiseRequest(q, a, "helpfulness") for q, a, _ in ITEMS]
    labels = [ClassificationRequest(q, b, ("yes", "no"), "Is the response correct?") for q, _, b in ITEMS]
    n = args.batch
    runs = {
        f"pairwise ({judge.kind}), P(A better)": lambda rs: [v.prob_a for v in judge.pairwise_batch(rs)],
        "pointwise, expected score": lambda rs: [v.score for v in judge.pointwise_batch(rs)],
        "classification, P(yes)": lambda rs: [v.probabilities["yes"] for v in judge.classify_batch(rs)],
    }
    print(f"{judge.fingerprint} on {judge.backend.loaded.device} ({judge.numerics}); {len(ITEMS)} requests")
    for (name, run), requests in zip(runs.items(), (pairs, points, labels), strict=True):
        start = time.perf_counter()
        batched = [x for k in range(0, len(requests), n) for x in run(requests[k : k + n])]
        alone = [run([r])[0] for r in requests]
        diff = max(abs(a - b) for a, b in zip(alone, batched, strict=True))
        print(f"{name:<40} max |alone - in a batch of {n}| = {diff:.1e}  ({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
