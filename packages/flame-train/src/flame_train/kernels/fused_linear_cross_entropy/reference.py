"""Plain-torch definition of the loss the fused paths compute; tests and benchmarks compare against it.

logits = h @ W^T                     h: [N, D], W: [V, D], y: [N] (ignore_index = skip)
loss = mean over kept n of (logsumexp_v logits[n, v] - logits[n, y[n]])
dloss/dlogits = (softmax(logits) - onehot(y)) / n_kept,  dh = dlogits @ W,  dW = dlogits^T @ h
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def fused_linear_cross_entropy(
    hidden: torch.Tensor, weight: torch.Tensor, targets: torch.Tensor, ignore_index: int = -100
) -> torch.Tensor:
    logits = hidden.float() @ weight.float().T
    return F.cross_entropy(logits, targets, ignore_index=ignore_index)
