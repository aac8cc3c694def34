"""A mixture's train split tokenized once: every row, and every swappable pairwise row in both
orders, as flat token ids in one safetensors file.

Training from it gives exactly the batches of on-the-fly encoding (the same sampler keys, the same
ids), without the tokenizer in the loop and without the Arrow mixture, so the file alone can be
carried to a GPU machine.

flame encode --config run.yaml --out train.tokens.safetensors
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flame_train.config import TrainConfig
from flame_train.data import IGNORE, Encoded, Encoder, SampleRow, load_split, sample_rows
from flame_train.errors import ConfigError

if TYPE_CHECKING:
    import numpy as np
    from transformers import PreTrainedTokenizerBase

FORMAT = "flame-encoded/2"  # 2: values escaped, user text never special tokens (flame_data.format)


def rates_fingerprint(mixture: str | Path) -> str | None:
    """A hash of the mixture's mixture.json: a file encoded from another build of the collection is refused."""
    import hashlib

    path = Path(mixture) / "mixture.json"
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else None


def tokenizer_fingerprint(tokenizer: PreTrainedTokenizerBase) -> str:
    """Vocabulary size and the ids of a probe text: enough to refuse a file made for another tokenizer."""
    probe = tokenizer.encode("EVALUATION:\nanswer: A\nscore: 3 <|im_end|>", add_special_tokens=False)
    return f"{len(tokenizer)}:{','.join(map(str, probe))}"


# Worker state for the encoding pool (fork start method: the encoder is inherited, not pickled).
_ENCODER: Encoder | None = None
_ROWS: list[dict[str, Any]] = []


def _encode_one(key: tuple[int, bool]) -> tuple[list[int], int]:
    assert _ENCODER is not None
    e = _ENCODER.row(_ROWS[key[0]], key[1])
    return e.ids, sum(1 for label in e.labels if label == IGNORE)


def encode_train(config: TrainConfig, out: str | Path, *, workers: int | None = None, log: Any = print) -> dict:
    """Tokenize the train split of `config.mixture` as `flame train` would and write it to `out`."""
    import multiprocessing

    import numpy as np
    from safetensors.numpy import save_file
    from tqdm import tqdm

    from flame_judge.loading import load

    global _ENCODER, _ROWS
    tokenizer = load(config.init_checkpoint or config.base_model, device="cpu").tokenizer
    rows = load_split(config.mixture, "train", config.tasks)
    light = sample_rows(rows)
    keys = [(i, False) for i in range(len(rows))]
    keys += [(i, True) for i, r in enumerate(light) if r.swappable] if config.both_orders else []
    _ENCODER, _ROWS = Encoder(tokenizer, config.max_length), rows
    workers = workers or min(8, os.cpu_count() or 1)
    try:
        if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                done = list(tqdm(pool.imap(_encode_one, keys, chunksize=256), total=len(keys), desc="encoding"))
        else:
            done = [_encode_one(k) for k in tqdm(keys, desc="encoding")]
    finally:
        _ENCODER, _ROWS = None, []
    lengths = np.array([len(ids) for ids, _ in done], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    dtype = np.uint16 if len(tokenizer) <= 65536 else np.int32
    ids = np.fromiter((t for seq, _ in done for t in seq), dtype=dtype, count=int(offsets[-1]))
    meta = {
        "format": FORMAT,
        "tokenizer": tokenizer_fingerprint(tokenizer),
        "max_length": config.max_length,
        "mixture": str(config.mixture),
        "mixture_json": rates_fingerprint(config.mixture),
        "tasks": list(config.tasks),
        "both_orders": config.both_orders,
        "rows": [[r.task, r.task_type, r.swappable, r.length] for r in light],
    }
    arrays = {
        "ids": ids,
        "offsets": offsets,
        "prompt_lengths": np.array([p for _, p in done], dtype=np.int32),
        "keys": np.array([i * 2 + int(s) for i, s in keys], dtype=np.int64),
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(arrays, str(out), metadata={"flame": json.dumps(meta)})
    summary = {
        "rows": len(rows),
        "sequences": len(keys),
        "tokens": int(offsets[-1]),
        "target_tokens": int(sum(lengths) - sum(p for _, p in done)),
        "bytes": out.stat().st_size,
    }
    log(json.dumps(summary))
    return summary


@dataclass
class EncodedTrain:
    """Sampler rows and token ids read back from an `encode_train` file."""

    rows: list[SampleRow]
    ids: np.ndarray
    offsets: np.ndarray
    prompt_lengths: np.ndarray
    index: dict[int, int]

    @classmethod
    def open(cls, path: str | Path, *, tokenizer: PreTrainedTokenizerBase, config: TrainConfig) -> EncodedTrain:
        from safetensors import SafetensorError, safe_open
        from safetensors.numpy import load_file

        path = Path(path)
        try:
            with safe_open(str(path), framework="numpy") as fh:
                meta = json.loads((fh.metadata() or {}).get("flame", "{}"))
            arrays = load_file(str(path))
        except (OSError, ValueError, SafetensorError) as exc:
            raise ConfigError(f"encoded = {path}: cannot read it ({exc}); write it with `flame encode`") from None
        fix = "re-run `flame encode` with this config"
        if meta.get("format") != FORMAT:
            raise ConfigError(f"encoded = {path}: format {meta.get('format')!r}, this flame writes {FORMAT!r}; {fix}")
        checks: Sequence[tuple[str, Any, Any]] = (
            ("tokenizer", meta["tokenizer"], tokenizer_fingerprint(tokenizer)),
            ("max_length", meta["max_length"], config.max_length),
            ("mixture.json", meta.get("mixture_json"), rates_fingerprint(config.mixture)),
        )
        # A file of more tasks serves a run on fewer (a tail patch trains on one task of the
        # mixture's file); the trainer samples only the config's tasks from it.
        missing = sorted(set(config.tasks) - set(meta["tasks"])) if meta["tasks"] else []
        if missing:
            raise ConfigError(f"encoded = {path}: made for tasks {meta['tasks']!r}, which lack {missing!r}; {fix}")
        for name, saved, wanted in checks:
            if saved != wanted:
                raise ConfigError(f"encoded = {path}: made with {name} {saved!r}, the config has {wanted!r}; {fix}")
        if config.both_orders and not meta["both_orders"]:
            raise ConfigError(f"encoded = {path}: made without both_orders, the config asks for it; {fix}")
        rows = [SampleRow(task, kind, bool(swap), int(n)) for task, kind, swap, n in meta["rows"]]
        absent = sorted(set(config.tasks) - {r.task for r in rows})
        if absent:
            raise ConfigError(f"encoded = {path}: has no rows of tasks {absent!r}; check `tasks` or {fix}")
        index = {int(k): n for n, k in enumerate(arrays["keys"].tolist())}
        return cls(rows, arrays["ids"], arrays["offsets"], arrays["prompt_lengths"], index)

    def example(self, row: int, swap: bool) -> Encoded:
        n = self.index[row * 2 + int(swap)]
        ids = self.ids[self.offsets[n] : self.offsets[n + 1]].astype("int64").tolist()
        prompt = int(self.prompt_lengths[n])
        return Encoded(ids, [IGNORE] * prompt + ids[prompt:])
