"""The same requests through any engine, as plain numbers: run by the cross-engine tests, in this
environment or (for vLLM in-process) inside the vLLM environment as `python engine_requests.py SPEC...`.

Prints one JSON object: {spec: {"pairwise": [[p_first, p_second], ...], "pointwise": [[p1..p5], ...]}}.
"""

from __future__ import annotations

import json
import sys

PAIRS = [
    ("What is 2 + 2?", "4", "5"),
    ("Name the capital of France.", "Paris is the capital of France.", "I think it is Lyon."),
    (
        "Write a haiku about rain.",
        "Soft rain on the roof\nwhispers to the sleeping town\npuddles hold the sky",
        "Rain.",
    ),
    ("Translate 'merci' to English.", "Thank you.", "Merci means goodbye."),
]
POINTS = [("Explain photosynthesis in one line.", "Plants turn light, water and CO2 into sugar and oxygen.")]


def run(spec: str, *, generative: bool = True) -> dict[str, list[list[float]]]:
    from flame_judge import Judge, PairwiseRequest, PointwiseRequest

    with Judge.load(spec, device="cpu", cache=False) as judge:
        verdicts = judge.pairwise_batch([PairwiseRequest(*p) for p in PAIRS])
        out = {"pairwise": [[v.prob_a_first, v.prob_a_second] for v in verdicts], "kind": [[judge.kind == "reward"]]}
        if generative:
            points = judge.pointwise_batch([PointwiseRequest(*p) for p in POINTS])
            out["pointwise"] = [[v.distribution[k] for k in sorted(v.distribution)] for v in points]
    return out  # pyright: ignore[reportReturnType]


def main() -> None:
    results = {}
    for arg in sys.argv[1:]:
        kind, _, spec = arg.partition("=")
        results[spec] = run(spec, generative=kind == "generative")
    print("RESULT " + json.dumps(results))


if __name__ == "__main__":
    main()
