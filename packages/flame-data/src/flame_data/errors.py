"""Errors raised by flame-data. Caller mistakes also subclass the matching built-in."""

from __future__ import annotations


class FlameError(Exception):
    """Root of every error flame raises on purpose."""


class SchemaError(FlameError, ValueError):
    """A task or example does not satisfy the schema (empty label, unknown output field, ...)."""


class InputTooLongError(FlameError, ValueError):
    """An input cannot fit the token budget even with every field cut to its minimum."""
