"""The package's layers, read from its folder tree.

Each subpackage of ``initmath/`` is a layer; its docstring starts with ``Layer <n>``, which is
its rank (``core`` 0, ``weights`` 1, ``theory`` 2, ``engine`` 3, ``practice`` 4). A module
imports only modules of its own layer or of the layers below; the top-level modules
(``initmath/__init__.py``, ``__main__.py``) sit above every layer. No module uses another
module's private names.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "initmath"


def _rank(folder: Path) -> int:
    doc = ast.get_docstring(ast.parse((folder / "__init__.py").read_text())) or ""
    match = re.match(r"Layer (\d+), ``(\w+)``", doc)
    assert match and match.group(2) == folder.name, (
        f"{folder.name}/__init__.py must start 'Layer <n>, ``{folder.name}``'"
    )
    return int(match.group(1))


LAYER_OF_FOLDER = {
    p.name: _rank(p)
    for p in sorted(PACKAGE.iterdir())
    if p.is_dir() and (p / "__init__.py").exists()
}
TOP = max(LAYER_OF_FOLDER.values()) + 1
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _name(path: Path) -> str:
    """Dotted module name of ``path`` (``initmath.engine.rng``)."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _layer(module: str) -> int:
    """Layer of a dotted module name of the package."""
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in LAYER_OF_FOLDER:
        return LAYER_OF_FOLDER[parts[1]]
    return TOP


def _package(path: Path) -> str:
    """The package a relative import in ``path`` is relative to."""
    name = _name(path)
    return name if path.name == "__init__.py" else name.rsplit(".", 1)[0]


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = _package(path).split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _package_imports(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            module = _resolve(path, node)
            if not module.startswith("initmath"):
                continue
            for alias in node.names:  # `from .. import x` may import a module x
                candidate = f"{module}.{alias.name}"
                sub = PACKAGE.parent / Path(*candidate.split("."))
                found.add(candidate if sub.with_suffix(".py").exists() or sub.is_dir() else module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("initmath"))
    return found


def test_the_layers_are_the_folders():
    assert LAYER_OF_FOLDER == {"core": 0, "weights": 1, "theory": 2, "engine": 3, "practice": 4}
    top_level = {p.name for p in PACKAGE.glob("*.py")}
    assert top_level == {"__init__.py", "__main__.py"}, top_level


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_imports_go_down_only(path):
    layer = _layer(_name(path))
    for imported in _package_imports(path):
        if imported == "initmath" and layer == TOP:
            continue
        assert _layer(imported) <= layer, (
            f"{_name(path)} (layer {layer}) imports {imported} (layer {_layer(imported)})"
        )


def test_the_check_sees_imports():
    imports = _package_imports(PACKAGE / "practice" / "training.py")
    assert {
        "initmath.weights.samplers",
        "initmath.theory.activations",
        "initmath.core.checks",
    } <= imports
    assert _layer("initmath.engine.simulation") == 3 and _layer("initmath.__main__") == TOP


def test_every_layer_is_an_attribute_of_the_package():
    import initmath

    assert set(LAYER_OF_FOLDER) == set(initmath._SUBMODULES)
    assert initmath.practice.datasets.digits is not None
    assert initmath.practice.plotting.style is not None


def _private_uses(path: Path, text: str | None = None) -> list[str]:
    """Private names of other package modules that ``path`` uses: ``from .m import _x``,
    ``from . import _m`` and ``m._x`` on a module ``m`` imported from the package."""
    tree = ast.parse(path.read_text() if text is None else text)
    modules: set[str] = set()  # local names bound to package modules
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _resolve(path, node).startswith("initmath"):
            for alias in node.names:
                if alias.name.startswith("_"):
                    found.append(f"from {_resolve(path, node)} import {alias.name}")
                else:
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("initmath"):
                    if any(part.startswith("_") for part in alias.name.split(".")):
                        found.append(f"import {alias.name}")
                    modules.add(alias.asname or alias.name.split(".")[0])
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            found.append(f"{node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_no_private_name_is_used_across_modules(path):
    uses = _private_uses(path)
    if path.name == "__init__.py" and path.parent == PACKAGE:
        uses = []  # the package's own lazy loader
    assert uses == []


def test_the_private_name_check_sees_them():
    text = (
        "from ..theory.meanfield import _act\nfrom . import stats as st\nst._sqrt(2)\n"
        "import initmath._hidden\n"
    )
    found = _private_uses(PACKAGE / "engine" / "new_module.py", text)
    assert found == [
        "from initmath.theory.meanfield import _act",
        "import initmath._hidden",
        "st._sqrt",
    ]


def test_no_string_literal_holds_a_control_character():
    # a "\alpha" or "\text" in a non-raw docstring is a bell or a tab, which MathJax cannot
    # read (the API appendix's TeX errors of 2026-12-02); the literals must use r"" or \\
    import ast

    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if any(c in node.value for c in "\a\b\f\v\t"):
                    found.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert not found, found
