from __future__ import annotations

import pytest
import torch

from flame_judge.kernels import label_logprobs
from flame_judge.kernels.label_logprobs import reference

# On a GPU machine the kernel compiles for it; on CPU it runs in the Triton interpreter (conftest).
DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


@pytest.mark.parametrize(
    ("rows", "dim", "vocab", "chunk"), [(1, 8, 1031, 128), (7, 64, 1031, 1000), (5, 32, 4096, 4096)]
)
def test_chunked_matches_reference(rows, dim, vocab, chunk):
    gen = torch.Generator().manual_seed(0)
    hidden = torch.randn(rows, dim, generator=gen)
    weight = torch.randn(vocab, dim, generator=gen) * 0.5
    ids = torch.tensor([3, vocab - 1, 17])
    full, norm = label_logprobs(hidden, weight, ids, chunk=chunk)
    ref_full, ref_norm = reference.label_logprobs(hidden, weight, ids)
    torch.testing.assert_close(full, ref_full, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(norm, ref_norm, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(norm.exp().sum(-1), torch.ones(rows))


def test_shape_errors_name_the_shapes():
    with pytest.raises(ValueError, match=r"\(3, 4\)"):
        label_logprobs(torch.zeros(2, 5), torch.zeros(3, 4), torch.tensor([0]))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize(
    ("rows", "dim", "vocab", "block_v"), [(7, 64, 1031, 256), (3, 32, 49152, 8192), (20, 48, 97, 64)]
)
def test_triton_logsumexp_matches_the_reference(rows, dim, vocab, block_v, dtype):
    from flame_judge.kernels.label_logprobs import function
    from flame_judge.kernels.label_logprobs.kernel import logsumexp_triton

    gen = torch.Generator().manual_seed(2)
    hidden = torch.randn(rows, dim, generator=gen).to(DEVICE, dtype)
    weight = (torch.randn(vocab, dim, generator=gen) * 0.3).to(DEVICE, dtype)
    want = torch.logsumexp(hidden.float() @ weight.float().T, dim=-1)
    rtol, atol = (1e-5, 1e-4) if dtype == torch.float32 else (1e-3, 1e-3)
    torch.testing.assert_close(logsumexp_triton(hidden, weight, block_v=block_v), want, rtol=rtol, atol=atol)
    ids = torch.tensor([0, vocab - 1, vocab // 2], device=DEVICE)
    full, norm = function._with_lse(hidden, weight, ids)
    ref_full, ref_norm = reference.label_logprobs(hidden, weight, ids)
    torch.testing.assert_close(full, ref_full, rtol=rtol, atol=atol)
    torch.testing.assert_close(norm, ref_norm, rtol=rtol, atol=atol)
