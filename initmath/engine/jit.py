"""The engine's Numba decorator, :func:`jit`: a disk cache that notices edits to the package.

Numba's disk cache (``cache=True``) checks a compiled function against its own source file
only, yet the machine code it stores includes every jitted function it calls: edit
:mod:`initmath.engine.philox` and the cached :func:`~initmath.engine.streams.fill_normal`,
which calls into it, would go on running the old code. :func:`jit` makes the cache of a
function also depend on the text of every module of the package that its file imports,
directly or not (:func:`package_closure`), so such an edit recompiles it. The engine's
generated kernels are named by a digest of the same texts
(:mod:`initmath.engine.kernels`).

Example
-------
A kernel of one's own that calls the streams::

    import numba
    import numpy as np
    from initmath.engine.jit import jit
    from initmath.engine.streams import fill_normal

    @jit(parallel=True)
    def rows(k0, k1, out):
        for i in numba.prange(out.shape[0]):
            fill_normal(k0, k1, i, 0, out[i])
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numba

__all__ = [
    "PACKAGE_DIR",
    "dependency_digest",
    "imported_modules",
    "jit",
    "modules_digest",
    "package_closure",
]

#: The directory of the ``initmath`` package, whose modules :func:`package_closure` follows.
PACKAGE_DIR = Path(__file__).resolve().parents[1]

_TEXTS: dict[Path, str] = {}  # each file's text, read once per process
_DIGESTS: dict[Path, str] = {}


def _text(path: Path) -> str:
    if path not in _TEXTS:
        _TEXTS[path] = path.read_text()
    return _TEXTS[path]


def _module_file(name: str) -> Path | None:
    """The source file of the package's module ``name`` (``initmath.engine.philox``), or None
    if it names no module of the package (an attribute of a module, another package)."""
    if name.partition(".")[0] != PACKAGE_DIR.name:
        return None
    path = PACKAGE_DIR.parent.joinpath(*name.split("."))
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    path = path.with_suffix(".py")
    return path if path.is_file() else None


def imported_modules(source: str, package: str = "") -> set[str]:
    """The modules of the package that Python source imports, at any depth of its code.

    Parameters
    ----------
    source : str
        Python source.
    package : str, optional
        The package that relative imports in it are relative to (``"initmath.engine"`` for
        ``initmath/engine/philox.py``); ``""`` for source outside the package.

    Returns
    -------
    set of str
        Dotted names of modules of ``initmath`` (``from m import x`` counts as ``m``, and as
        ``m.x`` too when that is a module).

    Examples
    --------
    >>> sorted(imported_modules("from .philox import IntLike\\nimport numpy", "initmath.engine"))
    ['initmath.engine.philox']
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{module}" if module else base
            names = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found.update(name for name in names if _module_file(name) is not None)
    return found


def package_closure(modules: Iterable[str]) -> list[str]:
    """``modules`` and every module of the package they import, recursively (sorted).

    Examples
    --------
    >>> package_closure(["initmath.engine.streams"])
    ['initmath.engine.jit', 'initmath.engine.philox', 'initmath.engine.streams']
    """
    found: set[str] = set()
    todo = list(modules)
    while todo:
        name = todo.pop()
        path = _module_file(name)
        if name in found or path is None:
            continue
        found.add(name)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        todo.extend(imported_modules(_text(path), package))
    return sorted(found)


def modules_digest(modules: Iterable[str]) -> str:
    """SHA-256 (64 hex digits) of the dotted names and the texts of modules of the package,
    in sorted order; each text is read once per process.

    Raises
    ------
    ValueError
        If a name is not a module of the package.
    """
    h = hashlib.sha256()
    for name in sorted(set(modules)):
        path = _module_file(name)
        if path is None:
            raise ValueError(f"{name!r} is not a module of the package")
        h.update(f"\0{name}\0{_text(path)}".encode())
    return h.hexdigest()


def _module_of(path: Path) -> tuple[str, str]:
    """(dotted name, package) of a file of the package, or ("", "") for one outside it."""
    try:
        parts = list(path.resolve().relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    except ValueError:
        return "", ""
    if parts[-1] == "__init__":
        parts.pop()
        return ".".join(parts), ".".join(parts)
    return ".".join(parts), ".".join(parts[:-1])


def dependency_digest(path: str | Path) -> str:
    """SHA-256 of the text of the Python file ``path`` and of every module of the package it
    imports, directly or not (:func:`package_closure`): what the machine code of a jitted
    function defined in it is made from.

    Returns
    -------
    str
        64 hex digits; ``""`` if ``path`` is not a readable file (``"<string>"``, a notebook
        cell).
    """
    path = Path(path)
    if path in _DIGESTS:
        return _DIGESTS[path]
    try:
        text = _text(path)
    except OSError:
        return ""
    name, package = _module_of(path)
    others = [m for m in package_closure(imported_modules(text, package)) if m != name]
    _DIGESTS[path] = hashlib.sha256(f"{text}\0{modules_digest(others)}".encode()).hexdigest()
    return _DIGESTS[path]


def _stamp(dispatcher: Any, function: Callable[..., Any]) -> None:
    """Make the disk cache of ``dispatcher`` stale when :func:`dependency_digest` of
    ``function``'s file changes.

    Numba keeps, in a cached function's index file, a *source stamp* of its own file and
    ignores the cache when the stamp differs. Extending the stamp with the digest makes an
    edit of any module the function depends on count as an edit of its own file. (A private
    attribute of Numba's cache; where it is missing, Numba's own behaviour is left.)
    """
    cache_file: Any = getattr(getattr(dispatcher, "_cache", None), "_cache_file", None)
    stamp = getattr(cache_file, "_source_stamp", None)
    digest = dependency_digest(function.__code__.co_filename)
    if stamp is not None and digest:
        cache_file._source_stamp = (stamp, digest)


if TYPE_CHECKING:  # typed as numba.njit: mypy loses njit's overloads through the wrapper
    jit = numba.njit
else:

    def jit(function=None, /, **options):
        """``numba.njit`` with ``cache=True, nogil=True`` (overridable in ``options``) and a
        disk cache that also depends on the package modules the function's file imports.

        Use as ``@jit`` or ``@jit(parallel=True, ...)``.
        """

        def decorate(f):
            dispatcher = numba.njit(**{"cache": True, "nogil": True, **options})(f)
            _stamp(dispatcher, f)
            return dispatcher

        return decorate if function is None else decorate(function)
