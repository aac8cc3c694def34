from __future__ import annotations

import ast
import json
import os
import random
from pathlib import Path

import pytest

from flame_judge.errors import InvalidRequestError
from flame_judge.rerank import (
    Problem,
    judge_pick,
    load_candidates,
    load_problems,
    mutants,
    passes,
    pool,
    program_for,
    rerank,
    sampled_pool,
)
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
    assert result.pool == "mutants"
    assert result.oracle_pass_at_1 == 1.0  # the canonical solution is in every mutants pool


def test_completions_become_programs_whole_functions_or_bodies(problems):
    problem = problems[2]  # truncate_number: return number % 1.0
    body = "    return number % 1.0\n"
    fenced = (
        "Here you go:\n```python\ndef truncate_number(number: float) -> float:\n    return number % 1.0\n```\nDone."
    )
    wrong = "```python\ndef truncate_number(number):\n    return 0\n```"
    assert passes(problem, program_for(problem, body))
    assert passes(problem, program_for(problem, fenced))
    assert not passes(problem, program_for(problem, wrong))


def test_sampled_pools_are_labelled_and_the_oracle_is_not_given(problems, tmp_path: Path):
    path = tmp_path / "samples.jsonl"
    rows = [
        {"task_id": "HumanEval/2", "completion": "    return number % 1.0\n"},
        {"task_id": "HumanEval/2", "completion": "    return 0.0\n"},
        {"task_id": "HumanEval/3", "completion": "    return False\n"},
        {"task_id": "HumanEval/3", "completion": "    return True\n"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    candidates = load_candidates(path)
    assert [c.passed for c in sampled_pool(problems[2], candidates["HumanEval/2"])] == [True, False]
    result = rerank(FakeJudge(), problems[:4], candidates=candidates, progress=False)
    assert result.pool == "sampled"
    assert (result.problems, result.skipped) == (2, 2)  # problems 0 and 1 have no candidates
    assert result.oracle_pass_at_1 == 0.5  # nothing passes problem 3's tests
    assert result.random_pass_at_1 == 0.25


def test_a_bad_candidates_row_names_its_line(tmp_path: Path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"task_id": "HumanEval/0", "completion": "x"}\n{"task_id": 3, "completion": "x"}\n')
    with pytest.raises(InvalidRequestError, match=r"bad.jsonl:2: .*task_id"):
        load_candidates(path)


def test_generated_pools_come_from_the_model(problems, tmp_path: Path):
    """`--generate N`: N sampled programs per problem from a loaded model (a tiny random one here)."""
    from flame_judge.loading import load
    from flame_judge.rerank import generate_candidates
    from flame_judge.tiny_models import llama

    llama(tmp_path / "tiny", hidden=32, layers=1, heads=2, kv_heads=1, tie=False)
    loaded = load(str(tmp_path / "tiny"), device="cpu")
    samples = generate_candidates(loaded, problems[:2], 3, max_new_tokens=6)
    assert sorted(samples) == ["HumanEval/0", "HumanEval/1"]
    assert all(len(v) == 3 and all(isinstance(s, str) for s in v) for v in samples.values())
    result = rerank(FakeJudge(), problems[:2], candidates=samples, progress=False)
    assert result.pool == "sampled"
    assert result.mean_pool == 3.0
