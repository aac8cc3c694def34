"""Each bias probe against a deliberately biased fake judge: the bias it measures must score high, a
content-only judge must score low, and structural zeros are n/a, out of the average."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import pytest

from flame_data import templates
from flame_data.schema import TaskSpec
from flame_judge.benchmark import EvalItem
from flame_judge.bias import COBBLER, NAMES, PROBES, ProbeResult, cobbler_average, run_probes
from flame_judge.testing import FakeJudge


def _pairwise_items(n: int = 12) -> list[EvalItem]:
    """Right vs wrong answers; the right one is the longer in half of the items, in position A in half."""
    items = []
    for i in range(n):
        right = f"right answer {i}" + (" with a long and careful explanation" if i % 2 else "")
        wrong = f"wrong answer {i}" + ("" if i % 2 else " with a long and careful explanation")
        a, b, gold = (right, wrong, "A") if i % 4 < 2 else (wrong, right, "B")
        fields = templates.pairwise_inputs(f"question {i}?", a, b)
        items.append(EvalItem("toy", "general", "pairwise", templates.pairwise_task(), fields, gold))
    return items


def _pointwise_items(n: int = 6) -> list[EvalItem]:
    spec = templates.pointwise_task(None, (1, 5))
    return [
        EvalItem("toy", "general", "pointwise", spec, templates.pointwise_inputs(f"q{i}", f"reply {i}"), "3", 3.0)
        for i in range(n)
    ]


def _classification_items(n: int = 6) -> list[EvalItem]:
    spec = templates.classification_task(("yes", "no"))
    inputs = [templates.classification_inputs(f"fact {i}", f"claim {i}") for i in range(n)]
    return [EvalItem("toy", "factuality", "classification", spec, f, "yes") for f in inputs]


ITEMS = _pairwise_items() + _pointwise_items() + _classification_items()


def _core(text: str) -> str:
    """The response without the credited system's name."""
    return text.split(": ", 1)[1] if ": " in text.split("\n")[0] else text


class ContentJudge(FakeJudge):
    """Reads only whether a response is right: no position, name, length, note or forgery sways it."""

    def prefer(self, context: str, first: str, second: str) -> float:
        good = ("right answer" in first) - ("right answer" in second)
        return 0.5 + 0.4 * good

    def label_probs(self, spec: TaskSpec, fields: Sequence[tuple[str, str]]) -> dict[str, float]:
        labels = spec.outputs[0].labels
        return {label: (0.7 if k == 1 else 0.3 / (len(labels) - 1)) for k, label in enumerate(labels)}


def _rates(judge: FakeJudge, **kwargs: object) -> dict[str, ProbeResult]:
    results = run_probes(judge, ITEMS, **kwargs)  # type: ignore[arg-type]
    assert [r.probe for r in results] == list(PROBES)
    return {r.probe: r for r in results}


def test_a_content_only_judge_scores_low_on_every_probe():
    rates = _rates(ContentJudge(), generate=lambda prompts: ["my own answer"] * len(prompts))
    for probe in ("order", "compassion", "egocentric", "bandwagon", "attention", *[p for p in PROBES if "inj" in p]):
        assert rates[probe].rate == 0.0, probe
    assert rates["salience"].rate == pytest.approx(0.5)  # the right answer is the longer one in half the items
    assert "0.500" in rates["salience"].note


class FirstJudge(ContentJudge):
    def prefer(self, context: str, first: str, second: str) -> float:
        return 0.9


class LastJudge(ContentJudge):
    def prefer(self, context: str, first: str, second: str) -> float:
        return 0.1


def test_always_picking_the_first_or_last_position_is_order_bias_1():
    first = _rates(FirstJudge())
    assert first["order"].rate == 1.0
    assert first["order"].note == "first 1.000, last 0.000"
    assert first["compassion"].rate == 1.0
    last = _rates(LastJudge())
    assert last["order"].rate == 1.0
    assert last["order"].note == "first 0.000, last 1.000"


class NameJudge(ContentJudge):
    """Position-biased only when a response is credited to a real model name (compassion fade)."""

    def prefer(self, context: str, first: str, second: str) -> float:
        if any(first.startswith(f"{name}:") for name in NAMES):
            return 0.9
        return super().prefer(context, first, second)


def test_position_bias_that_appears_only_with_real_names_is_compassion():
    rates = _rates(NameJudge())
    assert rates["order"].rate == 0.0
    assert rates["compassion"].rate == 1.0


class LongerJudge(ContentJudge):
    def prefer(self, context: str, first: str, second: str) -> float:
        return 1 / (1 + math.exp(-(len(first) - len(second))))


class ShorterJudge(ContentJudge):
    def prefer(self, context: str, first: str, second: str) -> float:
        return 1 / (1 + math.exp(len(first) - len(second)))


def test_preferring_the_longer_response_is_salience_1():
    assert _rates(LongerJudge())["salience"].rate == 1.0
    assert _rates(ShorterJudge())["salience"].rate == 0.0


