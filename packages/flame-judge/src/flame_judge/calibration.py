"""Calibration on a team's own labels: how far the judge agrees with people, and temperature scaling.

`flame calibrate LABELS.jsonl --model M --out DIR` reads rows in the `flame judge batch` format plus
a human `label` (pairwise: "A", "B" or "tie"; classify: one of the row's labels; pointwise: the human
score), judges them, and writes DIR/calibration.json (the fitted temperatures, tied to the judge's
fingerprint, and the report), DIR/calibration.md and DIR/reliability.png.

Temperature scaling divides the judge's logits by T per verdict type: pairwise P(A better) in each
presentation order becomes sigmoid(logit(P) / T) (for a generative judge this is exactly scaling the
A/B label logits), and a label distribution becomes softmax(log p / T). T is fitted by minimizing
the negative log-likelihood of the human labels (golden-section search over log T). `Judge.load(...,
calibration=PATH)` and pytest-flame's `--flame-calibration PATH` apply it and refuse a file fitted
for another fingerprint.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flame_judge.errors import CalibrationError, JudgeError
from flame_judge.metrics import calibration as reliability
from flame_judge.metrics import pair_credit

if TYPE_CHECKING:
    from flame_judge.judge import Judge
    from flame_judge.testing import FakeJudge

VERSION = 1
EPS = 1e-9
KINDS = ("pairwise", "pointwise", "classify")


def _logit(p: float) -> float:
    p = min(max(p, EPS), 1 - EPS)
    return math.log(p / (1 - p))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def scale_pair(p: float, temperature: float) -> float:
    """P(A better) with its logit divided by `temperature`."""
    return _sigmoid(_logit(p) / temperature)


def scale_distribution(dist: Mapping[str, float], temperature: float) -> dict[str, float]:
    """A label distribution with its log-probabilities divided by `temperature`, renormalized."""
    logs = {k: math.log(max(v, EPS)) / temperature for k, v in dist.items()}
    top = max(logs.values())
    exps = {k: math.exp(v - top) for k, v in logs.items()}
    total = sum(exps.values())
    return {k: v / total for k, v in exps.items()}


@dataclass(frozen=True)
class Calibration:
    """Fitted temperatures for one judge fingerprint, with the report of the fit."""

    fingerprint: str
    model: str
    temperatures: Mapping[str, float]  # per verdict kind (pairwise, pointwise, classify) that had labels
    report: Mapping[str, Any] = field(default_factory=dict)
    path: str = ""

    def check(self, fingerprint: str) -> None:
        if fingerprint != self.fingerprint:
            raise CalibrationError(
                f"the calibration {self.path or '(in memory)'} was fitted for the judge {self.fingerprint}, "
                f"not for {fingerprint}; run `flame calibrate LABELS.jsonl --model ...` for this judge"
            )

    def pair(self, p: float) -> float:
        t = self.temperatures.get("pairwise")
        return p if t is None else scale_pair(p, t)

    def distribution(self, kind: str, dist: Mapping[str, float]) -> dict[str, float]:
        t = self.temperatures.get(kind)
        return dict(dist) if t is None else scale_distribution(dist, t)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "fingerprint": self.fingerprint,
            "model": self.model,
            "temperatures": dict(self.temperatures),
            "report": dict(self.report),
        }

    def write(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")

    @classmethod
    def read(cls, path: str | Path) -> Calibration:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise CalibrationError(f"cannot read the calibration file {path}: {exc}") from None
        except ValueError as exc:
            raise CalibrationError(f"the calibration file {path} is not valid JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("version") != VERSION:
            raise CalibrationError(f"{path} is not a flame calibration file (version {VERSION}); run flame calibrate")
        temps = data.get("temperatures")
        if not isinstance(temps, dict) or not all(
            k in KINDS and isinstance(v, int | float) and v > 0 for k, v in temps.items()
        ):
            raise CalibrationError(f"{path}: 'temperatures' must map {list(KINDS)} to positive numbers, got {temps!r}")
        if not isinstance(data.get("fingerprint"), str):
            raise CalibrationError(f"{path}: 'fingerprint' (the judge it was fitted for) is missing")
        return cls(data["fingerprint"], str(data.get("model", "")), temps, data.get("report") or {}, str(path))

    def summary_lines(self) -> list[str]:
        """What the pytest-flame summary prints: the file, the temperatures, and per criteria the verdict."""
        temps = ", ".join(f"{k} T = {v:.3f}" for k, v in sorted(self.temperatures.items()))
        lines = [f"calibration: {self.path} for {self.fingerprint} ({temps})"]
        lines += [f"calibration: {line}" for line in self.report.get("verdict_lines", [])]
        return lines


# -- labelled rows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Labelled:
    line: int
    mode: str
    request: Any
    label: str | float


def read_labels(path: Path, *, default_mode: str = "pairwise") -> tuple[list[Labelled], list[dict[str, Any]]]:
    """Rows of `path` (the `flame judge batch` format plus `label`) and rejects with line and reason."""
    from flame_judge.batch import decode, parse_row, read_lines

    rows, rejects = [], []
    try:
        lines = list(read_lines(path))
    except OSError as exc:
        raise JudgeError(f"cannot read the labels file {path}: {exc}") from None
    for number, raw in lines:
        try:
            line = decode(raw)
            parsed = parse_row(line, default_mode, number=number)
            rows.append(
                Labelled(number, parsed.mode, parsed.request, _label(parsed.mode, parsed.request, json.loads(line)))
            )
        except ValueError as exc:
            rejects.append({"line": number, "error": str(exc)})
    return rows, rejects


def _label(mode: str, request: Any, row: dict[str, Any]) -> str | float:
    if "label" not in row:
        raise ValueError("missing field 'label' (the human judgment)")
    label = row["label"]
    if mode == "pairwise":
        if label not in ("A", "B", "tie"):
            raise ValueError(f"field 'label' must be 'A', 'B' or 'tie' for a pairwise row, got {label!r}")
        return label
    if mode == "classify":
        if label not in request.labels:
            raise ValueError(f"field 'label' {label!r} is not one of the row's labels {list(request.labels)}")
        return label
    low, high = request.scale
    if isinstance(label, bool) or not isinstance(label, int | float) or not low <= label <= high:
        raise ValueError(f"field 'label' must be a number within the scale {[low, high]}, got {label!r}")
    return float(label)


# -- fitting --------------------------------------------------------------------------------------


def fit_temperature(nll: Callable[[float], float]) -> float:
    """argmin over T in [e^-3, e^3] of a unimodal loss (golden-section search over log T)."""
    lo, hi = -3.0, 3.0
    golden = (math.sqrt(5) - 1) / 2
    a, b = hi - golden * (hi - lo), lo + golden * (hi - lo)
    fa, fb = nll(math.exp(a)), nll(math.exp(b))
    for _ in range(80):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - golden * (hi - lo)
            fa = nll(math.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + golden * (hi - lo)
            fb = nll(math.exp(b))
    return math.exp((lo + hi) / 2)


def _pair_nll(orders: Sequence[tuple[float, float]], gold: Sequence[str], t: float) -> float:
    total = 0.0
    for (first, second), g in zip(orders, gold, strict=True):
        for p in (first, second):
            q = scale_pair(p, t)
            total -= math.log(max(q if g == "A" else 1 - q, EPS))
    return total


def _dist_nll(dists: Sequence[Mapping[str, float]], gold: Sequence[str], t: float) -> float:
    return -sum(math.log(max(scale_distribution(d, t)[g], EPS)) for d, g in zip(dists, gold, strict=True))


# -- judging and the report -----------------------------------------------------------------------


def _wilson(rate: float, n: int, z: float = 1.959964) -> tuple[float, float]:
    if n == 0:
        return float("nan"), float("nan")
    z2n = z * z / n
    centre = (rate + z2n / 2) / (1 + z2n)
    half = z / (1 + z2n) * math.sqrt(max(rate * (1 - rate), 0.0) / n + z2n / (4 * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def paired_bootstrap(
    a: Sequence[float], b: Sequence[float], *, resamples: int = 2000, seed: int = 0
) -> tuple[float, float]:
    """95% percentile interval of mean(a - b), resampling items with a fixed seed (deterministic)."""
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    n = len(diffs)
    if n == 0:
        return float("nan"), float("nan")
    rng = random.Random(seed)
    means = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(resamples))
    return means[int(0.025 * resamples)], means[int(0.975 * resamples) - 1]


def _criteria(request: Any) -> str:
    return (request.criteria or "").strip() or "overall quality"


def calibrate(judge: Judge | FakeJudge, rows: Sequence[Labelled], *, source: str = "") -> Calibration:
    """Judge `rows`, fit a temperature per verdict kind, and build the report (uncalibrated judge in)."""
    report: dict[str, Any] = {"labels": source, "rows": len(rows), "groups": [], "verdict_lines": []}
    temps: dict[str, float] = {}
    pairs = [r for r in rows if r.mode == "pairwise"]
    if pairs:
        verdicts = judge.pairwise_batch([r.request for r in pairs])
        decided = [(r, v) for r, v in zip(pairs, verdicts, strict=True) if r.label in ("A", "B")]
        if decided:
            orders = [(v.prob_a_first, v.prob_a_second) for _, v in decided]
            gold = [str(r.label) for r, _ in decided]
            t = fit_temperature(lambda t: _pair_nll(orders, gold, t))
            temps["pairwise"] = t
            report["pairwise"] = _pairwise_report(decided, t)
            for name in sorted({_criteria(r.request) for r, _ in decided}):
                group = [(r, v) for r, v in decided if _criteria(r.request) == name]
                entry = _pairwise_group(name, group)
                report["groups"].append(entry)
                report["verdict_lines"].append(entry["line"])
        report["pairwise_ties_skipped"] = len(pairs) - len(decided)
    for kind in ("classify", "pointwise"):
        part = [r for r in rows if r.mode == kind]
        if not part:
            continue
        if kind == "classify":
            got = [dict(v.probabilities) for v in judge.classify_batch([r.request for r in part])]
            gold = [str(r.label) for r in part]
        else:
            got = [dict(v.distribution) for v in judge.pointwise_batch([r.request for r in part])]
            gold = [str(min(max(round(float(r.label)), r.request.scale[0]), r.request.scale[1])) for r in part]
        t = fit_temperature(lambda t, got=got, gold=gold: _dist_nll(got, gold, t))
        temps[kind] = t
        report[kind] = _distribution_report(kind, part, got, gold, t)
        report["verdict_lines"].append(report[kind]["line"])
    if not temps:
        raise JudgeError("no labelled rows to calibrate on (pairwise rows need a label of A or B)")
    return Calibration(judge.fingerprint, judge.name, temps, report)


def _pairwise_report(decided: Sequence[tuple[Labelled, Any]], t: float) -> dict[str, Any]:
    gold = [r.label for r, _ in decided]
    before = [v.prob_a for _, v in decided]
    after = [(scale_pair(v.prob_a_first, t) + scale_pair(v.prob_a_second, t)) / 2 for _, v in decided]

    def ece(ps: Sequence[float]) -> tuple[float, list[tuple[float, float, int]]]:
        return reliability(
            [max(p, 1 - p) for p in ps], [("A" if p >= 0.5 else "B") == g for p, g in zip(ps, gold, strict=True)]
        )

    ece_before, bins_before = ece(before)
    ece_after, bins_after = ece(after)
    return {
        "n": len(decided),
        "temperature": t,
        "ece_before": ece_before,
        "ece_after": ece_after,
        "bins_before": bins_before,
        "bins_after": bins_after,
    }


def _pairwise_group(name: str, group: Sequence[tuple[Labelled, Any]]) -> dict[str, Any]:
    judge_credit = [float(pair_credit(v.prob_a_first, v.prob_a_second, str(r.label)) or 0.0) for r, v in group]
    longer = []
    for r, _ in group:
        la, lb = len(r.request.a), len(r.request.b)
        p = 0.5 if la == lb else float(la > lb)
        longer.append(float(pair_credit(p, p, str(r.label)) or 0.0))
    n = len(group)
    acc = sum(judge_credit) / n
    low, high = _wilson(acc, n)
    longer_acc = sum(longer) / n
    gap_low, gap_high = paired_bootstrap(judge_credit, longer)
    beats_random = low > 0.5
    beats_longer = gap_low > 0
    if beats_random and beats_longer:
        outcome = "better than both baselines"
    elif beats_random:
        outcome = "better than random, NOT shown better than longer-wins"
    else:
        outcome = "NOT shown better than random"
    line = (
        f"{name}: judge agrees with people on {acc:.3f} of {n} pairs (95% Wilson [{low:.3f}, {high:.3f}]) vs "
        f"random 0.500, longer wins {longer_acc:.3f} (gap 95% CI [{gap_low:+.3f}, {gap_high:+.3f}]): {outcome}"
    )
    return {
        "criteria": name,
        "mode": "pairwise",
        "n": n,
        "agreement": acc,
        "interval": [low, high],
        "random": 0.5,
        "longer_wins": longer_acc,
        "gap_vs_longer_interval": [gap_low, gap_high],
        "better_than_random": beats_random,
        "better_than_longer": beats_longer,
        "line": line,
    }


def _distribution_report(
    kind: str, part: Sequence[Labelled], got: Sequence[Mapping[str, float]], gold: Sequence[str], t: float
) -> dict[str, Any]:
    picks = [max(d, key=lambda k: d[k]) for d in got]
    correct = [p == g for p, g in zip(picks, gold, strict=True)]
    n = len(part)
    acc = sum(correct) / n
    low, high = _wilson(acc, n)
    labels = sorted({k for d in got for k in d})
    majority = max(set(gold), key=gold.count)
    majority_acc = gold.count(majority) / n
    ece_before, bins_before = reliability([max(d.values()) for d in got], correct)
    after = [scale_distribution(d, t) for d in got]
    ece_after, bins_after = reliability([max(d.values()) for d in after], correct)
    chance = 1 / len(labels)
    outcome = "better than both baselines" if low > max(chance, majority_acc) else "NOT shown better than the baselines"
    line = (
        f"{kind}: judge picks the human label on {acc:.3f} of {n} rows (95% Wilson [{low:.3f}, {high:.3f}]) vs "
        f"random {chance:.3f}, majority label {majority_acc:.3f}: {outcome}"
    )
    return {
        "n": n,
        "accuracy": acc,
        "interval": [low, high],
        "random": chance,
        "majority": majority_acc,
        "temperature": t,
        "ece_before": ece_before,
        "ece_after": ece_after,
        "bins_before": bins_before,
        "bins_after": bins_after,
        "line": line,
    }


def markdown(cal: Calibration) -> str:
    r = cal.report
    out = [
        f"# calibration of {cal.model} ({cal.fingerprint})",
        "",
        f"labels: {r.get('labels', '')} ({r['rows']} rows)",
        "",
    ]
    for kind in ("pairwise", "classify", "pointwise"):
        if kind in r:
            part = r[kind]
            bound = " (at the search bound e^3: the verdicts carry almost no signal on these labels)"
            out.append(
                f"- {kind}: temperature {part['temperature']:.3f}{bound if part['temperature'] > 20 else ''}; "
                f"ECE {part['ece_before']:.3f} before, {part['ece_after']:.3f} after (n = {part['n']})"
            )
    out += ["", "## agreement with people, beside the baselines", ""]
    out += [f"- {line}" for line in r.get("verdict_lines", [])]
    return "\n".join(out) + "\n"


def reliability_png(cal: Calibration, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    kinds = [k for k in ("pairwise", "classify", "pointwise") if k in cal.report]
    fig, axes = plt.subplots(1, len(kinds), figsize=(4.2 * len(kinds), 4), squeeze=False)
    for ax, kind in zip(axes[0], kinds, strict=True):
        part = cal.report[kind]
        ax.plot([0, 1], [0, 1], color="#999", linestyle="--", linewidth=1, label="perfect")
        for key, colour, label in (("bins_before", "#c0504d", "raw"), ("bins_after", "#4f81bd", "calibrated")):
            bins = part[key]
            ax.plot([b[0] for b in bins], [b[1] for b in bins], marker="o", color=colour, label=label)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("judge confidence")
        ax.set_ylabel("share agreeing with people")
        ax.set_title(f"{kind}: ECE {part['ece_before']:.3f} -> {part['ece_after']:.3f}")
        ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(f"reliability: {cal.model}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- command line ---------------------------------------------------------------------------------


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("calibrate", help="agreement with your own labels, and a temperature scaling for the judge")
    p.add_argument("labels", type=Path, help="JSONL in the `flame judge batch` format plus a human 'label'")
    p.add_argument("--model", default=None, help="model spec (default: the default judge)")
    p.add_argument("--out", type=Path, default=Path("calibration"), help="report folder (default: calibration)")
    p.add_argument("--mode", choices=KINDS, default="pairwise", help="mode for rows without a 'mode' field")
    p.add_argument("--device", default="auto")
    p.add_argument("--no-cache", action="store_true")
    p.add_argument("--cache", default=None)
    p.add_argument("--max-input-tokens", type=int, default=2048)
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    import hashlib

    from flame_judge.cli import _load

    if not args.labels.is_file():
        raise JudgeError(f"the labels file {args.labels} does not exist")
    if args.out.exists() and not args.out.is_dir():
        raise JudgeError(f"--out {args.out} exists and is not a folder")
    rows, rejects = read_labels(args.labels, default_mode=args.mode)
    for r in rejects:
        print(f"{args.labels}:{r['line']}: rejected: {r['error']}", file=sys.stderr)
    print(f"rows in: {len(rows) + len(rejects)}, labelled: {len(rows)}, rejected: {len(rejects)}", file=sys.stderr)
    digest = hashlib.sha256(args.labels.read_bytes()).hexdigest()[:16]
    with _load(args) as judge:
        cal = calibrate(judge, rows, source=f"{args.labels.name} (sha256 {digest})")
    args.out.mkdir(parents=True, exist_ok=True)
    cal.write(args.out / "calibration.json")
    (args.out / "calibration.md").write_text(markdown(cal), encoding="utf-8")
    reliability_png(cal, args.out / "reliability.png")
    print(markdown(cal))
    print(f"wrote {args.out / 'calibration.json'}, {args.out / 'calibration.md'}, {args.out / 'reliability.png'}")
    return 0
