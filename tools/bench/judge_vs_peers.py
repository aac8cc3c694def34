"""Pairwise judging throughput, flame vs the peers' way, in one process on the same pairs and model.

    uv run python tools/bench/judge_vs_peers.py --pairs 40          # CPU: peers, flame generative, flame reward
    uv run python tools/bench/judge_vs_peers.py --pairs 40 --vllm   # + flame on vLLM in-process (needs .venv-vllm)

- peers: an MT-Bench-style judge prompt, greedy generation of up to 64 tokens, parse [[A]]/[[B]]
  (one order; unparseable = tie), one pair at a time, as generation-based judges run.
- flame generative: both orders, label probabilities at the answer position (no generation), batched;
  each input whole, then with the prefix both orders share (instructions and request) run once.
- flame reward: the default judge's reward head, each response once (no order); each input whole, then
  with the context both responses share run once.
- flame vLLM: the generative judge through vLLM in-process (run in the vLLM environment as a subprocess;
  only its scoring is timed, as for the others).

Pairs: the first N of Auto-J's pairwise test set (../shared/data), each text cut to --chars characters.
The judgment cache is off throughout. Prints pairs/s and the ratio to the peers' way.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("FLAME_DATA_DIR", ROOT.parent / "shared" / "data"))

PEER_SYSTEM = (
    "Please act as an impartial judge and evaluate the quality of the responses provided by two AI assistants "
    "to the user question displayed below. You should choose the assistant that follows the user's instructions "
    "and answers the user's question better. Avoid any position biases and do not allow the length of the "
    "responses to influence your evaluation. Be as objective as possible. Output your final verdict by strictly "
    'following this format: "[[A]]" if assistant A is better, "[[B]]" if assistant B is better.'
)


def load_pairs(n: int, chars: int) -> list[tuple[str, str, str]]:
    path = DATA / "autoj_pairwise_test" / "testdata_pairwise.jsonl.gz"
    out = []
    with gzip.open(path, "rt") as fh:
        for line in fh:
            row = json.loads(line)
            out.append((row["prompt"][:chars], row["response 1"][:chars], row["response 2"][:chars]))
            if len(out) == n:
                break
    return out


def peers(pairs: list[tuple[str, str, str]], model_dir: Path) -> tuple[float, int]:
    """(seconds, unparseable outputs) for the generation-based way."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), trust_remote_code=False)
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32, trust_remote_code=False).eval()
    unparseable = 0
    start = time.perf_counter()
    for prompt, a, b in pairs:
        user = (
            f"[User Question]\n{prompt}\n\n[The Start of Assistant A's Answer]\n{a}\n[The End of Assistant A's Answer]"
            f"\n\n[The Start of Assistant B's Answer]\n{b}\n[The End of Assistant B's Answer]"
        )
        messages = [{"role": "system", "content": PEER_SYSTEM}, {"role": "user", "content": user}]
        ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
        with torch.inference_mode():
            out = model.generate(**ids, max_new_tokens=64, do_sample=False, pad_token_id=tokenizer.eos_token_id)  # pyright: ignore[reportAttributeAccessIssue]
        text = tokenizer.decode(out[0, ids["input_ids"].shape[1] :], skip_special_tokens=True)
        if not re.search(r"\[\[(A|B)\]\]", text):
            unparseable += 1
    return time.perf_counter() - start, unparseable


def flame(pairs: list[tuple[str, str, str]], spec: str | None, *, share: bool = True) -> float:
    """Seconds to judge every pair; `share=False` runs each model input whole (no shared prefix)."""
    from flame_judge import Judge, PairwiseRequest

    requests = [PairwiseRequest(p, a, b) for p, a, b in pairs]
    with Judge.load(spec, device="cpu", cache=False, eager=True) as judge:
        engine, reward = judge.backend.engine, judge.reward
        if hasattr(engine, "share_prefixes"):
            engine.share_prefixes = share  # pyright: ignore[reportAttributeAccessIssue]
        if reward is not None and hasattr(reward, "features"):
            reward.features.share_prefixes = share  # pyright: ignore[reportAttributeAccessIssue]
        judge.pairwise_batch(requests[:1])  # warm
        start = time.perf_counter()
        judge.pairwise_batch(requests)
        return time.perf_counter() - start


def flame_vllm(n: int, chars: int) -> float | None:
    python = ROOT / ".venv-vllm" / "bin" / "python"
    if not python.is_file():
        print("flame vLLM: skipped (no .venv-vllm; build it with tools/vllm_env.sh)")
        return None
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "2", "VLLM_ENABLE_V1_MULTIPROCESSING": "0"}
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(
        [str(python), __file__, "--pairs", str(n), "--chars", str(chars), "--only-vllm"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    found = re.findall(r"^VLLM_SECONDS (\S+)$", done.stdout, re.M)
    if done.returncode != 0 or not found:
        print(f"flame vLLM: failed\n{done.stderr[-2000:]}")
        return None
    return float(found[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=40)
    parser.add_argument("--chars", type=int, default=1500, help="cut each prompt and response to this many characters")
    parser.add_argument("--vllm", action="store_true", help="also time flame on vLLM in-process")
    parser.add_argument("--only-vllm", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    pairs = load_pairs(args.pairs, args.chars)
    if args.only_vllm:
        print(f"VLLM_SECONDS {flame(pairs, 'vllm:base'):.4f}")
        return
    from flame_judge.loading import converted_base_dir

    n = len(pairs)
    print(f"{n} pairs (Auto-J pairwise test, cut to {args.chars} chars), SmolLM2-135M-Instruct fp32, CPU")
    print(f"{'way':60} {'pairs/s':>8} {'x peers':>8}  notes", flush=True)
    seconds, bad = peers(pairs, converted_base_dir())
    base = n / seconds

    def show(name: str, secs: float, note: str = "0 unparseable") -> None:
        print(f"{name:60} {n / secs:8.2f} {n / secs / base:8.1f}  {note}", flush=True)

    show("peers (generate 64, parse [[A]]/[[B]], one order)", seconds, f"{bad}/{n} unparseable (= ties)")
    show("flame generative, both orders, each input whole", flame(pairs, "base", share=False))
    show("flame generative, both orders, shared prefix", flame(pairs, "base"))
    show("flame reward (default judge's head), each input whole", flame(pairs, None, share=False))
    show("flame reward (default judge's head), shared prefix", flame(pairs, None))
    if args.vllm:
        vllm_seconds = flame_vllm(args.pairs, args.chars)
        if vllm_seconds is not None:
            show("flame generative on vLLM, both orders", vllm_seconds)


if __name__ == "__main__":
    sys.exit(main())
