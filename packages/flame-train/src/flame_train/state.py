"""Training state for exact resume, in formats that cannot run code when read: optimizer and
scheduler through `torch.load(weights_only=True)` (tensors and plain values only), every process's
RNG state as JSON.

A checkpoint can come from anywhere (a shared drive, a download); `torch.load` with
`weights_only=False` would execute whatever a crafted `optimizer.pt` pickles.
"""

from __future__ import annotations

import base64
import json
import pickle
import random
from pathlib import Path
from typing import Any

import torch

from flame_train.errors import CheckpointError

OPTIMIZER = "optimizer.pt"
RNG = "rng.json"


def save_training_state(folder: Path, optimizer: Any, scheduler: Any) -> None:
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, folder / OPTIMIZER)


def load_training_state(folder: Path) -> dict[str, Any]:
    """The optimizer and scheduler state dicts; a file holding anything but tensors and plain
    values is refused unread."""
    path = folder / OPTIMIZER
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"{path} holds objects other than tensors and plain values; refusing to unpickle it (that could run "
            f"code). Resume only from checkpoints written by flame train ({str(exc).splitlines()[0]})"
        ) from None
    except (OSError, RuntimeError, EOFError, ValueError) as exc:
        raise CheckpointError(f"cannot read the training state {path}: {exc}") from exc
    if not isinstance(state, dict) or not {"optimizer", "scheduler"} <= set(state):
        raise CheckpointError(f"{path} is not a flame training state (no optimizer and scheduler entries)")
    return state


def _tensor_text(t: torch.Tensor) -> str:
    return base64.b64encode(t.cpu().numpy().tobytes()).decode()


def _text_tensor(text: str) -> torch.Tensor:
    return torch.frombuffer(bytearray(base64.b64decode(text)), dtype=torch.uint8)


def rng_state() -> str:
    """This process's Python, numpy, torch and CUDA RNG states, as JSON text."""
    import numpy as np

    version, keys, gauss = random.getstate()
    kind, mt, pos, has_gauss, cached = np.random.get_state(legacy=True)  # type: ignore[misc]
    state = {
        "python": [version, list(keys), gauss],
        "numpy": [kind, np.asarray(mt).tolist(), int(pos), int(has_gauss), float(cached)],
        "torch": _tensor_text(torch.get_rng_state()),
        "cuda": [_tensor_text(s) for s in torch.cuda.get_rng_state_all()] if torch.cuda.is_available() else [],
    }
    return json.dumps(state)


def load_rng(folder: Path, rank: int, world: int) -> str | None:
    """Restore process `rank`'s RNG states from `folder`; a note when the run had another process count."""
    import numpy as np

    path = folder / RNG
    try:
        ranks = json.loads(path.read_text())["ranks"]
        state = ranks[rank] if rank < len(ranks) else None
        if state is not None:
            version, keys, gauss = state["python"]
            kind, mt, pos, has_gauss, cached = state["numpy"]
            random.setstate((version, tuple(keys), gauss))
            np.random.set_state((kind, np.array(mt, dtype=np.uint32), pos, has_gauss, cached))
            torch.set_rng_state(_text_tensor(state["torch"]))
            if state["cuda"] and torch.cuda.is_available():
                torch.cuda.set_rng_state_all([_text_tensor(s) for s in state["cuda"]])
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise CheckpointError(f"cannot read the RNG states {path}: {exc!r}") from None
    if len(ranks) != world:
        return f"note: {folder} was saved by {len(ranks)} processes, this run has {world}; dropout draws differ"
    return None
