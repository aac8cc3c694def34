"""Public `label_logprobs`: vocab-chunked online log-sum-exp, so memory is O(N x chunk) not O(N x V)."""

from __future__ import annotations

import torch


def _chunked(
    hidden: torch.Tensor, weight: torch.Tensor, label_ids: torch.Tensor, chunk: int
) -> tuple[torch.Tensor, torch.Tensor]:
    h = hidden.float()
    rows = h.shape[0]
    running_max = torch.full((rows,), float("-inf"), device=h.device)
    running_sum = torch.zeros(rows, device=h.device)
    for start in range(0, weight.shape[0], chunk):
        logits = h @ weight[start : start + chunk].float().T
        chunk_max = logits.amax(dim=-1)
        new_max = torch.maximum(running_max, chunk_max)
        running_sum = running_sum * torch.exp(running_max - new_max) + torch.exp(logits - new_max[:, None]).sum(dim=-1)
        running_max = new_max
    logz = running_max + torch.log(running_sum)
    label_logits = h @ weight[label_ids].float().T
    full = label_logits - logz[:, None]
    return full, full - torch.logsumexp(full, dim=-1, keepdim=True)


def label_logprobs(
    hidden: torch.Tensor, weight: torch.Tensor, label_ids: torch.Tensor, *, chunk: int = 8192
) -> tuple[torch.Tensor, torch.Tensor]:
    """Log-probabilities of `label_ids` at each row of `hidden` under the LM head `weight`.

    hidden [N, D], weight [V, D], label_ids [K] -> (full-vocab log p [N, K], label-set log p [N, K]).
    """
    if hidden.ndim != 2 or weight.ndim != 2 or hidden.shape[1] != weight.shape[1]:
        raise ValueError(
            f"label_logprobs wants hidden [N, D] and weight [V, D]; got {tuple(hidden.shape)} and {tuple(weight.shape)}"
        )
    if label_ids.ndim != 1 or label_ids.numel() == 0:
        raise ValueError(f"label_ids must be a non-empty 1-d tensor, got shape {tuple(label_ids.shape)}")
    if hidden.is_cuda and _triton_available():
        return _with_lse(hidden, weight, label_ids)
    return _chunked(hidden, weight, label_ids, chunk)


def _triton_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("triton") is not None


def _with_lse(hidden: torch.Tensor, weight: torch.Tensor, label_ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Triton log-sum-exp over the vocabulary; the K label logits are a tiny torch matmul."""
    from flame_judge.kernels.label_logprobs.kernel import logsumexp_triton

    lse = logsumexp_triton(hidden, weight)
    full = hidden.float() @ weight[label_ids].float().T - lse[:, None]
    return full, full - torch.logsumexp(full, dim=-1, keepdim=True)
