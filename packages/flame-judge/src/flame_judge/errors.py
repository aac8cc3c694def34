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


class UnsupportedModelError(ModelLoadError, ValueError):
    """A model flame cannot score correctly (an output path it cannot reproduce, a kind an engine lacks)."""


class ModelSpecError(ModelNotFoundError, ValueError):
    """A model spec (`vllm:PATH`, `http://host:port/v1#NAME`, ...) that does not parse."""


class JudgeUnavailableError(JudgeError, ConnectionError):
    """The judge's engine cannot be reached (a served model that is down or keeps failing).

    Not a verdict about the code under test: pytest-flame reports it as an ERROR, never a FAIL.
    """


__all__ = [
    "CacheError",
    "CalibrationError",
    "FlameError",
    "InputTooLongError",
    "InvalidRequestError",
    "JudgeError",
    "JudgeUnavailableError",
    "LabelTokenError",
    "ModelLoadError",
    "ModelNotFoundError",
    "ModelSpecError",
    "UnsupportedModelError",
]
