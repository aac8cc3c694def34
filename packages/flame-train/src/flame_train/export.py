"""A training checkpoint made shippable: the judge's weights alone (no optimizer or trainable state),
LoRA tensors stored in half precision, with a new fingerprint so judgments cached for the
checkpoint are not mistaken for the export's.

flame export runs/flame-smol/final --out judges/flame-smol --name flame-smol
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

from flame_train.errors import CheckpointError
from flame_train.outdir import check_output, replacing
from flame_train.provenance import command_line, describe_file, describe_mixture

DTYPES = ("float16", "bfloat16", "float32")


def export_checkpoint(
    checkpoint: str | Path,
    out: str | Path,
    *,
    name: str,
    dtype: str = "float16",
    overwrite: bool = False,
    log: Callable[[str], object] = print,
    command: str | None = None,
) -> Path:
    """Write the judge to `out`; a non-empty `out` that is not a flame output needs `overwrite`.

    `command` is recorded as `exported_by` (default: this process's `flame ...` command line).
    """
    import torch
    from safetensors.torch import load_file, save_file

    from flame_judge.loading import ALIASES, BASE_MODEL, DEFAULT_JUDGE, relocate_base

    src, out = Path(checkpoint), Path(out)
    try:
        meta = json.loads((src / "flame.json").read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{src} is not a flame checkpoint (flame.json: {exc})") from None
    if meta.get("format") != "lora":
        raise CheckpointError(f"{src} holds full weights; export handles LoRA checkpoints (ship full ones as they are)")
    if dtype not in DTYPES:
        raise CheckpointError(f"dtype {dtype!r}: choose one of {list(DTYPES)}")
    check_output(out, inputs=(src,), overwrite=overwrite)
    tensors = load_file(str(src / "adapter_model.safetensors"))
    half = {k: v.to(getattr(torch, dtype)).contiguous() for k, v in tensors.items()}
    with replacing(out, inputs=(src,), overwrite=overwrite, log=log) as tmp:
        save_file(half, str(tmp / "adapter_model.safetensors"))
        base = relocate_base(meta["base"], src, out)  # a local base stays found from the export's folder
        adapter_config = json.loads((src / "adapter_config.json").read_text())
        # peft reads this one relative to the working directory: a local base as an absolute path.
        local = ALIASES.get(base, base) not in (BASE_MODEL, DEFAULT_JUDGE)
        adapter_config["base_model_name_or_path"] = str((out / base).resolve()) if local else base
        (tmp / "adapter_config.json").write_text(json.dumps(adapter_config, indent=2) + "\n")
        digest = hashlib.sha256((tmp / "adapter_model.safetensors").read_bytes()).hexdigest()[:16]
        config = meta.get("config", {})
        exported = {
            "format": "lora",
            "base": base,
            "name": name,
            "fingerprint": f"{name}@{digest}",
            "dtype": dtype,
            "trained_from": {"checkpoint": src.name, "step": meta.get("step"), "fingerprint": meta.get("fingerprint")},
            "config": config,  # as the trainer ran it; its paths are the training machine's
            "provenance": {
                "mixture": describe_mixture(config.get("mixture")),
                "encoded": describe_file(config.get("encoded")),
                "exported_by": command or command_line(),
            },
        }
        (tmp / "flame.json").write_text(json.dumps(exported, indent=2) + "\n")
    return out
