from __future__ import annotations

from pathlib import Path

from flame_data.cli import main


def test_list_prints_every_task(capsys):
    assert main(["data", "list"]) == 0
    out = capsys.readouterr().out
    assert "hh_rlhf/helpful" in out
    assert "pairwise" in out
    assert "MIT" in out
    assert "frank (no tasks)" in out


def test_build_then_stats(tmp_path: Path, capsys, data_dir: Path):
    out = tmp_path / "mix"
    code = main(["data", "build", "--out", str(out), "--datasets", "q2", "dialfact", "--data-dir", str(data_dir)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "rows read 900 = converted 900 + rejected 0" in printed
    assert "q2/consistency" in printed
    assert main(["data", "stats", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "tasks by type: {'classification': 3}" in printed
    assert (out / "stats.md").read_text().startswith("# FLAMe mixture")
    assert (out / "mixture.png").stat().st_size > 5000


def test_unknown_dataset_is_a_clear_error(capsys, tmp_path: Path):
    assert main(["data", "build", "--out", str(tmp_path / "m"), "--datasets", "hh_rlfh"]) == 1
    assert "did you mean hh_rlhf" in capsys.readouterr().err
