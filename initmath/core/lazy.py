"""Lazy submodules: ``initmath.theory.meanfield`` imports the module on first attribute use."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from types import ModuleType

__all__ = ["submodule_loader"]


def submodule_loader(package: str, path: Iterable[str]) -> Callable[[str], ModuleType]:
    """A module-level ``__getattr__`` for ``package`` that imports its submodules on first use.

    ``package``'s ``__path__`` is ``path``; its submodules are imported when first used as
    attributes, so ``import initmath`` stays light. The submodules are the files of the
    folder: none is listed by hand.
    """
    known = frozenset(m.name for m in pkgutil.iter_modules(list(path)))

    def __getattr__(name: str) -> ModuleType:
        if name in known:
            return importlib.import_module(f".{name}", package)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
