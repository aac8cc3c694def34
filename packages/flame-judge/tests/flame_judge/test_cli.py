from __future__ import annotations

import json

import pytest

from flame_data.cli import main
from flame_judge.batch import parse_row

GOOD = [
    {"id": "p1", "prompt": "What is 2 + 2?", "a": "4", "b": "5", "criteria": "correctness"},
    {"mode": "pointwise", "prompt": "Say hi.", "response": "Hi!", "scale": [1, 5]},
    {
        "mode": "classify",
        "context": "Cats are mammals.",
        "response": "Cats are mammals.",
        "labels": ["yes", "no"],
    },
]
BAD_LINES = [
    ('{"prompt": "q", "a": "x"', "invalid JSON"),
    ('{"prompt": "q", "a": "x"}', "missing field 'b'"),
    ('{"prompt": "q", "a": 1, "b": "y"}', "field 'a' must be a string, got int"),
    ('{"mode": "ranking", "prompt": "q"}', "field 'mode': 'ranking' is not one of"),
    ('{"mode": "pointwise", "prompt": "q", "response": "r", "scale": [5, 1]}', "field 'scale'"),
    ('["a", "b"]', "must be a JSON object, got list"),
]


@pytest.mark.parametrize(("line", "reason"), BAD_LINES)
def test_parse_row_explains_each_bad_row(line, reason):
    with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace("[", r"\[")):
        parse_row(line, "pairwise")


@pytest.mark.slow
def test_batch_scores_good_rows_and_rejects_bad_ones_with_line_numbers(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    lines = [
        json.dumps(GOOD[0]),
        BAD_LINES[0][0],
        json.dumps(GOOD[1]),
        "",
        BAD_LINES[1][0],
        json.dumps(GOOD[2]),
    ]
    lines += [b for b, _ in BAD_LINES[2:]]
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.jsonl"
    code = main(["judge", "batch", str(src), "--out", str(out), "--cache", str(tmp_path / "c.sqlite")])
    assert code == 0
    printed = capsys.readouterr()
    assert "rows in: 9, scored: 3, rejected: 6" in printed.out
    assert f"{src}:2: rejected: invalid JSON" in printed.err
    verdicts = [json.loads(x) for x in out.read_text().splitlines()]
    assert [(v["line"], v["mode"]) for v in verdicts] == [(1, "pairwise"), (3, "pointwise"), (6, "classify")]
    assert verdicts[0]["id"] == "p1"
    assert 0 < verdicts[0]["prob_a"] < 1
    rejects = [json.loads(x) for x in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert [r["line"] for r in rejects] == [2, 5, 7, 8, 9, 10]
    assert rejects[1]["error"].startswith("missing field 'b'")
    assert rejects[0]["raw"] == BAD_LINES[0][0]


@pytest.mark.slow
def test_pairwise_json_output(tmp_path, capsys):
    code = main(
        [
            "judge",
            "pairwise",
            "--prompt",
            "Capital of France?",
            "--a",
            "Paris",
            "--b",
            "Rome",
            "--json",
            "--cache",
            str(tmp_path / "c.sqlite"),
        ]
    )
    assert code == 0
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["winner"] in {"A", "B", "tie"}
    assert verdict["prob_a"] == pytest.approx((verdict["prob_a_first"] + verdict["prob_a_second"]) / 2)


def test_missing_input_file_is_an_error_not_a_traceback(tmp_path, capsys):
    code = main(["judge", "batch", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o.jsonl")])
    assert code == 1
    assert "does not exist" in capsys.readouterr().err


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "judge" in capsys.readouterr().out
