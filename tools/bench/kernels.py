"""Fused vs eager: speed and peak memory of the label log-probabilities and the training loss,
side by side in one run, each variant in a fresh process so peak memory is its own.

    uv run python tools/bench/kernels.py                      # vocab 49152, 4096 tokens, dim 576
    uv run python tools/bench/kernels.py --tokens 1024        # quicker

On CPU the fused paths are the chunked torch ones; on CUDA they use the Triton kernels (and peak
memory is read from torch.cuda.max_memory_allocated).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from typing import Any

SETUP_SEED = 0


def setup(tokens: int, dim: int, vocab: int, device: str):
    import torch

    gen = torch.Generator().manual_seed(SETUP_SEED)
    hidden = (torch.randn(tokens, dim, generator=gen) * 0.5).to(device)
    weight = (torch.randn(vocab, dim, generator=gen) * 0.05).to(device)
    targets = torch.randint(0, vocab, (tokens,), generator=gen).to(device)
    return hidden, weight, targets


def run_one(variant: str, tokens: int, dim: int, vocab: int, repeats: int) -> dict[str, Any]:
    """Runs in a child process: time and peak memory above the inputs of one variant."""
    import torch

    # The same modules are imported in every variant, the baseline included.
    from flame_judge.kernels import label_logprobs as fused_labels
    from flame_judge.kernels.label_logprobs.reference import label_logprobs as eager_labels
    from flame_train.kernels import fused_linear_cross_entropy as fused_loss
    from flame_train.kernels.fused_linear_cross_entropy.reference import fused_linear_cross_entropy as eager_loss

    device = "cuda" if torch.cuda.is_available() else "cpu"
    hidden, weight, targets = setup(tokens, dim, vocab, device)
    if variant == "baseline":
        return {"seconds": 0.0, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "device": device}
    if variant.startswith("loss"):
        hidden.requires_grad_()
        weight.requires_grad_()

    ids = torch.tensor([3, 42, 1000], device=device)

    def step() -> None:
        if variant.startswith("loss"):
            hidden.grad = weight.grad = None
            (eager_loss if variant == "loss_eager" else fused_loss)(hidden, weight, targets).backward()
            return
        with torch.no_grad():
            (eager_labels if variant == "labels_eager" else fused_labels)(hidden, weight, ids)

    step()  # warm-up (imports, allocator)
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    base_cuda = 0
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base_cuda = torch.cuda.memory_allocated()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    # On CPU, ru_maxrss (KiB) after the warm-up holds the inputs plus one step's high-water mark;
    # the baseline process (inputs only) is subtracted when the table is printed.
    peak = (torch.cuda.max_memory_allocated() - base_cuda) / 2**20 if device == "cuda" else base_rss / 1024
    return {"seconds": min(times), "peak_mib": peak, "device": device}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=4096)
    parser.add_argument("--dim", type=int, default=576)
    parser.add_argument("--vocab", type=int, default=49152)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.tokens, args.dim, args.vocab, args.repeats)))
        return
    baseline = _child("baseline", args)
    results = {v: _child(v, args) for v in ("loss_eager", "loss_fused", "labels_eager", "labels_fused")}
    device = results["loss_eager"]["device"]
    print(f"device {device}; tokens {args.tokens}, dim {args.dim}, vocab {args.vocab}; best of {args.repeats}")
    if device == "cpu":
        print(
            f"peak memory = peak RSS of the process minus a process that only builds the inputs "
            f"({baseline['peak_mib']:.0f} MiB)"
        )
    print(f"{'what':<22}{'eager s':>9}{'fused s':>9}{'speed x':>9}{'eager MiB':>11}{'fused MiB':>11}{'memory x':>10}")
    for name, eager, fused in (
        ("loss fwd+bwd", "loss_eager", "loss_fused"),
        ("label log-probs", "labels_eager", "labels_fused"),
    ):
        e, f = results[eager], results[fused]
        sub = baseline["peak_mib"] if device == "cpu" else 0.0
        em, fm = e["peak_mib"] - sub, f["peak_mib"] - sub
        print(
            f"{name:<22}{e['seconds']:>9.3f}{f['seconds']:>9.3f}{e['seconds'] / f['seconds']:>9.2f}"
            f"{em:>11.0f}{fm:>11.0f}{em / max(fm, 1e-9):>10.1f}"
        )


def _child(variant: str, args: argparse.Namespace) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--child",
            variant,
            "--tokens",
            str(args.tokens),
            "--dim",
            str(args.dim),
            "--vocab",
            str(args.vocab),
            "--repeats",
            str(args.repeats),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"variant {variant} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
