"""Registry of dataset adapters: built-ins from `flame_data.adapters`, third parties through the
`flame.adapters` entry-point group. Unknown names get a "did you mean" answer."""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from importlib.metadata import entry_points

from flame_data.adapter import LICENSES, Adapter
from flame_data.errors import SchemaError, UnknownNameError
from flame_data.schema import TaskSpec

_REGISTRY: dict[str, type[Adapter]] = {}
_LOADED = False


def register(cls: type[Adapter]) -> type[Adapter]:
    """Class decorator: add an adapter; a second adapter under the same name is refused."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise SchemaError(
            f"adapter {cls.name!r} is registered twice ({_REGISTRY[cls.name].__module__} and {cls.__module__})"
        )
    if cls.license not in LICENSES:
        raise SchemaError(f"adapter {cls.name!r}: license {cls.license!r} is not one of {sorted(LICENSES)}")
    for spec in cls.tasks:
        if not spec.name.startswith(f"{cls.name}/"):
            raise SchemaError(f"adapter {cls.name!r}: task {spec.name!r} must be named '{cls.name}/<aspect>'")
    _REGISTRY[cls.name] = cls
    return cls


def _load() -> None:
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    package = importlib.import_module("flame_data.adapters")
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"flame_data.adapters.{info.name}")
    for ep in entry_points(group="flame.adapters"):
        register(ep.load())


def adapters() -> dict[str, type[Adapter]]:
    _load()
    return dict(sorted(_REGISTRY.items()))


def adapter(name: str) -> type[Adapter]:
    known = adapters()
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(known)}"
        raise UnknownNameError(f"no dataset adapter named {name!r}{hint}")
    return known[name]


def tasks() -> dict[str, tuple[TaskSpec, type[Adapter]]]:
    return {spec.name: (spec, cls) for cls in adapters().values() for spec in cls.tasks}
