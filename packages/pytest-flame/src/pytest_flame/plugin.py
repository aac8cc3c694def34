"""pytest hooks of pytest-flame: options, the `flame` marker, the `flame_judge` fixture, ERROR
reporting for a judge that cannot run, xdist aggregation, the terminal summary and the report.

Importing this module loads no torch or transformers; a judge is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from pytest_flame.report import summary_lines, write_report
from pytest_flame.session import (
    SESSION_KEY,
    FlameSession,
    JudgeUnavailableError,
    Judgment,
    Options,
    activate,
    deactivate,
)

if TYPE_CHECKING:
    from flame_judge.judge import Judge

MARKER_KEYS = frozenset({"model", "device", "margin"})
UNAVAILABLE = "flame_unavailable"
WORKER_KEY = "flame_judgments"

# (command-line flag, ini name, help); each flag also works as an ini setting.
OPTIONS = (
    (
        "--flame-model",
        "flame_model",
        "judge model spec: a name, a local directory, org/name, vllm:PATH, http://HOST:PORT/v1#NAME, or 'fake' "
        "(default: the default judge)",
    ),
    ("--flame-device", "flame_device", "device for the judge: auto, cpu, cuda, cuda:N (default: auto)"),
    ("--flame-cache", "flame_cache", "judgment cache file (default: judgments.sqlite in FLAME_CACHE_DIR)"),
    ("--flame-margin", "flame_margin", "default margin for judged assertions, e.g. 0.1 (default: 0)"),
    ("--flame-report", "flame_report", "write every judgment to this JSON file (and an HTML page beside it)"),
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("flame", "judged assertions (pytest-flame)")
    for flag, ini, help_text in OPTIONS:
        group.addoption(flag, dest=ini, default=None, help=help_text)
        parser.addini(ini, help=help_text, default=None)
    group.addoption(
        "--flame-no-cache",
        dest="flame_no_cache",
        action="store_true",
        default=None,
        help="neither read nor write the judgment cache",
    )
    parser.addini("flame_no_cache", help="neither read nor write the judgment cache", type="bool", default=False)


def _setting(config: pytest.Config, name: str) -> Any:
    value = config.getoption(name)
    return config.getini(name) if value is None else value


def _options(config: pytest.Config) -> Options:
    margin_text = _setting(config, "flame_margin")
    try:
        margin = float(margin_text) if margin_text not in (None, "") else 0.0
    except ValueError:
        raise pytest.UsageError(
            f"pytest-flame: --flame-margin / flame_margin must be a number, got {margin_text!r}"
        ) from None
    if not 0.0 <= margin < 0.5:
        raise pytest.UsageError(f"pytest-flame: --flame-margin must be in [0, 0.5), got {margin}")
    return Options(
        model=_setting(config, "flame_model") or None,
        device=_setting(config, "flame_device") or "auto",
        cache=_setting(config, "flame_cache") or None,
        no_cache=bool(_setting(config, "flame_no_cache")),
        margin=margin,
        report=_setting(config, "flame_report") or None,
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "flame(model=None, device=None, margin=None): judge settings for this test (pytest-flame)"
    )
    session = FlameSession(_options(config))
    config.stash[SESSION_KEY] = session
    activate(session)
    if config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(XdistController(session), "flame-xdist-controller")


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(SESSION_KEY, None)
    if session is not None:
        session.close()
        deactivate(session)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for marker in item.iter_markers("flame"):
            unknown = set(marker.kwargs) - MARKER_KEYS
            if marker.args or unknown:
                raise pytest.UsageError(
                    f"pytest-flame: @pytest.mark.flame on {item.nodeid} takes only keyword arguments "
                    f"{sorted(MARKER_KEYS)}; got {sorted(unknown) or list(marker.args)}"
                )
            margin = marker.kwargs.get("margin")
            if margin is not None and (not isinstance(margin, int | float) or not 0 <= margin < 0.5):
                raise pytest.UsageError(
                    f"pytest-flame: @pytest.mark.flame(margin=...) on {item.nodeid} must be a number "
                    f"in [0, 0.5), got {margin!r}"
                )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.config.stash[SESSION_KEY].current = item


def pytest_runtest_teardown(item: pytest.Item) -> None:
    item.config.stash[SESSION_KEY].current = None


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if call.excinfo is not None and call.excinfo.errisinstance(JudgeUnavailableError):
        report.user_properties.append((UNAVAILABLE, str(call.excinfo.value)))
    return report


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    if report.when == "call" and report.failed and any(k == UNAVAILABLE for k, _ in report.user_properties):
        return "error", "E", ("ERROR", {"red": True})
    return None


@pytest.fixture(scope="session")
def flame_judge(request: pytest.FixtureRequest) -> Judge:
    """The session's judge (from --flame-model / --flame-device), loaded on first use."""
    session = request.config.stash[SESSION_KEY]
    model, device, _ = session.settings_for(None)
    return session.judge(model, device)  # type: ignore[return-value]


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    state = config.stash[SESSION_KEY]
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the judgments to the controller
        workeroutput[WORKER_KEY] = [j.to_dict() for j in state.judgments]
        return
    if state.options.report and state.judgments:
        write_report(state.judgments, state.options.report)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(SESSION_KEY, None)
    if state is None or hasattr(config, "workerinput") or not state.judgments:
        return
    terminalreporter.write_sep("=", "flame judgments")
    for line in summary_lines(state.judgments):
        terminalreporter.write_line(line)
    if state.options.report:
        terminalreporter.write_line(f"report: {state.options.report}")


class XdistController:
    """Collects the workers' judgments on the controller (registered only when xdist is present)."""

    def __init__(self, session: FlameSession) -> None:
        self.session = session

    @pytest.hookimpl
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        for data in getattr(node, "workeroutput", {}).get(WORKER_KEY, []):
            self.session.record(Judgment(**data))
