"""Each domain package's face: every name in `__all__` is found, and is its module's own object."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import domain

PACKAGES = sorted(info.name for info in pkgutil.walk_packages(domain.__path__, "domain.") if info.ispkg)


@pytest.mark.parametrize("name", PACKAGES)
def test_every_public_name_of_a_domain_package_is_found_where_its_face_says(name: str) -> None:
    package = importlib.import_module(name)
    public = getattr(package, "__all__", [])
    assert public, f"{name} names no public API"
    missing = [attribute for attribute in public if not hasattr(package, attribute)]
    assert missing == [], f"{name} lists names its face cannot find"


@pytest.mark.parametrize("name", PACKAGES)
def test_no_public_name_is_also_a_submodule_which_would_replace_it_once_imported(name: str) -> None:
    package = importlib.import_module(name)
    submodules = {info.name for info in pkgutil.iter_modules(package.__path__)}
    assert sorted(set(package.__all__) & submodules) == []
    for submodule in submodules:
        importlib.import_module(f"{name}.{submodule}")
    modules = [
        attribute for attribute in package.__all__ if type(getattr(package, attribute)).__name__ == "module"
    ]
    assert modules == [], f"{name}'s face hands out modules for {modules}"
