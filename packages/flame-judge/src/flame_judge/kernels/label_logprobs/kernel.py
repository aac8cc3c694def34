"""Triton kernel: log-sum-exp over the vocabulary of h @ W^T for a block of rows, without storing
the [rows x vocab] logits. Each program owns BLOCK_M rows and walks the vocabulary in BLOCK_V tiles
(a BLOCK_M x BLOCK_V tile of logits from a K-loop of tl.dot), keeping a running max and sum.

Inputs are upcast to fp32 before tl.dot: bf16 dots are wrong in the Triton interpreter. The dot's
precision is set to "ieee" (true fp32): left to its default, tl.dot rounds fp32 inputs to TF32 on
Ampere and later GPUs, ten mantissa bits, which the kernel's fp32 promise and test tolerance exclude.
"""

from __future__ import annotations

from typing import Any

import torch
import triton
import triton.language as tl


@triton.jit
def _lse_kernel(
    h_ptr,
    w_ptr,
    out_ptr,
    n_rows,
    vocab,
    dim,
    stride_h,
    stride_w,
    BLOCK_M: tl.constexpr,
    BLOCK_V: tl.constexpr,
    BLOCK_K: tl.constexpr,
):
    pid = tl.program_id(0)
    rows = pid * BLOCK_M + tl.arange(0, BLOCK_M)
    m = tl.full((BLOCK_M,), float("-inf"), tl.float32)
    s = tl.zeros((BLOCK_M,), tl.float32)
    for v0 in range(0, vocab, BLOCK_V):
        cols = v0 + tl.arange(0, BLOCK_V)
        acc = tl.zeros((BLOCK_M, BLOCK_V), tl.float32)
        for k0 in range(0, dim, BLOCK_K):
            ks = k0 + tl.arange(0, BLOCK_K)
            h = tl.load(
                h_ptr + rows[:, None] * stride_h + ks[None, :],
                mask=(rows[:, None] < n_rows) & (ks[None, :] < dim),
                other=0.0,
            ).to(tl.float32)
            w = tl.load(
                w_ptr + cols[:, None] * stride_w + ks[None, :],
                mask=(cols[:, None] < vocab) & (ks[None, :] < dim),
                other=0.0,
            ).to(tl.float32)
            acc += tl.dot(h, tl.trans(w), input_precision="ieee")
        acc = tl.where(cols[None, :] < vocab, acc, float("-inf"))
        new_m = tl.maximum(m, tl.max(acc, 1))
        s = s * tl.exp(m - new_m) + tl.sum(tl.exp(acc - new_m[:, None]), 1)
        m = new_m
    tl.store(out_ptr + rows, m + tl.log(s), mask=rows < n_rows)


def logsumexp_triton(
    hidden: torch.Tensor, weight: torch.Tensor, *, block_m: int = 16, block_v: int = 256, block_k: int = 64
) -> torch.Tensor:
    """logsumexp_v (hidden @ weight.T)[n, v] for every row n, as fp32 [N]."""
    hidden, weight = hidden.contiguous(), weight.contiguous()
    n_rows, dim = hidden.shape
    out = torch.empty(n_rows, dtype=torch.float32, device=hidden.device)
    grid = (triton.cdiv(n_rows, block_m),)
    launch: Any = _lse_kernel[grid]  # triton's launcher types constexpr parameters too strictly
    launch(
        hidden,
        weight,
        out,
        n_rows,
        weight.shape[0],
        dim,
        hidden.stride(0),
        weight.stride(0),
        BLOCK_M=block_m,
        BLOCK_V=block_v,
        BLOCK_K=block_k,
    )
    return out
