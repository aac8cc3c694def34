"""From a model spec to a judge's parts: the generative backend (renderer + engine) and its reward side."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from flame_judge.errors import ModelSpecError, UnsupportedModelError

if TYPE_CHECKING:
    from flame_judge.backends import Engine, RewardScorer
    from flame_judge.loading import LoadedModel, ModelSpec
    from flame_judge.rater import RaterBackend
    from flame_judge.reward import RewardView
    from flame_judge.scoring import GenerativeBackend


def build(
    model: str | os.PathLike[str] | None,
    *,
    device: str = "auto",
    max_input_tokens: int = 2048,
    reward_max_input_tokens: int | None = None,
    batch_tokens: int = 16384,
    eager: bool = False,
    options: dict[str, Any] | None = None,
) -> tuple[GenerativeBackend, RewardScorer | None, RaterBackend | None]:
    from flame_judge.loading import load, parse_spec
    from flame_judge.scoring import GenerativeBackend

    spec = parse_spec(model)
    options = dict(options or {})
    rater = None
    if spec.engine == "remote":
        loaded, engine = _remote(spec, device, options)
    else:
        loaded = load(spec.target, device=device, eager=eager and spec.engine == "transformers")
        rater = _rater(loaded, spec.engine, reward_max_input_tokens, batch_tokens)  # refused before an engine starts
        kind = loaded.kind
        if spec.engine == "vllm":
            engine = _vllm(loaded, kind, max_input_tokens, options)
            if eager:
                engine.warm()
        else:
            from flame_judge.backends.transformers import TransformersEngine

            if options:
                raise ModelSpecError(f"the transformers engine takes no engine options, got {sorted(options)}")
            engine = TransformersEngine(loaded, kind=kind, batch_tokens=batch_tokens)
    backend = GenerativeBackend(loaded, max_input_tokens=max_input_tokens, batch_tokens=batch_tokens, engine=engine)
    reward: RewardScorer | None = None
    if engine.model_kind == "reward":
        from flame_judge.backends.hf_reward import HFRewardJudge

        view = _flame_view(loaded, max_input_tokens)
        reward = HFRewardJudge(loaded.tokenizer, engine, max_input_tokens=max_input_tokens, view=view)
    elif loaded.pairwise is not None:
        reward = _pairwise(loaded, engine.engine, reward_max_input_tokens, batch_tokens)
    elif loaded.reward is not None:
        if engine.engine != "transformers":
            raise UnsupportedModelError(
                f"{loaded.name} judges pairs with flame's reward head, which reads the model's hidden states in "
                f"this process; the {engine.engine} engine cannot run it: load it without the engine prefix"
            )
        from flame_judge.reward import RewardBackend

        # None: the budget the head was fitted at (recorded beside it).
        reward = RewardBackend(
            loaded, loaded.reward, max_input_tokens=reward_max_input_tokens, batch_tokens=batch_tokens
        )
    return backend, reward, rater


def _rater(
    loaded: LoadedModel, engine_name: str, max_input_tokens: int | None, batch_tokens: int
) -> RaterBackend | None:
    """The rater head a judge folder declares (pointwise and classification verdicts), in this process."""
    from flame_judge.rater import RaterBackend, declared_rater

    declared = declared_rater(loaded.adapter or loaded.directory)
    if declared is None:
        return None
    if engine_name != "transformers":
        raise UnsupportedModelError(
            f"{loaded.name} gives pointwise and classification verdicts with a rater head, which reads the "
            f"model's hidden states in this process; the {engine_name} engine cannot run it: load it without "
            "the engine prefix"
        )
    return RaterBackend(loaded, declared, max_input_tokens=max_input_tokens, batch_tokens=batch_tokens)


def _pairwise(loaded: LoadedModel, engine_name: str, max_input_tokens: int | None, batch_tokens: int) -> RewardScorer:
    """The reward model a judge folder ships for its pairs (`pairwise_judge`), in this process."""
    from flame_judge.backends.hf_reward import HFRewardJudge
    from flame_judge.backends.transformers import TransformersEngine
    from flame_judge.judge import trained_input_tokens

    part = loaded.pairwise
    assert part is not None
    if engine_name != "transformers":
        raise UnsupportedModelError(
            f"{loaded.name} judges pairs with the reward model it ships ({part.name}), which runs in this process "
            f"beside its label model; the {engine_name} engine cannot run both: load it without the engine prefix, "
            f"or serve the reward model on its own"
        )
    engine = TransformersEngine(part, kind="reward", batch_tokens=batch_tokens)
    budget = max_input_tokens or trained_input_tokens(part.adapter or part.directory)
    view = _flame_view(part, budget)
    return HFRewardJudge(part.tokenizer, engine, max_input_tokens=budget, view=view)


def _flame_view(loaded: LoadedModel, max_input_tokens: int) -> RewardView | None:
    """A renderer of flame's reward view for a reward model `flame reward train` made (its flame.json
    `reward_model.view` is "flame"); None for any other reward model (it reads a chat turn)."""
    from flame_judge.loading import read_meta
    from flame_judge.reward import RewardView

    section = read_meta(loaded.adapter or loaded.directory).get("reward_model")
    if not (isinstance(section, dict) and section.get("view") == "flame"):
        return None
    return RewardView(loaded, max_input_tokens)


def _vllm(loaded: LoadedModel, kind: Any, max_input_tokens: int, options: dict[str, Any]) -> Any:
    from flame_judge.backends.vllm import VLLMEngine
    from flame_judge.loading import Resolved, merged_dir

    found = Resolved(loaded.name, loaded.directory, loaded.adapters, kind=loaded.kind)
    directory = merged_dir(found, loaded.fingerprint)  # vLLM reads a plain folder: a LoRA is merged once
    return VLLMEngine(
        directory,
        kind=kind,
        fingerprint=f"{loaded.fingerprint}+vllm",
        max_model_len=max_input_tokens + 8,
        options=options,
    )


def _remote(spec: ModelSpec, device: str, options: dict[str, Any]) -> tuple[LoadedModel, Engine]:
    from flame_judge.backends.remote import RemoteEngine
    from flame_judge.errors import ModelNotFoundError
    from flame_judge.loading import load

    assert spec.url is not None
    engine = RemoteEngine(spec.url, spec.served_model, fingerprint=spec.fingerprint, **options)
    # The judge renders and tokenizes here, so it needs the served model's tokenizer locally.
    tokenizer_spec = spec.target or engine.tokenizer_hint()
    try:
        loaded = load(tokenizer_spec, device="cpu" if device == "auto" else device)
    except ModelNotFoundError as exc:
        raise ModelSpecError(
            f"the served model {engine.model!r} is not a local model, so its tokenizer cannot be found ({exc}); "
            f"name one: {spec.url}#model={engine.model}&tokenizer=PATH_OR_HUB_ID"
        ) from exc
    engine.bind(loaded)
    return loaded, engine
