"""Plain-torch definition of label log-probabilities; the other paths are tested against it.

logits = h @ W^T                       h: [N, D], W: [V, D]
full[n, k] = logits[n, ids[k]] - logsumexp_v(logits[n, v])
label[n, k] = full[n, k] - logsumexp_k(full[n, k])
"""

from __future__ import annotations

import torch


def label_logprobs(
    hidden: torch.Tensor, weight: torch.Tensor, label_ids: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """(log p over the full vocabulary, log p renormalized over the labels), both [N, K] fp32."""
    logits = hidden.float() @ weight.float().T
    full = logits[:, label_ids] - torch.logsumexp(logits, dim=-1, keepdim=True)
    return full, full - torch.logsumexp(full, dim=-1, keepdim=True)
