"""The `flame` command. Each installed flame package adds its subcommands through the
`flame.commands` entry-point group: a `register(subparsers)` function."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import entry_points

from flame_data.errors import FlameError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flame", description="FLAMe autoraters: data, judging, training.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for ep in sorted(entry_points(group="flame.commands"), key=lambda e: e.name):
        try:
            register = ep.load()
        except ImportError as exc:  # one broken package must not take the other commands down
            print(f"flame: warning: command {ep.name!r} ({ep.value}) is unavailable: {exc}", file=sys.stderr)
            continue
        register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    try:
        return int(handler(args) or 0)
    except FlameError as exc:
        print(f"flame: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("flame: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
