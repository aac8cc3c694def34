"""Reading raw dataset files with their line numbers, so every bad row can be named by file and line.

A line that cannot be read (invalid JSON or UTF-8, a file cut short) is a `RowError` at its line.
Inside `collect_bad_lines()` (what `flame data build --on-error skip` uses) it is recorded and
reading goes on with the next line; elsewhere it is raised.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from flame_data.errors import DataFileError, RowError

BOM = b"\xef\xbb\xbf"
_BROKEN = (EOFError, gzip.BadGzipFile, zlib.error)  # a .gz file cut short or corrupt
_bad_lines: ContextVar[list[RowError] | None] = ContextVar("flame_bad_lines", default=None)


@contextmanager
def collect_bad_lines() -> Iterator[list[RowError]]:
    """Within this block unreadable lines are collected in the list it gives, not raised."""
    found: list[RowError] = []
    token = _bad_lines.set(found)
    try:
        yield found
    finally:
        _bad_lines.reset(token)


def _bad(error: RowError) -> None:
    found = _bad_lines.get()
    if found is None:
        raise error
    found.append(error)


def _open(path: Path) -> io.BufferedIOBase:
    if not path.is_file():
        raise DataFileError(
            f"{path} does not exist; set FLAME_DATA_DIR (or --data-dir) to the folder holding the datasets, "
            "or point this dataset at your own download"
        )
    try:
        return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")
    except OSError as exc:
        raise DataFileError(f"{path} cannot be read: {exc.strerror or exc}") from None


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line) of a file; a .gz cut short ends it with a bad line, not a traceback."""
    number = 0
    with _open(path) as fh:
        try:
            for number, raw in enumerate(fh, start=1):
                yield number, raw[len(BOM) :] if number == 1 and raw.startswith(BOM) else raw
        except (*_BROKEN, OSError) as exc:
            _bad(
                RowError(
                    f"the file is cut short or corrupt after line {number} ({exc}); the rest of it could not be read",
                    where=f"{path.name}:{number + 1}",
                )
            )


def _decode(raw: bytes, where: str) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        _bad(RowError(f"invalid UTF-8 at byte {exc.start} ({raw[exc.start : exc.start + 4]!r})", where=where))
        return None


def jsonl(path: Path) -> Iterator[tuple[str, Any]]:
    """(file:line, parsed object) per non-blank line; an unreadable line is a RowError at that line."""
    for number, raw in _lines(path):
        where = f"{path.name}:{number}"
        line = _decode(raw.removeprefix(BOM), where)  # a BOM also starts lines of files joined with cat
        if line is None or not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            _bad(RowError(f"invalid JSON ({exc.msg} at column {exc.colno})", where=where))
            continue
        yield where, data


def json_file(path: Path) -> Any:
    """A whole JSON document; one that cannot be read raises RowError at its line (it cannot be read in part)."""
    with _open(path) as fh:
        try:
            raw = fh.read()
        except (*_BROKEN, OSError) as exc:
            raise RowError(f"the file is cut short or corrupt ({exc})", where=path.name) from None
    raw = raw.removeprefix(BOM)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RowError(f"invalid UTF-8 ({raw[exc.start : exc.start + 4]!r})", where=f"{path.name}:{line}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RowError(f"invalid JSON ({exc.msg})", where=f"{path.name}:{exc.lineno}") from None


def json_records(path: Path) -> Iterator[tuple[str, Any]]:
    """(file[index], item) for a JSON file holding a list, or (file[key], value) for an object."""
    try:
        data = json_file(path)
    except RowError as exc:
        _bad(exc)
        return
    if isinstance(data, list):
        for i, item in enumerate(data):
            yield f"{path.name}[{i}]", item
    elif isinstance(data, dict):
        for key, item in data.items():
            yield f"{path.name}[{key!r}]", item
    else:
        _bad(RowError(f"expected a JSON list or object, got {type(data).__name__}", where=path.name))


DAMAGED = "\0damaged"  # in a record from `table(keep_damaged=True)`: why it could not be read


def table(
    path: Path, *, delimiter: str = ",", quoting: Any = csv.QUOTE_MINIMAL, keep_damaged: bool = False
) -> Iterator[tuple[str, dict[str, str]]]:
    """(file:line, row dict) for a CSV/TSV file with a header row; a record holding invalid UTF-8 is a
    RowError at its line. With `keep_damaged` such a record is yielded instead, with the reason under
    `DAMAGED` (its text decoded with surrogate escapes), for an adapter whose records only count together
    (an MQM score sums a translation's error rows) to reject it along with the records it belongs with."""
    csv.field_size_limit(sys.maxsize)
    undecodable: dict[int, str] = {}

    def text_lines() -> Iterator[str]:
        for number, raw in _lines(path):
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                undecodable[number] = f"invalid UTF-8 at byte {exc.start} ({raw[exc.start : exc.start + 4]!r})"
                yield raw.decode("utf-8", errors="surrogateescape")  # keeps csv's line count right

    reader = csv.DictReader(text_lines(), delimiter=delimiter, quoting=quoting)
    first = 1  # the first physical line of the next record

    def damage() -> str | None:
        nonlocal first
        bad = [undecodable.pop(n) for n in range(first, reader.line_num + 1) if n in undecodable]
        first = reader.line_num + 1
        return bad[0] if bad else None

    try:
        _ = reader.fieldnames  # reads the header
        if (reason := damage()) is not None:
            _bad(RowError(reason, where=f"{path.name}:{reader.line_num} (the header)"))
        for row in reader:
            where = f"{path.name}:{reader.line_num}"
            reason = damage()
            if reason is None:
                yield where, row
            elif keep_damaged:
                yield where, {**row, DAMAGED: reason}
            else:
                _bad(RowError(reason, where=where))
    except csv.Error as exc:
        _bad(RowError(f"malformed CSV ({exc}); the rest of the file could not be read", where=f"{path.name}:{first}"))


def grouped(records: Iterable[tuple[str, Any]], field: str) -> Iterator[tuple[str, list[Any], tuple[str, ...]]]:
    """Records sharing `field` (e.g. every rated summary of one article) as one group, in first-seen
    order: (where the first record is, the records, where each record is). A record that is not an
    object is its own group."""
    groups: dict[str, tuple[str, list[Any], list[str]]] = {}
    for where, data in records:
        key = f"\0{field}\0{data.get(field)}" if isinstance(data, dict) else where
        group = groups.setdefault(key, (where, [], []))
        group[1].append(data)
        group[2].append(where)
    for where, members, wheres in groups.values():
        yield where, members, tuple(wheres)
