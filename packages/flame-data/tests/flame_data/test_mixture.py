from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flame_data.errors import RowError
from flame_data.mixture import BuildConfig, build, load_weights, save, split_of

SMALL = ("pandalm_testset", "autoj_pairwise_test", "q2", "summeval")


@pytest.fixture(scope="module")
def built(data_dir: Path):
    return build(BuildConfig(data_dir=data_dir, datasets=SMALL, on_error="skip"), log=lambda s: None)


def test_counts_reconcile_per_dataset_and_task(built):
    for d in built.datasets:
        assert d.rows_read == d.rows_converted + sum(d.rows_rejected.values())
    for t in built.tasks:
        removed = t.excluded_by_license + t.duplicates + sum(t.decontaminated.values()) + t.capped
        assert t.generated == sum(t.written.values()) + removed
    assert sum(len(r) for r in built.records.values()) == sum(sum(t.written.values()) for t in built.tasks)


def test_license_filter_excludes_and_counts(built):
    autoj = next(t for t in built.tasks if t.dataset == "autoj_pairwise_test")
    assert autoj.generated > 1000
    assert autoj.excluded_by_license == autoj.generated
    assert not any(r["dataset"] == "autoj_pairwise_test" for rows in built.records.values() for r in rows)


def test_an_input_group_never_spans_two_splits(built):
    where: dict[str, str] = {}
    for split, rows in built.records.items():
        for r in rows:
            assert where.setdefault(r["group"], split) == split


def test_split_is_deterministic_and_roughly_80_10_10():
    splits = [split_of(f"group {i}") for i in range(5000)]
    assert splits == [split_of(f"group {i}") for i in range(5000)]
    assert 0.77 < splits.count("train") / 5000 < 0.83


def test_cap_and_mixing_rates(data_dir: Path):
    out = build(BuildConfig(data_dir=data_dir, datasets=("q2", "summeval"), cap=50), log=lambda s: None)
    per_task: dict[str, int] = {}
    for r in out.records["train"]:
        per_task[r["task"]] = per_task.get(r["task"], 0) + 1
    assert max(per_task.values()) == 50
    assert all(t.capped == max(0, t.written["train"] + t.capped - 50) for t in out.tasks)
    assert sum(out.mixture.values()) == pytest.approx(1.0)
    assert len(set(out.mixture.values())) == 1  # every task hit the cap: equal rates


def test_weights_file_scales_rates(data_dir: Path, tmp_path: Path):
    path = tmp_path / "w.toml"
    path.write_text('[weights]\n"q2" = 3.0\nfactuality = 0.5\n')
    weights = load_weights(path)
    out = build(
        BuildConfig(data_dir=data_dir, datasets=("q2", "summeval"), cap=50, weights=weights), log=lambda s: None
    )
    assert out.mixture["q2/consistency"] == pytest.approx(3 * out.mixture["summeval/coherence"])
    assert out.mixture["summeval/consistency"] == pytest.approx(0.5 * out.mixture["summeval/coherence"])


def test_decontamination_removes_and_explains(data_dir: Path, tmp_path: Path, built):
    row = built.records["train"][0]
    example_input = row["input"].split("CONTEXT:\n", 1)[1].split("\n")[0].split(": ", 1)[1]
    evals = tmp_path / "eval.jsonl"
    evals.write_text(json.dumps({"prompt": example_input.upper() + "!!"}) + "\n")
    out = build(
        BuildConfig(data_dir=data_dir, datasets=(row["dataset"],), decontaminate=(evals,), on_error="skip"),
        log=lambda s: None,
    )
    removed = {k: v for t in out.tasks for k, v in t.decontaminated.items()}
    assert (
        removed.get("exact match of an evaluation text", 0) + removed.get("13-gram overlap with an evaluation text", 0)
        >= 1
    )


def test_a_bad_row_names_file_line_and_field(data_dir: Path, tmp_path: Path):
    # A user's own copy of PandaLM with one broken row: the error points at it.
    mine = tmp_path / "pandalm_testset"
    mine.mkdir()
    rows = json.loads((data_dir / "pandalm_testset" / "testset-v1.json").read_text())[:3]
    rows[1]["annotator2"] = 7
    (mine / "testset-v1.json").write_text(json.dumps(rows))
    with pytest.raises(RowError, match=r"pandalm_testset/testset-v1.json\[1\]: field 'annotator2': expected 0, 1 or 2"):
        build(BuildConfig(data_dir=tmp_path, datasets=("pandalm_testset",)), log=lambda s: None)
    out = build(BuildConfig(data_dir=tmp_path, datasets=("pandalm_testset",), on_error="skip"), log=lambda s: None)
    assert out.rejects == [
        {
            "dataset": "pandalm_testset",
            "where": "pandalm_testset/testset-v1.json[1]",
            "field": "annotator2",
            "reason": "expected 0, 1 or 2, got 7",
        }
    ]
    assert out.datasets[0].rows_read == 3


def test_invalid_json_line_is_named(data_dir: Path, tmp_path: Path):
    mine = tmp_path / "autoj_pairwise_test"
    mine.mkdir()
    import gzip

    with gzip.open(mine / "testdata_pairwise.jsonl.gz", "wt") as fh:
        fh.write('{"label": 0, "prompt": "q", "response 1": "a", "response 2": "b"}\n{not json\n')
    with pytest.raises(RowError, match=r"testdata_pairwise.jsonl.gz:2: invalid JSON"):
        build(BuildConfig(data_dir=tmp_path, datasets=("autoj_pairwise_test",), licenses=("none",)), log=lambda s: None)


def test_save_writes_arrow_stats_and_rejects(built, tmp_path: Path):
    from datasets import load_from_disk

    config = BuildConfig(data_dir=Path("."), datasets=SMALL)
    save(built, tmp_path / "mix", config)
    data = load_from_disk(str(tmp_path / "mix" / "data"))
    assert set(data) == {"train", "dev", "test"}
    assert data["train"][0]["input"].startswith("INSTRUCTIONS:")
    stats = json.loads((tmp_path / "mix" / "stats.json").read_text())
    assert {t["task"] for t in stats["tasks"]} >= {"q2/consistency", "summeval/coherence"}
    assert json.loads((tmp_path / "mix" / "mixture.json").read_text())["rates"]
    shutil.rmtree(tmp_path / "mix")
