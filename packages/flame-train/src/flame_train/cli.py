"""`flame train`: multitask training from a YAML config with `--set key=value` overrides."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from flame_judge.rater import RaterHead
    from flame_judge.reward import RewardHead
    from flame_train.rater import HeadFit, RowFeatures

OVERWRITE_HELP = "replace --out even when it holds files that are not a flame output (they are deleted)"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("train", help="fine-tune a FLAMe judge on a mixture (see --help-config)")
    p.add_argument("--config", default=None, help="YAML file of TrainConfig options")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one option")
    p.add_argument("--resume", default=None, help="continue from this checkpoint folder")
    p.add_argument("--help-config", action="store_true", help="list every option with its default and meaning")
    p.set_defaults(handler=_train)

    p = sub.add_parser("encode", help="tokenize a mixture's train split once, for `flame train` (encoded: FILE)")
    p.add_argument("--config", default=None, help="YAML TrainConfig (mixture, tasks, max_length, base, both_orders)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one option")
    p.add_argument("--out", required=True, help="safetensors file to write")
    p.add_argument("--workers", type=int, default=None, help="encoding processes (default: CPUs, at most 8)")
    p.set_defaults(handler=_encode)

    p = sub.add_parser("export", help="write a trained LoRA checkpoint as a compact judge (no training state)")
    p.add_argument("checkpoint", help="a flame training checkpoint folder, e.g. runs/flame/final")
    p.add_argument("--out", required=True, help="folder to write; Judge.load(OUT) reads it")
    p.add_argument("--name", required=True, help="the judge's name, the first part of its fingerprint")
    p.add_argument("--dtype", default="float16", help="float16 (default), bfloat16 or float32")
    p.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    p.set_defaults(handler=_export)

    p = sub.add_parser("tailpatch", help="rate tasks by short per-task fine-tunes and write an optimized mixture")
    p.add_argument("--checkpoint", required=True, help="a partially trained flame checkpoint")
    p.add_argument("--out", required=True, help="rates file to write (JSON); a .report.json is written beside it")
    p.add_argument("--config", default=None, help="YAML TrainConfig for the tail patches (mixture, steps, ...)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one option")
    p.add_argument("--tasks", nargs="*", default=(), help="candidate tasks (default: every train task)")
    p.add_argument("--target-tasks", nargs="*", default=(), help="dev tasks to measure on (default: all pairwise)")
    p.add_argument("--bundle-weights", default=None, help='JSON like {"general": 4, "category": 2, "other": 1}')
    p.set_defaults(handler=_tailpatch)


def register_reward(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("reward", help="fit a reward-style (Bradley-Terry) pairwise head on a judge's features")
    steps = p.add_subparsers(dest="step", required=True)
    f = steps.add_parser("features", help="read both responses of sampled pairs with a judge (resumable)")
    f.add_argument("--mixture", required=True, help="a built mixture (flame data build)")
    f.add_argument("--split", default="train", help="train (to fit) or dev (to choose the L2 strength)")
    f.add_argument(
        "--pairs",
        choices=("human", "pool", "suites"),
        default="human",
        help="human: the split's human pairs; pool: the reward model's training pool (human pairs balanced "
        "for length + constructed pairs, train split only); suites: the split's robustness suites",
    )
    f.add_argument(
        "--per-task",
        type=int,
        default=200,
        help="pairs sampled per pairwise task (pool: human pairs per task; suites: pairs per suite; default 200)",
    )
    f.add_argument("--neighbour", type=int, default=600, help="pool: neighbour-prompt pairs")
    f.add_argument("--distractor", type=int, default=600, help="pool: distractor pairs (as many truncated ones)")
    f.add_argument("--safety-repeat", type=int, default=1, help="pool: copies of each XSTest pair")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--model", default=None, help="judge whose hidden states are read (default: the default judge)")
    f.add_argument("--device", default="auto")
    f.add_argument("--layers", type=int, nargs="+", default=[20, 30], help="hidden states read (0 = embeddings)")
    f.add_argument("--max-input-tokens", type=int, default=384, help="per response, instructions included")
    f.add_argument("--out", required=True, help="features folder; rerun with the same options to resume")
    f.set_defaults(handler=_reward_features)
    g = steps.add_parser("fit", help="fit the head and write a judge folder that uses it for pairwise verdicts")
    g.add_argument("--train", required=True, nargs="+", help="features folder(s) of train pairs")
    g.add_argument(
        "--dev", required=True, nargs="+", help="features folder(s) of dev pairs (human pairs, robustness suites)"
    )
    g.add_argument("--judge", required=True, help="the exported judge folder the features were read with")
    g.add_argument("--out", required=True, help="judge folder to write (a copy of --judge plus the head)")
    g.add_argument("--name", required=True, help="the judge's name, the first part of its fingerprint")
    g.add_argument("--no-length", action="store_true", help="leave out the response-length feature")
    g.add_argument(
        "--layers", type=int, nargs="+", help="fit on these of the hidden states the features read (default: all)"
    )
    g.add_argument(
        "--kind-weight",
        action="append",
        default=[],
        metavar="KIND=W",
        help="weigh train pairs of one kind (human, neighbour, refusal, ...; default 1)",
    )
    g.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    g.set_defaults(handler=_reward_fit)
    t = steps.add_parser(
        "train", help="train an end-to-end Bradley-Terry reward model (LoRA, top layers); resumes when rerun"
    )
    t.add_argument("--mixture", required=True, help="a built mixture; pairs come from its train split only")
    t.add_argument("--out", required=True, help="run folder (pool, cache, checkpoint, metrics.csv)")
    t.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one option")
    t.add_argument("--until", type=int, default=None, help="stop (and checkpoint) at this step")
    t.add_argument("--help-config", action="store_true", help="list every option with its default")
    t.set_defaults(handler=_reward_train)
    e = steps.add_parser("export", help="write a run's reward model as a plain *ForSequenceClassification folder")
    e.add_argument("run", help="a `flame reward train` run folder")
    e.add_argument("--out", required=True, help="folder to write (must not exist)")
    e.add_argument("--name", required=True, help="the judge's name, the first part of its fingerprint")
    e.add_argument(
        "--adapter", action="store_true", help="write a compact LoRA checkpoint over the base instead of merged weights"
    )
    e.add_argument(
        "--dtype",
        choices=("float32", "float16", "bfloat16"),
        default="float32",
        help="the adapter's stored precision (--adapter only; float16 halves its size)",
    )
    e.set_defaults(handler=_reward_export)


def register_rater(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from flame_train.rater import RATER_TYPES

    p = sub.add_parser("rater", help="fit pointwise and classification heads on a judge's features")
    steps = p.add_subparsers(dest="step", required=True)
    f = steps.add_parser("features", help="read pointwise and classification rows with a judge (resumable)")
    f.add_argument("--mixture", required=True, help="a built mixture (flame data build)")
    f.add_argument("--split", default="train", help="train (to fit) or dev (to choose the L2 strengths)")
    f.add_argument("--per-task", type=int, default=64, help="rows sampled per task (default 64)")
    f.add_argument(
        "--forged", type=float, default=0.0, help="train: add this share of rows again with a forged verdict line"
    )
    f.add_argument(
        "--benign",
        type=float,
        default=0.0,
        help="train: add this share of rows again with a neutral sentence appended (label unchanged)",
    )
    f.add_argument(
        "--generic",
        type=float,
        default=0.0,
        help="train: render this share of rows as a user's judge.pointwise / judge.classify request",
    )
    f.add_argument(
        "--task-types",
        nargs="+",
        choices=RATER_TYPES,
        default=list(RATER_TYPES),
        help="the verdict types whose tasks are sampled (default both)",
    )
    f.add_argument(
        "--balance-labels", action="store_true", help="sample each task's gold labels in equal shares where possible"
    )
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--model", default=None, help="judge whose hidden states are read (default: the default judge)")
    f.add_argument("--device", default="auto")
    f.add_argument("--layers", type=int, nargs="+", default=[20, 30], help="hidden states read (0 = embeddings)")
    f.add_argument(
        "--max-input-tokens", type=int, default=512, help="the budget of one input (default 512: flame-smol's)"
    )
    f.add_argument("--out", required=True, help="features folder; rerun with the same options to resume")
    f.set_defaults(handler=_rater_features)
    g = steps.add_parser("fit", help="fit the heads and write a judge folder that uses them")
    g.add_argument("--train", required=True, nargs="+", help="features folders of train rows (merged)")
    g.add_argument("--dev", required=True, nargs="+", help="features folders of dev rows (merged)")
    g.add_argument("--judge", required=True, help="the judge folder the features were read with")
    g.add_argument("--out", required=True, help="judge folder to write (a copy of --judge plus the heads)")
    g.add_argument("--name", required=True, help="the judge's name, the first part of its fingerprint")
    g.add_argument("--no-length", action="store_true", help="leave out the response-length feature")
    g.add_argument(
        "--heads",
        nargs="+",
        choices=RATER_TYPES,
        default=list(RATER_TYPES),
        help="the heads to fit (a verdict type left out stays on the label path)",
    )
    g.add_argument(
        "--per-label-set", action="store_true", help="classification: separate scores per label set (none shared)"
    )
    g.add_argument(
        "--keep-others",
        action="store_true",
        help="keep the --judge's own rater head for the verdict types not in --heads (its weights as they are)",
    )
    g.add_argument(
        "--no-temperature", action="store_true", help="skip the temperatures fitted on the dev rows after the L2 choice"
    )
    g.add_argument(
        "--reward-prior",
        action="store_true",
        help="pointwise: shrink the weights toward the --judge's reward head (read here; its weight fitted), not 0",
    )
    g.add_argument(
        "--task-offsets",
        action="store_true",
        help="pointwise: fit the weights with an offset per task (then dropped), so they rank within a task",
    )
    g.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    g.set_defaults(handler=_rater_fit)
    c = steps.add_parser("calibrate", help="fit the temperatures of a judge's rater heads on dev rows (weights kept)")
    c.add_argument("--dev", required=True, nargs="+", help="features folders of dev rows read with the judge (merged)")
    c.add_argument("--judge", required=True, help="the judge folder whose rater head is calibrated")
    c.add_argument("--out", required=True, help="judge folder to write (a copy of --judge with the temperatures)")
    c.add_argument("--name", required=True, help="the judge's name, the first part of its fingerprint")
    c.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    c.set_defaults(handler=_rater_calibrate)


def _rater_features(args: argparse.Namespace) -> int:
    from flame_train.provenance import command_line, describe_mixture
    from flame_train.rater import extract, rater_rows

    rows = rater_rows(
        args.mixture,
        args.split,
        per_task=args.per_task,
        seed=args.seed,
        forged=args.forged,
        generic=args.generic,
        task_types=args.task_types,
        balance_labels=args.balance_labels,
        benign=args.benign,
    )
    kinds: dict[str, int] = {}
    for r in rows:
        kinds[r.kind] = kinds.get(r.kind, 0) + 1
    generic = sum(r.generic for r in rows)
    provenance = {
        "mixture": describe_mixture(args.mixture),
        "split": args.split,
        "per_task": args.per_task,
        "forged": args.forged,
        "benign": args.benign,
        "generic": args.generic,
        "seed": args.seed,
        "task_types": args.task_types,
        "balance_labels": args.balance_labels,
        "rows": len(rows),
        "by_kind": kinds,
        "generic_template": generic,
        "extracted_by": command_line(args.argv),
    }
    by_kind = ", ".join(f"{n} {k}" for k, n in kinds.items()) + (f"; {generic} as generic requests" if generic else "")
    print(f"{len(rows)} rows ({by_kind}) from {len({r.task for r in rows})} tasks of {args.mixture} ({args.split})")
    extract(
        rows,
        args.out,
        model=args.model,
        device=args.device,
        layers=tuple(args.layers),
        max_input_tokens=args.max_input_tokens,
        provenance=provenance,
    )
    return 0


def _rater_fit(args: argparse.Namespace) -> int:
    from pathlib import Path

    from flame_train.errors import ConfigError
    from flame_train.outdir import check_output
    from flame_train.rater import fit_rater, merge_rows, read_rows
    from flame_train.reward import judge_meta

    if (args.reward_prior or args.task_offsets) and "pointwise" not in args.heads:
        raise ConfigError("--reward-prior and --task-offsets shape the pointwise head: add pointwise to --heads")
    judge_meta(Path(args.judge))
    inputs = (Path(args.judge), *map(Path, args.train), *map(Path, args.dev))
    check_output(Path(args.out), inputs=inputs, overwrite=args.overwrite)
    train = merge_rows([read_rows(d) for d in args.train])
    dev = merge_rows([read_rows(d) for d in args.dev])
    _say_read_twice("train", train.provenance)
    _say_read_twice("dev", dev.provenance)
    head, fits = fit_rater(
        train,
        dev,
        length_feature=not args.no_length,
        heads=args.heads,
        per_label_set=args.per_label_set,
        temperature=not args.no_temperature,
        keep=_judge_rater(Path(args.judge)) if args.keep_others else None,
        prior=_judge_reward(Path(args.judge)) if args.reward_prior else None,
        task_offsets=args.task_offsets,
    )
    for task_type, fit in fits.items():
        metric = "Spearman" if task_type == "pointwise" else "balanced accuracy"
        for l2, row in fit.grid.items():
            beta = f"  prior weight {row['prior_weight']:.3f}" if "prior_weight" in row else ""
            print(
                f"{task_type} L2 {float(l2):>6g}: dev log-loss {row['dev_log_loss']:.3f}  dev {metric} "
                f"{row['dev_metric']:.3f}{beta}" + ("  (kept)" if float(l2) == fit.l2 else "")
            )
        if fit.kept:
            print(f"{task_type}: kept from {args.judge} ({_dev_numbers(task_type, fit)})")
        if fit.temperature:
            temps = ", ".join(f"{name} T = {t:.3f}" for name, t in fit.temperature.items())
            print(f"{task_type} temperature on the dev rows: {temps}; dev log-loss {fit.dev_log_loss:.3f}")
    return _write_judge(args, head, fits, train, dev)


def _say_read_twice(name: str, provenance: dict[str, Any] | None) -> None:
    """What `merge_rows` / `merge_features` left out: a task's own row or pair met in two folders."""
    if twice := (provenance or {}).get("read_twice"):
        read = provenance["rows_read"]  # pyright: ignore[reportOptionalSubscript]
        print(f"{name}: {read} read, {twice} of them a task's own row met in two folders (counted once)")


