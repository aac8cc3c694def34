"""Build a FLAMe mixture: run adapters over their data, render, filter by license, remove
duplicates and contaminated examples, split by a hash of each example's input group, cap per task,
and compute examples-proportional mixing weights. Every removal is counted with its reason."""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from flame_data.adapter import LICENSES, Adapter, LicenseClass, Rejected, Row, Skip
from flame_data.decontam import Decontaminator
from flame_data.errors import FlameError, RowError, SchemaError
from flame_data.format import render_example
from flame_data.readers import collect_bad_lines
from flame_data.registry import adapter as find_adapter
from flame_data.registry import adapters as all_adapters

SPLITS = ("train", "dev", "test")
DEFAULT_CAP = 2**16
PERMISSIVE = ("MIT", "Apache-2.0", "BSD-3-Clause", "CC-BY-4.0")
OnError = Literal["raise", "skip"]


def default_data_dir() -> Path:
    """`FLAME_DATA_DIR`, else ../shared/data from the current directory."""
    return Path(os.environ.get("FLAME_DATA_DIR", "../shared/data")).expanduser()


def _bump(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


def split_of(group: str, *, dev: float = 0.1, test: float = 0.1) -> str:
    """Deterministic split from a hash of the example's input group: one input, one split."""
    bucket = int(hashlib.sha256(group.encode()).hexdigest()[:8], 16) / 2**32
    return "test" if bucket < test else "dev" if bucket < test + dev else "train"


@dataclass
class DatasetCounts:
    dataset: str
    license: str
    license_class: LicenseClass
    included: bool
    rows_read: int = 0
    rows_converted: int = 0
    rows_rejected: dict[str, int] = field(default_factory=dict)  # reason -> rows

    def check(self) -> None:
        if self.rows_read != self.rows_converted + sum(self.rows_rejected.values()):
            raise FlameError(f"{self.dataset}: row counts do not reconcile: {self}")


@dataclass
class TaskCounts:
    task: str
    dataset: str
    task_type: str
    category: str
    license: str
    generated: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # rows without a label for this task
    excluded_by_license: int = 0
    duplicates: int = 0
    decontaminated: dict[str, int] = field(default_factory=dict)
    capped: int = 0
    written: dict[str, int] = field(default_factory=lambda: dict.fromkeys(SPLITS, 0))

    def check(self) -> None:
        removed = self.excluded_by_license + self.duplicates + sum(self.decontaminated.values()) + self.capped
        if self.generated != sum(self.written.values()) + removed:
            raise FlameError(f"{self.task}: example counts do not reconcile: {self}")


@dataclass
class BuildConfig:
    data_dir: Path
    datasets: tuple[str, ...] = ()  # empty = every registered adapter
    licenses: tuple[str, ...] = PERMISSIVE
    cap: int = DEFAULT_CAP
    seed: int = 0
    weights: dict[str, float] = field(default_factory=dict)  # task, dataset or category -> multiplier
    decontaminate: tuple[Path, ...] = ()
    on_error: OnError = "raise"


@dataclass
class Built:
    records: dict[str, list[dict[str, Any]]]  # split -> rows
    datasets: list[DatasetCounts]
    tasks: list[TaskCounts]
    rejects: list[dict[str, Any]]
    mixture: dict[str, float]
    seconds: float


def load_weights(path: Path) -> dict[str, float]:
    """A TOML file `[weights]` table: task, dataset or category name -> weight multiplier."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SchemaError(f"{path}: cannot read the weights file: {exc}") from exc
    table = data.get("weights", data)
    out = {}
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise SchemaError(f"{path}: weight for {key!r} must be a non-negative number, got {value!r}")
        out[str(key)] = float(value)
    return out


def _selected(names: Iterable[str]) -> list[type[Adapter]]:
    names = list(names)
    return [find_adapter(n) for n in names] if names else list(all_adapters().values())


def build(config: BuildConfig, *, log: Callable[[str], None] = lambda s: print(s, file=sys.stderr)) -> Built:
    start = time.perf_counter()
    for spdx in config.licenses:
        if spdx not in LICENSES:
            raise SchemaError(f"unknown license {spdx!r}; known: {', '.join(sorted(LICENSES))}")
    decon = Decontaminator(config.decontaminate)
    records: dict[str, list[dict[str, Any]]] = {s: [] for s in SPLITS}
    dataset_counts: list[DatasetCounts] = []
    task_counts: dict[str, TaskCounts] = {}
    rejects: list[dict[str, Any]] = []
    for cls in _selected(config.datasets):
        included = cls.license in config.licenses
        dc = DatasetCounts(cls.name, cls.license, cls.license_class(), included)
        dataset_counts.append(dc)
        for spec in cls.tasks:
            task_counts[spec.name] = TaskCounts(spec.name, cls.name, spec.task_type, spec.category, cls.license)
        if not cls.tasks:
            why = " ".join(cls.description().split("\n\n")[-1].split())
            log(f"{cls.name}: no tasks: {why}")
            continue
        seen: set[str] = set()
        instance = cls()
        directory = cls.directory(config.data_dir)
        if not directory.is_dir():
            raise FlameError(
                f"{cls.name}: data folder {directory} does not exist; set FLAME_DATA_DIR or --data-dir "
                f"(original: {cls.homepage})"
            )
        rows, unreadable = _read(instance, directory, config.on_error)

        def reject(where: str, reason: str, fld: str | None, dc: DatasetCounts = dc) -> None:
            _reject(config, dc, rejects, where, reason, fld)

        for exc in unreadable:
            dc.rows_read += 1
            reject(f"{cls.name}/{exc.where}", exc.reason, exc.field)
        for row in rows:
            lines = row.lines
            dc.rows_read += len(lines)
            try:
                produced = list(instance.convert(row.data))
                rendered = []
                for item in produced:
                    if isinstance(item, Skip | Rejected):
                        rendered.append((item, None))
                    else:
                        rendered.append((item, render_example(cls.task(item.task), item)))
            except (RowError, SchemaError) as exc:
                reason = exc.reason if isinstance(exc, RowError) else str(exc)
                fld = exc.field if isinstance(exc, RowError) else None
                for where in lines:  # the whole row failed: each of its records is rejected
                    reject(f"{cls.name}/{where}", reason, fld)
                continue
            bad = [item for item, _ in rendered if isinstance(item, Rejected)]
            for item in bad:
                reason = item.error.reason
                if item.cause is not None:  # a good record that only counts with a bad one: name that one
                    reason = f"{reason} (the bad record: {cls.name}/{lines[item.cause]})"
                reject(f"{cls.name}/{lines[item.member]}", reason, item.error.field)
            dc.rows_converted += len(lines) - len(bad)
            for item, text in rendered:
                if isinstance(item, Rejected):
                    continue
                tc = task_counts[item.task]
                if isinstance(item, Skip):
                    _bump(tc.skipped, item.reason)
                    continue
                tc.generated += 1
                if not included:
                    tc.excluded_by_license += 1
                    continue
                assert text is not None
                prompt, target = text
                key = hashlib.sha256(f"{item.task}\0{prompt}\0{target}".encode()).hexdigest()
                if key in seen:
                    tc.duplicates += 1
                    continue
                seen.add(key)
                if decon:
                    why = next((r for _, v in item.inputs if (r := decon.reason(v))), None)
                    if why:
                        _bump(tc.decontaminated, why)
                        continue
                spec = cls.task(item.task)
                group = str(item.metadata.get("group", prompt))
                split = split_of(group)
                records[split].append(
                    {
                        "id": key[:16],
                        "task": item.task,
                        "dataset": cls.name,
                        "task_type": spec.task_type,
                        "category": spec.category,
                        "license": cls.license,
                        "input": prompt,
                        "target": target,
                        # The labelled fields, so training can re-render under a token budget.
                        "fields": json.dumps([list(f) for f in item.inputs], ensure_ascii=False),
                        "target_fields": json.dumps([list(f) for f in item.target], ensure_ascii=False),
                        "group": hashlib.sha256(group.encode()).hexdigest()[:16],
                        "metadata": json.dumps(dict(item.metadata), ensure_ascii=False, default=str),
                    }
                )
        dc.check()
        made = sum(task_counts[s.name].generated for s in cls.tasks)
        note = "" if included else f" (excluded: license {cls.license})"
        log(
            f"{cls.name}: {dc.rows_read} rows, {dc.rows_converted} converted, "
            f"{sum(dc.rows_rejected.values())} rejected, {made} examples{note}"
        )
    _cap(records, task_counts, config)
    for split, rows in records.items():
        for r in rows:
            task_counts[r["task"]].written[split] += 1
    for tc in task_counts.values():
        tc.check()
    mixture = mixing_rates(task_counts.values(), config)
    return Built(records, dataset_counts, list(task_counts.values()), rejects, mixture, time.perf_counter() - start)


def _reject(
    config: BuildConfig, dc: DatasetCounts, rejects: list[dict[str, Any]], where: str, reason: str, fld: str | None
) -> None:
    """Count a rejected source record (or, with on_error="raise", stop the build at it)."""
    if config.on_error == "raise":
        raise RowError(
            f"{reason} (use --on-error skip to write such rows to the rejects file instead)", field=fld, where=where
        )
    _bump(dc.rows_rejected, f"{fld}: {reason}" if fld else reason)
    rejects.append({"dataset": dc.dataset, "where": where, "field": fld, "reason": reason})


def _read(adapter: Adapter, directory: Path, on_error: OnError) -> tuple[list[Row], list[RowError]]:
    """The dataset's rows, and the lines that could not be read. With on_error="skip" a bad line is
    skipped (reading goes on) and a file that cannot be read at all ends the dataset's rows there;
    both come back as errors to reject."""
    name = adapter.name
    rows: list[Row] = []
    if on_error == "raise":
        try:
            return list(adapter.read(directory)), []
        except RowError as exc:
            raise RowError(
                f"{exc.reason} (use --on-error skip to write such rows to the rejects file instead)",
                field=exc.field,
                where=f"{name}/{exc.where}",
            ) from None
    with collect_bad_lines() as bad:
        try:
            rows.extend(adapter.read(directory))
        except RowError as exc:
            bad.append(
                RowError(f"{exc.reason}; the rest of this dataset could not be read", field=exc.field, where=exc.where)
            )
    return rows, bad


def _cap(records: dict[str, list[dict[str, Any]]], counts: dict[str, TaskCounts], config: BuildConfig) -> None:
    """Keep at most `cap` train examples per task (a seeded sample); dev and test are not capped."""
    by_task: dict[str, list[dict[str, Any]]] = {}
    for r in records["train"]:
        by_task.setdefault(r["task"], []).append(r)
    kept: list[dict[str, Any]] = []
    rng = random.Random(config.seed)
    for task, rows in by_task.items():
        if len(rows) > config.cap:
            counts[task].capped += len(rows) - config.cap
            rows = rng.sample(rows, config.cap)
        kept.extend(rows)
    records["train"] = kept


def mixing_rates(counts: Iterable[TaskCounts], config: BuildConfig) -> dict[str, float]:
    """Examples-proportional rates: capped train size x weight (task, else dataset, else category)."""
    sizes = {}
    for tc in counts:
        weight = config.weights.get(tc.task, config.weights.get(tc.dataset, config.weights.get(tc.category, 1.0)))
        sizes[tc.task] = tc.written["train"] * weight
    total = sum(sizes.values())
    return {t: s / total for t, s in sorted(sizes.items()) if s > 0} if total else {}


def save(built: Built, out: Path, config: BuildConfig) -> None:
    """Write the Arrow DatasetDict, stats.json, mixture.json and rejects.jsonl into `out`."""
    try:
        from datasets import Dataset, DatasetDict
    except ImportError as exc:
        raise FlameError("writing a mixture needs the build extra: pip install 'flame-data[build]'") from exc
    from datasets.utils.logging import disable_progress_bar

    disable_progress_bar()
    columns = (
        "id",
        "task",
        "dataset",
        "task_type",
        "category",
        "license",
        "input",
        "target",
        "fields",
        "target_fields",
        "group",
        "metadata",
    )
    data = DatasetDict(
        {split: Dataset.from_dict({c: [r[c] for r in rows] for c in columns}) for split, rows in built.records.items()}
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    # Write beside `out` and swap it in whole, so a failed write never leaves half a mixture and a
    # previous mixture is replaced only once the new one is complete.
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; the mixture gets a plain folder's mode
    try:
        _write(built, data, tmp, config)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
            os.replace(out, old / out.name)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def is_mixture(folder: Path) -> bool:
    """A folder written by `save` (what `flame data build --overwrite` may replace)."""
    return (folder / "stats.json").is_file() and (folder / "data").is_dir()


def _write(built: Built, data: Any, out: Path, config: BuildConfig) -> None:
    data.save_to_disk(str(out / "data"))
    stats = {
        "config": {
            **asdict(config),
            "data_dir": str(config.data_dir),
            "decontaminate": [str(p) for p in config.decontaminate],
        },
        "seconds": round(built.seconds, 1),
        "datasets": [asdict(d) for d in built.datasets],
        "tasks": [asdict(t) for t in built.tasks],
    }
    (out / "stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    (out / "mixture.json").write_text(json.dumps({"rates": built.mixture}, indent=2) + "\n")
    with (out / "rejects.jsonl").open("w") as fh:
        for r in built.rejects:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
