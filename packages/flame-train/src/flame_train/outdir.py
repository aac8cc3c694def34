"""Output folders that commands replace whole (`flame export`, `flame reward fit`): never a user's files.

A folder is written beside `--out` under a private temporary name and swapped in at the end, so a
failure leaves the old output as it was. What `--out` may already hold: nothing, or a flame judge
(a `flame.json` with a fingerprint), which is replaced and named in the log; anything else (a
training checkpoint included) only with `--overwrite`. An output that is one of the command's own
inputs, holds one or sits inside one is refused always.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from flame_train.errors import OutputExistsError

TRAINING_STATE = "trainer_state.json"  # what `flame train` writes beside a checkpoint's weights


def flame_output(folder: Path) -> str | None:
    """The fingerprint in `folder/flame.json` when the folder is a flame judge or checkpoint, else None."""
    try:
        meta = json.loads((folder / "flame.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    fingerprint = meta.get("fingerprint") if isinstance(meta, dict) else None
    return fingerprint if isinstance(fingerprint, str) and fingerprint else None


def _overlaps(a: Path, b: Path) -> bool:
    return a == b or a.is_relative_to(b) or b.is_relative_to(a)


def check_output(out: Path, *, inputs: Sequence[Path] = (), overwrite: bool = False) -> str | None:
    """Refuse an `out` the command must not replace; say what it will replace (None: nothing).

    Cheap and side-effect free, so a command calls it before any slow work.
    """
    target = out.resolve()
    for source in inputs:
        if _overlaps(target, source.resolve()):
            raise OutputExistsError(
                f"--out {out} overlaps the input {source}: writing it would destroy what is being read; "
                "choose another --out"
            )
    if not out.exists() and not out.is_symlink():
        return None
    if out.is_symlink() or not out.is_dir():
        if not overwrite:
            raise OutputExistsError(f"--out {out} exists and is not a folder; remove it or pass --overwrite")
        return f"replacing the file {out}"
    names = sorted(p.name for p in out.iterdir())
    if not names:
        return None
    shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
    fingerprint = flame_output(out)
    if TRAINING_STATE in names:
        if not overwrite:
            raise OutputExistsError(
                f"--out {out} is a training checkpoint ({TRAINING_STATE}); replacing it would lose the state "
                "`flame train --resume` needs. Choose another --out, or pass --overwrite to replace it"
            )
    elif fingerprint is not None:
        return f"replacing the flame judge {fingerprint} at {out} ({len(names)} entries: {shown})"
    if not overwrite:
        raise OutputExistsError(
            f"--out {out} is a folder that is not a flame output ({len(names)} entries: {shown}); it would be "
            "deleted and replaced. Choose an empty or new folder, or pass --overwrite to replace it"
        )
    return f"replacing {out} (--overwrite; {len(names)} entries: {shown})"


def _fresh(out: Path, kind: str) -> Path:
    """A new empty folder beside `out` that no one else uses (mkdir, so the umask applies)."""
    while True:
        path = out.parent / f".{out.name}.{secrets.token_hex(4)}.{kind}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path


@contextmanager
def replacing(
    out: Path, *, inputs: Sequence[Path] = (), overwrite: bool = False, log: Callable[[str], object] = print
) -> Iterator[Path]:
    """A fresh temporary folder beside `out`; on success it becomes `out` (the old one removed last)."""
    plan = check_output(out, inputs=inputs, overwrite=overwrite)
    if plan:
        log(plan)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = _fresh(out, "tmp")
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    check_output(out, inputs=inputs, overwrite=overwrite)  # it may have changed meanwhile
    old = None
    if out.is_symlink() or out.exists():
        old = _fresh(out, "old") / "old"
        out.rename(old)
    tmp.rename(out)
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old.parent)
        else:
            old.unlink()
            old.parent.rmdir()