def _dev_numbers(task_type: str, fit: HeadFit) -> str:
    metric = "Spearman" if task_type == "pointwise" else "balanced accuracy"
    if fit.dev_log_loss != fit.dev_log_loss:  # nan: the dev rows given hold none of this verdict type
        return f"no {task_type} dev rows given"
    return f"dev log-loss {fit.dev_log_loss:.3f}, dev {metric} {fit.dev_metric:.3f}"


def _write_judge(
    args: argparse.Namespace, head: RaterHead, fits: dict[str, HeadFit], train: RowFeatures | None, dev: RowFeatures
) -> int:
    """Write --judge with the fitted head to --out (`flame rater fit` and `calibrate`) and say where."""
    from pathlib import Path

    from flame_train.provenance import command_line
    from flame_train.rater import write_rater

    out = write_rater(
        head,
        fits,
        train,
        Path(args.judge),
        Path(args.out),
        name=args.name,
        dev=dev,
        overwrite=args.overwrite,
        log=_say,
        command=command_line(args.argv),
    )
    print(f"wrote {json.loads((out / 'flame.json').read_text())['fingerprint']} to {out}")
    return 0


def _rater_calibrate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from flame_train.outdir import check_output
    from flame_train.rater import fit_rater, merge_rows, read_rows

    judge = Path(args.judge)
    check_output(Path(args.out), inputs=(judge, *map(Path, args.dev)), overwrite=args.overwrite)
    keep = _judge_rater(judge)
    dev = merge_rows([read_rows(d) for d in args.dev])
    _say_read_twice("dev", dev.provenance)
    head, fits = fit_rater(dev, dev, heads=(), keep=keep, length_feature=keep.config.features.length_feature)
    for task_type, fit in fits.items():
        temps = ", ".join(f"{n} T = {t:.3f}" for n, t in (fit.temperature or {}).items()) or "no dev rows"
        print(f"{task_type}: {temps}; {_dev_numbers(task_type, fit)}")
    return _write_judge(args, head, fits, None, dev)


