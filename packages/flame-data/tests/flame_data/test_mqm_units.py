"""WMT MQM: a translation's score sums all its error rows, so a translation with one bad row is rejected
whole (the bad row at its line with its reason, its good rows as rejected because of it) and the
segment's other translations are kept. Synthetic files written here, in the source's TSV layout."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from flame_data.errors import RowError
from flame_data.mixture import BuildConfig, build

HEADER = ["system", "doc", "doc_id", "seg_id", "rater", "source", "target", "category", "severity", "comment"]
SOURCE = "The cat sat on the mat."
OTHER = "It rained all day."


def _row(system: str, seg: int, target: str, category: str, severity: str, comment: str = "") -> bytes:
    source = SOURCE if seg == 1 else OTHER
    return "\t".join([system, "talk.1", "1", str(seg), "rater1", source, target, category, severity, comment]).encode()


def _write(folder: Path, pair: str, rows: list[bytes]) -> None:
    (folder / pair).mkdir(parents=True)
    body = b"\n".join(["\t".join(HEADER).encode(), *rows]) + b"\n"
    (folder / pair / f"mqm_ted_{pair}.tsv.gz").write_bytes(gzip.compress(body))


@pytest.fixture
def mqm_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "wmt_mqm_ted"
    _write(
        folder,
        "ende",
        [
            _row("sysA", 1, "Die Katze <v>saß</v> auf der Matte.", "Fluency/Grammar", "Minor"),  # line 2
            _row("sysA", 1, "Die <v>Katze</v> saß auf der Matte.", "Accuracy/Mistranslation", "Major"),  # 3
            _row("sysB", 1, "Die Katze saß auf der Matte.", "No-error", "no-error"),  # 4
            _row("sysC", 1, "Der Kater <v>sitzt</v> auf der Matte.", "Fluency/Grammar", "Minor"),  # 5
            _row("sysC", 1, "<v>Der Kater</v> sitzt auf der Matte.", "Accuracy/Mistranslation", "Critical"),  # 6
            _row("sysC", 1, "Der Kater sitzt <v>auf der Matte</v>.", "Accuracy/Mistranslation", "Major"),  # 7
            _row("sysA", 2, "Es <v>regnete</v> den ganzen Tag.", "Fluency/Grammar", "Major", "caf\xe9").replace(
                b"caf\xc3\xa9", b"caf\xe9"
            ),  # 8: Latin-1 in the comment
            _row("sysA", 2, "Es regnete den <v>ganzen</v> Tag.", "Fluency/Grammar", "Minor"),  # 9
            _row("sysB", 2, "Es hat den ganzen Tag geregnet.", "No-error", "no-error"),  # 10
        ],
    )
    _write(folder, "zhen", [])
    return tmp_path


def _build(root: Path, on_error: str = "skip"):
    config = BuildConfig(data_dir=root, datasets=("wmt_mqm_ted",), on_error=on_error, licenses=("Apache-2.0",))  # type: ignore[arg-type]
    return build(config, log=lambda s: None)


def test_a_translation_with_a_bad_error_row_is_rejected_whole(mqm_dir):
    built = _build(mqm_dir)
    rejects = {r["where"].rsplit(":", 1)[1]: r for r in built.rejects}
    assert sorted(rejects, key=int) == ["5", "6", "7", "8", "9"]  # sysC of segment 1, sysA of segment 2
    assert rejects["6"]["field"] == "severity"
    assert "unknown severity 'critical'" in rejects["6"]["reason"]
    assert rejects["8"]["reason"].startswith("invalid UTF-8")
    for line, bad in (("5", "6"), ("7", "6"), ("9", "8")):
        assert "another record of the same translation is bad" in rejects[line]["reason"]
        assert f"(the bad record: wmt_mqm_ted/mqm_ted_ende.tsv.gz:{bad})" in rejects[line]["reason"]
    [counts] = built.datasets
    assert (counts.rows_read, counts.rows_converted, sum(counts.rows_rejected.values())) == (9, 4, 5)
    # The kept translations keep their whole scores: sysA 1 minor + 1 major = 6, sysB none.
    rated = [r for split in built.records.values() for r in split if r["task"] == "wmt_mqm_ted/quality"]
    kept = {(json.loads(r["metadata"])["system"], OTHER in r["input"]): json.loads(r["metadata"])["mqm"] for r in rated}
    assert kept == {("sysA", False): 6.0, ("sysB", False): 0.0, ("sysB", True): 0.0}


def test_raise_names_the_bad_row_not_the_segment(mqm_dir):
    with pytest.raises(RowError, match=r"mqm_ted_ende\.tsv\.gz:6: field 'severity'"):
        _build(mqm_dir, "raise")
