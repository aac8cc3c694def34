"""Judge load time and pairwise throughput at several batch sizes, measured side by side in one run.

    uv run python tools/bench/judge_throughput.py              # warm load, batch 1 vs 16
    uv run python tools/bench/judge_throughput.py --cold       # also time the first (GGUF) load

Pairs are realistic short Q/A pairs; the judgment cache is off, so every run does all its model work
(a reward judge reads 2 responses per pair; `batch` is how many model inputs go through one forward pass).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import torch

from flame_judge import Judge, PairwiseRequest

QUESTIONS = [
    (
        "How do I reset my password?",
        "Open Settings, choose Security, then Reset password.",
        "Try turning it off.",
    ),
    ("What is the boiling point of water at sea level?", "100 degrees Celsius.", "About 50 degrees."),
    ("Suggest a name for a bakery.", "Rise & Shine Bakery.", "Bakery."),
    (
        "Explain recursion in one sentence.",
        "A function that solves a problem by calling itself on a smaller part.",
        "It is when code is bad.",
    ),
]


def pairs(n: int) -> list[PairwiseRequest]:
    out = []
    for i in range(n):
        q, a, b = QUESTIONS[i % len(QUESTIONS)]
        out.append(PairwiseRequest(f"{q} (case {i})", a, b, "helpfulness"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=32)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cold", action="store_true", help="time the one-time GGUF conversion in a fresh cache dir")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    if args.cold:
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["FLAME_CACHE_DIR"] = tmp
            start = time.perf_counter()
            Judge.load(cache=False, eager=True).close()
            print(f"first load (GGUF -> safetensors): {time.perf_counter() - start:.1f} s")
            del os.environ["FLAME_CACHE_DIR"]
    Judge.load(cache=False, eager=True).close()  # make sure the converted copy exists before timing a warm load
    start = time.perf_counter()
    judge = Judge.load(cache=False, eager=True)
    print(f"warm load: {time.perf_counter() - start:.1f} s")
    work = pairs(args.pairs)
    judge.pairwise_batch(work[:2])  # warm-up
    # Count forward passes of the model body, so the table shows the batch sizes really differ.
    body = judge.backend.loaded.model.get_decoder()
    passes = [0]
    body.register_forward_hook(lambda *_: passes.__setitem__(0, passes[0] + 1))
    rates: dict[int, float] = {}
    calls: dict[int, int] = {}
    verdicts: dict[int, list[float]] = {}
    for _ in range(args.rounds):  # interleaved rounds, best of each: load noise hits every size alike
        for bs in args.batch_sizes:
            passes[0] = 0
            start = time.perf_counter()
            out = judge.pairwise_batch(work, batch_size=bs)
            rates[bs] = max(rates.get(bs, 0.0), args.pairs / (time.perf_counter() - start))
            calls[bs], verdicts[bs] = passes[0], [v.prob_a for v in out]
    first = args.batch_sizes[0]
    print(f"{judge.kind} judge {judge.fingerprint}; {args.pairs} pairs, best of {args.rounds} rounds")
    header = f"{'batch':>6} {'forward passes':>15} {'pairs/s':>9} {'vs batch ' + str(first):>12}"
    print(f"\n{header} {'max |dP| vs ' + str(first):>14}")
    for bs, rate in rates.items():
        diff = max(abs(a - b) for a, b in zip(verdicts[bs], verdicts[first], strict=True))
        print(f"{bs:>6} {calls[bs]:>15} {rate:>9.2f} {rate / rates[first]:>11.2f}x {diff:>14.1e}")


if __name__ == "__main__":
    main()
