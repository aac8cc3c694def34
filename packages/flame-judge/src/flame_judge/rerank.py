"""Code re-ranking, after the paper's HumanEval experiment: for each problem a pool of the canonical
solution and programmatically mutated variants, each labelled by running the problem's tests in a
subprocess; the judge picks one by round-robin pairwise comparison. Reports pass@1 of the judge's
pick beside a random pick (the pool's pass rate) and the oracle (any candidate passes).

The test code comes from the HumanEval file; it runs in a separate, isolated Python process with a
timeout, in a temporary directory.
"""

from __future__ import annotations

import ast
import gzip
import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

SWAPS: dict[type, type] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.FloorDiv,
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.And: ast.Or,
    ast.Or: ast.And,
}


@dataclass(frozen=True)
class Problem:
    task_id: str
    prompt: str
    solution: str  # the canonical body
    test: str
    entry_point: str


@dataclass(frozen=True)
class Candidate:
    code: str  # the full function: prompt + body
    origin: str  # "canonical" or the mutation applied
    passed: bool


def load_problems(path: str | Path) -> list[Problem]:
    opener: Any = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [
            Problem(r["task_id"], r["prompt"], r["canonical_solution"], r["test"], r["entry_point"])
            for r in map(json.loads, filter(str.strip, fh))
        ]


class _Mutate(ast.NodeTransformer):
    """Apply one mutation at the `target`-th eligible site."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.seen = 0
        self.done = ""

    def _hit(self) -> bool:
        self.seen += 1
        return self.seen - 1 == self.target

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if type(node.op) in SWAPS and self._hit():
            self.done = f"{type(node.op).__name__} -> {SWAPS[type(node.op)].__name__}"
            node.op = SWAPS[type(node.op)]()
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if type(node.ops[0]) in SWAPS and self._hit():
            self.done = f"{type(node.ops[0]).__name__} -> {SWAPS[type(node.ops[0])].__name__}"
            node.ops[0] = SWAPS[type(node.ops[0])]()
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        if type(node.op) in SWAPS and self._hit():
            self.done = f"{type(node.op).__name__} -> {SWAPS[type(node.op)].__name__}"
            node.op = SWAPS[type(node.op)]()
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if isinstance(node.value, int) and not isinstance(node.value, bool) and self._hit():
            self.done = f"constant {node.value} -> {node.value + 1}"
            return ast.copy_location(ast.Constant(node.value + 1), node)
        return node


def mutants(problem: Problem) -> Iterator[tuple[str, str]]:
    """(mutation, full code) for every single-site mutation of the canonical solution."""
    source = problem.prompt + problem.solution
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return
    base = ast.unparse(tree)
    target = 0
    while True:
        mutator = _Mutate(target)
        changed = mutator.visit(ast.parse(source))
        if not mutator.done:
            return
        code = ast.unparse(changed)
        if code != base:
            yield mutator.done, code
        target += 1


def passes(problem: Problem, code: str, timeout: float = 10.0) -> bool:
    program = f"{code}\n\n{problem.test}\n\ncheck({problem.entry_point})\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "candidate.py"
        path.write_text(program)
        try:
            done = subprocess.run([sys.executable, "-I", str(path)], cwd=tmp, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return False
    return done.returncode == 0


def pool(problem: Problem, size: int, rng: random.Random) -> list[Candidate]:
    """The canonical solution and up to size-1 mutants, each labelled by the tests."""
    canonical = problem.prompt + problem.solution
    options = list(mutants(problem))
    rng.shuffle(options)
    out = [Candidate(canonical, "canonical", passes(problem, canonical))]
    for origin, code in options[: size - 1]:
        out.append(Candidate(code, origin, passes(problem, code)))
    rng.shuffle(out)
    return out


def judge_pick(judge: Any, problem: Problem, candidates: Sequence[Candidate]) -> int:
    """Round robin: the candidate with most pairwise wins (ties broken by mean P(win))."""
    from flame_judge.judge import PairwiseRequest

    pairs = list(combinations(range(len(candidates)), 2))
    requests = [
        PairwiseRequest(
            problem.prompt,
            candidates[i].code,
            candidates[j].code,
            "correctness: the code does what the docstring asks and passes its tests",
        )
        for i, j in pairs
    ]
    wins = [0.0] * len(candidates)
    mass = [0.0] * len(candidates)
    for (i, j), verdict in zip(pairs, judge.pairwise_batch(requests), strict=True):
        wins[i if verdict.prob_a > 0.5 else j] += 1
        mass[i] += verdict.prob_a
        mass[j] += 1 - verdict.prob_a
    return max(range(len(candidates)), key=lambda k: (wins[k], mass[k]))


@dataclass(frozen=True)
class RerankResult:
    problems: int
    judge_pass_at_1: float
    random_pass_at_1: float
    oracle_pass_at_1: float
    mean_pool: float
    mean_passing: float
    skipped: int = 0  # problems with no mutation site, so no pool to choose from


def rerank(
    judge: Any, problems: Sequence[Problem], *, pool_size: int = 5, seed: int = 0, progress: bool = True
) -> RerankResult:
    from tqdm import tqdm

    rng = random.Random(seed)
    picked = rand = oracle = sizes = passing = 0.0
    used = skipped = 0
    for problem in tqdm(problems, desc="re-ranking", unit="problem", disable=not progress):
        candidates = pool(problem, pool_size, rng)
        if len(candidates) < 2:
            skipped += 1
            continue
        used += 1
        good = sum(c.passed for c in candidates)
        picked += candidates[judge_pick(judge, problem, candidates)].passed
        rand += good / len(candidates)
        oracle += good > 0
        sizes += len(candidates)
        passing += good
    if not used:
        return RerankResult(0, float("nan"), float("nan"), float("nan"), 0.0, 0.0, skipped)
    return RerankResult(used, picked / used, rand / used, oracle / used, sizes / used, passing / used, skipped)
