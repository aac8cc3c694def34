"""pytest hooks of pytest-flame: options, the `flame` marker, the `flame_judge` fixture, ERROR
reporting for a judge that cannot run, the judgment lock, xdist aggregation, the terminal summary
and the report.

Importing this module loads no torch or transformers; a judge is loaded on first use.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pytest_flame.lock import LockEntry, LockFileError, dumps, write_atomic
from pytest_flame.report import summary_lines, write_report
from pytest_flame.session import (
    SESSION_KEY,
    FlameSession,
    JudgeUnavailableError,
    Judgment,
    LockMode,
    Options,
    activate,
    deactivate,
)

if TYPE_CHECKING:
    from flame_judge.judge import Judge

MARKER_KEYS = frozenset({"model", "device", "margin"})
UNAVAILABLE = "flame_unavailable"
WORKER_KEY = "flame_judgments"
WORKER_LOCK_KEY = "flame_lock"
DEFAULT_LOCK = "flame-lock.json"
UNUSED_SHOWN = 10

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
    ("--flame-lock", "flame_lock", f"judgment lock file (default: {DEFAULT_LOCK} at the rootdir)"),
    (
        "--flame-max-input-tokens",
        "flame_max_input_tokens",
        "truncate judge inputs to this many tokens (default: what the judge was trained with)",
    ),
    (
        "--flame-calibration",
        "flame_calibration",
        "apply this calibration (from `flame calibrate`) to every verdict; it must match the judge",
    ),
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
    group.addoption(
        "--flame-record",
        dest="flame_record",
        action="store_true",
        default=False,
        help="judge everything and write every judgment of the run to the lock file",
    )
    group.addoption(
        "--flame-locked",
        dest="flame_locked",
        action="store_true",
        default=False,
        help="answer every judgment from the lock file and never load a model (CI without a judge)",
    )


def _setting(config: pytest.Config, name: str) -> Any:
    value = config.getoption(name)
    return config.getini(name) if value is None else value


def _path(config: pytest.Config, name: str) -> Path | None:
    """A path option: relative to the current folder on the command line, to the rootdir in the ini."""
    given = config.getoption(name)
    if given:
        return Path(given).resolve()
    ini = config.getini(name)
    return (config.rootpath / ini).resolve() if ini else None


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
    tokens_text = _setting(config, "flame_max_input_tokens")
    tokens = None
    if tokens_text not in (None, ""):
        try:
            tokens = int(tokens_text)
        except ValueError:
            tokens = 0
        if tokens <= 0:
            raise pytest.UsageError(
                f"pytest-flame: --flame-max-input-tokens / flame_max_input_tokens must be a positive integer, "
                f"got {tokens_text!r}"
            )
    if config.getoption("flame_record") and config.getoption("flame_locked"):
        raise pytest.UsageError("pytest-flame: --flame-record and --flame-locked exclude each other; pick one")
    mode: LockMode = (
        "record" if config.getoption("flame_record") else "locked" if config.getoption("flame_locked") else "default"
    )
    calibration = _path(config, "flame_calibration")
    if calibration is not None and not calibration.is_file():
        raise pytest.UsageError(f"pytest-flame: the calibration file {calibration} does not exist")
    return Options(
        model=_setting(config, "flame_model") or None,
        device=_setting(config, "flame_device") or "auto",
        cache=_setting(config, "flame_cache") or None,
        no_cache=bool(_setting(config, "flame_no_cache")),
        margin=margin,
        report=_setting(config, "flame_report") or None,
        lock=_path(config, "flame_lock") or (config.rootpath / DEFAULT_LOCK),
        lock_mode=mode,
        max_input_tokens=tokens,
        calibration=calibration,
    )


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "flame(model=None, device=None, margin=None): judge settings for this test (pytest-flame)"
    )
    from flame_judge.errors import CalibrationError

    try:
        session = FlameSession(_options(config))
    except (LockFileError, CalibrationError) as exc:
        text = str(exc)
        raise pytest.UsageError(text if text.startswith("pytest-flame") else f"pytest-flame: {text}") from None
    config.stash[SESSION_KEY] = session
    activate(session)
    if config.pluginmanager.hasplugin("xdist") and not hasattr(config, "workerinput"):
        config.pluginmanager.register(XdistController(session), "flame-xdist-controller")


def pytest_unconfigure(config: pytest.Config) -> None:
    session = config.stash.get(SESSION_KEY, None)
    if session is not None:
        session.close()
        deactivate(session)


@pytest.hookimpl(tryfirst=True)  # before -k / -m deselect: a deselected test's lock entries are kept
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    config.stash[SESSION_KEY].collected.update(item.nodeid for item in items)
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
    item.config.stash[SESSION_KEY].start_test(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    item.config.stash[SESSION_KEY].ran.add(item.nodeid)
    return (yield)


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
    if workeroutput is not None:  # an xdist worker: hand the judgments and lock entries to the controller
        workeroutput[WORKER_KEY] = [j.to_dict() for j in state.judgments]
        workeroutput[WORKER_LOCK_KEY] = {
            "recorded": [e.to_json() for e in state.recorded],
            "touched": sorted(state.touched),
            "ran": sorted(state.ran),
            "collected": sorted(state.collected),
        }
        return
    if state.options.lock_mode == "record" and state.options.lock is not None:
        before = {(e.test, e.key) for e in (state.lock.entries if state.lock else [])}
        entries = state.entries_to_write()
        after = {(e.test, e.key) for e in entries}
        write_atomic(state.options.lock, dumps(entries))
        state.lock_written = (len(entries), len(after - before), len(before - after))
    if state.options.report and state.judgments:
        write_report(state.judgments, state.options.report)


def _lock_lines(state: FlameSession) -> list[str]:
    opts = state.options
    lines = []
    if state.lock_written is not None:
        total, added, removed = state.lock_written
        lines.append(f"lock: wrote {opts.lock}: {total} entries ({added} new, {removed} removed)")
        return lines
    from_lock = sum(j.from_lock for j in state.judgments)
    if opts.lock_mode == "locked":
        lines.append(f"lock: {opts.lock} (--flame-locked: no model loaded); {from_lock} judgments answered from it")
    elif state.lock_exists:
        new = sum(j.new for j in state.judgments)
        text = f"lock: {opts.lock}: {from_lock} judgments answered from it, {new} new"
        if new:
            text += " (not in the lock: run `pytest --flame-record` to add them)"
        lines.append(text)
    unused = state.unused_entries()
    if unused:
        lines.append(f"lock: {len(unused)} entries no test used (`pytest --flame-record` removes them):")
        for e in unused[:UNUSED_SHOWN]:
            lines.append(f"  unused: {e.test} judgment {e.position + 1} ({e.assertion})")
        if len(unused) > UNUSED_SHOWN:
            lines.append(f"  ... and {len(unused) - UNUSED_SHOWN} more")
    return lines


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(SESSION_KEY, None)
    if state is None or hasattr(config, "workerinput"):
        return
    lock_lines = _lock_lines(state)
    if not state.judgments and not lock_lines:
        return
    terminalreporter.write_sep("=", "flame judgments")
    if state.judgments:
        for line in summary_lines(state.judgments):
            terminalreporter.write_line(line)
    for line in [*lock_lines, *state.calibration_lines, *state.cache_notes()]:
        terminalreporter.write_line(line)
    if state.options.report and state.judgments:
        terminalreporter.write_line(f"report: {state.options.report}")


class XdistController:
    """Collects the workers' judgments and lock entries on the controller (only when xdist is present)."""

    def __init__(self, session: FlameSession) -> None:
        self.session = session

    @pytest.hookimpl
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        output = getattr(node, "workeroutput", {})
        for data in output.get(WORKER_KEY, []):
            self.session.judgments.append(Judgment(**data))
        lock = output.get(WORKER_LOCK_KEY)
        if lock:
            self.session.recorded.extend(LockEntry.from_json(e) for e in lock["recorded"])
            self.session.touched.update((t, k) for t, k in lock["touched"])
            self.session.ran.update(lock["ran"])
            self.session.collected.update(lock["collected"])
