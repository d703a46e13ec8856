"""Lazy submodules: ``initmath.theory.meanfield`` imports the module on first attribute use."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from types import ModuleType

__all__ = ["submodule_loader"]


def submodule_loader(package: str, names: Iterable[str]) -> Callable[[str], ModuleType]:
    """A module-level ``__getattr__`` for ``package`` that imports its submodules ``names``
    when first used as attributes (so ``import initmath`` stays light)."""
    known = frozenset(names)

    def __getattr__(name: str) -> ModuleType:
        if name in known:
            return importlib.import_module(f".{name}", package)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
