"""Terminal summary lines and the JSON / HTML report of every judgment in a session."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pytest_flame.session import Judgment

SHOW = 3


def summary_lines(judgments: Sequence[Judgment]) -> list[str]:
    passed = sum(j.passed for j in judgments)
    locked = sum(j.source == "lock" for j in judgments)
    cached = sum(j.cached for j in judgments) - locked
    models = sorted({j.model for j in judgments})
    from_lock = f"; {locked} from the lock" if locked else ""
    lines = [
        f"{len(judgments)} judgments: {passed} passed, {len(judgments) - passed} failed; "
        f"{cached} from cache{from_lock}; model {', '.join(models)}"
    ]
    total = sum(j.seconds for j in judgments)
    lines.append(f"judge time: {total:.2f} s ({1000 * total / len(judgments):.0f} ms per judgment)")
    for j in sorted(judgments, key=lambda j: -j.seconds)[:SHOW]:
        lines.append(f"slowest: {j.seconds:.2f} s {j.nodeid} ({j.assertion})")
    for j in sorted(judgments, key=lambda j: j.slack)[:SHOW]:
        lines.append(
            f"smallest margin: {j.slack:.3f} {j.nodeid} ({j.assertion}: {j.value:.3f} vs {j.threshold:.3f}, "
            f"{'passed' if j.passed else 'failed'})"
        )
    return lines


def write_report(judgments: Sequence[Judgment], path: str | Path) -> None:
    """Write `path` as JSON and a self-contained HTML table beside it (same name, .html)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    rows = [j.to_dict() for j in sorted(judgments, key=lambda j: j.nodeid)]
    target.write_text(json.dumps({"judgments": rows}, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    target.with_suffix(".html").write_text(_html(rows), encoding="utf-8")


PAIRWISE = ("assert_judged_better", "assert_win_rate")
BINS = 20


def _pairwise_values(rows: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
    """Every P(candidate better) in the run (win-rate cases included) and the thresholds applied."""
    values, thresholds = [], set()
    for r in rows:
        if r["assertion"] == "assert_judged_better":
            values.append(float(r["value"]))
            thresholds.add(float(r["threshold"]))
        elif r["assertion"] == "assert_win_rate":
            values += [float(c["prob_candidate"]) for c in r["details"].get("cases", [])]
            thresholds.add(0.5)
    return values, sorted(thresholds)


def _svg_distribution(values: list[float], thresholds: list[float]) -> str:
    """A histogram of P(candidate better) over [0, 1] with a line at each threshold."""
    width, height, pad = 560, 200, 30
    counts = [0] * BINS
    for v in values:
        counts[min(int(v * BINS), BINS - 1)] += 1
    top = max(counts) or 1
    bar = (width - 2 * pad) / BINS
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}" role="img">']
    parts.append(f"<title>distribution of P(candidate better) over {len(values)} pairwise verdicts</title>")
    for i, c in enumerate(counts):
        h = (height - pad) * c / top
        x = pad + i * bar
        colour = "#4f81bd" if (i + 0.5) / BINS > 0.5 else "#c0504d"
        parts.append(
            f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" fill="{colour}">'
            f"<title>{i / BINS:.2f}-{(i + 1) / BINS:.2f}: {c}</title></rect>"
        )
    for t in thresholds:
        x = pad + t * (width - 2 * pad)
        parts.append(
            f'<line x1="{x:.1f}" y1="{pad / 2}" x2="{x:.1f}" y2="{height}" stroke="#000" stroke-dasharray="4"/>'
        )
        parts.append(f'<text x="{x + 3:.1f}" y="{pad / 2 + 10}" font-size="11">threshold {t:.2f}</text>')
    for tick in (0, 0.25, 0.5, 0.75, 1):
        x = pad + tick * (width - 2 * pad)
        parts.append(f'<text x="{x:.1f}" y="{height + 15}" font-size="11" text-anchor="middle">{tick:g}</text>')
    parts.append(
        f'<text x="{width / 2}" y="{height + 32}" font-size="12" text-anchor="middle">P(candidate better)</text></svg>'
    )
    return "".join(parts)


def _svg_margins(rows: list[dict[str, Any]]) -> str:
    """One bar per judgment: how far past (right, green) or short of (left, red) its threshold it was."""
    line, label_w, half = 18, 330, 180
    shown = sorted(rows, key=lambda r: float(r["value"]) - float(r["threshold"]))
    reach = max((abs(float(r["value"]) - float(r["threshold"])) for r in shown), default=1.0) or 1.0
    height = line * len(shown) + 10
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + 2 * half + 60}" height="{height}" role="img">']
    parts.append("<title>per-judgment margin: value minus threshold</title>")
    centre = label_w + half
    parts.append(f'<line x1="{centre}" y1="0" x2="{centre}" y2="{height}" stroke="#000"/>')
    for n, r in enumerate(shown):
        margin = float(r["value"]) - float(r["threshold"])
        w = half * abs(margin) / reach
        x = centre if margin >= 0 else centre - w
        y = 5 + n * line
        colour = "#9bbb59" if r["passed"] else "#c0504d"
        name = html.escape(f"{r['nodeid']} ({r['assertion']})")
        parts.append(f'<text x="{label_w - 5}" y="{y + 12}" font-size="11" text-anchor="end">{name[-60:]}</text>')
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{max(w, 1):.1f}" height="{line - 4}" fill="{colour}">'
            f"<title>{name}: {margin:+.3f}</title></rect>"
        )
        parts.append(f'<text x="{centre + half + 5}" y="{y + 12}" font-size="11">{margin:+.3f}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _plots(rows: list[dict[str, Any]]) -> str:
    values, thresholds = _pairwise_values(rows)
    out = []
    if values:
        out.append("<h2>P(candidate better) against the thresholds</h2>" + _svg_distribution(values, thresholds))
    out.append("<h2>margins: value minus threshold, per judgment</h2>" + _svg_margins(rows))
    return "".join(out)


def _html(rows: list[dict[str, Any]]) -> str:
    head = ("test", "assertion", "outcome", "value", "threshold", "criteria", "cached", "seconds", "model")
    body = []
    for r in rows:
        outcome = "passed" if r["passed"] else "failed"
        cells = (
            r["nodeid"],
            r["assertion"],
            outcome,
            f"{r['value']:.3f}",
            f"{r['threshold']:.3f}",
            r["criteria"] or "",
            "yes" if r["cached"] else "no",
            f"{r['seconds']:.2f}",
            r["model"],
        )
        body.append(f'<tr class="{outcome}">' + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>")
    return (
        "<!doctype html><meta charset=utf-8><title>flame judgments</title>"
        "<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:4px 8px}tr.failed{background:#fdd}tr.passed{background:#efe}</style>"
        f"<h1>flame judgments</h1><p>{len(rows)} judgments</p>"
        + _plots(rows)
        + "<h2>every judgment</h2><table><tr>"
        + "".join(f"<th>{h}</th>" for h in head)
        + "</tr>"
        + "".join(body)
        + "</table>\n"
    )
