"""Label log-probabilities through each architecture's own output path, against `model(...).logits`."""

from __future__ import annotations

import pytest
import torch

from flame_judge import UnsupportedModelError
from flame_judge.backends.output_path import output_path, verify
from flame_judge.backends.transformers import TransformersEngine
from flame_judge.loading import load
from flame_judge.tiny_models import causal_lm, save

ARCHS = ["llama", "qwen2", "gemma2", "phi", "cohere"]
ROWS = [[5, 17, 300, 9000, 42], [8, 8, 1000], [4000, 12, 77, 31, 2048, 5, 6]]
LABELS = [[330, 331], [28, 29, 30, 31, 32], [330, 331]]


def _reference(model, rows, labels):
    """One row at a time through the model's full forward: log_softmax(logits[-1])[labels]."""
    out = []
    with torch.inference_mode():
        for row, ids in zip(rows, labels, strict=True):
            logits = model(input_ids=torch.tensor([row])).logits[0, -1].float()
            out.append(torch.log_softmax(logits, -1)[ids].tolist())
    return out


@pytest.mark.parametrize("arch", ARCHS)
def test_label_logprobs_match_the_models_own_logits(arch, tmp_path):
    folder = save(causal_lm(arch), tmp_path / arch)
    loaded = load(folder, device="cpu")
    engine = TransformersEngine(loaded)
    got = engine.label_logprobs(ROWS, LABELS)  # one right-padded batch
    want = _reference(loaded.model, ROWS, LABELS)
    for g, w in zip(got, want, strict=True):
        assert g == pytest.approx(w, abs=2e-4)


def test_the_head_weight_alone_would_be_wrong_for_these_models():
    """Guards the test above: the old head-weight-only scoring differs for bias, softcap and scale."""
    for arch in ("gemma2", "phi", "cohere"):
        model = causal_lm(arch)
        ids = torch.tensor([ROWS[0]])
        with torch.inference_mode():
            hidden = model.get_decoder()(input_ids=ids).last_hidden_state[0, -1]
            plain = torch.log_softmax(hidden @ model.get_output_embeddings().weight.T, -1)
            real = torch.log_softmax(model(input_ids=ids).logits[0, -1], -1)
        assert float((plain - real).abs().max()) > 1e-2, arch


def test_the_kernel_rule_plain_or_scaled_linear_heads_only():
    fast = {arch: output_path(causal_lm(arch)).fast for arch in ARCHS}
    # llama/qwen2: plain head; cohere: a scale folds into the hidden state. phi: bias; gemma2: softcap.
    assert fast == {"llama": True, "qwen2": True, "gemma2": False, "phi": False, "cohere": True}


class _Shifted(torch.nn.Module):
    """A model whose forward adds something to its logits that no known transform describes."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.config = inner.config

    def get_output_embeddings(self):
        return self.inner.get_output_embeddings()

    def get_decoder(self):
        return self.inner.get_decoder()

    def forward(self, **kw):
        out = self.inner(**kw)
        out.logits = out.logits + torch.linspace(0, 5, out.logits.shape[-1])
        return out


def test_a_model_whose_output_path_cannot_be_reproduced_is_refused():
    model = _Shifted(causal_lm("llama"))
    with pytest.raises(UnsupportedModelError, match="cannot reproduce this model's output path"):
        verify(model, output_path(model))  # pyright: ignore[reportArgumentType]


@pytest.mark.parametrize("arch", ["llama", "gemma2"])
def test_verify_holds_under_a_callers_bf16_autocast(arch):
    """Training evaluates its dev rows under bf16 autocast; the probe must not mistake rounding for a
    transform it does not know (it did: 0.03 on SmolLM2, with fp32 weights, so the fp32 tolerance)."""
    model = causal_lm(arch)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        verify(model, output_path(model))


def test_verify_holds_for_a_model_accelerate_prepared_in_bf16():
    """A full fine-tune's dev evaluation sees the model as accelerate prepared it: its forward enters
    bf16 autocast by itself, so the probe must read the model's own forward."""
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState

    # accelerate's state is one per process: fresh here, and left fresh for the trainer's tests
    AcceleratorState._reset_state(reset_partial_state=True)
    try:
        model = Accelerator(mixed_precision="bf16", cpu=True).prepare(causal_lm("gemma2"))
        assert hasattr(model, "_original_forward")
        verify(model, output_path(model))
    finally:
        AcceleratorState._reset_state(reset_partial_state=True)
