"""Decontamination against evaluation files: exact normalized-text matches and long n-gram overlap."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

NGRAM = 13  # words; the GPT-3 paper's choice for train/test overlap
MIN_CHARS = 20  # shorter eval strings (labels, ids) are not evidence of contamination
_NON_WORD = re.compile(r"\W+")


def normalize(text: str) -> str:
    return _NON_WORD.sub(" ", text.lower()).strip()


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if len(value) >= MIN_CHARS:
            yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _load(path: Path) -> Iterator[str]:
    opener = __import__("gzip").open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        body = fh.read()
    try:
        yield from _strings(json.loads(body))
    except json.JSONDecodeError:
        for number, line in enumerate(body.splitlines(), start=1):
            if line.strip():
                try:
                    yield from _strings(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{path}:{number}: not JSON or JSON lines ({exc.msg})") from None


def _ngrams(words: list[str]) -> Iterator[int]:
    for i in range(len(words) - NGRAM + 1):
        yield hash(" ".join(words[i : i + NGRAM]))


class Decontaminator:
    """Says why a text is contaminated by the evaluation files (or None)."""

    def __init__(self, files: Iterable[Path]) -> None:
        self.exact: set[str] = set()
        self.grams: set[int] = set()
        self.files = [Path(f) for f in files]
        for path in self.files:
            for text in _load(path):
                norm = normalize(text)
                self.exact.add(norm)
                self.grams.update(_ngrams(norm.split()))
        self._memo: dict[str, str | None] = {}

    def __bool__(self) -> bool:
        return bool(self.files)

    def reason(self, text: str) -> str | None:
        if text in self._memo:
            return self._memo[text]
        norm = normalize(text)
        found: str | None = None
        if norm and norm in self.exact:
            found = "exact match of an evaluation text"
        elif any(g in self.grams for g in _ngrams(norm.split())):
            found = f"{NGRAM}-gram overlap with an evaluation text"
        self._memo[text] = found
        return found
