"""`flame judge ...`: verdicts from the command line, one at a time or from a JSONL file."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flame_judge.batch import MODES
from flame_judge.errors import JudgeError

if TYPE_CHECKING:
    from flame_judge.judge import Judge
    from flame_judge.verdicts import Verdict


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    judge = sub.add_parser("judge", help="judge responses with a local FLAMe model")
    modes = judge.add_subparsers(dest="judge_command", metavar="MODE", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--model",
            default=None,
            help="model spec: a name, local directory, org/name (HF cache), vllm:PATH, or http://HOST:PORT/v1#NAME "
            "(default: the default judge)",
        )
        p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
        p.add_argument("--no-cache", action="store_true", help="do not read or write the judgment cache")
        p.add_argument("--cache", default=None, help="judgment cache file (default: in FLAME_CACHE_DIR)")
        p.add_argument(
            "--max-input-tokens",
            type=int,
            default=None,
            help="truncate inputs to this many tokens (default: the judge's own: 2048 for label scoring, "
            "a reward head's fit budget, 384 for flame-smol)",
        )

    p = modes.add_parser("pairwise", help="which of two responses is better")
    p.add_argument("--prompt", required=True)
    p.add_argument("--a", required=True, help="response A")
    p.add_argument("--b", required=True, help="response B")
    p.add_argument("--criteria", default=None, help="what to judge, e.g. helpfulness")
    p.add_argument("--json", action="store_true", help="print the verdict as JSON")
    common(p)
    p.set_defaults(handler=_run_single)

    p = modes.add_parser("pointwise", help="score one response on a scale")
    p.add_argument("--prompt", required=True)
    p.add_argument("--response", required=True)
    p.add_argument("--criteria", default=None)
    p.add_argument("--scale", type=int, nargs=2, default=(1, 5), metavar=("LOW", "HIGH"))
    p.add_argument("--json", action="store_true")
    common(p)
    p.set_defaults(handler=_run_single)

    p = modes.add_parser("classify", help="pick a label for a response given a context")
    p.add_argument("--context", required=True)
    p.add_argument("--response", required=True)
    p.add_argument("--labels", default="yes,no", help="comma-separated labels (default: yes,no)")
    p.add_argument("--criteria", default=None)
    p.add_argument("--json", action="store_true")
    common(p)
    p.set_defaults(handler=_run_single)

    p = modes.add_parser("batch", help="judge every row of a JSONL file")
    p.add_argument("input", type=Path, help="JSONL: one request per line (see the flame-judge README)")
    p.add_argument("--out", type=Path, required=True, help="JSONL of verdicts, one per scored row")
    p.add_argument("--rejects", type=Path, default=None, help="JSONL of rejected rows (default: OUT.rejects.jsonl)")
    p.add_argument("--mode", choices=MODES, default="pairwise", help="mode for rows without a 'mode' field")
    common(p)
    p.set_defaults(handler=_run_batch)


def register_eval(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("eval", help="measure a judge against human labels, beside baselines")
    p.add_argument(
        "mode",
        nargs="?",
        choices=("benchmark", "bias", "rerank", "robustness"),
        default="benchmark",
        help="benchmark (default): agreement with human labels; bias: CoBBLEr-style probes; "
        "rerank: HumanEval code re-ranking; robustness: pairwise suites where length, fluency and "
        "verdict-looking lines mislead (from the mixture's --split)",
    )
    p.add_argument("--per-suite", type=int, default=48, help="robustness: pairs per suite (default 48)")
    p.add_argument("--humaneval", default=None, help="rerank: HumanEval.jsonl(.gz) (default: in FLAME_DATA_DIR)")
    p.add_argument("--problems", type=int, default=164, help="rerank: first N problems (default all 164)")
    p.add_argument(
        "--pool-size", type=int, default=None, help="rerank: candidates per problem (default: mutants 5, sampled all)"
    )
    p.add_argument(
        "--generate",
        type=int,
        default=0,
        metavar="N",
        help="rerank: pools of N programs sampled from --generator (the paper's setting; written to "
        "OUT/candidates.jsonl for reuse)",
    )
    p.add_argument("--generator", default="base", help="rerank: the model that samples programs (default: base)")
    p.add_argument(
        "--candidates",
        type=Path,
        default=None,
        help='rerank: pools from a JSONL of {"task_id", "completion"} rows (several per problem)',
    )
    p.add_argument("--items", type=int, default=64, help="bias: items probed per verdict type (default 64)")
    p.add_argument(
        "--self-preference",
        action="store_true",
        help="bias: also run the egocentric probe (the judge's own model generates answers; slow on CPU)",
    )
    p.add_argument("--model", default=None, help="judge to evaluate (default: the default judge)")
    p.add_argument("--mixture", default=None, help="a built mixture: evaluate on its --split")
    p.add_argument("--split", default="test")
    p.add_argument("--jsonl", nargs="*", default=(), help="benchmark files in the plain JSONL format")
    p.add_argument("--tasks", nargs="*", default=(), help="only these tasks of the mixture")
    p.add_argument(
        "--task-types",
        nargs="*",
        default=(),
        choices=("pairwise", "pointwise", "classification"),
        help="only these task types (the sample is drawn first, so its items match a full run's)",
    )
    p.add_argument("--per-task", type=int, default=256, help="items sampled per task (default 256)")
    p.add_argument("--baseline-model", default="base", help="zero-shot baseline model ('none' to skip)")
    p.add_argument("--out", type=Path, default=Path("eval"), help="report folder")
    p.add_argument("--device", default="auto")
    p.add_argument("--no-cache", action="store_true")
    p.add_argument("--cache", default=None)
    p.add_argument(
        "--max-input-tokens", type=int, default=None, help="token budget (default: the judge's own, as flame judge)"
    )
    p.set_defaults(handler=_run_eval)


def _run_eval(args: argparse.Namespace) -> int:
    from flame_judge.benchmark import (
        load_jsonl_items,
        load_mixture_items,
    )
    from flame_judge.eval_report import markdown, write

    if args.mode == "rerank":
        return _run_rerank(args)
    if not args.mixture and not args.jsonl:
        raise JudgeError("give --mixture DIR (a built collection) and/or --jsonl FILE ...")
    if args.mode == "bias":
        return _run_bias(args)
    if args.mode == "robustness":
        return _run_robustness(args)
    items = (
        load_mixture_items(
            args.mixture, split=args.split, tasks=args.tasks, per_task=args.per_task, task_types=args.task_types
        )
        if args.mixture
        else []
    )
    for path in args.jsonl:
        more, rejects = load_jsonl_items(path)
        for r in rejects:
            print(f"{r['file']}:{r['line']}: rejected: {r['error']}", file=sys.stderr)
        items += more
    if not items:
        raise JudgeError("no items to evaluate")
    runs = _judged_runs(args, items)
    from flame_judge.eval_report import build_report

    report = build_report(items, runs)
    written = write(report, args.out)
    print(markdown(report))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _judged_runs(args: argparse.Namespace, items: Sequence[Any]) -> list[Any]:
    """The judge's run over `items`, then the zero-shot baseline model's, longer-wins and random."""
    from flame_judge.benchmark import baseline_longer, baseline_random, judge_items
    from flame_judge.judge import Judge

    cache: bool | str = False if args.no_cache else (args.cache or True)
    runs = []
    with Judge.load(args.model, device=args.device, cache=cache, max_input_tokens=args.max_input_tokens) as judge:
        evaluated = judge.fingerprint
        runs.append(judge_items(judge, items, name=judge.name))
    if args.baseline_model != "none":
        with Judge.load(
            args.baseline_model, device=args.device, cache=cache, max_input_tokens=args.max_input_tokens
        ) as base:
            if base.fingerprint == evaluated:
                print(f"note: {base.name} is the evaluated model, so it is its own zero-shot baseline", file=sys.stderr)
            else:
                runs.append(judge_items(base, items, name=f"zero-shot {base.name}"))
    return [*runs, baseline_longer(items), baseline_random(items)]


def _run_robustness(args: argparse.Namespace) -> int:
    from flame_data.constructed import read_split
    from flame_judge.robustness import build_suites, markdown, suite_table, write

    if not args.mixture:
        raise JudgeError("robustness suites are built from a collection: give --mixture DIR")
    items = build_suites(read_split(args.mixture, args.split), per_suite=args.per_suite)
    if not items:
        raise JudgeError(f"the {args.split} split of {args.mixture} gave no robustness pairs")
    runs = _judged_runs(args, items)
    table = suite_table(items, runs)
    written = write(table, args.out, split=args.split)
    print(markdown(table, split=args.split))
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _run_bias(args: argparse.Namespace) -> int:
    import json
    import random

    from flame_judge.benchmark import load_jsonl_items, load_mixture_items
    from flame_judge.bias import COBBLER, cobbler_average, own_answers, run_probes
    from flame_judge.judge import Judge

    items = (
        load_mixture_items(
            args.mixture, split=args.split, tasks=args.tasks, per_task=args.per_task, task_types=args.task_types
        )
        if args.mixture
        else []
    )
    for path in args.jsonl:
        items += load_jsonl_items(path)[0]
    # Per verdict type, a seeded sample of --items among the shortest items keeps the probes affordable
    # on a CPU.
    probed = []
    for task_type in ("pairwise", "pointwise", "classification"):
        pool = sorted(
            (i for i in items if i.task_type == task_type and (task_type != "pairwise" or i.gold in ("A", "B"))),
            key=lambda i: sum(len(v) for _, v in i.fields),
        )
        probed += random.Random(0).sample(pool[: max(args.items * 4, args.items)], min(args.items, len(pool)))
    if not any(i.task_type == "pairwise" for i in probed):
        raise JudgeError("no pairwise items with a human winner to probe")
    cache: bool | str = False if args.no_cache else (args.cache or True)
    with Judge.load(args.model, device=args.device, cache=cache, max_input_tokens=args.max_input_tokens) as judge:
        # Egocentric bias: the tested judge's own model writes the answers it is then asked to judge.
        generate = own_answers(judge) if args.self_preference else None
        results = run_probes(judge, probed, generate=generate)
        name, kind = judge.name, judge.kind
    args.out.mkdir(parents=True, exist_ok=True)
    average = cobbler_average(results)
    rows = [{"probe": r.probe, "rate": r.rate, "n": r.n, "description": r.description, "note": r.note} for r in results]
    report = {"model": name, "kind": kind, "probes": rows, "cobbler_average": average}
    (args.out / "bias.json").write_text(json.dumps(report, indent=2) + "\n")
    table = ["| probe | rate | items | what it measures | note |", "|---|---|---|---|---|"]
    table += [
        f"| {r.probe} | {'n/a' if r.rate is None else f'{r.rate:.3f}'} | {r.n} | {r.description} | {r.note} |"
        for r in results
    ]
    measured = sum(r.rate is not None for r in results if r.probe in COBBLER)
    table.append(
        f"| **CoBBLEr average** | {'n/a' if average is None else f'{average:.3f}'} | | "
        f"mean of the {measured} CoBBLEr probes measured (n/a and injection left out) | |"
    )
    (args.out / "bias.md").write_text(f"# bias probes: {name} ({kind})\n\n" + "\n".join(table) + "\n")
    _bias_chart(results, name, args.out / "bias.png")
    print("\n".join(table))
    return 0


def _run_rerank(args: argparse.Namespace) -> int:
    import json
    import os
    from dataclasses import asdict

    from flame_judge.judge import Judge
    from flame_judge.rerank import generate_candidates, load_candidates, load_problems, rerank

    default = Path(os.environ.get("FLAME_DATA_DIR", "../shared/data")) / "humaneval" / "HumanEval.jsonl.gz"
    path = Path(args.humaneval) if args.humaneval else default
    if not path.is_file():
        raise JudgeError(f"{path} does not exist; pass --humaneval PATH to HumanEval.jsonl.gz")
    if args.generate and args.candidates:
        raise JudgeError("give --generate N or --candidates FILE, not both")
    problems = load_problems(path)[: args.problems]
    cache: bool | str = False if args.no_cache else (args.cache or True)
    args.out.mkdir(parents=True, exist_ok=True)
    candidates = None
    source = "mutants: the canonical solution and single-site AST mutants (the oracle is 1.0 by construction)"
    if args.candidates:
        if not args.candidates.is_file():
            raise JudgeError(f"--candidates {args.candidates} does not exist")
        candidates = load_candidates(args.candidates)
        source = f"sampled: completions from {args.candidates}"
    elif args.generate:
        with Judge.load(args.generator, device=args.device, cache=False) as generator:
            candidates = generate_candidates(generator.backend.loaded, problems, args.generate)
            source = f"sampled: {args.generate} programs per problem from {generator.name} (T=0.8, top-p 0.95)"
        with (args.out / "candidates.jsonl").open("w", encoding="utf-8") as fh:
            for task_id, completions in candidates.items():
                for completion in completions:
                    fh.write(json.dumps({"task_id": task_id, "completion": completion}) + "\n")
    with Judge.load(args.model, device=args.device, cache=cache, max_input_tokens=args.max_input_tokens) as judge:
        result = rerank(judge, problems, pool_size=args.pool_size, candidates=candidates)
        name = judge.name
    (args.out / "rerank.json").write_text(
        json.dumps({"model": name, "source": source, **asdict(result)}, indent=2) + "\n"
    )
    lines = [
        f"code re-ranking on {result.problems} HumanEval problems ({result.skipped} without two candidates "
        f"skipped), pools of {result.mean_pool:.1f} candidates ({result.mean_passing:.1f} passing on average)",
        f"pool: {source}",
        "",
        "| pick | pass@1 |",
        "|---|---|",
        f"| judge ({name}) | {result.judge_pass_at_1:.3f} |",
        f"| random | {result.random_pass_at_1:.3f} |",
        f"| oracle | {result.oracle_pass_at_1:.3f} |",
    ]
    (args.out / "rerank.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


def _bias_chart(results: Sequence[Any], name: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.8))
    shown = [r for r in results if r.rate is not None]  # n/a probes have no bar
    ax.bar([r.probe for r in shown], [r.rate for r in shown], color="#4f81bd")
    ax.tick_params(axis="x", labelrotation=30)
    ax.set_ylim(0, 1)
    ax.set_ylabel("bias rate (lower is better)")
    ax.set_title(f"bias probes: {name} (salience: 0.5 is length-blind)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _load(args: argparse.Namespace) -> Judge:
    from flame_judge.judge import Judge

    cache: bool | str = False if args.no_cache else (args.cache or True)
    return Judge.load(args.model, device=args.device, cache=cache, max_input_tokens=args.max_input_tokens)


def _run_single(args: argparse.Namespace) -> int:
    from flame_judge.verdicts import to_dict

    with _load(args) as judge:
        verdict: Verdict
        if args.judge_command == "pairwise":
            verdict = judge.pairwise(args.prompt, args.a, args.b, criteria=args.criteria)
        elif args.judge_command == "pointwise":
            verdict = judge.pointwise(args.prompt, args.response, criteria=args.criteria, scale=tuple(args.scale))
        else:
            labels = [x.strip() for x in args.labels.split(",") if x.strip()]
            verdict = judge.classify(args.context, args.response, labels=labels, criteria=args.criteria)
    print(json.dumps(to_dict(verdict), indent=2) if args.json else describe(verdict))
    return 0


def describe(verdict: Verdict) -> str:
    """A short human-readable account of a verdict."""
    from flame_judge.verdicts import PairwiseVerdict, PointwiseVerdict

    source = "from cache" if verdict.cached else "computed"
    if verdict.truncated:
        source += f"\n  truncated to fit the token budget: {', '.join(verdict.truncated)}"
    crit = verdict.criteria or "overall quality"
    if isinstance(verdict, PairwiseVerdict):
        head = "tie" if verdict.winner == "tie" else f"{verdict.winner} is better"
        if verdict.kind == "reward":
            how = "  each response scored alone by the reward head: no presentation order to bias it\n"
        else:
            orders = "orders agree" if verdict.order_consistent else "orders DISAGREE (position bias)"
            how = (
                f"  A shown first: P(A) = {verdict.prob_a_first:.3f}; B shown first: P(A) = "
                f"{verdict.prob_a_second:.3f}; {orders}\n"
            )
        return (
            f"verdict: {head}  P(A better) = {verdict.prob_a:.3f}\n"
            + how
            + f"  criteria: {crit}; model: {verdict.fingerprint}; {source}"
        )
    if isinstance(verdict, PointwiseVerdict):
        dist = ", ".join(f"{k}: {v:.2f}" for k, v in verdict.distribution.items())
        how = "  read by the rater head from the judge's hidden states\n" if verdict.kind == "head" else ""
        return (
            f"score: {verdict.score:.2f} on {verdict.scale[0]}-{verdict.scale[1]} "
            f"(most likely {verdict.most_likely})\n"
            f"  distribution: {dist}\n{how}  criteria: {crit}; model: {verdict.fingerprint}; {source}"
        )
    probs = ", ".join(f"{k}: {v:.3f}" for k, v in verdict.probabilities.items())
    how = "  read by the rater head from the judge's hidden states\n" if verdict.kind == "head" else ""
    return f"label: {verdict.label}\n  probabilities: {probs}\n{how}  model: {verdict.fingerprint}; {source}"


# -- batch -------------------------------------------------------------------------------------


def _run_batch(args: argparse.Namespace) -> int:
    from flame_judge.batch import run

    rejects = args.rejects or args.out.with_name(args.out.stem + ".rejects.jsonl")
    run(args.input, args.out, rejects, default_mode=args.mode, load=lambda: _load(args))
    return 0
