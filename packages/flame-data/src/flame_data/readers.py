"""Reading raw dataset files with their line numbers, so every bad row can be named by file and line."""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from flame_data.errors import RowError


def _open(path: Path) -> IO[str]:
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist; set FLAME_DATA_DIR (or --data-dir) to the folder holding the datasets, "
            "or point this dataset at your own download"
        )
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def jsonl(path: Path) -> Iterator[tuple[str, Any]]:
    """(file:line, parsed object) per non-blank line; a line that is not JSON raises RowError."""
    with _open(path) as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                yield where, json.loads(line)
            except json.JSONDecodeError as exc:
                raise RowError(f"invalid JSON ({exc.msg} at column {exc.colno})", where=where) from None


def json_file(path: Path) -> Any:
    with _open(path) as fh:
        try:
            return json.load(fh)
        except json.JSONDecodeError as exc:
            raise RowError(f"invalid JSON ({exc.msg})", where=f"{path.name}:{exc.lineno}") from None


def json_records(path: Path) -> Iterator[tuple[str, Any]]:
    """(file[index], item) for a JSON file holding a list, or (file[key], value) for an object."""
    data = json_file(path)
    if isinstance(data, list):
        for i, item in enumerate(data):
            yield f"{path.name}[{i}]", item
    elif isinstance(data, dict):
        for key, item in data.items():
            yield f"{path.name}[{key!r}]", item
    else:
        raise RowError(f"expected a JSON list or object, got {type(data).__name__}", where=path.name)


def table(
    path: Path, *, delimiter: str = ",", quoting: Any = csv.QUOTE_MINIMAL
) -> Iterator[tuple[str, dict[str, str]]]:
    """(file:line, row dict) for a CSV/TSV file with a header row."""
    csv.field_size_limit(sys.maxsize)
    with _open(path) as fh:
        reader = csv.DictReader(fh, delimiter=delimiter, quoting=quoting)
        for row in reader:
            yield f"{path.name}:{reader.line_num}", row


def grouped(records: Iterable[tuple[str, Any]], field: str) -> Iterator[tuple[str, list[Any]]]:
    """Records sharing `field` (e.g. every rated summary of one article) as one group, in first-seen
    order, named by where the group's first record is; a record that is not an object is its own group."""
    groups: dict[str, tuple[str, list[Any]]] = {}
    for where, data in records:
        key = str(data.get(field)) if isinstance(data, dict) else where
        groups.setdefault(key, (where, []))[1].append(data)
    yield from groups.values()
