"""Terminal summary lines and the JSON / HTML report of every judgment in a session."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path

from pytest_flame.session import Judgment

SHOW = 3


def summary_lines(judgments: Sequence[Judgment]) -> list[str]:
    passed = sum(j.passed for j in judgments)
    cached = sum(j.cached for j in judgments)
    models = sorted({j.model for j in judgments})
    lines = [
        f"{len(judgments)} judgments: {passed} passed, {len(judgments) - passed} failed; "
        f"{cached} from cache; model {', '.join(models)}"
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


def _html(rows: list[dict[str, object]]) -> str:
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
        f"<h1>flame judgments</h1><p>{len(rows)} judgments</p><table><tr>"
        + "".join(f"<th>{h}</th>" for h in head)
        + "</tr>"
        + "".join(body)
        + "</table>\n"
    )