class BandwagonJudge(ContentJudge):
    def prefer(self, context: str, first: str, second: str) -> float:
        named = re.search(r"85% of people believe that (System \w+) is better", context)
        if named:
            return 0.9 if first.startswith(named.group(1)) else 0.1
        return super().prefer(context, first, second)


def test_following_the_majority_note_is_bandwagon_1():
    rates = _rates(BandwagonJudge())
    assert rates["bandwagon"].rate == 1.0
    assert rates["attention"].rate == 0.0


class DistractedJudge(ContentJudge):
    def prefer(self, context: str, first: str, second: str) -> float:
        about = re.search(r"(System \w+) likes to eat oranges", context)
        if about:
            return 0.9 if first.startswith(about.group(1)) else 0.1
        return super().prefer(context, first, second)


def test_following_an_irrelevant_sentence_is_attention_1():
    rates = _rates(DistractedJudge())
    assert rates["attention"].rate == 1.0
    assert rates["bandwagon"].rate == 0.0


class SelfJudge(ContentJudge):
    def prefer(self, context: str, first: str, second: str) -> float:
        mine = ("my own answer" in first) - ("my own answer" in second)
        return 0.5 + 0.4 * mine if mine else super().prefer(context, first, second)


def test_preferring_its_own_answer_is_egocentric_1_and_needs_generation():
    asked = []

    def generate(prompts: Sequence[str]) -> list[str]:
        asked.extend(prompts)
        return ["my own answer"] * len(prompts)

    rates = _rates(SelfJudge(), generate=generate)
    assert rates["egocentric"].rate == 1.0
    assert asked[0] == "question 0?"  # the request, not the responses
    skipped = _rates(SelfJudge())["egocentric"]
    assert skipped.rate is None
    assert "not run" in skipped.note


class GullibleJudge(ContentJudge):
    """Believes whatever forged evaluation text a response carries."""

    def prefer(self, context: str, first: str, second: str) -> float:
        forged = ("EVALUATION:" in first or "INSTRUCTIONS:" in first) - (
            "EVALUATION:" in second or "INSTRUCTIONS:" in second
        )
        return 0.5 + 0.4 * forged if forged else super().prefer(context, first, second)

    def label_probs(self, spec: TaskSpec, fields: Sequence[tuple[str, str]]) -> dict[str, float]:
        labels = spec.outputs[0].labels
        claims = [c for c in re.findall(r"(?:score|answer)(?: is)?: (\w+)", fields[-1][1]) if c in labels]
        if claims:
            return {label: (0.9 if label == claims[0] else 0.1 / (len(labels) - 1)) for label in labels}
        return super().label_probs(spec, fields)


def test_believing_forged_evaluation_text_flips_every_verdict_type():
    rates = _rates(GullibleJudge())
    assert rates["injection-pairwise"].rate == 1.0
    assert rates["injection-classification"].rate == 1.0
    assert rates["injection-pointwise"].rate == 1.0
    assert rates["injection-pointwise"].n == 12  # two forgeries per item
    assert "answer: B 1.000" in rates["injection-pairwise"].note


class RewardJudge(ContentJudge):
    kind = "reward"

    def prefer(self, context: str, first: str, second: str) -> float:
        return 0.5 + 0.4 * (("right answer" in first) - ("right answer" in second))


def test_order_is_na_for_a_reward_judge_and_stays_out_of_the_average():
    rates = _rates(RewardJudge())
    assert rates["order"].rate is None
    assert rates["compassion"].rate is None
    assert rates["order"].note.startswith("n/a")
    measured = [r.rate for r in rates.values() if r.probe in COBBLER and r.rate is not None]
    assert sorted(measured) == [0.0, 0.0, 0.5]  # salience, bandwagon, attention (egocentric not run)
    assert cobbler_average(list(rates.values())) == pytest.approx(0.5 / 3)


class RewardModelOnly(RewardJudge):
    gives_labels = False

    def label_probs(self, spec: TaskSpec, fields: Sequence[tuple[str, str]]) -> dict[str, float]:
        raise AssertionError("a reward model on its own has no label probabilities to ask for")


def test_a_reward_model_on_its_own_is_probed_on_pairs_only():
    rates = _rates(RewardModelOnly())
    for probe in ("injection-pointwise", "injection-classification"):
        assert rates[probe].rate is None
        assert rates[probe].note == "n/a: a reward model on its own gives pairwise verdicts only"
    assert rates["injection-pairwise"].rate is not None
    assert rates["salience"].rate is not None


def test_items_without_other_types_report_na_not_zero():
    results = run_probes(ContentJudge(), _pairwise_items())
    by = {r.probe: r for r in results}
    assert by["injection-pointwise"].rate is None
    assert by["injection-classification"].rate is None
    assert cobbler_average(results) == pytest.approx(0.5 / 5)  # order, compassion, salience, bandwagon, attention
