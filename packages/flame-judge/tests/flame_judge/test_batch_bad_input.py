"""`flame judge batch` never loses a row: each is a verdict or a reject with its line and reason,
bad output paths are refused before anything is written, and the summary reconciles."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flame_data.cli import main
from flame_judge.batch import BadRow, Row, decode, parse_row, read_lines, score_rows
from flame_judge.errors import InputTooLongError, JudgeError, LabelTokenError
from flame_judge.judge import PointwiseRequest, check_classification, check_pairwise, check_pointwise

GOOD_PAIR = {"prompt": "What is 2 + 2?", "a": "4", "b": "5"}
GOOD_POINT = {"mode": "pointwise", "prompt": "Say hi.", "response": "Hi!"}
GOOD_CLASS = {"mode": "classify", "context": "Cats are mammals.", "response": "Cats are mammals."}

# Rows that must be rejected when read, with the reason counted in the summary.
READ_REJECTS = [
    (b'{"prompt": "q", "a": "x"', "invalid JSON"),
    (b'{"prompt": "caf\xe9", "a": "x", "b": "y"}', "invalid UTF-8"),  # Latin-1 inside a value
    (b'["a", "b"]', "not an object"),
    (b'{"prompt": "q", "a": "x"}', "missing field"),
    (b'{"prompt": "q", "a": 1, "b": "y"}', "field 'a'"),
    (b'{"mode": "ranking", "prompt": "q"}', "field 'mode'"),
    (b'{"id": {"k": 1}, "prompt": "q", "a": "x", "b": "y"}', "field 'id'"),
    (b'{"id": true, "prompt": "q", "a": "x", "b": "y"}', "field 'id'"),
    (b'{"id": NaN, "prompt": "q", "a": "x", "b": "y"}', "field 'id'"),
    (b'{"mode": "pointwise", "prompt": "q", "response": "r", "scale": []}', "field 'scale'"),
    (b'{"mode": "pointwise", "prompt": "q", "response": "r", "scale": [1, 5, 9]}', "field 'scale'"),
    (b'{"mode": "classify", "context": "c", "response": "r", "labels": [" yes", " no"]}', "field 'labels'"),
    (b'{"mode": "classify", "context": "c", "response": "r", "labels": "yes"}', "field 'labels'"),
    (b'{"prompt": "\\ud800", "a": "x", "b": "y"}', "field 'prompt'"),
    (b'{"prompt": "q", "a": "x", "b": "y", "criteria": 5}', "field 'criteria'"),
]
# Rows that pass reading but that this tokenizer cannot score: rejected one by one when scored.
SCORE_REJECTS = [
    (b'{"mode": "pointwise", "prompt": "q", "response": "r", "scale": [1, 10]}', "scoring: LabelTokenError"),
    (b'{"mode": "pointwise", "prompt": "q", "response": "r", "scale": [0, 100]}', "scoring: LabelTokenError"),
]


def _parsed(line: bytes | str, mode: str = "pairwise") -> Row | BadRow:
    try:
        return parse_row(decode(line) if isinstance(line, bytes) else line, mode)
    except BadRow as exc:
        return exc


@pytest.mark.parametrize(("raw", "reason"), READ_REJECTS)
def test_each_bad_row_is_rejected_when_read_with_its_reason(raw, reason):
    parsed = _parsed(raw)
    assert isinstance(parsed, BadRow)
    assert parsed.reason == reason
    assert str(parsed)


def test_null_options_mean_the_defaults():
    point = _parsed(b'{"mode": "pointwise", "prompt": "q", "response": "r", "scale": null, "criteria": null}')
    assert isinstance(point, Row)
    assert point.request.scale == (1, 5)
    labelled = _parsed(b'{"mode": "classify", "context": "c", "response": "r", "labels": null, "id": 7}')
    assert isinstance(labelled, Row)
    assert labelled.request.labels == ("yes", "no")
    assert labelled.id == 7  # ids keep their JSON type


def test_a_byte_order_mark_is_accepted(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\xef\xbb\xbf" + json.dumps(GOOD_PAIR).encode() + b"\r\n")
    [(number, raw)] = list(read_lines(src))
    assert number == 1
    parsed = _parsed(raw)
    assert isinstance(parsed, Row)
    assert parsed.request.prompt == GOOD_PAIR["prompt"]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
FIELDS = ["mode", "prompt", "a", "b", "response", "context", "criteria", "scale", "labels", "id"]


@settings(max_examples=150, deadline=None)
@given(
    row=st.dictionaries(
        st.sampled_from(FIELDS),
        JSON | st.sampled_from(["pairwise", "pointwise", "classify", "x"]) | st.lists(st.integers(0, 9), max_size=3),
    ),
    mode=st.sampled_from(["pairwise", "pointwise", "classify"]),
)
def test_any_row_is_rejected_with_a_reason_or_passes_every_judge_check(row, mode):
    parsed = _parsed(json.dumps(row), mode)
    if isinstance(parsed, BadRow):
        assert parsed.reason
        assert str(parsed)
        return
    check = {"pairwise": check_pairwise, "pointwise": check_pointwise, "classify": check_classification}
    check[parsed.mode](parsed.request)  # what the judge checks again must already hold


@settings(max_examples=150, deadline=None)
@given(raw=st.binary(max_size=40))
def test_any_bytes_are_a_row_or_a_reject(raw):
    parsed = _parsed(raw)
    assert isinstance(parsed, Row) or parsed.reason


def test_a_failing_chunk_is_bisected_to_the_rows_that_fail():
    calls = []

    def judge_batch(requests):
        calls.append(len(requests))
        for r in requests:
            if r.response.startswith("bad"):
                raise LabelTokenError(f"cannot score {r.response}")
        return [f"verdict {r.response}" for r in requests]

    rows = [Row(n, "pointwise", PointwiseRequest("q", "bad" if n in (3, 11) else f"ok{n}"), None) for n in range(16)]
    good, bad = score_rows(judge_batch, rows)
    assert [r.line for r, _ in good] == [n for n in range(16) if n not in (3, 11)]
    assert [v for _, v in good][:2] == ["verdict ok0", "verdict ok1"]
    assert [(r.line, str(e)) for r, e in bad] == [(3, "cannot score bad"), (11, "cannot score bad")]
    assert len(calls) < 16  # bisection, not one call per row


def test_errors_about_the_judge_are_not_turned_into_rejects():
    def broken(requests):
        raise JudgeError("out of memory scoring a batch")

    def too_long(requests):
        raise InputTooLongError("could not fit the input")

    row = Row(1, "pointwise", PointwiseRequest("q", "r"), None)
    with pytest.raises(JudgeError, match="out of memory"):
        score_rows(broken, [row])
    good, [(rejected, error)] = score_rows(too_long, [row])  # a row error: that row is rejected
    assert good == []
    assert rejected == row
    assert isinstance(error, InputTooLongError)


# -- output paths, refused before anything is written and before the model loads ---------------


def _batch(src: Path, *extra: str) -> int:
    # A model that does not exist: reaching the model would be a different error than the one expected.
    return main(["judge", "batch", str(src), "--model", "/nonexistent/model", "--no-cache", *extra])


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(GOOD_PAIR) + "\n")
    return path


def test_out_or_rejects_equal_to_the_input_is_refused_and_the_input_kept(src, tmp_path, capsys, monkeypatch):
    before = src.read_bytes()
    link = tmp_path / "link.jsonl"
    link.symlink_to(src)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    for extra in (
        ["--out", str(src)],
        ["--out", str(link)],
        ["--out", "in.jsonl"],
        ["--out", "./sub/../in.jsonl"],
        ["--out", str(tmp_path / "o.jsonl"), "--rejects", str(src)],
        ["--out", str(tmp_path / "o.jsonl"), "--rejects", "link.jsonl"],
    ):
        assert _batch(src, *extra) == 1
        err = capsys.readouterr().err
        assert "is the input file" in err, extra
        assert err.count("\n") == 1  # one line, no traceback
        assert src.read_bytes() == before
    assert not (tmp_path / "o.jsonl").exists()


def test_out_and_rejects_must_differ(src, tmp_path, capsys):
    out = tmp_path / "o.jsonl"
    assert _batch(src, "--out", str(out), "--rejects", str(out)) == 1
    assert "are the same file" in capsys.readouterr().err


def test_bad_output_paths_are_one_line_errors_before_the_model_loads(src, tmp_path, capsys):
    (tmp_path / "folder").mkdir()
    (tmp_path / "afile").write_text("x")
    cases = [
        (tmp_path / "folder", "is a folder"),
        (tmp_path / "missing" / "o.jsonl", "does not exist; create it first"),
        (tmp_path / "afile" / "o.jsonl", "is not a folder"),
    ]
    unwritable = tmp_path / "readonly"
    unwritable.mkdir()
    unwritable.chmod(0o500)
    # root may write whatever a mode forbids, so as root use a folder no one can create files in
    cases.append((Path("/proc/o.jsonl") if os.geteuid() == 0 else unwritable / "o.jsonl", "cannot be written"))
    try:
        for out, message in cases:
            assert _batch(src, "--out", str(out)) == 1
            err = capsys.readouterr().err
            assert message in err, (out, err)
            assert err.count("\n") == 1
            assert "nonexistent" not in err  # refused before the model was looked up
        for out, message in cases[:2]:
            assert _batch(src, "--out", str(tmp_path / "ok.jsonl"), "--rejects", str(out)) == 1
            assert message in capsys.readouterr().err
    finally:
        unwritable.chmod(0o700)


# -- the whole file, on the real default judge -------------------------------------------------


@pytest.mark.slow
def test_a_file_mixing_every_kind_of_bad_row_loses_nothing(tmp_path, capsys):
    good = [GOOD_PAIR, GOOD_POINT, GOOD_CLASS] * 2  # few good rows: each costs forward passes on a CPU
    good = [{**g, "id": n} for n, g in enumerate(good)]
    bad = READ_REJECTS + SCORE_REJECTS
    lines = [b"\xef\xbb\xbf" + json.dumps(good[0]).encode()]  # a BOM on the first line
    for n, g in enumerate(good[1:], start=1):
        lines += [raw for k, (raw, _) in enumerate(bad) if k % (len(good) - 1) == n - 1]
        lines.append(json.dumps(g).encode())
    lines.insert(5, b"   ")  # blank lines are not rows
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out.jsonl"
    assert main(["judge", "batch", str(src), "--out", str(out), "--cache", str(tmp_path / "c.sqlite")]) == 0
    printed = capsys.readouterr()
    verdicts = [json.loads(x) for x in out.read_text().splitlines()]
    rejects = [json.loads(x) for x in (tmp_path / "out.rejects.jsonl").read_text().splitlines()]
    assert sorted(v["id"] for v in verdicts) == list(range(len(good)))
    assert sorted(r["reason"] for r in rejects) == sorted(reason for _, reason in bad)
    numbers = {n for n, line in enumerate(src.read_bytes().split(b"\n"), start=1) if line.strip()}
    assert {v["line"] for v in verdicts} | {r["line"] for r in rejects} == numbers
    assert f"rows in: {len(good) + len(bad)}, scored: {len(good)}, rejected: {len(bad)}" in printed.out
    assert "scoring: LabelTokenError: 2" in printed.out
    [scale] = [r for r in rejects if "[1, 10]" in r["raw"]]
    assert "'1' and '10' start with the same token" in scale["error"]
    [latin] = [r for r in rejects if r["reason"] == "invalid UTF-8"]
    assert "\\xe9" in latin["raw"]  # the bad byte is kept visibly, not replaced
