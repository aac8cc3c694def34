"""Calls 1 and 2 of tools/gpu/README.md: check on the device what only runs there, before call 3
spends the lease on it. flame's packages and the wheels the image lacks import, the `flame`
subcommands are found (the dist-info written by site.sh), and the reward model's own training path
(peft LoRA on the top layers of a `*ForSequenceClassification`, the split forward, bf16 autocast, a
Bradley-Terry step) runs two steps on the device and changes the LoRA weights.

    python tools/gpu/preflight.py [DEVICE]      # cuda there; cpu for the rehearsal here
"""

from __future__ import annotations

import sys
import time


def main(device_name: str) -> int:
    from importlib.metadata import entry_points

    import datasets  # noqa: F401 - a wheel call 1 brings
    import gguf  # noqa: F401
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaForSequenceClassification

    from flame_judge import tiny_models
    from flame_train.reward_model import LORA_TARGETS, SplitForward, resolve_device

    start = time.perf_counter()
    commands = {ep.name: ep for ep in entry_points(group="flame.commands")}
    for ep in commands.values():
        ep.load()  # an ImportError here is what `flame` would only warn about in call 3
    missing = {"data", "reward", "eval"} - set(commands)
    if missing:
        print(f"preflight: flame has no {sorted(missing)} commands here (entry points not found)", file=sys.stderr)
        return 4
    device = resolve_device(device_name)
    torch.manual_seed(0)
    # flame's own tiny test architecture (the default base's vocabulary), four layers, one score
    config = tiny_models.config("llama", num_labels=1, num_hidden_layers=4, hidden_size=64, intermediate_size=128)
    lora = LoraConfig(
        r=8,
        lora_alpha=16,
        target_modules=list(LORA_TARGETS),
        layers_to_transform=[2, 3],
        modules_to_save=["score"],
        task_type="SEQ_CLS",
    )
    model = get_peft_model(LlamaForSequenceClassification(config), lora).to(device)
    split = SplitForward(model, top_layers=2)
    params = [p for p in model.parameters() if p.requires_grad]
    before = [p.detach().clone() for p in params]
    optimizer = torch.optim.AdamW(params, lr=1e-2)
    ids = torch.randint(3, 4000, (8, 48), device=device)
    mask = torch.ones_like(ids)
    mask[4:, 40:] = 0  # right padding, as the trainer batches responses
    losses = []
    for _ in range(2):
        with torch.autocast(device.type, dtype=torch.bfloat16):
            rewards = split.top(split.lower(ids, mask), mask).float()
        loss = -torch.nn.functional.logsigmoid(rewards[:4] - rewards[4:]).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
    moved = sum(int(not torch.equal(a, b)) for a, b in zip(before, params, strict=True))
    if not all(x == x and abs(x) < 1e3 for x in losses) or moved == 0:
        failed = f"the training step failed on {device}: losses {losses}, {moved} tensors moved"
        print(f"preflight: {failed}", file=sys.stderr)
        return 5
    print(f"preflight: ok on {device} in {time.perf_counter() - start:.1f} s: losses {losses}, {moved} tensors moved")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "cuda"))
