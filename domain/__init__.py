"""The pure core: one package per capability, each naming its public API in its `__init__`.

A package's face imports nothing until a name is asked for: the packages use each other's
modules (the ticket's fold runs the time limits' clocks, the time limits read the ticket's
state), so eager faces would import in a circle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module


def public_names(package: str, homes: Mapping[str, str]) -> Callable[[str], object]:
    """A package's `__getattr__`: each public name imported from its module when first used."""

    def attribute(name: str) -> object:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(f"{package}.{home}"), name)

    return attribute