def _judge_reward(judge: Path) -> RewardHead:
    """The reward head `judge` declares in flame.json (for --reward-prior), or a clear error."""
    from flame_judge.loading import declared_reward, read_meta
    from flame_judge.reward import RewardHead
    from flame_train.errors import ConfigError

    declared = declared_reward(judge, read_meta(judge))
    if declared is None:
        raise ConfigError(
            f"--reward-prior: {judge / 'flame.json'} declares no reward head (fit one with flame reward fit)"
        )
    head = RewardHead.load(judge)
    if head.config != declared[0]:
        raise ConfigError(
            f"--reward-prior: {declared[1]} reads {head.config}, {judge / 'flame.json'} says {declared[0]}"
        )
    return head


def _judge_rater(judge: Path) -> RaterHead:
    """The rater head `judge` ships (for --keep-others), or a clear error."""
    from flame_judge.rater import RaterHead, declared_rater
    from flame_train.errors import ConfigError

    if declared_rater(judge) is None:
        raise ConfigError(f"--keep-others: {judge / 'flame.json'} declares no rater head to keep")
    return RaterHead.load(judge)


def _say(message: str) -> None:
    print(message, file=sys.stderr)  # stdout carries the command's JSON result


def _reward_features(args: argparse.Namespace) -> int:
    from flame_train.errors import ConfigError
    from flame_train.provenance import command_line, describe_mixture
    from flame_train.reward import extract, pool_reward_pairs, reward_pairs, suite_reward_pairs
    from flame_train.rm_data import PoolConfig

    if args.pairs == "pool":
        if args.split != "train":
            raise ConfigError("--pairs pool is built from the train split only; use --pairs suites for dev or test")
        pool = PoolConfig(args.per_task, args.neighbour, args.distractor, args.safety_repeat, seed=args.seed)
        pairs = pool_reward_pairs(args.mixture, config=pool)
    elif args.pairs == "suites":
        pairs = suite_reward_pairs(args.mixture, args.split, per_suite=args.per_task, seed=args.seed)
    else:
        pairs = reward_pairs(args.mixture, args.split, per_task=args.per_task, seed=args.seed)
    kinds: dict[str, int] = {}
    for p in pairs:
        kinds[p.kind] = kinds.get(p.kind, 0) + 1
    provenance = {
        "mixture": describe_mixture(args.mixture),
        "split": args.split,
        "pairs_from": args.pairs,
        "per_task": args.per_task,
        "seed": args.seed,
        "pairs": len(pairs),
        "by_kind": kinds,
        "extracted_by": command_line(args.argv),
    }
    if args.pairs == "pool":
        provenance.update(neighbour=args.neighbour, distractor=args.distractor, safety_repeat=args.safety_repeat)
    tasks = len({p.task for p in pairs})
    by_kind = ", ".join(f"{n} {k}" for k, n in kinds.items())
    print(f"{len(pairs)} pairs ({by_kind}) from {tasks} tasks of {args.mixture} ({args.split})")
    extract(
        pairs,
        args.out,
        model=args.model,
        device=args.device,
        layers=tuple(args.layers),
        max_input_tokens=args.max_input_tokens,
        provenance=provenance,
    )
    return 0


