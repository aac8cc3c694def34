"""Scoring kernels. Each folder: `reference.py` (plain torch, the definition) and `function.py` (the
public function, dispatching to the fastest path for the device)."""

from flame_judge.kernels.label_logprobs.function import label_logprobs

__all__ = ["label_logprobs"]
