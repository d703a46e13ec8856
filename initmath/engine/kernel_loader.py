"""Loading a generated kernel module: from the disk cache, every file checked, or compiled in
memory.

:func:`from_cache` writes the module into the cache directory and executes exactly the bytes
it compared with the generated source; the Numba files of the kernel are checked against
its manifest before Numba may load them (:class:`CacheEntry`), and its ``run`` records the
manifest of whatever Numba writes (:class:`KernelRun`). :func:`in_memory` compiles it
without touching the disk; :func:`from_cache_or_memory` falls back to that, with the one
:class:`~initmath.engine.kernel_cache.KernelCacheWarning`, where the cache cannot be used.
The checks themselves (ownership, symlinks, atomic writes, manifests, pruning) are those of
:mod:`initmath.engine.kernel_cache`.
"""

from __future__ import annotations

import ast
import os
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import numba

from . import kernel_cache as kc

__all__ = [
    "CacheEntry",
    "KernelRun",
    "compiled_on_disk",
    "from_cache",
    "from_cache_or_memory",
    "in_memory",
]

# numba.config, typed loosely: its settings (CACHE_DIR) are module globals that Numba sets
# at run time, so they are not in its type information.
_NUMBA_CONFIG: Any = numba.config
# Numba's cache files of a function: its index (.nbi) and data files (.<n>.nbc)
_NUMBA_FILE = re.compile(r"(.*\.py\d+[a-z]*)\.(?:\d+\.nbc|nbi)")


class _NoCache(ast.NodeTransformer):
    """Turn ``cache=True`` (keyword or dict entry) into ``cache=False``."""

    def visit_keyword(self, node: ast.keyword) -> ast.keyword:
        self.generic_visit(node)
        if node.arg == "cache":
            node.value = ast.Constant(False)
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.Dict:
        self.generic_visit(node)
        for i, key in enumerate(node.keys):
            if isinstance(key, ast.Constant) and key.value == "cache":
                node.values[i] = ast.Constant(False)
        return node


def _disable_numba_cache(module: ModuleType) -> None:
    from numba.core.caching import NullCache

    for value in vars(module).values():
        if isinstance(value, numba.core.dispatcher.Dispatcher):
            value._cache = NullCache()  # type: ignore[attr-defined]  # private, not in the stubs


def in_memory(source: str, digest: str) -> ModuleType:
    """The kernel module of ``source`` (named by ``digest``) compiled in memory only: every
    ``cache=True`` of the source made ``cache=False``, and no disk cache on its Numba
    dispatchers. Its ``run`` is a :class:`KernelRun` without an entry."""
    tree = ast.fix_missing_locations(_NoCache().visit(ast.parse(source)))
    name = f"initmath_kernel_{digest}_memory"
    module = ModuleType(name)
    sys.modules[name] = module
    exec(compile(tree, f"<initmath kernel {digest}>", "exec"), module.__dict__)  # noqa: S102
    _disable_numba_cache(module)
    module.run = KernelRun(module.run, None)  # type: ignore[attr-defined]  # a module's new global
    return module


def _stem(name: str) -> str:
    """The function part of a Numba cache file name that :data:`_NUMBA_FILE` matches."""
    match = _NUMBA_FILE.fullmatch(name)
    assert match is not None  # CacheEntry.numba_files lists only such names
    return match.group(1)


class CacheEntry:
    """One kernel's files in the cache: its module ``py``, its manifest, and the files
    Numba writes for it in ``numba_dir``."""

    def __init__(self, kdir: Path, numba_dir: Path, digest: str, source: bytes):
        self.kdir, self.numba_dir, self.digest, self.source = kdir, numba_dir, digest, source
        self.py = kdir / f"initmath_kernel_{digest}.py"
        self.manifest = kdir / f"initmath_kernel_{digest}.sha256"

    def numba_files(self) -> list[str]:
        tag = f"initmath_kernel_{self.digest}."
        try:
            names = os.listdir(self.numba_dir)
        except OSError:
            return []
        return sorted(n for n in names if tag in n and _NUMBA_FILE.fullmatch(n))

    def drop_numba(self, stems: set[str] | None = None) -> None:
        for n in self.numba_files():
            if stems is None or _stem(n) in stems:
                kc.remove(self.numba_dir / n)

    def verify(self, manifest: dict[tuple[str, str], str] | None) -> None:
        """Delete every Numba file (with the rest of its function's files) that the
        manifest does not vouch for."""
        bad = set()
        for n in self.numba_files():
            data = kc.read_nofollow(self.numba_dir / n)
            if manifest is None or data is None or manifest.get(("numba", n)) != kc.sha256(data):
                bad.add(_stem(n))
        if bad:
            self.drop_numba(bad)

    def record(self) -> None:
        """Write the manifest of the files now on disk (if it changed), then prune."""
        entries = {("src", self.py.name): kc.sha256(self.source)}
        for n in self.numba_files():
            data = kc.read_nofollow(self.numba_dir / n)
            if data is not None:
                entries[("numba", n)] = kc.sha256(data)
        if kc.read_manifest(self.manifest, self.digest) == entries:
            return
        kc.write_manifest(self.manifest, entries)
        kc.prune([self.kdir, self.numba_dir], self.digest, kc.max_bytes())