def _reward_fit(args: argparse.Namespace) -> int:
    from pathlib import Path

    from flame_train.errors import ConfigError
    from flame_train.outdir import check_output
    from flame_train.provenance import command_line
    from flame_train.reward import fit_head, judge_meta, merge_features, read_features, write_judge

    weights = {}
    for item in args.kind_weight:
        kind, _, value = item.partition("=")
        try:
            weights[kind] = float(value)
        except ValueError:
            raise ConfigError(f"--kind-weight {item!r}: expected KIND=NUMBER, for example refusal=3") from None
    judge_meta(Path(args.judge))  # a wrong --judge or --out fails before any work
    inputs = (Path(args.judge), *map(Path, args.train), *map(Path, args.dev))
    check_output(Path(args.out), inputs=inputs, overwrite=args.overwrite)
    train = merge_features([read_features(d) for d in args.train])
    dev = merge_features([read_features(d) for d in args.dev])
    _say_read_twice("train", train.provenance)
    _say_read_twice("dev", dev.provenance)
    head, result = fit_head(train, dev, length_feature=not args.no_length, kind_weights=weights, layers=args.layers)
    for l2, row in result.grid.items():
        kinds = "  ".join(f"{k} {v:.3f}" for k, v in row["dev_by_kind"].items() if k != "human")
        print(
            f"L2 {float(l2):>7g}: train {row['train_accuracy']:.3f}  dev {row['dev_accuracy']:.3f}  "
            f"dev log-loss {row['dev_log_loss']:.3f}" + (f"  | {kinds}" if kinds else "")
        )
    out = write_judge(
        head,
        result,
        train,
        Path(args.judge),
        Path(args.out),
        name=args.name,
        dev=dev,
        overwrite=args.overwrite,
        log=_say,
        command=command_line(args.argv),
    )
    meta = json.loads((out / "flame.json").read_text())
    print(f"kept L2 {result.l2:g} (dev accuracy {result.dev_accuracy:.3f}); wrote {meta['fingerprint']} to {out}")
    return 0


