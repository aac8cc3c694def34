"""Code re-ranking, after the paper's HumanEval experiment: for each problem a pool of candidate
programs, each labelled by running the problem's tests; the judge picks one by round-robin pairwise
comparison. Reports pass@1 of the judge's pick beside a random pick (the pool's pass rate) and the
oracle (any candidate passes).

Pools, labelled in every report:
- sampled (the paper's setting): N programs sampled from a code model (`flame eval rerank
  --generate N`), or read from a JSONL of candidates per problem (`--candidates FILE`);
- mutants: the canonical solution and single-site AST mutants of it. The canonical solution is
  always in the pool, so the oracle is 1.0 by construction: a test of the ranking, not the paper's
  experiment.

Candidate code and the benchmark's tests run under `flame_judge.sandbox` (its docstring says what the
guard does and does not protect against).
"""

from __future__ import annotations

import ast
import gzip
import json
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any, Literal

from flame_judge.errors import InvalidRequestError
from flame_judge.sandbox import Limits, run_python

PoolKind = Literal["mutants", "sampled"]
ASK = "Complete this Python function. Reply with the whole function in one code block."

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
    code: str  # the full program: the prompt and a completion (or a whole function)
    origin: str  # "canonical", "mutant: <the mutation>", or "sample <k>"
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
    """Whether `code` passes the problem's tests, run under the sandbox."""
    program = f"{code}\n\n{problem.test}\n\ncheck({problem.entry_point})\n"
    return run_python(program, limits=Limits(timeout=timeout)).passed


def pool(problem: Problem, size: int, rng: random.Random) -> list[Candidate]:
    """The mutants pool: the canonical solution and up to size-1 mutants, each labelled by the tests."""
    canonical = problem.prompt + problem.solution
    options = list(mutants(problem))
    rng.shuffle(options)
    out = [Candidate(canonical, "canonical", passes(problem, canonical))]
    for origin, code in options[: size - 1]:
        out.append(Candidate(code, f"mutant: {origin}", passes(problem, code)))
    rng.shuffle(out)
    return out


_FENCE = re.compile(r"```(?:python|py)?[ \t]*\n(.*?)(?:```|$)", re.DOTALL)


def program_for(problem: Problem, completion: str) -> str:
    """The program a completion stands for: a whole function (it redefines the prompt's) or a body.

    A fenced code block in the text (a chat model's answer) is used when there is one.
    """
    fenced = _FENCE.search(completion)
    code = fenced.group(1) if fenced else completion
    if re.search(rf"^\s*def {re.escape(problem.entry_point)}\s*\(", code, re.MULTILINE):
        return f"{problem.prompt}    pass\n\n{code}"  # the prompt keeps its imports and helpers
    return problem.prompt + code


def sampled_pool(problem: Problem, completions: Sequence[str], size: int | None = None) -> list[Candidate]:
    """A pool of sampled completions (the first `size`), each labelled by the tests."""
    out = []
    for k, completion in enumerate(completions[:size]):
        code = program_for(problem, completion)
        out.append(Candidate(code, f"sample {k}", passes(problem, code)))
    return out


def load_candidates(path: str | Path) -> dict[str, list[str]]:
    """Completions per task id from a JSONL of `{"task_id": ..., "completion": ...}` rows (human-eval's
    samples format; several rows per task), in file order."""
    out: dict[str, list[str]] = {}
    opener: Any = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidRequestError(f"{path}:{number}: invalid JSON ({exc.msg})") from None
            if not isinstance(row, dict) or not isinstance(row.get("task_id"), str):
                raise InvalidRequestError(f"{path}:{number}: a row needs a string 'task_id'")
            if not isinstance(row.get("completion"), str):
                raise InvalidRequestError(f"{path}:{number}: a row needs a string 'completion'")
            out.setdefault(row["task_id"], []).append(row["completion"])
    return out


def generate_candidates(
    loaded: Any,
    problems: Sequence[Problem],
    n: int,
    *,
    max_new_tokens: int = 256,
    temperature: float = 0.8,
    seed: int = 0,
) -> dict[str, list[str]]:
    """`n` sampled completions per problem from a loaded model (`Judge.load(...).backend.loaded`)."""
    import torch
    from tqdm import tqdm

    from flame_judge.prompting import wrap

    tok: Any = loaded.tokenizer
    model: Any = loaded.model
    torch.manual_seed(seed)
    out: dict[str, list[str]] = {}
    for problem in tqdm(problems, desc="sampling", unit="problem"):
        ask = f"{ASK}\n\n```python\n{problem.prompt}```"
        ids = tok(wrap(tok, ask), return_tensors="pt", add_special_tokens=False).to(loaded.device)
        with torch.no_grad():
            gen = model.generate(
                **ids,
                max_new_tokens=max_new_tokens,
                do_sample=True,
                temperature=temperature,
                top_p=0.95,
                num_return_sequences=n,
                pad_token_id=tok.eos_token_id,
            )
        start = ids["input_ids"].shape[1]
        out[problem.task_id] = [tok.decode(g[start:], skip_special_tokens=True) for g in gen]
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
    skipped: int = 0  # problems without two candidates to choose from
    pool: PoolKind = "mutants"


def rerank(
    judge: Any,
    problems: Sequence[Problem],
    *,
    pool_size: int | None = None,
    seed: int = 0,
    progress: bool = True,
    candidates: Mapping[str, Sequence[str]] | None = None,
) -> RerankResult:
    """Re-rank each problem's pool; `candidates` (completions per task id) gives sampled pools (the
    first `pool_size`, default all), else the mutants pool of `pool_size` (default 5) is built."""
    from tqdm import tqdm

    rng = random.Random(seed)
    picked = rand = oracle = sizes = passing = 0.0
    used = skipped = 0
    for problem in tqdm(problems, desc="re-ranking", unit="problem", disable=not progress):
        if candidates is None:
            options = pool(problem, pool_size or 5, rng)
        else:
            options = sampled_pool(problem, candidates.get(problem.task_id, ()), pool_size)
        if len(options) < 2:
            skipped += 1
            continue
        used += 1
        good = sum(c.passed for c in options)
        picked += options[judge_pick(judge, problem, options)].passed
        rand += good / len(options)
        oracle += good > 0
        sizes += len(options)
        passing += good
    kind: PoolKind = "mutants" if candidates is None else "sampled"
    if not used:
        return RerankResult(0, float("nan"), float("nan"), float("nan"), 0.0, 0.0, skipped, kind)
    return RerankResult(used, picked / used, rand / used, oracle / used, sizes / used, passing / used, skipped, kind)
