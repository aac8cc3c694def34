"""Public `fused_linear_cross_entropy`: the loss and its gradients computed chunk by chunk of tokens,
so peak memory holds one [chunk x vocab] block instead of [tokens x vocab] logits.

Gradients are computed in the forward pass (as Liger-Kernel does) and scaled by the incoming
gradient in backward. On CUDA the per-chunk softmax/gradient step runs in a Triton kernel; elsewhere
in torch.
"""

from __future__ import annotations

from typing import Any

import torch


def _ce_grad_chunk_torch(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int, scale: float) -> torch.Tensor:
    """Loss sum of the chunk; `logits` is overwritten with d(loss)/d(logits) * scale."""
    keep = targets != ignore_index
    lse = torch.logsumexp(logits, dim=-1)
    safe = torch.where(keep, targets, 0)
    picked = logits.gather(1, safe[:, None]).squeeze(1)
    loss = ((lse - picked) * keep).sum()
    logits.sub_(lse[:, None]).exp_()
    logits[torch.arange(len(targets), device=logits.device), safe] -= 1.0
    logits.mul_((keep.to(logits.dtype) * scale)[:, None])
    return loss


def _ce_grad_chunk(logits: torch.Tensor, targets: torch.Tensor, ignore_index: int, scale: float) -> torch.Tensor:
    if logits.is_cuda:
        from flame_train.kernels.fused_linear_cross_entropy.kernel import ce_grad_chunk_triton

        return ce_grad_chunk_triton(logits, targets, ignore_index, scale)
    return _ce_grad_chunk_torch(logits, targets, ignore_index, scale)


class FusedLinearCrossEntropy(torch.autograd.Function):
    @staticmethod
    def forward(  # pyright: ignore[reportIncompatibleMethodOverride]
        ctx: Any, hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, ignore_index: int, chunk: int
    ) -> torch.Tensor:
        n_kept = int((targets != ignore_index).sum())
        scale = 1.0 / max(n_kept, 1)
        grad_h = torch.zeros_like(hidden) if hidden.requires_grad else None
        grad_w = torch.zeros(weight.shape, dtype=torch.float32, device=weight.device) if weight.requires_grad else None
        w32 = weight.float()
        total = torch.zeros((), dtype=torch.float32, device=hidden.device)
        # The logits and gradients are fp32 by design; under autocast (bf16 training) the matmuls
        # would silently come back in bf16, so autocast is switched off for the chunk loop.
        with torch.autocast(device_type=hidden.device.type, enabled=False):
            for start in range(0, hidden.shape[0], chunk):
                h = hidden[start : start + chunk].float()
                logits = h @ w32.T
                total += _ce_grad_chunk(logits, targets[start : start + chunk], ignore_index, scale)
                if grad_h is not None:
                    grad_h[start : start + chunk] = (logits @ w32).to(hidden.dtype)
                if grad_w is not None:
                    grad_w += logits.T @ h
        ctx.save_for_backward(
            grad_h if grad_h is not None else torch.empty(0),
            grad_w.to(weight.dtype) if grad_w is not None else torch.empty(0),
        )
        ctx.needs = (grad_h is not None, grad_w is not None)
        return total * scale

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> Any:  # pyright: ignore[reportIncompatibleMethodOverride]
        grad_h, grad_w = ctx.saved_tensors
        need_h, need_w = ctx.needs
        return (grad_h * grad_out if need_h else None, grad_w * grad_out if need_w else None, None, None, None)


def fused_linear_cross_entropy(
    hidden: torch.Tensor,
    weight: torch.Tensor,
    targets: torch.Tensor,
    *,
    ignore_index: int = -100,
    chunk: int | None = None,
) -> torch.Tensor:
    """Mean cross-entropy of `targets` under logits `hidden @ weight.T`, never materializing all logits.

    hidden [N, D], weight [V, D], targets [N] (entries equal to `ignore_index` are skipped).
    `chunk` rows are processed at a time (default: keeps a chunk's logits near 64 MiB in fp32).
    """
    if hidden.ndim != 2 or weight.ndim != 2 or hidden.shape[1] != weight.shape[1]:
        raise ValueError(
            f"fused_linear_cross_entropy wants hidden [N, D] and weight [V, D]; got {tuple(hidden.shape)} and "
            f"{tuple(weight.shape)}"
        )
    if targets.shape != (hidden.shape[0],):
        raise ValueError(f"targets must be [N] = [{hidden.shape[0]}], got {tuple(targets.shape)}")
    if chunk is None:
        chunk = max(1, min(hidden.shape[0], (16 * 2**20) // weight.shape[0]))
    out = FusedLinearCrossEntropy.apply(hidden, weight, targets, ignore_index, chunk)
    assert isinstance(out, torch.Tensor)
    return out
