"""`flame judge batch`: judge every row of a JSONL file, losing none.

Every input row ends as a verdict in OUT or as a reject (with its line and reason) in the rejects
file, and the summary reconciles: rows in = results out + rejected. Rows are checked in full when
read; a row that still fails when scored is found by bisecting its chunk and rejected alone.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from flame_data.errors import FlameError
from flame_judge.errors import InvalidRequestError, JudgeError
from flame_judge.validation import check_criteria, check_labels, check_scale, check_text

if TYPE_CHECKING:
    from flame_judge.judge import Judge
    from flame_judge.verdicts import Verdict

V = TypeVar("V")
MODES = ("pairwise", "pointwise", "classify")
CHUNK = 32  # requests per progress step; results are written after each chunk
_TEXT_FIELDS = {
    "pairwise": ("prompt", "a", "b"),
    "pointwise": ("prompt", "response"),
    "classify": ("context", "response"),
}
_BOM = b"\xef\xbb\xbf"


class BadRow(InvalidRequestError):
    """A row that cannot be judged; `reason` is its short kind, counted in the summary."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Row:
    line: int
    mode: str
    request: Any
    id: str | int | float | None


# -- reading and checking rows -----------------------------------------------------------------


def read_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, raw bytes without the line ending) of each non-blank line."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            raw = raw.rstrip(b"\r\n")
            if raw.startswith(_BOM):  # a UTF-8 byte-order mark (first line, or files joined by cat)
                raw = raw[len(_BOM) :]
            if raw.strip():
                yield number, raw


def decode(raw: bytes) -> str:
    """The line as text; invalid UTF-8 is a reject, never replaced silently."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRow(
            "invalid UTF-8",
            f"invalid UTF-8 at byte {exc.start} of the line ({raw[exc.start : exc.start + 4]!r}); "
            "save the file as UTF-8",
        ) from None


def _field(reason: str, check: Callable[[], Any]) -> Any:
    try:
        return check()
    except InvalidRequestError as exc:
        raise BadRow(reason, str(exc)) from None


def parse_row(line: str, default_mode: str, *, number: int = 0) -> Row:
    """The row's mode, request and id, or BadRow with the reason; every field is checked here."""
    from flame_judge.judge import ClassificationRequest, PairwiseRequest, PointwiseRequest

    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadRow("invalid JSON", f"invalid JSON: {exc.msg} at column {exc.colno}") from None
    if not isinstance(row, dict):
        raise BadRow("not an object", f"a row must be a JSON object, got {type(row).__name__}")
    mode = row.get("mode", default_mode)
    if mode not in MODES:
        raise BadRow("field 'mode'", f"field 'mode': {mode!r} is not one of {list(MODES)}")
    where = f"a {mode} row"
    for name in _TEXT_FIELDS[mode]:
        if name not in row:
            raise BadRow("missing field", f"missing field {name!r} (a {mode} row needs {sorted(_TEXT_FIELDS[mode])})")
        value = row[name]
        if not isinstance(value, str):
            raise BadRow(f"field {name!r}", f"field {name!r} must be a string, got {type(value).__name__}")
        _field(f"field {name!r}", lambda n=name, v=value: check_text(where, n, v))
    row_id = row.get("id")
    if row_id is not None:
        if (
            isinstance(row_id, bool)
            or not isinstance(row_id, str | int | float)
            or (isinstance(row_id, float) and not math.isfinite(row_id))  # NaN would make OUT invalid JSON
        ):
            raise BadRow(
                "field 'id'", f"field 'id' must be a string or a number, got {type(row_id).__name__} {row_id!r}"
            )
        if isinstance(row_id, str):
            _field("field 'id'", lambda: check_text(where, "id", row_id))
    criteria = _field("field 'criteria'", lambda: check_criteria(where, row.get("criteria")))
    if mode == "pairwise":
        return Row(number, mode, PairwiseRequest(row["prompt"], row["a"], row["b"], criteria), row_id)
    if mode == "pointwise":
        scale = [1, 5] if row.get("scale") is None else row["scale"]  # null = not given; [] is a reject
        scale = _field("field 'scale'", lambda: check_scale(f"{where}: field 'scale'", scale))
        return Row(number, mode, PointwiseRequest(row["prompt"], row["response"], criteria, scale), row_id)
    labels = ["yes", "no"] if row.get("labels") is None else row["labels"]
    labels = _field("field 'labels'", lambda: check_labels(f"{where}: field 'labels'", labels))
    return Row(number, mode, ClassificationRequest(row["context"], row["response"], labels, criteria), row_id)


# -- output paths ------------------------------------------------------------------------------


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_paths(source: Path, outputs: dict[str, Path]) -> None:
    """Refuse, before anything is opened for writing, outputs that are the input (by any path),
    each other, folders, in a missing folder, or not writable."""
    if not source.exists():
        raise JudgeError(f"input file {source} does not exist")
    if not source.is_file():
        raise JudgeError(f"input {source} is not a file; give a JSONL file")
    named = list(outputs.items())
    for flag, path in named:
        if path.exists() and _same_file(path, source):
            raise JudgeError(
                f"{flag} {path} is the input file {source}: writing it would destroy the input; choose another path"
            )
    for i, (flag, path) in enumerate(named):
        for other_flag, other in named[i + 1 :]:
            if path.absolute() == other.absolute() or (path.exists() and _same_file(path, other)):
                raise JudgeError(f"{flag} and {other_flag} are the same file {path}; give them different paths")
    for flag, path in named:
        if path.is_dir():
            raise JudgeError(f"{flag} {path} is a folder; give a file path such as {path / 'verdicts.jsonl'}")
        folder = path.absolute().parent
        if not folder.exists():
            raise JudgeError(f"{flag} {path}: folder {folder} does not exist; create it first (mkdir -p {folder})")
        if not folder.is_dir():
            raise JudgeError(f"{flag} {path}: {folder} is not a folder")
        try:  # os.access is not enough: root passes it, read-only file systems and /proc do not
            if path.exists():
                with path.open("ab"):
                    pass
            else:
                with tempfile.TemporaryFile(dir=folder):
                    pass
        except OSError as exc:
            raise JudgeError(f"{flag} {path} cannot be written ({exc.strerror}); choose a writable path") from None


