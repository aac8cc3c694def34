"""Hugging Face reward models (one-label sequence classifiers) as reward-kind judges."""

from __future__ import annotations

import json
import math

import pytest
import torch

from flame_judge import Judge, PairwiseRequest, UnsupportedModelError
from flame_judge.backends.hf_reward import conversation_ids
from flame_judge.tiny_models import reward_model, save


@pytest.fixture(scope="module")
def rm_folder(tmp_path_factory):
    return save(reward_model(), tmp_path_factory.mktemp("rm") / "tiny-rm")


def _reward(model, tokenizer, prompt, response):
    ids = conversation_ids(tokenizer, prompt, response)
    with torch.inference_mode():
        return float(model(input_ids=torch.tensor([ids])).logits[0, 0])


def test_a_reward_model_folder_is_a_reward_kind_judge(rm_folder):
    pairs = [("What is 2 + 2?", "4", "5"), ("Name a colour.", "Blue.", "I cannot help with that request, sorry.")]
    with Judge.load(rm_folder, device="cpu", cache=False) as judge:
        assert judge.kind == "reward"
        verdicts = judge.pairwise_batch([PairwiseRequest(*p) for p in pairs])
        model, tokenizer = judge.backend.loaded.model, judge.backend.loaded.tokenizer
        for (prompt, a, b), v in zip(pairs, verdicts, strict=True):
            want = 1 / (1 + math.exp(-(_reward(model, tokenizer, prompt, a) - _reward(model, tokenizer, prompt, b))))
            assert v.prob_a == pytest.approx(want, abs=1e-5)  # each response alone, then Bradley-Terry
            assert v.prob_a_first == v.prob_a_second  # no order
            assert v.kind == "reward"


def test_a_reward_model_gives_no_label_probabilities(rm_folder):
    with (
        Judge.load(rm_folder, device="cpu", cache=False) as judge,
        pytest.raises(UnsupportedModelError, match="pairwise verdicts only"),
    ):
        judge.pointwise("q", "r")


def test_a_classifier_with_several_labels_is_refused(tmp_path):
    folder = save(reward_model(), tmp_path / "rm")
    config = json.loads((folder / "config.json").read_text())
    config["id2label"] = {"0": "bad", "1": "good"}
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(UnsupportedModelError, match="num_labels=1"):
        Judge.load(folder, device="cpu", cache=False)


def test_the_conversation_ends_where_the_score_is_read(rm_folder):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(rm_folder))
    ids = conversation_ids(tokenizer, "Hi", "Hello " * 3000, max_tokens=128)
    assert len(ids) <= 128
    assert ids[-1] != tokenizer.pad_token_id  # transformers reads the last non-pad token; vLLM the last token
    assert "Hi" in tokenizer.decode(ids)
