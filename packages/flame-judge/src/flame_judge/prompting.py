"""Wrap a rendered FLAMe input in the model's chat template; shared by judging and training.

The user turn holds the `INSTRUCTIONS:`/`CONTEXT:` text; the assistant turn starts with the
target (`EVALUATION:\\nanswer:`), so the next token is the label the judge scores.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


class TokenizerView:
    """`flame_data.format.Tokenizer` over a Hugging Face tokenizer (no special tokens)."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase) -> None:
        self._tok = tokenizer

    def encode(self, text: str) -> Sequence[int]:
        return list(self._tok.encode(text, add_special_tokens=False))

    def decode(self, ids: Sequence[int]) -> str:
        text = self._tok.decode(list(ids), skip_special_tokens=False)
        return text if isinstance(text, str) else "".join(text)


def chat_prefix_suffix(tokenizer: PreTrainedTokenizerBase) -> tuple[str, str]:
    """The text the chat template puts before and after a user message, up to the assistant turn."""
    marker = "\x00FLAME\x00"
    if getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(
            [{"role": "user", "content": marker}], tokenize=False, add_generation_prompt=True
        )
        if isinstance(text, str) and marker in text:
            before, after = text.split(marker)
            return before, after
    return "", "\n\n"


def wrap(tokenizer: PreTrainedTokenizerBase, user_text: str, assistant_start: str = "") -> str:
    """Full model text: chat template around `user_text`, then the assistant's first words."""
    before, after = chat_prefix_suffix(tokenizer)
    return f"{before}{user_text}{after}{assistant_start}"
