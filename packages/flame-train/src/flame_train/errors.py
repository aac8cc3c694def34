"""Errors raised by flame-train, rooted at flame_data's `FlameError`."""

from __future__ import annotations

from flame_data.errors import FlameError


class ConfigError(FlameError, ValueError):
    """A training configuration value that is missing, of the wrong type, or out of range."""


class CheckpointError(FlameError, RuntimeError):
    """A checkpoint that cannot be written, read or resumed from."""


class OutputExistsError(FlameError, FileExistsError):
    """An output path that holds something a command would delete without being asked to."""
