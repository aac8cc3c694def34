"""pytest start-up and collection time with and without pytest-flame, side by side in one run.

    uv run python tools/bench/plugin_startup.py

Each command runs in a fresh process, alternating with/without, `--repeats` times; medians are shown.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = {
    "pytest --version": ["--version"],
    "collect examples/faq_bot": ["--collect-only", "-q", "-p", "no:cacheprovider", "examples/faq_bot"],
}


def run(args: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT, capture_output=True, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    print(f"{'command':<28} {'with (s)':>9} {'without (s)':>12} {'ratio':>7}")
    for name, argv in COMMANDS.items():
        with_plugin, without = [], []
        for _ in range(args.repeats):
            with_plugin.append(run(argv))
            without.append(run([*argv, "-p", "no:flame"]))
        a, b = statistics.median(with_plugin), statistics.median(without)
        print(f"{name:<28} {a:>9.3f} {b:>12.3f} {a / b:>6.2f}x")


if __name__ == "__main__":
    main()