class KernelRun:
    """The kernel module's ``run``: calls the Numba dispatcher, records the checksums of the
    cache files Numba writes, and falls back to an in-memory compile when they cannot be
    written (unless ``fallback`` is false: then the write error is raised). Other attributes
    (``stats``, ``overloads``, ...) are the dispatcher's."""

    def __init__(
        self, dispatcher: Any, entry: CacheEntry | None, source: str = "", fallback: bool = True
    ):
        self._dispatcher = dispatcher
        self._entry = entry
        self._source = source
        self._fallback = fallback
        self._seen = -1

    @property
    def entry(self) -> CacheEntry | None:
        """The kernel's files in the disk cache, or None when it is compiled in memory."""
        return self._entry

    def __call__(self, *args: Any) -> Any:
        entry = self._entry
        try:
            out = self._dispatcher(*args)
        except Exception as exc:
            if entry is None or self._seen >= 0 or not kc.is_write_failure(exc):
                raise
            if not self._fallback:
                raise
            # Numba could not write its cache files (full, read-only, ...): compile in memory.
            self._entry = None
            kc.warn_unusable(
                f"writing {str(entry.numba_dir)!r} failed: {exc}", str(entry.kdir.parent)
            )
            self._dispatcher = in_memory(self._source, entry.digest).run._dispatcher
            return self._dispatcher(*args)
        if entry is not None:
            n = len(getattr(self._dispatcher, "overloads", ()))
            if n != self._seen:
                self._seen = n
                try:
                    entry.record()
                except OSError as exc:
                    kc.warn_unusable(
                        f"writing {str(entry.manifest)!r} failed: {exc}", str(entry.kdir.parent)
                    )
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dispatcher, name)

    def __repr__(self) -> str:
        return f"<initmath kernel run: {self._dispatcher!r}>"


def _numba_dir(module: ModuleType) -> Path | None:
    cache = getattr(getattr(module, "run", None), "_cache", None)
    path = getattr(cache, "cache_path", None)
    return Path(path) if isinstance(path, str) else None


def from_cache(source: str, digest: str, fallback: bool = True) -> ModuleType:
    """The kernel module of ``source`` from the disk cache, its files checked.

    Writes the module file ``initmath_kernel_<digest>.py`` (if it differs from ``source``)
    and executes exactly those bytes; drops every Numba file that the manifest does not vouch
    for (all of them when the module was rewritten or the manifest is missing). Its ``run``
    is a :class:`KernelRun` that records the manifest of what Numba writes; ``fallback`` is
    passed to it.

    Raises
    ------
    initmath.engine.kernel_cache.CacheUnusable, OSError
        If the cache directory is not usable, Numba cannot cache there, or a file cannot be
        read or written.
    """
    kdir = kc.kernels_dir()
    data = source.encode()
    entry = CacheEntry(kdir, kdir / "__pycache__", digest, data)
    manifest = kc.read_manifest(entry.manifest, digest)
    if manifest is not None and manifest.get(("src", entry.py.name)) != kc.sha256(data):
        manifest = None
    rewritten = kc.read_nofollow(entry.py) != data
    if rewritten:
        kc.write_atomic(entry.py, data)
    if not _NUMBA_CONFIG.CACHE_DIR:
        pyc = kdir / "__pycache__"
        if os.path.islink(pyc) or (os.path.lexists(pyc) and not os.path.isdir(pyc)):
            os.unlink(pyc)  # a planted link or file inside our own directory
    name = f"initmath_kernel_{digest}"
    module = ModuleType(name)
    module.__file__ = str(entry.py)
    sys.modules[name] = module
    # Executes exactly the bytes just compared with (or written from) the generated source.
    try:
        exec(compile(data, str(entry.py), "exec"), module.__dict__)  # noqa: S102
    except RuntimeError as exc:  # Numba: "cannot cache function ...: no locator available"
        raise kc.CacheUnusable(f"Numba cannot cache the kernels: {exc}") from exc
    numba_dir = _numba_dir(module)
    if numba_dir is None:
        raise kc.CacheUnusable("Numba found no cache location for the kernels")
    if not _NUMBA_CONFIG.CACHE_DIR and numba_dir != kdir / "__pycache__":
        raise kc.CacheUnusable(f"Numba cannot write {str(kdir / '__pycache__')!r}")
    kc.check_directory(numba_dir, "Numba cache directory")
    entry.numba_dir = numba_dir
    if rewritten or manifest is None:
        entry.drop_numba()
    else:
        entry.verify(manifest)
    try:
        os.utime(entry.manifest)  # last use, for pruning
    except OSError:
        pass
    module.run = KernelRun(module.run, entry, source, fallback)  # type: ignore[attr-defined]
    return module


def compiled_on_disk(module: ModuleType) -> bool:
    """Whether the disk cache holds (checked against the manifest) an index and a data file
    of the kernel module's ``run``; False for a module compiled in memory."""
    entry = getattr(module.run, "entry", None)
    if entry is None:
        return False
    names = entry.numba_files()
    return any(".run-" in n and n.endswith(".nbi") for n in names) and any(
        ".run-" in n and n.endswith(".nbc") for n in names
    )


def from_cache_or_memory(source: str, digest: str) -> ModuleType:
    """The kernel module from the disk cache, or, where the cache cannot be used, compiled in
    memory (with the one :class:`~initmath.engine.kernel_cache.KernelCacheWarning`)."""
    try:
        return from_cache(source, digest)
    except (kc.CacheUnusable, OSError) as exc:
        sys.modules.pop(f"initmath_kernel_{digest}", None)
        kc.warn_unusable(str(exc), str(kc.cache_root()))
        return in_memory(source, digest)
