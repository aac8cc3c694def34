from __future__ import annotations

from flame_judge.testing import FakeJudge


def test_fake_judge_is_deterministic_and_prefers_the_on_topic_answer():
    judge = FakeJudge()
    prompt = "How do I reset my password?"
    good = "Open settings, choose password, and click reset password."
    bad = "Our office is open nine to five."
    first, second = judge.pairwise(prompt, good, bad), judge.pairwise(prompt, good, bad)
    assert first == second
    assert first.winner == "A"
    assert judge.pairwise(prompt, bad, good).winner == "B"
    assert abs(sum(judge.pointwise(prompt, good).distribution.values()) - 1) < 1e-9
    assert judge.classify("The sky is blue.", "The sky is blue.").label == "yes"
    assert judge.calls == 5
