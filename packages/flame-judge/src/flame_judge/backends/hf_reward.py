"""Reward models in the Hugging Face convention: a one-label `*ForSequenceClassification` (as TRL's
RewardTrainer and most public reward models save them) as a reward-kind pairwise judge.

Each response is scored alone, as the conversation the model was trained on (the request as the user
turn, the response as the assistant turn, through the tokenizer's chat template), read at its last
token: P(A better) = sigmoid(r_A - r_B). A pair has no order to be biased by.

`conversation_ids` is the one rendering: training code that fits such a model should use it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flame_judge.errors import InputTooLongError, UnsupportedModelError

if TYPE_CHECKING:
    from flame_data.schema import TaskSpec
    from flame_judge.backends import Engine
    from flame_judge.reward import RewardView


@dataclass(frozen=True)
class ResponseQuery:
    """One response as the reward model reads it: token ids ending at the token its score is read at."""

    ids: tuple[int, ...]
    context_cut: tuple[str, ...] = ()  # request fields cut to fit the budget (named in the verdict)
    response_cut: bool = False

    @property
    def key(self) -> str:  # the judgment cache's text for this query
        return "hf-reward:" + ",".join(map(str, self.ids))


def conversation_ids(tokenizer: Any, prompt: str, response: str, *, max_tokens: int = 2048) -> list[int]:
    """Token ids of (user: prompt, assistant: response) through the chat template, truncated to
    `max_tokens` (the longer of the two is cut first), with trailing pad tokens dropped so the last
    token is where every engine reads the score (transformers reads the last non-pad token).

    Only the template's own special tokens are real: a `<|im_end|>` spelled inside the prompt or the
    response is ordinary text (as on the generative path, `prompting.TokenizerView`), so user text
    cannot close its turn or forge one."""
    return fit_conversation(tokenizer, prompt, response, max_tokens=max_tokens)[0]


def fit_conversation(tokenizer: Any, prompt: str, response: str, *, max_tokens: int) -> tuple[list[int], bool, bool]:
    """`conversation_ids`, and whether the prompt and the response were cut."""
    from flame_judge.prompting import TokenizerView

    view = TokenizerView(tokenizer)
    before, middle, after = _template_ids(tokenizer, view)
    prompt_ids, response_ids = view.encode(prompt), view.encode(response)
    full_prompt, full_response = len(prompt_ids), len(response_ids)
    for _ in range(8):
        ids = [*before, *prompt_ids, *middle, *response_ids, *after]
        while len(ids) > 1 and ids[-1] == tokenizer.pad_token_id:
            ids.pop()
        excess = len(ids) - max_tokens
        if excess <= 0:
            return ids, len(prompt_ids) < full_prompt, len(response_ids) < full_response
        # Cut the longer part first; keep at least a little of each.
        if len(response_ids) >= len(prompt_ids):
            response_ids = response_ids[: max(8, len(response_ids) - excess)]
        else:
            prompt_ids = prompt_ids[: max(8, len(prompt_ids) - excess)]
    raise InputTooLongError(f"could not fit a response into the reward model's {max_tokens} tokens")


_PROMPT, _RESPONSE = "\x00FLAME-REQUEST\x00", "\x00FLAME-RESPONSE\x00"


def _template_ids(tokenizer: Any, view: Any) -> tuple[list[int], list[int], list[int]]:
    """The template's own ids before the prompt, between prompt and response, and after the response.

    Rendered around two markers and tokenized apart from the user text, so only these parts can hold
    control tokens. Without a template: the plain text `prompt\n\nresponse` after BOS, as most
    base-model reward heads were trained.
    """
    if not getattr(tokenizer, "chat_template", None):
        bos = [tokenizer.bos_token_id] if isinstance(tokenizer.bos_token_id, int) else []
        return bos, view.encode_template("\n\n"), []
    messages = [{"role": "user", "content": _PROMPT}, {"role": "assistant", "content": _RESPONSE}]
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    before, found_prompt, rest = str(text).partition(_PROMPT)
    middle, found_response, after = rest.partition(_RESPONSE)
    if not (found_prompt and found_response) or _PROMPT in after or _RESPONSE in after:
        raise UnsupportedModelError(
            f"the chat template of {getattr(tokenizer, 'name_or_path', 'this tokenizer')} does not place the user "
            "and assistant messages verbatim, once each; flame cannot keep their text apart from the template's "
            "control tokens"
        )
    return view.encode_template(before), view.encode_template(middle), view.encode_template(after)


class HFRewardJudge:
    """The reward side of a `Judge` for a sequence-classifier reward model on any engine.

    Same interface as flame's Bradley-Terry head (`reward.RewardBackend`): `prepare` a pairwise example's
    two responses, `score` prepared queries.
    """

    def __init__(
        self, tokenizer: Any, engine: Engine, *, max_input_tokens: int = 2048, view: RewardView | None = None
    ) -> None:
        self.tokenizer = tokenizer
        self.engine = engine
        self.max_input_tokens = max_input_tokens
        # A reward model flame trained reads flame's own reward view of the task (`templates.reward_task`,
        # rendered as the label path renders it), not a chat turn: `view` renders it that way.
        self.view = view

    def prepare(self, pairwise: TaskSpec, fields: Sequence[tuple[str, str]]) -> tuple[ResponseQuery, ResponseQuery]:
        """Both responses (the last two fields) with the request (the fields before them) as the user turn.

        The task's criteria are not part of what a reward model reads: it was trained on one notion of better.
        """
        from flame_data import templates

        if self.view is not None:
            return self._prepare_view(pairwise, fields)
        out = []
        for inputs in templates.reward_inputs(fields):
            prompt = "\n\n".join(value for _, value in inputs[:-1])
            ids, prompt_cut, response_cut = fit_conversation(
                self.tokenizer, prompt, inputs[-1][1], max_tokens=self.max_input_tokens
            )
            context = tuple(name for name, _ in inputs[:-1]) if prompt_cut else ()
            out.append(ResponseQuery(tuple(ids), context, response_cut))
        return out[0], out[1]

    def _prepare_view(
        self, pairwise: TaskSpec, fields: Sequence[tuple[str, str]]
    ) -> tuple[ResponseQuery, ResponseQuery]:
        """Each response in flame's reward view, read at the answer position (as `flame reward train` reads
        it); the context is cut once for the pair, so both responses see the same context."""
        assert self.view is not None
        qa, qb = self.view.prepare(pairwise, fields)
        a, b = (ResponseQuery(tuple(self.view.model_input(q)), q.context_cut, q.response_cut) for q in (qa, qb))
        return a, b

    def score(self, queries: Sequence[ResponseQuery], *, batch_size: int | None = None) -> list[float]:
        return self.engine.rewards([q.ids for q in queries], batch_size=batch_size)
