"""Does bf16 autocast pay on this CPU? A reward-model-sized linear forward+backward, fp32 vs bf16
autocast, side by side in one run (the reward trainer's `bf16` default follows the answer:
`flame_train.reward_model.bf16_is_fast`).

    uv run python tools/bench/cpu_bf16.py --threads 2
"""

from __future__ import annotations

import argparse
import contextlib
import time

import torch

from flame_train.reward_model import bf16_is_fast


def seconds(bf16: bool, tokens: int, steps: int) -> float:
    x = torch.randn(tokens, 576)
    w = torch.randn(1536, 576, requires_grad=True)  # SmolLM2-135M's up projection
    ctx = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    best = float("inf")
    for _ in range(3):  # best of three: the machine's other load only adds time
        start = time.perf_counter()
        for _ in range(steps):
            with ctx:
                y = torch.nn.functional.linear(x, w)
            y.float().sum().backward()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tokens", type=int, default=4800)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    fp32, bf16 = seconds(False, args.tokens, args.steps), seconds(True, args.tokens, args.steps)
    print(
        f"torch {torch.__version__}, CPU capability {torch.backends.cpu.get_cpu_capability()}, {args.threads} threads"
    )
    print(f"native bf16 (AMX or AVX512-BF16): {bf16_is_fast()}")
    print("| precision | seconds | vs fp32 |\n|---|---|---|")
    print(f"| fp32 | {fp32:.3f} | 1.00x |")
    print(f"| bf16 autocast | {bf16:.3f} | {bf16 / fp32:.2f}x |")


if __name__ == "__main__":
    main()
