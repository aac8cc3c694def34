"""Shard a model as an accelerate FSDP config says, in CPU processes over gloo, and check that the
fused loss computed inside the sharded model's forward gives one unsharded process's loss and
gradients for the same global batch.

    torchrun --nproc_per_node 2 tools/fsdp_cpu_check.py --model MODEL_DIR --config docs/accelerate_fsdp.yaml

accelerate runs FSDP only on GPU-like devices (on CPU processes its state is MULTI_CPU and the FSDP
config is ignored), so this applies torch's FSDP2 `fully_shard` itself, as accelerate does for
`fsdp_version: 2` with `TRANSFORMER_BASED_WRAP`: each named layer class, then the root. Rank 0
prints one JSON line.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from typing import Any

import torch
import torch.distributed as dist
import yaml


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="a Hugging Face causal LM folder")
    parser.add_argument("--config", required=True, help="an accelerate config with distributed_type: FSDP")
    args = parser.parse_args()

    with open(args.config) as fh:
        fsdp = yaml.safe_load(fh)["fsdp_config"]
    if fsdp.get("fsdp_version") != 2 or fsdp.get("fsdp_auto_wrap_policy") != "TRANSFORMER_BASED_WRAP":
        raise SystemExit(f"{args.config}: this check covers fsdp_version 2 with TRANSFORMER_BASED_WRAP")
    classes = {c.strip() for c in str(fsdp["fsdp_transformer_layer_cls_to_wrap"]).split(",")}
    reshard = bool(fsdp.get("fsdp_reshard_after_forward", True))

    dist.init_process_group("gloo")
    report = compare(args.model, classes, reshard)
    dist.barrier()
    dist.destroy_process_group()
    if report is not None:
        print(json.dumps(report))
    # Gloo's worker threads stop only when its backend is freed, and DTensor's redistribution caches
    # keep the mesh, so the group, alive until interpreter teardown, where freeing it sometimes aborts
    # ("terminate called without an active exception", SIGABRT after the report): the work is done
    # and written, so leave without that teardown.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def compare(model_dir: str, classes: set[str], reshard: bool) -> dict[str, Any] | None:
    """The sharded run against one process; rank 0 gets the report, the others None."""
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import fully_shard
    from transformers import AutoModelForCausalLM

    from flame_train.model import IGNORE, use_fused_loss

    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, trust_remote_code=False)
    use_fused_loss(model)
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(0, model.config.vocab_size, (2 * world, 24), generator=generator)
    mask = torch.ones_like(ids)
    labels = ids.clone()
    labels[:, :10] = IGNORE  # the prompt
    count = int((labels[:, 1:] != IGNORE).sum())

    reference = copy.deepcopy(model)  # one process, the whole batch, unsharded
    expected = reference(input_ids=ids, attention_mask=mask, labels=labels).loss
    expected.backward()
    wanted = {n: p.grad for n, p in reference.named_parameters() if p.grad is not None}

    mesh = init_device_mesh("cpu", (world,))
    layers = [m for m in model.modules() if type(m).__name__ in classes]
    if not layers:
        raise SystemExit(f"the config wraps {sorted(classes)}, which {type(model).__name__} does not have")
    for layer in layers:
        fully_shard(layer, mesh=mesh, reshard_after_forward=reshard)
    fully_shard(model, mesh=mesh, reshard_after_forward=reshard)
    share = slice(rank * 2, rank * 2 + 2)
    loss = model(input_ids=ids[share], attention_mask=mask[share], labels=labels[share], num_items_in_batch=count).loss
    (loss * world).backward()  # FSDP averages gradients over processes; the loss is a share of the global sum
    total = loss.detach().clone()
    dist.all_reduce(total)
    diff = 0.0
    sharded = 0
    for name, param in model.named_parameters():
        sharded += int(type(param).__name__ == "DTensor")
        grad: Any = param.grad
        if grad is None or name not in wanted:
            raise SystemExit(f"{name} has a gradient in only one of the two runs")
        full = grad.full_tensor() if hasattr(grad, "full_tensor") else grad
        diff = max(diff, float((full - wanted[name]).abs().max()))
    if rank != 0:
        return None
    return {
        "processes": world,
        "sharded_layers": len(layers),
        "dtensor_parameters": sharded,
        "parameters": len(wanted),
        "loss": float(total),
        "loss_one_process": float(expected.detach()),
        "max_grad_diff": diff,
    }


if __name__ == "__main__":
    main()