def _reward_train(args: argparse.Namespace) -> int:
    import dataclasses

    from flame_train.errors import ConfigError
    from flame_train.reward_model import RewardModelConfig, RewardTrainer

    defaults = RewardModelConfig(mixture=args.mixture, output_dir=args.out)
    if args.help_config:
        for f in dataclasses.fields(defaults):
            print(f"{f.name} = {getattr(defaults, f.name)!r}")
        return 0
    changes: dict[str, object] = {}
    for item in args.set:
        key, sep, value = item.partition("=")
        if not sep or key not in RewardModelConfig.names() or key in ("mixture", "output_dir"):
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE with KEY one of {RewardModelConfig.names()[2:]}")
        kind = type(getattr(defaults, key))
        try:
            changes[key] = value.lower() in ("1", "true", "yes") if kind is bool else kind(value)
        except ValueError:
            raise ConfigError(f"--set {item!r}: {value!r} is not a {kind.__name__}") from None
    trainer = RewardTrainer(dataclasses.replace(defaults, **changes))  # type: ignore[arg-type]
    print(json.dumps(trainer.train(until=args.until), indent=2))
    return 0


def _reward_export(args: argparse.Namespace) -> int:
    from flame_train.reward_model import export_reward_model

    out = export_reward_model(args.run, args.out, name=args.name, adapter=args.adapter, dtype=args.dtype)
    print(json.dumps({"judge": str(out), "fingerprint": json.loads((out / "flame.json").read_text())["fingerprint"]}))
    return 0


