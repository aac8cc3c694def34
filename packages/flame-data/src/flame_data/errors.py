"""Errors raised by flame-data. Caller mistakes also subclass the matching built-in."""

from __future__ import annotations


class FlameError(Exception):
    """Root of every error flame raises on purpose."""


class SchemaError(FlameError, ValueError):
    """A task or example does not satisfy the schema (empty label, unknown output field, ...)."""


class InputTooLongError(FlameError, ValueError):
    """An input cannot fit the token budget even with every field cut to its minimum."""


class RowError(FlameError, ValueError):
    """A raw row that cannot become an example: missing or wrong-typed field, label off the scale.

    Raised by an adapter's `convert` with the field; the builder adds the file and line.
    """

    def __init__(self, reason: str, *, field: str | None = None, where: str | None = None) -> None:
        self.reason = reason
        self.field = field
        self.where = where
        super().__init__(self._message())

    def _message(self) -> str:
        place = f"{self.where}: " if self.where else ""
        field = f"field {self.field!r}: " if self.field else ""
        return f"{place}{field}{self.reason}"

    def at(self, where: str) -> RowError:
        return RowError(self.reason, field=self.field, where=where)


class DataFileError(FlameError, FileNotFoundError):
    """A dataset file that is missing or cannot be read at all (the message names the file)."""


class UnknownNameError(FlameError, KeyError):
    """A dataset or task name that is not registered."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""
