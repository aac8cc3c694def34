from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flame_data.adapter import Adapter, Row, Skip, pairwise_spec
from flame_data.errors import SchemaError, UnknownNameError
from flame_data.registry import adapter, adapters, register, tasks
from flame_data.schema import Example


def test_every_dataset_folder_has_an_adapter(data_dir: Path):
    folders = {p.name for p in data_dir.iterdir() if p.is_dir()}
    covered = {cls.folder or cls.name for cls in adapters().values()}
    assert folders <= covered, f"datasets without an adapter: {sorted(folders - covered)}"


def test_at_least_forty_tasks_and_unique_names():
    assert len(tasks()) >= 40


def test_unknown_name_suggests_close_ones():
    with pytest.raises(UnknownNameError, match="did you mean summeval"):
        adapter("sumeval")


def test_adapters_without_tasks_say_why():
    for cls in adapters().values():
        if not cls.tasks:
            assert "nothing" in cls.description().lower() or "no training tasks" in cls.description().lower()


def _adapter(name: str, license: str = "MIT", task: str | None = None) -> type[Adapter]:
    class Probe(Adapter):
        tasks = (pairwise_spec(task or f"{name}/x", "Decide.", "", license=license),)

        def read(self, directory: Path) -> Iterator[Row]:
            return iter(())

        def convert(self, row: Any) -> Iterator[Example | Skip]:
            return iter(())

    Probe.name = name
    Probe.title = name
    Probe.homepage = "https://example.org"
    Probe.license = license
    return Probe


def test_duplicate_names_are_refused():
    with pytest.raises(SchemaError, match="registered twice"):
        register(_adapter("summeval"))


def test_unknown_license_is_refused():
    with pytest.raises(SchemaError, match="license 'WTFPL'"):
        register(_adapter("probe_license", license="WTFPL"))


def test_task_names_carry_the_dataset_prefix():
    with pytest.raises(SchemaError, match="must be named 'probe_prefix/<aspect>'"):
        register(_adapter("probe_prefix", task="other/x"))
