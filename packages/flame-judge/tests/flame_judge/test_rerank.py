from __future__ import annotations

import ast
import os
import random
from pathlib import Path

import pytest

from flame_judge.rerank import Problem, judge_pick, load_problems, mutants, passes, pool, rerank
from flame_judge.testing import FakeJudge


@pytest.fixture(scope="module")
def problems() -> list[Problem]:
    return load_problems(Path(os.environ["FLAME_DATA_DIR"]) / "humaneval" / "HumanEval.jsonl.gz")


def test_all_problems_load(problems):
    assert len(problems) == 164
    assert problems[0].task_id == "HumanEval/0"


def test_mutants_are_distinct_and_parse(problems):
    for problem in problems[:20]:
        seen = set()
        for origin, code in mutants(problem):
            ast.parse(code)
            assert origin
            assert code not in seen
            seen.add(code)


def test_tests_label_the_canonical_solution_and_catch_a_bug(problems):
    problem = problems[2]
    assert passes(problem, problem.prompt + problem.solution)
    broken = problem.prompt + "    return 0.123456\n"
    assert not passes(problem, broken)
    assert not passes(problem, problem.prompt + "    while True:\n        pass\n", timeout=2.0)


def test_pool_holds_the_canonical_and_labelled_mutants(problems):
    candidates = pool(problems[0], 5, random.Random(0))
    assert sum(c.origin == "canonical" for c in candidates) == 1
    assert next(c for c in candidates if c.origin == "canonical").passed
    assert any(not c.passed for c in candidates)


def test_round_robin_pick_and_report(problems):
    judge = FakeJudge()
    candidates = pool(problems[0], 4, random.Random(1))
    index = judge_pick(judge, problems[0], candidates)
    assert 0 <= index < len(candidates)
    result = rerank(judge, problems[:3], pool_size=3, progress=False)
    assert result.problems + result.skipped == 3
    assert result.problems >= 2
    assert 0.0 <= result.random_pass_at_1 <= result.oracle_pass_at_1 <= 1.0
    assert result.judge_pass_at_1 in (0.0, 0.5, 1.0)
