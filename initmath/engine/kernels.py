"""Numba kernels of the Monte Carlo engine, generated per activation from its SymPy expression.

The activation and its derivative (through :func:`initmath.theory.activations.stable`) are
printed into Python source that uses only identifiers the printer generates
(:mod:`initmath.engine.kernel_printer`, which refuses anything else). The code is filled into
:data:`initmath.engine.kernel_source.TEMPLATE` (which calls :mod:`initmath.engine.kernel_draws` and
:mod:`initmath.engine.kernel_checks` for everything else), written to the cache directory and
imported; Numba compiles it with the activation inlined and ``cache=True`` keeps the machine code
across processes. The module's name is a hash of everything it depends on (its source, the text of
every module of the package it imports, directly or not, the generator, Numba, NumPy and Python
versions), so a change can never pick up a stale cache; parameters are kernel arguments, so every
value of a parameter (each leaky-ReLU slope) shares one compiled kernel.

The cache (``$INITMATH_CACHE_DIR/kernels``, default ``~/.cache/initmath/kernels``): see
:mod:`initmath.engine.kernel_cache` for its checks (ownership, symlinks, checksums of every file),
its size bound and the in-memory fallback with one :class:`KernelCacheWarning`, and
:mod:`initmath.engine.kernel_loader` for loading a module from it. A kernel not yet in the
cache is compiled by a child process (:mod:`initmath.engine.kernel_child`), so that Ctrl-C
never interrupts Numba in this one.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import re
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import numba
import numpy as np
import sympy as sp

from ..theory.activations import Activation, stable
from . import kernel_cache as kc
from . import kernel_draws, kernel_norms
from .jit import imported_modules, modules_digest, package_closure
from .kernel_cache import KernelCacheWarning
from .kernel_child import WRITE_FAILED, Lock, compile_in_child, sigint_deferred
from .kernel_loader import compiled_on_disk, from_cache, from_cache_or_memory, in_memory
from .kernel_printer import as_returned, print_expression
from .kernel_source import GEOMETRY_SIZE, TEMPLATE

__all__ = [
    "DIST_CODES",
    "NORM_CODES",
    "KernelCacheWarning",
    "cache_dir",
    "forget_module",
    "kernel_module",
    "kernel_params",
    "kernel_source",
]

#: Integer code of each distribution inside the kernels (the ``dist`` of
#: :func:`initmath.engine.kernel_draws.draw_weights`).
DIST_CODES = {
    "normal": kernel_draws.NORMAL,
    "uniform": kernel_draws.UNIFORM,
    "truncated_normal": kernel_draws.TRUNCATED_NORMAL,
    "orthogonal": kernel_draws.ORTHOGONAL,
}

#: Integer code of each normalization inside the kernels (``norms``, per layer; None: none).
NORM_CODES: dict[str | None, int] = {
    None: kernel_norms.NONE,
    "layer": kernel_norms.LAYER,
    "batch": kernel_norms.BATCH,
}

# numba.config, typed loosely: its settings (NUMBA_NUM_THREADS) are module globals that Numba
# sets at run time, so they are not in its type information.
_NUMBA_CONFIG: Any = numba.config

#: Version of this generator (part of every kernel's digest).
_GENERATOR = "initmath.engine.kernels 5"

_MODULES: dict[str, ModuleType] = {}
_LOCK = threading.RLock()
#: True in the child process that compiles a kernel into the disk cache.
_IN_CHILD = False
_CHILD_CODE = "from initmath.engine.kernels import _child_main; _child_main()"
#: How many kernels this process had compiled by a child (for tests and diagnostics).
child_compiles = 0


def cache_dir() -> Path:
    """Where generated kernel modules (and Numba's cache of them) live:
    ``$INITMATH_CACHE_DIR/kernels``, else ``~/.cache/initmath/kernels``.

    Raises
    ------
    OSError
        If it is not usable (a symlink, not a directory, owned by another user,
        world-writable, read-only or full); :func:`kernel_module` then compiles in memory.
    """
    try:
        return kc.kernels_dir()
    except kc.CacheUnusable as exc:
        raise OSError(str(exc)) from exc


# -- the generated source ----------------------------------------------------------------
def _family(act: Activation) -> tuple[sp.Expr, sp.Expr, tuple[sp.Symbol, ...]]:
    """(phi, phi', parameter symbols): the parametric family when ``act`` was bound from one,
    else its own expressions without parameters."""
    if act.family is not None and act.bound:
        syms = tuple(s for s, _ in act.bound)
        fam = dataclasses.replace(
            act, expr=act.family, params=dict(act.bound), family=None, bound=()
        )
        return fam.expr, fam.derivative, syms
    return act.expr, act.derivative, ()


def _bound(act: Activation) -> Activation:
    if not isinstance(act, Activation):
        raise TypeError(f"act must be an Activation, got {type(act).__name__}: {act!r}")
    return act if act.is_bound else act.bind()


_SPECS: dict[tuple[Any, ...], tuple[str, str]] = {}


def _spec(act: Activation) -> tuple[str, str]:
    """(source, digest) of ``act``'s kernel module."""
    act = _bound(act)
    key = (act.name, act.family if act.bound else act.expr, tuple(s for s, _ in act.bound))
    if key in _SPECS:
        return _SPECS[key]
    phi, dphi, syms = _family(act)
    phi_code = print_expression(stable(phi), syms, "expression")
    dphi_code = print_expression(stable(dphi), syms, "derivative")
    name = re.sub(r"[^A-Za-z0-9_]", "_", act.name)[:60]
    source = TEMPLATE.format(name=name, phi=as_returned(phi_code), dphi=as_returned(dphi_code))
    ast.parse(source)  # a template that does not parse fails here, not at import
    digest = _digest(source)
    _SPECS[key] = (source, digest)
    return source, digest


def _dependencies(source: str) -> list[str]:
    """The package's modules that ``source`` imports, and the ones they import, recursively
    (sorted): the generated kernel's machine code is made from their functions too."""
    return package_closure(imported_modules(source))


def _digest(source: str) -> str:
    """The name of a kernel module: a hash of its source, of the text of every module of the
    package it depends on (:func:`_dependencies`) and of the versions of what compiles it."""
    texts = modules_digest(_dependencies(source))
    return hashlib.sha256(
        "\n".join(
            [_GENERATOR, source, texts, numba.__version__, np.__version__, sys.version]
        ).encode()
    ).hexdigest()[:20]


def kernel_source(act: Activation) -> str:
    """The Python source of ``act``'s kernel module (what is written to the cache).

    Raises
    ------
    ValueError
        If ``act``'s expression or derivative contains a function outside
        :data:`~initmath.engine.kernel_printer.MATH_FUNCTIONS`, ``Max``, ``Min``,
        ``Piecewise`` and arithmetic, a symbol
        other than its variable and parameters, or a constant that is not real.
    """
    return _spec(act)[0]


def kernel_params(act: Activation) -> np.ndarray:
    """The float64 array passed to a kernel module's ``run`` as ``params``: the values of
    ``act``'s parameters in the order of :attr:`Activation.bound` (the generated ``phi(x, p)``
    and ``dphi(x, p)`` read ``p[0]``, ``p[1]``, ...), or one unused zero."""
    act = _bound(act)
    if act.family is None or not act.bound:
        return np.zeros(1)
    return np.array([float(v) for _, v in act.bound], dtype=np.float64)


# -- compiling and loading ---------------------------------------------------------------
def _warm_up(run: Any) -> None:
    """Call a kernel module's ``run`` once on a tiny network (one unit, one network), with
    exactly the argument types :func:`initmath.simulate` passes, so that Numba compiles (or
    loads from its cache) the one overload the engine uses."""
    layers = 1
    run(
        np.array([1, 1], dtype=np.int64),
        1,
        np.uint64(0),
        1,
        np.uint64(0),
        np.uint64(0),
        DIST_CODES["normal"],
        np.ones(layers),
        2.0,
        0.0,
        1.0,
        np.full(layers, -1, dtype=np.int64),
        np.ones(layers),
        False,
        np.zeros(layers, dtype=np.int64),
        1e-5,
        np.zeros((layers, GEOMETRY_SIZE), dtype=np.int64),
        True,
        np.array([[-5.0, 5.0]] * 3),
        np.zeros(1),
        np.zeros((1, layers)),
        np.zeros((1, layers)),
        np.zeros((1, layers)),
        np.zeros((1, 3, layers), dtype=np.int8),
        np.zeros((_NUMBA_CONFIG.NUMBA_NUM_THREADS, 3, layers, 1), dtype=np.int64),
    )


def _child_main() -> None:
    """Entry point of the compiling child: read ``{"source", "digest"}`` (JSON) on stdin,
    compile the module's ``run`` into the disk cache (writing its manifest), exit 0; exit
    :data:`~initmath.engine.kernel_child.WRITE_FAILED` when the cache cannot be written, 1 on
    any other failure."""
    import json

    global _IN_CHILD
    _IN_CHILD = True
    request = json.loads(sys.stdin.read())
    source, digest = request["source"], request["digest"]
    if not isinstance(source, str) or _digest(source) != digest:
        sys.exit(1)
    try:
        kdir = kc.kernels_dir()
    except kc.CacheUnusable:
        sys.exit(WRITE_FAILED)
    lock = Lock(kdir, digest)
    lock.acquire()  # a concurrent process compiling the same kernel: wait, then load it
    try:
        module = from_cache(source, digest, fallback=False)
        _warm_up(module.run)
    except Exception as exc:
        sys.exit(
            WRITE_FAILED if kc.is_write_failure(exc) or isinstance(exc, kc.CacheUnusable) else 1
        )
    finally:
        lock.release()
    sys.exit(0)


def _load(source: str, digest: str) -> ModuleType:
    """Import a kernel module and make sure its ``run`` is compiled, without ever letting
    Ctrl-C interrupt Numba inside this process (see :func:`kernel_module`)."""
    module = from_cache_or_memory(source, digest)
    entry = module.run.entry
    if entry is not None and not _IN_CHILD and not compiled_on_disk(module):
        global child_compiles
        child_compiles += 1
        try:
            status = compile_in_child(_CHILD_CODE, source, digest, entry.kdir)
        except BaseException:
            sys.modules.pop(f"initmath_kernel_{digest}", None)
            raise
        if status == WRITE_FAILED:
            sys.modules.pop(f"initmath_kernel_{digest}", None)
            kc.warn_unusable(f"writing {str(entry.numba_dir)!r} failed", str(entry.kdir.parent))
            module = in_memory(source, digest)
        elif status == 0:
            # import afresh: the child's files are checked against its manifest
            sys.modules.pop(f"initmath_kernel_{digest}", None)
            module = from_cache_or_memory(source, digest)
        # else: the child failed; compiling here reports the error as it is
    with sigint_deferred():
        _warm_up(module.run)
        _MODULES[digest] = module  # kept even when a held-back Ctrl-C is raised next
    return module


def kernel_module(act: Activation) -> ModuleType:
    """The compiled kernel module for an activation (generated and imported once per process).

    Its ``run`` is the engine's entry point (a thin wrapper of the Numba dispatcher, whose
    attributes such as ``stats`` it forwards); ``EXPLODE``, ``TINY`` and the status codes of
    :mod:`~initmath.engine.kernel_source` are module attributes. ``run`` is compiled when
    this returns.

    Ctrl-C: a kernel not yet in the disk cache is compiled by a child process (same
    ``INITMATH_CACHE_DIR``; one process at a time per kernel, under a file lock), waited for
    interruptibly: ``KeyboardInterrupt`` kills the child and leaves this process untouched.
    This process then loads the machine code from the cache, with SIGINT held back for that
    short moment. Where the disk cache cannot be used (the in-memory fallback) the kernel is
    compiled here, with SIGINT held back until the compilation ends (10-40 s): Ctrl-C then
    acts, as ``KeyboardInterrupt``, only once it is done.

    Raises
    ------
    ValueError
        If the activation cannot be printed into a kernel (see :func:`kernel_source`).

    Warns
    -----
    KernelCacheWarning
        Once per cache directory and process, when the disk cache cannot be used and the
        kernel is compiled in memory instead.
    """
    source, digest = _spec(act)
    with _LOCK:
        if digest in _MODULES:
            return _MODULES[digest]
        return _load(source, digest)


def forget_module(act: Activation) -> None:
    """Drop this process's loaded kernel module for ``act``, so that the next
    :func:`kernel_module` imports it afresh (e.g. after a compilation was interrupted)."""
    _, digest = _spec(act)
    with _LOCK:
        _MODULES.pop(digest, None)
        sys.modules.pop(f"initmath_kernel_{digest}", None)
        sys.modules.pop(f"initmath_kernel_{digest}_memory", None)
