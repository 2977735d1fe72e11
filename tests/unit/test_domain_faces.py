"""Each domain package's face: every name in `__all__` is found, and is its module's own object."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

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


def test_inside_the_domain_packages_import_each_others_modules_not_their_faces() -> None:
    # A face imports every module of its package for the type checker: a sibling importing the
    # face would tie the two packages in a circle (ticket <-> time_limits, ticket <-> privacy).
    root = Path(domain.__file__).parent
    faces = {f"domain.{name.rsplit('.', 1)[-1]}" for name in PACKAGES}
    through_a_face = []
    for path in sorted(root.rglob("*.py")):
        own = "domain." + path.relative_to(root).parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module in faces and node.module != own:
                through_a_face.append(f"{path.relative_to(root)}: from {node.module} import ...")
    assert through_a_face == []
