"""Adapters fed broken rows (a real row with one field removed, retyped or replaced) must raise a
clear RowError or SchemaError, or produce valid examples; never crash, never emit a bad example."""

from __future__ import annotations

import contextlib
import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flame_data.adapter import Rejected, Skip
from flame_data.errors import RowError, SchemaError
from flame_data.format import render_example
from flame_data.registry import adapters

NAMES = sorted(n for n, cls in adapters().items() if cls.tasks)
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 200),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
_FIRST_ROWS: dict[str, Any] = {}


def first_row(name: str, data_dir: Path) -> Any:
    if name not in _FIRST_ROWS:
        cls = adapters()[name]
        _FIRST_ROWS[name] = next(iter(cls().read(cls.directory(data_dir)))).data
    return _FIRST_ROWS[name]


def paths(value: Any, prefix: tuple = (), depth: int = 0) -> list[tuple]:
    """Every key path into a row, a few levels deep (lists: their first element)."""
    out = []
    if depth > 3:
        return out
    if isinstance(value, dict):
        for key, child in value.items():
            out.append((*prefix, key))
            out.extend(paths(child, (*prefix, key), depth + 1))
    elif isinstance(value, list) and value:
        out.append((*prefix, 0))
        out.extend(paths(value[0], (*prefix, 0), depth + 1))
    return out


def mutate(row: Any, path: tuple, junk: Any, delete: bool) -> Any:
    row = copy.deepcopy(row)
    parent = row
    for key in path[:-1]:
        parent = parent[key]
    if delete and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = junk
    return row


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), junk=JUNK, delete=st.booleans())
def test_broken_rows_give_clear_errors_or_valid_examples(name: str, data_dir: Path, data, junk, delete):
    cls = adapters()[name]
    row = first_row(name, data_dir)
    options = paths(row)
    broken = junk if not options else mutate(row, data.draw(st.sampled_from(options)), junk, delete)
    try:
        produced = list(cls().convert(broken))
    except (RowError, SchemaError) as exc:
        message = str(exc)
        produced = []
    else:
        message = "converted"
    assert message  # an error always says what is wrong
    for item in produced:
        if isinstance(item, Skip):
            continue
        if isinstance(item, Rejected):  # one bad record of a group: its error must say what is wrong
            assert str(item.error)
            continue
        # A SchemaError here becomes a rejected row with its reason in the builder.
        with contextlib.suppress(SchemaError):
            render_example(cls.task(item.task), item)
