from __future__ import annotations

import socket

import pytest


def test_a_served_judge_that_is_down_is_an_error_not_a_failure(suite: pytest.Pytester):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    result = suite.runpytest("--flame-model", f"http://127.0.0.1:{port}/v1#judge")
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*could not be loaded*did not answer*is it running?*"])
    result.stdout.no_fnmatch_line("*FAILED*")
