"""CPU training throughput (tokens/s) with and without the fused loss, side by side in one run.

    uv run python tools/bench/train_throughput.py --mixture mix --steps 6

Each variant trains the default base with LoRA on the same batches (same seed) for `--steps` steps;
the first step is excluded from the rate (allocator and cache warm-up).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

from flame_train.config import TrainConfig
from flame_train.trainer import Trainer


def measure(mixture: str, fused: bool, steps: int, batch: int, length: int, finetune: Any) -> float:
    with tempfile.TemporaryDirectory() as out:
        config = TrainConfig(
            mixture=mixture,
            output_dir=out,
            max_steps=steps,
            batch_size=batch,
            max_length=length,
            fused_loss=fused,
            finetune=finetune,
            eval_every=0,
            save_every=0,
            log_every=1,
        )  # type: ignore[arg-type]
        trainer = Trainer(config, log=lambda s: None)
        # Checkpoints and the final dev evaluation are not part of the measurement.
        trainer.save = lambda name=None: trainer.out  # type: ignore[method-assign]
        trainer.evaluate = lambda: {}  # type: ignore[method-assign]
        stamps: list[float] = []
        tokens: list[int] = []
        original = trainer.sampler.batch

        def timed(step: int) -> list[tuple[int, bool]]:
            stamps.append(time.perf_counter())
            picks = original(step)
            tokens.append(sum(len(trainer.example(i, s).ids) for i, s in picks))
            return picks

        trainer.sampler.batch = timed  # type: ignore[method-assign]
        trainer.train()
        stamps.append(time.perf_counter())
    return sum(tokens[1:]) / (stamps[-1] - stamps[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mixture", required=True)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=256)
    parser.add_argument("--finetune", choices=("lora", "full"), default="lora")
    args = parser.parse_args()
    rates = {}
    for fused in (False, True):
        rates[fused] = measure(args.mixture, fused, args.steps, args.batch_size, args.max_length, args.finetune)
    print(f"{args.finetune}, batch {args.batch_size} x up to {args.max_length} tokens, {args.steps - 1} timed steps")
    print(
        f"eager loss: {rates[False]:.0f} tokens/s; fused loss: {rates[True]:.0f} tokens/s; "
        f"ratio {rates[True] / rates[False]:.2f}x"
    )


if __name__ == "__main__":
    main()
