"""Triton kernel for one chunk of the fused loss: per row, the loss and, in place of the logits,
d(loss)/d(logits) = (softmax - onehot(target)) * scale (zero for ignored rows).

Two passes over the vocabulary in BLOCK-wide tiles: an online max/sum for log-sum-exp, then the
gradient. Only one [chunk x vocab] logits buffer ever exists, and it is reused for the gradient.
"""

from __future__ import annotations

from typing import Any

import torch
import triton
import triton.language as tl


@triton.jit
def _ce_grad_kernel(logits_ptr, stride, targets_ptr, loss_ptr, vocab, ignore_index, scale, BLOCK: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    ptr = logits_ptr + row * stride
    target = tl.load(targets_ptr + row)
    m = float("-inf")
    d = 0.0
    for start in range(0, vocab, BLOCK):
        offs = start + tl.arange(0, BLOCK)
        x = tl.load(ptr + offs, mask=offs < vocab, other=float("-inf")).to(tl.float32)
        new_m = tl.maximum(m, tl.max(x, 0))
        d = d * tl.exp(m - new_m) + tl.sum(tl.exp(x - new_m), 0)
        m = new_m
    lse = m + tl.log(d)
    keep = target != ignore_index
    safe = tl.where(keep, target, 0)
    picked = tl.load(ptr + safe).to(tl.float32)
    tl.store(loss_ptr + row, tl.where(keep, lse - picked, 0.0))
    factor = tl.where(keep, scale, 0.0)
    for start in range(0, vocab, BLOCK):
        offs = start + tl.arange(0, BLOCK)
        x = tl.load(ptr + offs, mask=offs < vocab, other=0.0).to(tl.float32)
        g = tl.exp(x - lse)
        g = tl.where(offs == safe, g - 1.0, g) * factor
        tl.store(ptr + offs, g, mask=offs < vocab)


def ce_grad_chunk_triton(
    logits: torch.Tensor, targets: torch.Tensor, ignore_index: int, scale: float, block: int = 4096
) -> torch.Tensor:
    """Loss sum of the chunk; `logits` (fp32, contiguous rows) is overwritten with its scaled gradient."""
    if logits.dtype != torch.float32 or logits.stride(1) != 1:
        raise ValueError("ce_grad_chunk_triton wants fp32 logits with contiguous rows")
    rows, vocab = logits.shape
    losses = torch.empty(rows, dtype=torch.float32, device=logits.device)
    block = min(block, triton.next_power_of_2(vocab))
    launch: Any = _ce_grad_kernel[(rows,)]  # triton's launcher types constexpr parameters too strictly
    launch(logits, logits.stride(0), targets, losses, vocab, ignore_index, scale, BLOCK=block)
    return losses.sum()
