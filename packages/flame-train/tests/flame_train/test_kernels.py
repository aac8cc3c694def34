"""The fused loss against its torch reference: value and both gradients, odd shapes, fp32 and bf16,
ignored tokens; the Triton chunk kernel under TRITON_INTERPRET=1 against the torch chunk step."""

from __future__ import annotations

import pytest
import torch

from flame_train.kernels import fused_linear_cross_entropy
from flame_train.kernels.fused_linear_cross_entropy import function
from flame_train.kernels.fused_linear_cross_entropy.reference import fused_linear_cross_entropy as reference

# On a GPU machine the kernels compile for it; on CPU they run in the Triton interpreter (conftest).
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
TOL = {torch.float32: (1e-5, 1e-5), torch.bfloat16: (2e-2, 2e-2)}


def _case(n: int, dim: int, vocab: int, dtype: torch.dtype, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    hidden = (torch.randn(n, dim, generator=gen) * 0.5).to(DEVICE, dtype).requires_grad_()
    weight = (torch.randn(vocab, dim, generator=gen) * 0.5).to(DEVICE, dtype).requires_grad_()
    targets = torch.randint(0, vocab, (n,), generator=gen).to(DEVICE)
    targets[::5] = -100
    return hidden, weight, targets


def _grads(fn, hidden, weight, targets, **kw):
    hidden.grad = weight.grad = None
    loss = fn(hidden, weight, targets, **kw)
    (loss * 2.0).backward()  # a non-unit upstream gradient
    assert hidden.grad is not None
    assert weight.grad is not None
    return loss.detach(), hidden.grad.clone(), weight.grad.clone()


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize(("n", "dim", "vocab", "chunk"), [(37, 16, 1031, 8), (9, 32, 49152, 4), (1, 8, 17, 64)])
def test_loss_and_every_gradient_match_the_reference(n, dim, vocab, chunk, dtype):
    hidden, weight, targets = _case(n, dim, vocab, dtype)
    targets[0] = 3  # at least one kept token
    got = _grads(fused_linear_cross_entropy, hidden, weight, targets, chunk=chunk)
    want = _grads(reference, hidden, weight, targets)
    for name, a, b in zip(("loss", "grad_hidden", "grad_weight"), got, want, strict=True):
        rtol, atol = TOL[dtype]
        torch.testing.assert_close(a.float(), b.float(), rtol=rtol, atol=atol, msg=lambda m, name=name: f"{name}: {m}")


def test_all_tokens_ignored_gives_zero_loss_and_gradients():
    hidden, weight, targets = _case(4, 8, 33, torch.float32)
    targets[:] = -100
    loss, gh, gw = _grads(fused_linear_cross_entropy, hidden, weight, targets)
    assert loss.item() == 0.0
    assert gh.abs().max().item() == 0.0
    assert gw.abs().max().item() == 0.0


def test_shape_errors_are_explained():
    with pytest.raises(ValueError, match="targets must be"):
        fused_linear_cross_entropy(torch.zeros(3, 4), torch.zeros(5, 4), torch.zeros(2, dtype=torch.long))


@pytest.mark.parametrize("vocab", [1031, 49152])
def test_triton_chunk_kernel_matches_the_torch_chunk_step(vocab):
    from flame_train.kernels.fused_linear_cross_entropy.kernel import ce_grad_chunk_triton

    gen = torch.Generator().manual_seed(1)
    logits = (torch.randn(6, vocab, generator=gen) * 3).to(DEVICE)
    targets = torch.tensor([0, vocab - 1, -100, 5, 17, 2], device=DEVICE)
    a, b = logits.clone(), logits.clone()
    loss_a = ce_grad_chunk_triton(a, targets, -100, 0.2, block=8192)
    loss_b = function._ce_grad_chunk_torch(b, targets, -100, 0.2)
    torch.testing.assert_close(loss_a, loss_b, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_fused_loss_through_the_triton_kernel(monkeypatch):
    from flame_train.kernels.fused_linear_cross_entropy.kernel import ce_grad_chunk_triton

    monkeypatch.setattr(
        function, "_ce_grad_chunk", lambda logits, t, i, s: ce_grad_chunk_triton(logits, t, i, s, block=2048)
    )
    hidden, weight, targets = _case(11, 16, 1031, torch.float32)
    got = _grads(fused_linear_cross_entropy, hidden, weight, targets, chunk=4)
    want = _grads(reference, hidden, weight, targets)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_fused_loss_keeps_fp32_logits_under_bf16_autocast(monkeypatch):
    # Training runs under bf16 autocast on GPUs; the kernel wants fp32 logits and must get them.
    from flame_train.kernels.fused_linear_cross_entropy.kernel import ce_grad_chunk_triton

    monkeypatch.setattr(
        function, "_ce_grad_chunk", lambda logits, t, i, s: ce_grad_chunk_triton(logits, t, i, s, block=2048)
    )
    hidden, weight, targets = _case(11, 16, 1031, torch.float32)
    with torch.autocast(device_type=DEVICE, dtype=torch.bfloat16):
        got = _grads(fused_linear_cross_entropy, hidden, weight, targets, chunk=4)
    want = _grads(reference, hidden, weight, targets)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
