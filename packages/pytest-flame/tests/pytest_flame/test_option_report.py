from __future__ import annotations

import json

import pytest


def test_report_writes_json_and_html(suite: pytest.Pytester):
    result = suite.runpytest("--flame-model", "fake", "--flame-report", "out/judgments.json")
    result.stdout.fnmatch_lines(["report: out/judgments.json"])
    data = json.loads((suite.path / "out" / "judgments.json").read_text())
    rows = {r["nodeid"]: r for r in data["judgments"]}
    assert set(rows) == {"test_suite.py::test_good_beats_bad", "test_suite.py::test_bad_beats_good"}
    good = rows["test_suite.py::test_good_beats_bad"]
    assert good["passed"] is True
    assert good["assertion"] == "assert_judged_better"
    assert good["threshold"] == 0.5
    assert good["details"]["prompt"] == "How do I reset my password?"
    html = (suite.path / "out" / "judgments.html").read_text()
    assert html.count('<tr class="failed">') == 1
    assert html.count('<tr class="passed">') == 1
    # The plots: the distribution of P(candidate better) with the threshold, and one margin bar per test.
    assert "<title>distribution of P(candidate better) over 2 pairwise verdicts</title>" in html
    assert "threshold 0.50" in html
    assert html.count("<title>test_suite.py::test_") == 2
    assert set(good) >= {"source", "new", "from_lock", "cached", "seconds", "model", "details"}


def test_summary_lists_slowest_and_smallest_margins(suite: pytest.Pytester):
    result = suite.runpytest("--flame-model", "fake")
    result.stdout.fnmatch_lines(
        [
            "*= flame judgments =*",
            "judge time: *",
            "slowest: * test_suite.py::*",
            "smallest margin: * test_suite.py::*",
        ]
    )


def test_no_section_without_judgments(pytester: pytest.Pytester):
    pytester.makepyfile("def test_plain(): pass")
    result = pytester.runpytest("--flame-model", "fake")
    result.stdout.no_fnmatch_line("*flame judgments*")
