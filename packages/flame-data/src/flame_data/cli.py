"""The `flame` command. Each installed flame package adds its subcommands through the
`flame.commands` entry-point group: a `register(subparsers)` function."""

from __future__ import annotations

import argparse
import sys
import tempfile
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from flame_data.errors import FlameError
from flame_data.mixture import DEFAULT_CAP, PERMISSIVE


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    data = sub.add_parser("data", help="the FLAMe collection: list tasks, build mixtures, show stats")
    cmds = data.add_subparsers(dest="data_command", metavar="COMMAND", required=True)
    p = cmds.add_parser("list", help="print every registered task (type, category, license, source)")
    p.set_defaults(handler=_list)
    p = cmds.add_parser("build", help="build a mixture as a datasets Arrow dataset")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="datasets folder (default: FLAME_DATA_DIR or ../shared/data)",
    )
    p.add_argument("--datasets", nargs="*", default=(), help="only these datasets (default: all)")
    p.add_argument(
        "--licenses",
        default=",".join(PERMISSIVE),
        help="comma-separated SPDX ids to accept, or 'all' (default: the permissive ones)",
    )
    p.add_argument("--cap", type=int, default=DEFAULT_CAP, help="max train examples per task (default 2^16)")
    p.add_argument("--weights", type=Path, default=None, help="TOML: [weights] task/dataset/category = number")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--decontaminate", type=Path, nargs="*", default=(), help="evaluation JSON/JSONL files")
    p.add_argument("--overwrite", action="store_true", help="replace a mixture already in --out (never another folder)")
    p.add_argument(
        "--on-error",
        choices=("raise", "skip"),
        default="raise",
        help="a malformed row stops the build (raise) or goes to rejects.jsonl (skip)",
    )
    p.set_defaults(handler=_build)
    p = cmds.add_parser("stats", help="task table of a built mixture; writes stats.md and mixture.png")
    p.add_argument("mixture", type=Path, help="folder written by flame data build")
    p.set_defaults(handler=_stats)


def _list(args: argparse.Namespace) -> int:
    from flame_data.registry import adapters
    from flame_data.stats import plain_table

    rows = []
    for cls in adapters().values():
        for spec in cls.tasks:
            rows.append((spec.name, spec.task_type, spec.category, cls.license, cls.license_class()))
        if not cls.tasks:
            rows.append((f"{cls.name} (no tasks)", "-", "-", cls.license, cls.license_class()))
    print(plain_table(rows, ("task", "type", "category", "license", "license class")))
    print(f"\n{sum(len(c.tasks) for c in adapters().values())} tasks from {len(adapters())} datasets")
    return 0


def _build(args: argparse.Namespace) -> int:
    from flame_data.adapter import LICENSES
    from flame_data.mixture import BuildConfig, build, default_data_dir, load_weights, save
    from flame_data.stats import load_stats, plain_table, task_rows

    licenses = (
        tuple(LICENSES) if args.licenses == "all" else tuple(x.strip() for x in args.licenses.split(",") if x.strip())
    )
    check_out(args.out, overwrite=args.overwrite)  # before the build: it takes a while
    config = BuildConfig(
        data_dir=args.data_dir or default_data_dir(),
        datasets=tuple(args.datasets),
        licenses=licenses,
        cap=args.cap,
        seed=args.seed,
        weights=load_weights(args.weights) if args.weights else {},
        decontaminate=tuple(args.decontaminate),
        on_error=args.on_error,
    )
    built = build(config)
    save(built, args.out, config)
    stats = load_stats(args.out)
    print(plain_table(task_rows(stats)))
    rows_read = sum(d.rows_read for d in built.datasets)
    rejected = sum(sum(d.rows_rejected.values()) for d in built.datasets)
    written = {s: len(r) for s, r in built.records.items()}
    removed = removal_totals(built)
    print(
        f"\nrows read {rows_read} = converted {rows_read - rejected} + rejected {rejected}"
        + (f" (reasons in {args.out / 'rejects.jsonl'})" if rejected else "")
    )
    print(
        f"examples generated {removed['generated']} = written {sum(written.values())} {written} + "
        f"excluded by license {removed['license']} + duplicates {removed['duplicates']} + "
        f"decontaminated {removed['decontaminated']} + over the cap {removed['capped']}"
    )
    print(f"{len(task_rows(stats))} tasks written to {args.out} in {built.seconds:.1f} s")
    return 0


def check_out(out: Path, *, overwrite: bool) -> None:
    """Refuse an --out that is a file, a non-empty folder (unless --overwrite and it holds a
    mixture), or somewhere nothing can be written, with one line saying what to do."""
    from flame_data.mixture import is_mixture

    if out.exists() and not out.is_dir():
        raise FlameError(f"--out {out} is a file; give a folder for the mixture")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise FlameError(
                f"--out {out} already exists and is not empty; choose a new folder, or pass --overwrite to "
                "replace the mixture in it"
            )
        if not is_mixture(out):
            raise FlameError(
                f"--out {out} holds files that are not a mixture written by flame data build; refusing to "
                "replace them even with --overwrite: choose a new folder"
            )
    base = out.absolute().parent
    while not base.exists():
        base = base.parent
    if not base.is_dir():
        raise FlameError(f"--out {out}: {base} is a file, not a folder")
    try:  # os.access is not enough: root passes it, read-only file systems and /proc do not
        with tempfile.TemporaryFile(dir=base):
            pass
    except OSError as exc:
        raise FlameError(f"--out {out} cannot be written: {base}: {exc.strerror}; choose a writable folder") from None


def removal_totals(built: Any) -> dict[str, int]:
    totals = {"generated": 0, "license": 0, "duplicates": 0, "decontaminated": 0, "capped": 0}
    for t in built.tasks:
        totals["generated"] += t.generated
        totals["license"] += t.excluded_by_license
        totals["duplicates"] += t.duplicates
        totals["decontaminated"] += sum(t.decontaminated.values())
        totals["capped"] += t.capped
    return totals


def _stats(args: argparse.Namespace) -> int:
    from flame_data.stats import load_stats, plain_table, summary, task_rows, write_report

    stats = load_stats(args.mixture)
    print(plain_table(task_rows(stats)))
    parts = summary(stats)
    print("\ntasks by type:", dict(sorted(parts["tasks_by_type"].items())))
    print("tasks by category:", dict(sorted(parts["tasks_by_category"].items())))
    md, png = write_report(stats, args.mixture)
    print(f"wrote {md} and {png}")
    return 0


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
    args.argv = list(sys.argv[1:] if argv is None else argv)  # what provenance records as the command
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
