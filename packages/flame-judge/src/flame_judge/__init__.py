"""flame-judge: load a FLAMe judge and get pairwise, pointwise and classification verdicts."""

from flame_judge.errors import (
    FlameError,
    InputTooLongError,
    InvalidRequestError,
    JudgeError,
    JudgeUnavailableError,
    LabelTokenError,
    ModelLoadError,
    ModelNotFoundError,
    ModelSpecError,
    UnsupportedModelError,
)
from flame_judge.judge import ClassificationRequest, Judge, PairwiseRequest, PointwiseRequest
from flame_judge.verdicts import ClassificationVerdict, PairwiseVerdict, PointwiseVerdict

__all__ = [
    "ClassificationRequest",
    "ClassificationVerdict",
    "FlameError",
    "InputTooLongError",
    "InvalidRequestError",
    "Judge",
    "JudgeError",
    "JudgeUnavailableError",
    "LabelTokenError",
    "ModelLoadError",
    "ModelNotFoundError",
    "ModelSpecError",
    "PairwiseRequest",
    "PairwiseVerdict",
    "PointwiseRequest",
    "PointwiseVerdict",
    "UnsupportedModelError",
]
