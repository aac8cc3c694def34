"""A causal LM's own logits computation for the answer position: head module, then its final transform.

`model(...).logits` = transform(head(final hidden state)). The head is the model's output-embeddings
module (so a bias, as in Phi and GPT-J, is applied); the transforms transformers applies after it are
read from the model and config:

- Gemma-2/3 `final_logit_softcapping`: logits = cap * tanh(logits / cap)
- Cohere `logit_scale`: logits = logits * scale
- Granite `logits_scaling`: logits = logits / scaling

Anything else a model's forward may do is caught by `verify`, which compares this path with the
model's full forward on a short probe and refuses the model when they differ (a clear error instead
of quietly wrong probabilities).

The label_logprobs kernel (Triton on CUDA) applies when the head is a plain bias-free linear layer and
the transform is at most a scale: a scale folds into the hidden state, so the kernel's vocabulary
log-sum-exp is still exact. A bias or a softcap goes through the head module and a full log-softmax.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flame_judge.errors import UnsupportedModelError

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel


@dataclass(frozen=True)
class OutputPath:
    head: Any  # the model's output-embeddings module
    scale: float = 1.0  # logits *= scale (Cohere logit_scale, 1 / Granite logits_scaling)
    softcap: float | None = None  # logits = softcap * tanh(logits / softcap) (Gemma-2)

    @property
    def fast(self) -> bool:
        """True when the label_logprobs kernel computes this path exactly."""
        import torch

        return (
            type(self.head) is torch.nn.Linear and self.head.bias is None and self.softcap is None
        )  # exact type: a subclass may change forward

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """[N, V] fp32 logits of [N, D] final hidden states, as the model's forward computes them."""
        import torch

        out = self.head(hidden).float()
        if self.scale != 1.0:
            out = out * self.scale
        if self.softcap is not None:
            out = torch.tanh(out / self.softcap) * self.softcap
        return out

    def label_logprobs(self, hidden: torch.Tensor, label_ids: torch.Tensor) -> torch.Tensor:
        """[N, K] full-vocabulary log-probabilities of `label_ids` at each row of `hidden`."""
        import torch

        if self.fast:
            from flame_judge.kernels import label_logprobs

            scaled = hidden if self.scale == 1.0 else hidden.float() * self.scale
            return label_logprobs(scaled, self.head.weight, label_ids)[0]
        return torch.log_softmax(self.logits(hidden), dim=-1)[:, label_ids]


def _config_value(config: Any, name: str) -> Any:
    for cfg in (config, getattr(config, "text_config", None)):
        value = getattr(cfg, name, None) if cfg is not None else None
        if value is not None:
            return value
    return None


def output_path(model: PreTrainedModel) -> OutputPath:
    """The output path of `model`, from its head module and the transforms transformers applies."""
    head = model.get_output_embeddings()
    if head is None:
        raise UnsupportedModelError(
            f"{type(model).__name__} has no output embeddings (LM head), so flame cannot score labels with it"
        )
    scale = 1.0
    logit_scale = getattr(model, "logit_scale", None)  # Cohere keeps it on the model
    if isinstance(logit_scale, int | float):
        scale *= float(logit_scale)
    logits_scaling = _config_value(model.config, "logits_scaling")  # Granite divides
    if isinstance(logits_scaling, int | float) and logits_scaling not in (0, 1):
        scale /= float(logits_scaling)
    softcap = _config_value(model.config, "final_logit_softcapping")
    return OutputPath(head, scale, float(softcap) if softcap else None)


def final_hidden(model: PreTrainedModel, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """[B, T, D] final hidden states (after the final norm): what the head reads."""
    return model.get_decoder()(input_ids=ids, attention_mask=mask).last_hidden_state


def verify(model: PreTrainedModel, path: OutputPath, *, vocab_probe: int = 12) -> None:
    """Refuse a model whose forward does something to its logits that `path` does not reproduce."""
    import torch

    device = next(model.parameters()).device
    vocab = int(path.head.weight.shape[0])
    ids = torch.tensor([[(7919 * (i + 1)) % vocab for i in range(vocab_probe)]], device=device)
    mask = torch.ones_like(ids)
    # The check is of structure, not precision: under a caller's autocast (training's dev evaluation
    # in bf16) both sides would round differently and a correct path would look wrong.
    # accelerate's mixed precision replaces `forward` with one that enters autocast itself; the
    # model's own forward is kept as `_original_forward`.
    forward = getattr(model, "_original_forward", model.forward)
    with torch.inference_mode(), torch.autocast(device.type, enabled=False):
        reference = forward(input_ids=ids, attention_mask=mask).logits[0, -1].float()
        mine = path.logits(final_hidden(model, ids, mask)[:, -1])[0]
    half = next(model.parameters()).dtype in (torch.float16, torch.bfloat16)
    tol = (5e-2 if half else 1e-3) * max(1.0, float(reference.abs().max()))
    gap = float((reference - mine).abs().max())
    if not gap <= tol:
        raise UnsupportedModelError(
            f"{type(model).__name__}: flame cannot reproduce this model's output path (its logits differ from "
            f"head + known transforms by {gap:.3g} on a probe), so its label probabilities would be wrong; "
            "known transforms: LM-head bias, final_logit_softcapping, logit_scale, logits_scaling"
        )
