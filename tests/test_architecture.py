"""The package's layers: each module imports only modules of its own layer or the ones below.

The layers are those of the package docstring (``initmath/__init__.py``); the book's chapter
helpers (``chapter_*``) sit on top of everything. A new module must be placed here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "initmath"

LAYERS = {
    0: ["_checks"],
    1: ["shapes", "distributions", "torch_gain", "schemes", "samplers", "datasets"],
    2: ["activations", "quadrature", "moments", "gains", "meanfield"],
    3: ["derivations", "registry", "finite_width"],
    4: ["rng", "kernel_source", "kernel_cache", "kernels", "simulation", "stats", "reference",
        "jacobian"],
    5: ["verification", "training", "lsuv", "plotting", "__main__"],
    6: [p.stem for p in PACKAGE.glob("chapter_*.py")],
}
LAYER_OF = {module: layer for layer, modules in LAYERS.items() for module in modules}


def _package_imports(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1:
                found.update(alias.name for alias in node.names)
            elif node.module and node.module.startswith("initmath."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names
                         if a.name.startswith("initmath."))
    return found


def test_every_module_has_a_layer():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__"}
    assert modules == set(LAYER_OF), modules ^ set(LAYER_OF)


@pytest.mark.parametrize("module", sorted(LAYER_OF))
def test_imports_go_down_only(module):
    layer = LAYER_OF[module]
    for imported in _package_imports(PACKAGE / f"{module}.py"):
        assert LAYER_OF[imported] <= layer, (
            f"{module} (layer {layer}) imports {imported} (layer {LAYER_OF[imported]})")


def test_the_check_sees_imports():
    imports = _package_imports(PACKAGE / "training.py")
    assert {"samplers", "activations", "_checks"} <= imports


def test_every_public_submodule_is_an_attribute_of_the_package():
    import initmath

    public = {m for m in LAYER_OF if not m.startswith(("_", "chapter_"))}
    assert public == set(initmath._SUBMODULES)
    assert initmath.datasets.digits is not None and initmath.plotting.style is not None


def _private_uses(path: Path) -> list[str]:
    """Private names of other package modules that ``path`` uses: ``from .m import _x`` and
    ``m._x`` on a module ``m`` imported from the package."""
    tree = ast.parse(path.read_text())
    modules: set[str] = set()  # local names bound to package modules
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level == 1 or (
                node.module or "").startswith("initmath")):
            for alias in node.names:
                if node.module is None or node.module == "initmath":  # from . import m
                    modules.add(alias.asname or alias.name)
                elif alias.name.startswith("_"):
                    found.append(f"from {node.module} import {alias.name}")
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in modules and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            found.append(f"{node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("module", sorted(LAYER_OF))
def test_no_private_name_is_used_across_modules(module):
    # (the private module _checks is the package's shared helpers: its names are public)
    assert _private_uses(PACKAGE / f"{module}.py") == []


def test_the_private_name_check_sees_them(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from .meanfield import _act\nfrom . import stats as st\nst._sqrt(2)\n")
    assert _private_uses(bad) == ["from meanfield import _act", "st._sqrt"]
