"""Errors raised by flame-judge, rooted at flame_data's `FlameError`."""

from __future__ import annotations

from flame_data.errors import FlameError, InputTooLongError


class JudgeError(FlameError):
    """A judge could not produce a verdict (a runtime failure, not a bad candidate)."""


class ModelNotFoundError(JudgeError, FileNotFoundError):
    """The model name or path does not resolve to something loadable."""


class ModelLoadError(JudgeError, RuntimeError):
    """The model was found but could not be loaded (corrupt files, out of memory, ...)."""


class LabelTokenError(JudgeError, ValueError):
    """Labels that the tokenizer cannot tell apart by their first token."""


class InvalidRequestError(JudgeError, ValueError):
    """A judge call with arguments of the wrong type or shape."""


class CalibrationError(JudgeError, ValueError):
    """A calibration file that is malformed or was fitted for another judge."""


class CacheError(JudgeError, OSError):
    """The judgment cache file cannot be opened or read (damaged, not a database, no permission)."""


__all__ = [
    "CacheError",
    "CalibrationError",
    "FlameError",
    "InputTooLongError",
    "InvalidRequestError",
    "JudgeError",
    "LabelTokenError",
    "ModelLoadError",
    "ModelNotFoundError",
]