def _train(args: argparse.Namespace) -> int:
    from flame_train.config import TrainConfig, describe

    if args.help_config:
        print(describe())
        return 0
    config = TrainConfig.load(args.config, args.set)
    from flame_train.trainer import Trainer

    trainer = Trainer(config)
    if args.resume:
        trainer.resume(args.resume)
    result = trainer.train()
    result.pop("losses")
    if trainer.main:  # one summary, not one per process
        print(json.dumps(result, indent=2), flush=True)
    trainer.close()
    return 0


def _encode(args: argparse.Namespace) -> int:
    from flame_train.config import TrainConfig
    from flame_train.encoded import encode_train

    encode_train(TrainConfig.load(args.config, args.set), args.out, workers=args.workers)
    return 0


def _export(args: argparse.Namespace) -> int:
    from flame_train.export import export_checkpoint
    from flame_train.provenance import command_line

    out = export_checkpoint(
        args.checkpoint,
        args.out,
        name=args.name,
        dtype=args.dtype,
        overwrite=args.overwrite,
        log=_say,
        command=command_line(args.argv),
    )
    size = sum(f.stat().st_size for f in out.iterdir())
    print(json.dumps({"judge": str(out), "bytes": size}))
    return 0


def _tailpatch(args: argparse.Namespace) -> int:
    from pathlib import Path

    from flame_train.config import TrainConfig
    from flame_train.tailpatch import BundleWeights, run_tailpatch, write_report

    config = TrainConfig.load(args.config, args.set)
    weights = BundleWeights(**json.loads(args.bundle_weights)) if args.bundle_weights else BundleWeights()
    report = run_tailpatch(
        args.checkpoint, config, candidates=args.tasks, target_tasks=args.target_tasks, weights=weights
    )
    write_report(report, Path(args.out))
    print(json.dumps({"bundles": report.bundles, "rates": args.out}, indent=2))
    return 0
