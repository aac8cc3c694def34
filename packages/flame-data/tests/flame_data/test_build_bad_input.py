"""`flame data build` with broken sources: every bad line is a reject at its own file and line (or,
with --on-error raise, a one-line error), the good rows are kept, and bad --out folders are refused
before the build. Each test copies a few real rows into tmp_path and breaks them there."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flame_data.cli import main
from flame_data.errors import FlameError, RowError
from flame_data.mixture import BuildConfig, OnError, build

QUIET = {"log": lambda s: None}


def _lines(path: Path, n: int) -> list[bytes]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        return [fh.readline().rstrip(b"\n") for _ in range(n)]


def _build(root: Path, dataset: str, on_error: OnError = "skip"):
    return build(BuildConfig(data_dir=root, datasets=(dataset,), on_error=on_error, licenses=("MIT", "none")), **QUIET)


def _wheres(built) -> list[str]:
    return [r["where"] for r in built.rejects]


@pytest.fixture
def dialfact(data_dir: Path, tmp_path: Path) -> Path:
    """A dialfact folder of 8 real rows; tests break some of them."""
    (tmp_path / "dialfact").mkdir()
    return tmp_path / "dialfact" / "dialfact_test_sample300.jsonl"


def test_skip_goes_past_invalid_json_bom_and_bad_utf8_lines(data_dir, dialfact):
    rows = _lines(data_dir / "dialfact" / "dialfact_test_sample300.jsonl", 8)
    rows[0] = b"\xef\xbb\xbf" + rows[0]  # a BOM on the first line: accepted
    rows[2] = b"\xef\xbb\xbf" + rows[2]  # and on a line of files joined with cat
    rows[3] = b"{not json"
    rows[5] = rows[5].replace(b'"', b'"\xff', 1)  # invalid UTF-8 inside a value
    dialfact.write_bytes(b"\n".join(rows) + b"\n")
    built = _build(dialfact.parent.parent, "dialfact")
    [counts] = built.datasets
    assert (counts.rows_read, counts.rows_converted) == (8, 6)
    assert _wheres(built) == ["dialfact/dialfact_test_sample300.jsonl:4", "dialfact/dialfact_test_sample300.jsonl:6"]
    assert built.rejects[0]["reason"].startswith("invalid JSON")
    assert built.rejects[1]["reason"].startswith("invalid UTF-8 at byte 2")  # after '{"'
    with pytest.raises(RowError, match=r"dialfact/dialfact_test_sample300.jsonl:4: invalid JSON.*--on-error skip"):
        _build(dialfact.parent.parent, "dialfact", "raise")


def test_a_truncated_gz_keeps_the_rows_before_the_cut(data_dir, tmp_path):
    (tmp_path / "summeval").mkdir()
    rows = _lines(data_dir / "summeval" / "summeval_expert_avg.jsonl.gz", 40)
    whole = gzip.compress(b"\n".join(rows) + b"\n")
    (tmp_path / "summeval" / "summeval_expert_avg.jsonl.gz").write_bytes(whole[: len(whole) * 3 // 4])
    built = _build(tmp_path, "summeval")
    [counts] = built.datasets
    [reject] = built.rejects
    assert "cut short or corrupt" in reject["reason"]
    assert 0 < counts.rows_converted < 40
    assert counts.rows_read == counts.rows_converted + 1
    with pytest.raises(RowError, match=r"summeval_expert_avg\.jsonl\.gz:[0-9]+: the file is cut short"):
        _build(tmp_path, "summeval", "raise")


def test_a_csv_record_with_invalid_utf8_is_rejected_at_its_line(data_dir, tmp_path):
    folder = tmp_path / "q2"
    shutil.copytree(data_dir / "q2", folder)
    for p in folder.iterdir():
        p.chmod(0o644)
    path = folder / "dodeca_consistent.csv"
    lines = path.read_bytes().split(b"\n")
    lines[3] = lines[3].replace(b"a", b"\xe9", 1)  # Latin-1 in the third record
    path.write_bytes(b"\n".join(lines))
    built = _build(tmp_path, "q2")
    assert _wheres(built) == ["q2/dodeca_consistent.csv:4"]
    assert built.datasets[0].rows_read == 600  # the same rows as the real source: one of them rejected
    assert built.datasets[0].rows_converted == 599


def test_a_missing_file_is_a_one_line_error_naming_it(tmp_path, capsys):
    (tmp_path / "dialfact").mkdir()
    for on_error in ("raise", "skip"):
        args = ["data", "build", "--out", str(tmp_path / "mix"), "--datasets", "dialfact", "--data-dir", str(tmp_path)]
        code = main([*args, "--on-error", on_error])
        assert code == 1
        err = capsys.readouterr().err
        assert "dialfact_test_sample300.jsonl does not exist" in err
        assert err.count("\n") == 1


def test_a_grouped_dataset_rejects_each_bad_row_at_its_own_line_and_keeps_the_rest(data_dir, tmp_path):
    (tmp_path / "hanna").mkdir()
    rows = [json.loads(x) for x in _lines(data_dir / "hanna" / "hanna_stories_avg.jsonl", 22)]
    assert {r["prompt_id"] for r in rows[:11]} == {rows[0]["prompt_id"]}  # lines 1-11 are one prompt's group
    rows[2]["coherence"] = "high"  # line 3
    del rows[6]["story"]  # line 7: a second error in the same group
    (tmp_path / "hanna" / "hanna_stories_avg.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    built = _build(tmp_path, "hanna")
    assert _wheres(built) == ["hanna/hanna_stories_avg.jsonl:3", "hanna/hanna_stories_avg.jsonl:7"]
    assert [r["field"] for r in built.rejects] == ["coherence", "story"]
    [counts] = built.datasets
    assert (counts.rows_read, counts.rows_converted) == (22, 20)
    coherence = next(t for t in built.tasks if t.task == "hanna/coherence")
    assert coherence.generated == 20  # the 9 good rows of the broken group still rate their stories
    with pytest.raises(RowError, match=r"hanna/hanna_stories_avg.jsonl:3: field 'coherence'"):
        _build(tmp_path, "hanna", "raise")


BREAKS = st.lists(
    st.tuples(st.integers(0, 11), st.binary(max_size=12) | st.sampled_from([b"{", b"[]", b"\xef\xbb\xbf{}", b"\xff"])),
    max_size=4,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(breaks=BREAKS, cut=st.integers(0, 64))
def test_any_damage_to_a_grouped_gz_file_is_counted_never_raised(data_dir, tmp_path, breaks, cut):
    (tmp_path / "summeval").mkdir(exist_ok=True)
    rows = _lines(data_dir / "summeval" / "summeval_expert_avg.jsonl.gz", 12)
    for index, junk in breaks:
        rows[index] = junk
    whole = gzip.compress(b"\n".join(rows) + b"\n")
    (tmp_path / "summeval" / "summeval_expert_avg.jsonl.gz").write_bytes(whole[: len(whole) - cut])
    built = _build(tmp_path, "summeval")
    [counts] = built.datasets
    assert counts.rows_read == counts.rows_converted + sum(counts.rows_rejected.values())
    assert len(built.rejects) == sum(counts.rows_rejected.values())
    assert all(r["where"].startswith("summeval/summeval_expert_avg.jsonl.gz") for r in built.rejects)


# -- the output folder, checked before the build ----------------------------------------------


def _cli_build(out: Path, data_dir: Path, *extra: str) -> int:
    return main(["data", "build", "--out", str(out), "--datasets", "q2", "--data-dir", str(data_dir), *extra])


def test_bad_out_folders_are_refused_before_building(tmp_path, capsys):
    empty = tmp_path / "no-data"  # building would fail on the missing dataset: these must fail first
    (tmp_path / "afile").write_text("x")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "notes.txt").write_text("mine")
    cases = [
        (tmp_path / "afile", [], "is a file"),
        (tmp_path / "afile" / "mix", [], "is a file, not a folder"),
        (tmp_path / "used", [], "already exists and is not empty"),
        (tmp_path / "used", ["--overwrite"], "not a mixture written by flame data build"),
        (Path("/proc/flame-mix"), [], "cannot be written"),
    ]
    for out, extra, message in cases:
        assert _cli_build(out, empty, *extra) == 1
        err = capsys.readouterr().err
        assert message in err, (out, err)
        assert err.count("\n") == 1
    assert (tmp_path / "used" / "notes.txt").read_text() == "mine"


def test_overwrite_replaces_a_previous_mixture(data_dir, tmp_path, capsys):
    out = tmp_path / "deep" / "mix"  # missing parent folders are created
    assert _cli_build(out, data_dir) == 0
    first = (out / "stats.json").read_text()
    assert _cli_build(out, data_dir) == 1
    assert "pass --overwrite" in capsys.readouterr().err
    assert _cli_build(out, data_dir, "--overwrite", "--seed", "3") == 0
    assert (out / "stats.json").read_text() != first
    assert sorted(p.name for p in out.parent.iterdir()) == ["mix"]  # no temporary folders left behind


def test_an_unreadable_source_never_gives_a_traceback(tmp_path, capsys):
    (tmp_path / "fed").mkdir()
    (tmp_path / "fed" / "fed_data.json").write_bytes(b'[{"a": "caf\xe9"}]')
    args = ["data", "build", "--out", str(tmp_path / "m"), "--datasets", "fed", "--data-dir", str(tmp_path)]
    assert main([*args, "--licenses", "all"]) == 1
    err = capsys.readouterr().err
    assert "fed/fed_data.json:1: invalid UTF-8" in err
    assert err.count("\n") == 1
    assert issubclass(RowError, FlameError)
    assert main([*args, "--licenses", "all", "--on-error", "skip"]) == 0
    assert "rejected 1" in capsys.readouterr().out
