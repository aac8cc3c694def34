"""Wrap a rendered FLAMe input in the model's chat template; shared by judging and training.

The user turn holds the `INSTRUCTIONS:`/`CONTEXT:` text; the assistant turn starts with the
target (`EVALUATION:\\nanswer:`), so the next token is the label the judge scores.

Only the chat template's own text is tokenized with special tokens: the rendered input (requests,
responses, criteria) is plain text, so `<|im_end|>` written in a response is the characters
`<`, `|`, `im`, ... and never the control token that ends a turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from flame_judge.errors import ModelLoadError

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


class TokenizerView:
    """`flame_data.format.Tokenizer` over a Hugging Face tokenizer: user text, never special tokens."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase) -> None:
        self._tok = tokenizer
        self._chat: tuple[str, str] | None = None
        self._special = frozenset(i for i, t in tokenizer.added_tokens_decoder.items() if t.special) | frozenset(
            tokenizer.all_special_ids
        )

    def encode(self, text: str) -> list[int]:
        """Ids of `text` as plain text: a special token's spelling in it is split into ordinary tokens."""
        ids = list(self._tok.encode(text, add_special_tokens=False, split_special_tokens=True))
        if self._special.intersection(ids):
            # An old tokenizer class that ignores split_special_tokens: fail loudly, never forge a token.
            raise ModelLoadError(
                f"{type(self._tok).__name__} turned user text into special tokens despite split_special_tokens; "
                "upgrade transformers"
            )
        return ids

    def encode_template(self, text: str) -> list[int]:
        """Ids of text the chat template wrote (or the end-of-turn token): its special tokens are real."""
        return list(self._tok.encode(text, add_special_tokens=False))

    def decode(self, ids: Sequence[int]) -> str:
        text = self._tok.decode(list(ids), skip_special_tokens=False)
        return text if isinstance(text, str) else "".join(text)

    @property
    def chat(self) -> tuple[str, str]:
        """The chat template's text before and after the user message (see `chat_prefix_suffix`)."""
        if self._chat is None:
            self._chat = chat_prefix_suffix(self._tok)
        return self._chat

    def encode_chat(self, user_text: str, assistant_start: str = "") -> list[int]:
        """Ids of `wrap(tokenizer, user_text, assistant_start)`, with only the template's special tokens real.

        Every part is tokenized on its own, as training does. Where the template's parts meet the text
        at a special token or after a line break (SmolLM2's ChatML template), tokens never merge across
        the joins, so for text free of special-token spellings these are the ids of the whole string.
        """
        before, after = self.chat
        return (
            self.encode_template(before)
            + self.encode(user_text)
            + self.encode_template(after)
            + (self.encode(assistant_start) if assistant_start else [])
        )


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
    """Full model text: chat template around `user_text`, then the assistant's first words.

    Text for reading and cache keys; tokenize it with `TokenizerView.encode_chat`, not as one string.
    """
    before, after = chat_prefix_suffix(tokenizer)
    return f"{before}{user_text}{after}{assistant_start}"