# -- judging -----------------------------------------------------------------------------------


def is_row_error(exc: BaseException) -> bool:
    """An error about one request (its labels, scale, length, ...) rather than about the judge:
    flame raises those as ValueErrors (InvalidRequestError, LabelTokenError, InputTooLongError, ...)."""
    return isinstance(exc, FlameError) and isinstance(exc, ValueError)


def score_rows(
    method: Callable[[list[Any]], Sequence[V]], rows: Sequence[Row]
) -> tuple[list[tuple[Row, V]], list[tuple[Row, BaseException]]]:
    """Verdicts for `rows` in one call; when a row error stops it, bisect until each failing row stands alone."""
    try:
        verdicts = method([r.request for r in rows])
    except Exception as exc:
        if not is_row_error(exc):
            raise
        if len(rows) == 1:
            return [], [(rows[0], exc)]
        half = len(rows) // 2
        good, bad = score_rows(method, rows[:half])
        more_good, more_bad = score_rows(method, rows[half:])
        return good + more_good, bad + more_bad
    return list(zip(rows, verdicts, strict=True)), []


def _scoring_reason(exc: BaseException) -> str:
    return f"scoring: {type(exc).__name__}"


class Rejects:
    """The rejects file (one JSON object per rejected row) and the count of each reason."""

    def __init__(self, path: Path, source: Path) -> None:
        self.path = path
        self.source = source
        self.counts: dict[str, int] = {}
        self._fh = path.open("w", encoding="utf-8")

    def add(self, line: int, reason: str, error: str, raw: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        record = {"line": line, "reason": reason, "error": error, "raw": raw}
        self._fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._fh.flush()
        print(f"{self.source}:{line}: rejected: {error}", file=sys.stderr)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def close(self) -> None:
        self._fh.close()


def summary(rows_in: int, written: int, rejects: Rejects) -> str:
    reasons = ", ".join(f"{k}: {v}" for k, v in sorted(rejects.counts.items(), key=lambda kv: (-kv[1], kv[0])))
    line = f"rows in: {rows_in}, scored: {written}, rejected: {rejects.total}"
    return line + (f" ({reasons}; reasons in {rejects.path})" if rejects.total else "")


def run(
    source: Path, out: Path, rejects_path: Path, *, default_mode: str, load: Callable[[], Judge | Any]
) -> tuple[int, int, dict[str, int]]:
    """Judge `source` into `out`; returns (rows in, results written, rejects by reason)."""
    from tqdm import tqdm

    from flame_judge.verdicts import to_dict

    check_paths(source, {"--out": out, "--rejects": rejects_path})
    rejects = Rejects(rejects_path, source)
    good: list[Row] = []
    texts: dict[int, str] = {}
    rows_in = written = 0
    try:
        for number, raw in read_lines(source):
            rows_in += 1
            try:
                text = decode(raw)
                good.append(parse_row(text, default_mode, number=number))
            except BadRow as exc:
                rejects.add(number, exc.reason, str(exc), raw.decode("utf-8", errors="backslashreplace"))
                continue
            texts[number] = text
        with load() as judge, out.open("w", encoding="utf-8") as fh:
            methods: dict[str, Callable[[list[Any]], Sequence[Verdict]]] = {
                "pairwise": judge.pairwise_batch,
                "pointwise": judge.pointwise_batch,
                "classify": judge.classify_batch,
            }
            with tqdm(total=len(good), desc="judging", unit="row", file=sys.stderr) as bar:
                for start in range(0, len(good), CHUNK):
                    chunk = good[start : start + CHUNK]
                    records: dict[int, dict[str, object]] = {}
                    for mode in MODES:
                        part = [r for r in chunk if r.mode == mode]
                        if not part:
                            continue
                        scored, failed = score_rows(methods[mode], part)
                        for r, verdict in scored:
                            records[r.line] = {"line": r.line, "id": r.id, "mode": mode, **to_dict(verdict)}
                        for r, exc in failed:
                            rejects.add(r.line, _scoring_reason(exc), str(exc), texts[r.line])
                    for number in sorted(records):
                        fh.write(json.dumps(records[number], ensure_ascii=False) + "\n")
                    written += len(records)
                    fh.flush()
                    bar.update(len(chunk))
    except BaseException:
        unjudged = rows_in - written - rejects.total
        print(
            f"stopped: {summary(rows_in, written, rejects)}, not judged: {unjudged} (results so far in {out})",
            file=sys.stderr,
        )
        raise
    finally:
        rejects.close()
    print(summary(rows_in, written, rejects))
    print(f"verdicts: {out}")
    return rows_in, written, dict(rejects.counts)
