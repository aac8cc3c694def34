"""`flame train`: multitask training from a YAML config with `--set key=value` overrides."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("train", help="fine-tune a FLAMe judge on a mixture (see --help-config)")
    p.add_argument("--config", default=None, help="YAML file of TrainConfig options")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one option")
    p.add_argument("--resume", default=None, help="continue from this checkpoint folder")
    p.add_argument("--help-config", action="store_true", help="list every option with its default and meaning")
    p.set_defaults(handler=_train)

    p = sub.add_parser("tailpatch", help="rate tasks by short per-task fine-tunes and write an optimized mixture")
    p.add_argument("--checkpoint", required=True, help="a partially trained flame checkpoint")
    p.add_argument("--out", required=True, help="rates file to write (JSON); a .report.json is written beside it")
    p.add_argument("--config", default=None, help="YAML TrainConfig for the tail patches (mixture, steps, ...)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override one option")
    p.add_argument("--tasks", nargs="*", default=(), help="candidate tasks (default: every train task)")
    p.add_argument("--target-tasks", nargs="*", default=(), help="dev tasks to measure on (default: all pairwise)")
    p.add_argument("--bundle-weights", default=None, help='JSON like {"general": 4, "category": 2, "other": 1}')
    p.set_defaults(handler=_tailpatch)


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
    print(json.dumps(result, indent=2))
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
