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
