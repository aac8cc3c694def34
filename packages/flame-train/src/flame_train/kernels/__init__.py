"""Training kernels. Each folder: `reference.py` (plain torch, the definition), `kernel.py` (Triton),
`function.py` (the public function: Triton on CUDA, a memory-bounded torch path elsewhere)."""

from flame_train.kernels.fused_linear_cross_entropy.function import fused_linear_cross_entropy

__all__ = ["fused_linear_cross_entropy"]
