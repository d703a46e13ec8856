"""Numba kernels of the Monte Carlo engine, generated per activation from its SymPy expression.

The activation and its derivative (through :func:`initmath.theory.activations.stable`) are printed
by a small printer of this module into Python source that uses only identifiers it generates: the
pre-activation ``x``, the parameter array ``p`` (``p[0]``, ``p[1]``, ... in the order of
:attr:`Activation.bound`), ``math.<function>`` for a whitelist of functions
(:data:`MATH_FUNCTIONS`), ``max``/``min`` and float literals. Any other function or symbol is
refused with a :class:`ValueError` before anything is written, and the printed code is parsed (with
Python's ``ast``) to check it contains nothing else. The code is filled into
:data:`initmath.engine.kernel_source.TEMPLATE` (which calls :mod:`initmath.engine.kernel_draws` and
:mod:`initmath.engine.kernel_checks` for everything else), written to the cache directory and
imported; Numba compiles it with the activation inlined and ``cache=True`` keeps the machine code
across processes. The module's name is a hash of everything it depends on (its source, the text of
every module of the package it imports, directly or not, the generator, Numba, NumPy and Python
versions), so a change can never pick up a stale cache; parameters are kernel arguments, so every
value of a parameter (each leaky-ReLU slope) shares one compiled kernel.

The cache (``$INITMATH_CACHE_DIR/kernels``, default ``~/.cache/initmath/kernels``): see
:mod:`initmath.engine.kernel_cache` for its checks (ownership, symlinks, checksums of every file),
its size bound and the in-memory fallback with one :class:`KernelCacheWarning`.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import hashlib
import io
import math
import os
import re
import signal
import sys
import threading
import tokenize
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numba
import numpy as np
import sympy as sp
from sympy.codegen import cfunctions
from sympy.codegen.cfunctions import expm1, log1p

from ..theory import activations
from ..theory.activations import Activation, X, stable
from . import kernel_cache as kc
from .jit import imported_modules, modules_digest, package_closure
from .kernel_cache import KernelCacheWarning
from .kernel_source import TEMPLATE

__all__ = [
    "DIST_CODES",
    "MATH_FUNCTIONS",
    "KernelCacheWarning",
    "cache_dir",
    "forget_module",
    "kernel_module",
    "kernel_params",
    "kernel_source",
]

#: Integer code of each distribution inside the kernels.
DIST_CODES = {"normal": 0, "uniform": 1, "truncated_normal": 2, "orthogonal": 3}

# numba.config, typed loosely: its settings (CACHE_DIR, NUMBA_NUM_THREADS) are module globals
# that Numba sets at run time, so they are not in its type information.
_NUMBA_CONFIG: Any = numba.config

#: Version of this generator (part of every kernel's digest).
_GENERATOR = "initmath.engine.kernels 3"

#: The SymPy functions a kernel may contain, and the :mod:`math` function each prints as.
MATH_FUNCTIONS: dict[type, str] = {
    sp.exp: "exp",
    sp.log: "log",
    log1p: "log1p",
    expm1: "expm1",
    sp.tanh: "tanh",
    sp.sinh: "sinh",
    sp.cosh: "cosh",
    sp.asinh: "asinh",
    sp.atan: "atan",
    sp.sin: "sin",
    sp.cos: "cos",
    sp.tan: "tan",
    sp.erf: "erf",
    sp.erfc: "erfc",
    sp.Abs: "fabs",
}
_MINMAX: dict[type, str] = {sp.Max: "max", sp.Min: "min"}
_RELATIONS: dict[type, str] = {
    sp.StrictLessThan: "<",
    sp.LessThan: "<=",
    sp.StrictGreaterThan: ">",
    sp.GreaterThan: ">=",
    sp.Equality: "==",
    sp.Unequality: "!=",
}
#: Tests on the value, allowed in conditions (the activations' NaN/inf guards).
_PREDICATES: dict[type, str] = {cfunctions.isnan: "isnan", cfunctions.isinf: "isinf"}
for _cls in (getattr(activations, "isnan", None), getattr(activations, "isinf", None)):
    if isinstance(_cls, type) and issubclass(_cls, (cfunctions.isnan, cfunctions.isinf)):
        _PREDICATES[_cls] = "isnan" if issubclass(_cls, cfunctions.isnan) else "isinf"
_STRUCTURE = (
    sp.Add,
    sp.Mul,
    sp.Pow,
    sp.Piecewise,
    sp.core.containers.Tuple,
    sp.functions.elementary.piecewise.ExprCondPair,
    sp.And,
    sp.Or,
    sp.Not,
)
_ALLOWED_TYPES = frozenset(
    [
        *MATH_FUNCTIONS,
        *_MINMAX,
        *_RELATIONS,
        *_PREDICATES,
        *_STRUCTURE,
        sp.Symbol,
        type(sp.true),
        type(sp.false),
    ]
)
_MATH_ATTRS = frozenset([*MATH_FUNCTIONS.values(), *_PREDICATES.values(), "sqrt", "inf", "nan"])


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


# -- printing --------------------------------------------------------------------------------
def _is_number(node: sp.Basic) -> bool:
    return isinstance(node, (sp.Number, sp.NumberSymbol)) and type(node).__module__.startswith(
        "sympy.core."
    )


def _check_whitelist(expr: sp.Basic, names: dict[sp.Symbol, str], what: str) -> None:
    for node in sp.preorder_traversal(expr):
        if _is_number(node):
            continue
        if type(node) not in _ALLOWED_TYPES:
            raise ValueError(
                f"cannot compile the activation's {what} {expr}: {type(node).__name__} "
                f"({node}) is not one of the supported functions "
                f"({', '.join(sorted({*MATH_FUNCTIONS.values(), 'Max', 'Min', 'Piecewise'}))})"
            )
        if type(node) is sp.Symbol and node not in names:
            raise ValueError(
                f"cannot compile the activation's {what} {expr}: symbol {str(node)!r} is "
                f"neither its variable nor one of its parameters"
            )


def _enclosed(code: str) -> str:
    """``code`` in parentheses, unless one pair already encloses all of it."""
    depth = 0
    for i, ch in enumerate(code):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth == 0:
            return code if i == len(code) - 1 and code[0] == "(" else f"({code})"
    return f"({code})"


def _bare(code: str) -> str:
    """``code`` without the one pair of parentheses that encloses all of it, if any (for an
    argument of a call, where no expression of the printer needs them)."""
    enclosed = _enclosed(code)
    return code[1:-1] if enclosed == code else code


class _Printer:
    """Python source of a whitelisted SymPy expression (see :func:`_check_whitelist`). Every
    operand is parenthesized, but never twice."""

    def __init__(self, names: dict[sp.Symbol, str]):
        self.names = names

    def expr(self, e: sp.Basic) -> str:
        if type(e) is sp.Symbol:
            return self.names[e]
        if not e.free_symbols:
            return self.const(e)
        t = type(e)
        if t in (sp.Add, sp.Mul):
            # all constant factors (terms) become one float, rounded once
            consts = [a for a in e.args if not a.free_symbols]
            parts = [self.expr(a) for a in e.args if a.free_symbols]
            if consts:
                c = t(*consts)
                if c != (1 if t is sp.Mul else 0):
                    parts.insert(0, self.const(c))
            return _enclosed((" + " if t is sp.Add else "*").join(parts))
        if t is sp.Pow:
            return self.pow(*e.args)
        if t in MATH_FUNCTIONS and len(e.args) == 1:
            return f"math.{MATH_FUNCTIONS[t]}({_bare(self.expr(e.args[0]))})"
        if t in _MINMAX:
            out = _bare(self.expr(e.args[0]))
            for a in e.args[1:]:
                out = f"{_MINMAX[t]}({out}, {_bare(self.expr(a))})"
            return out
        if t is sp.Piecewise:
            out = "math.nan"  # SymPy's value outside every condition
            for value, cond in reversed(e.args):
                if cond is sp.true:
                    out = self.expr(value)
                else:
                    value_code = _enclosed(self.expr(value))
                    out = f"({value_code} if {self.cond(cond)} else {_enclosed(out)})"
            return out
        raise ValueError(f"cannot print {t.__name__} ({e}) into a kernel")

    def pow(self, base: sp.Basic, exp: sp.Basic) -> str:
        b = self.expr(base)
        if exp == sp.S.Half:
            return f"math.sqrt({_bare(b)})"
        if exp == -sp.S.Half:
            return f"(1.0/math.sqrt({_bare(b)}))"
        if exp == -1:
            return f"(1.0/{b})"
        if isinstance(exp, sp.Integer) and abs(int(exp)) <= 64:
            return f"{_enclosed(b)}**({int(exp)})"
        return f"{_enclosed(b)}**{_enclosed(self.expr(exp))}"

    def cond(self, c: sp.Basic) -> str:
        t = type(c)
        if c is sp.true:
            return "True"
        if c is sp.false:
            return "False"
        if t in _RELATIONS:
            return f"({self.expr(c.lhs)} {_RELATIONS[t]} {self.expr(c.rhs)})"
        if t in _PREDICATES and len(c.args) == 1:
            return f"math.{_PREDICATES[t]}({_bare(self.expr(c.args[0]))})"
        if t in (sp.And, sp.Or):
            word = " and " if t is sp.And else " or "
            return "(" + word.join(self.cond(a) for a in c.args) + ")"
        if t is sp.Not:
            return f"(not {self.cond(c.args[0])})"
        raise ValueError(f"cannot print the condition {c} into a kernel")

    @staticmethod
    def const(e: sp.Basic) -> str:
        if e is sp.nan:
            return "math.nan"
        if e == sp.oo:
            return "math.inf"
        if e == -sp.oo:
            return "(-math.inf)"
        v = sp.N(e, 30)
        if not (isinstance(v, sp.Number) and v.is_real):
            raise ValueError(f"the constant {e} is not a real number (it evaluates to {v})")
        f = float(v)
        if math.isnan(f):
            return "math.nan"
        if math.isinf(f):
            return "math.inf" if f > 0 else "(-math.inf)"
        text = repr(f)
        return f"({text})" if text.startswith("-") else text


def _check_printed(code: str, n_params: int) -> None:
    """Parse printed code and refuse anything but the generated identifiers and literals."""
    try:
        tree = ast.parse(code, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"internal error: printed kernel code does not parse: {code!r}") from exc
    ok = (
        ast.Expression,
        ast.BinOp,
        ast.UnaryOp,
        ast.BoolOp,
        ast.Compare,
        ast.IfExp,
        ast.Call,
        ast.Attribute,
        ast.Subscript,
        ast.Name,
        ast.Constant,
        ast.Load,
        ast.operator,
        ast.unaryop,
        ast.boolop,
        ast.cmpop,
    )
    for node in ast.walk(tree):
        bad = not isinstance(node, ok)
        if isinstance(
            node,
            (ast.MatMult, ast.BitOr, ast.BitAnd, ast.BitXor, ast.LShift, ast.RShift, ast.Invert),
        ):
            bad = True
        elif isinstance(node, ast.Name):
            bad = node.id not in ("x", "p", "math", "max", "min")
        elif isinstance(node, ast.Attribute):
            bad = not (
                isinstance(node.value, ast.Name)
                and node.value.id == "math"
                and node.attr in _MATH_ATTRS
            )
        elif isinstance(node, ast.Subscript):
            s = node.slice
            bad = not (
                isinstance(node.value, ast.Name)
                and node.value.id == "p"
                and isinstance(s, ast.Constant)
                and type(s.value) is int
                and 0 <= s.value < n_params
            )
        elif isinstance(node, ast.Call):
            f = node.func
            bad = bool(node.keywords) or not (
                isinstance(f, ast.Attribute) or (isinstance(f, ast.Name) and f.id in ("max", "min"))
            )
        elif isinstance(node, ast.Constant):
            bad = type(node.value) not in (int, float, bool)
        if bad:
            raise ValueError(
                f"internal error: printed kernel code {code!r} contains {ast.dump(node)}"
            )


def _print(expr: sp.Basic, params: tuple[sp.Symbol, ...], what: str) -> str:
    names = {X: "x", **{s: f"p[{i}]" for i, s in enumerate(params)}}
    _check_whitelist(expr, names, what)
    code = _Printer(names).expr(expr)
    _check_printed(code, max(len(params), 1))
    return code


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
#: The project's line length (ruff): generated lines stay within it.
_LINE = 100


def _spec(act: Activation) -> tuple[str, str]:
    """(source, digest) of ``act``'s kernel module."""
    act = _bound(act)
    key = (act.name, act.family if act.bound else act.expr, tuple(s for s, _ in act.bound))
    if key in _SPECS:
        return _SPECS[key]
    phi, dphi, syms = _family(act)
    phi_code = _print(stable(phi), syms, "expression")
    dphi_code = _print(stable(dphi), syms, "derivative")
    name = re.sub(r"[^A-Za-z0-9_]", "_", act.name)[:60]
    source = TEMPLATE.format(name=name, phi=_returned(phi_code), dphi=_returned(dphi_code))
    ast.parse(source)  # a template that does not parse fails here, not at import
    digest = _digest(source)
    _SPECS[key] = (source, digest)
    return source, digest


def _returned(code: str) -> str:
    """A printed expression as the operand of the template's ``return`` (four spaces in): as
    it is when the line fits, else parenthesized over lines of at most :data:`_LINE`
    characters, each broken after a space where possible, else between two tokens."""
    if len("    return ") + len(code) <= _LINE:
        return code
    code = _bare(code)  # the pair around the lines replaces it
    indent = " " * 8
    width = _LINE - len(indent)
    tokens = tokenize.generate_tokens(io.StringIO(code).readline)
    starts = sorted({t.start[1] for t in tokens if 0 < t.start[1] < len(code)})
    lines = []
    start = 0
    while len(code) - start > width:
        fits = [b for b in starts if start < b and len(code[start:b].rstrip()) <= width]
        spaced = [b for b in fits if code[b - 1] == " "]
        end = (spaced or fits or [min(b for b in [*starts, len(code)] if b > start)])[-1]
        lines.append(code[start:end].rstrip())
        start = end
    lines.append(code[start:])
    return "(\n" + "".join(f"{indent}{line}\n" for line in lines) + "    )"


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
        :data:`MATH_FUNCTIONS`, ``Max``, ``Min``, ``Piecewise`` and arithmetic, a symbol
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


# -- loading ---------------------------------------------------------------------------------
_MODULES: dict[str, ModuleType] = {}
_LOCK = threading.RLock()
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


def _in_memory(source: str, digest: str) -> ModuleType:
    """The kernel module compiled in memory only (``cache=False``): nothing touches disk."""
    tree = ast.fix_missing_locations(_NoCache().visit(ast.parse(source)))
    name = f"initmath_kernel_{digest}_memory"
    module = ModuleType(name)
    sys.modules[name] = module
    exec(compile(tree, f"<initmath kernel {digest}>", "exec"), module.__dict__)  # noqa: S102
    _disable_numba_cache(module)
    module.run = _Run(module.run, None)  # type: ignore[attr-defined]  # a module's new global
    return module


def _stem(name: str) -> str:
    """The function part of a Numba cache file name that :data:`_NUMBA_FILE` matches."""
    match = _NUMBA_FILE.fullmatch(name)
    assert match is not None  # _Entry.numba_files lists only such names
    return match.group(1)


class _Entry:
    """One kernel's files in the cache."""

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


class _Run:
    """The kernel module's ``run``: calls the Numba dispatcher, records the checksums of the
    cache files Numba writes, and falls back to an in-memory compile when they cannot be
    written. Other attributes (``stats``, ``overloads``, ...) are the dispatcher's."""

    def __init__(self, dispatcher: Any, entry: _Entry | None, source: str = ""):
        self._dispatcher = dispatcher
        self._entry = entry
        self._source = source
        self._seen = -1

    def __call__(self, *args: Any) -> Any:
        entry = self._entry
        try:
            out = self._dispatcher(*args)
        except Exception as exc:
            if entry is None or self._seen >= 0 or not kc.is_write_failure(exc) or _IN_CHILD:
                raise
            # Numba could not write its cache files (full, read-only, ...): compile in memory.
            self._entry = None
            kc.warn_unusable(
                f"writing {str(entry.numba_dir)!r} failed: {exc}", str(entry.kdir.parent)
            )
            self._dispatcher = _in_memory(self._source, entry.digest).run._dispatcher
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


def _from_cache(source: str, digest: str) -> ModuleType:
    """The kernel module from the disk cache (raises CacheUnusable or OSError)."""
    kdir = kc.kernels_dir()
    data = source.encode()
    entry = _Entry(kdir, kdir / "__pycache__", digest, data)
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
    module.run = _Run(module.run, entry, source)  # type: ignore[attr-defined]  # a new global
    return module


# -- compiling: in a child process, so that Ctrl-C can never break this one ----------------
#: True in the child process that compiles a kernel into the disk cache.
_IN_CHILD = False
_CHILD_CODE = "from initmath.engine.kernels import _child_main; _child_main()"
#: Exit status of the child when Numba could not write the cache (full disk, read-only).
_CHILD_WRITE_FAILED = 3
#: How many kernels this process had compiled by a child (for tests and diagnostics).
child_compiles = 0


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
        True,
        np.array([[-5.0, 5.0]] * 3),
        np.zeros(1),
        np.zeros((1, layers)),
        np.zeros((1, layers)),
        np.zeros((1, layers)),
        np.zeros((1, 3, layers), dtype=np.int8),
        np.zeros((_NUMBA_CONFIG.NUMBA_NUM_THREADS, 3, layers, 1), dtype=np.int64),
    )


def _compiled_on_disk(module: ModuleType) -> bool:
    """Whether the cache holds (checked against the manifest) an index and data of ``run``."""
    entry = getattr(module.run, "_entry", None)
    if entry is None:
        return False
    names = entry.numba_files()
    return any(".run-" in n and n.endswith(".nbi") for n in names) and any(
        ".run-" in n and n.endswith(".nbc") for n in names
    )


class _Lock:
    """An exclusive ``flock`` on ``initmath_kernel_<digest>.lock`` in the kernel directory:
    one process at a time compiles a given kernel into the cache (pruned with the kernel)."""

    def __init__(self, kdir: Path, digest: str):
        self.path = kdir / f"initmath_kernel_{digest}.lock"
        self.fd = -1

    def acquire(self, blocking: bool = True) -> bool:
        import fcntl

        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            self.fd = os.open(self.path, flags, 0o600)
        except OSError:
            return blocking  # no lock possible: compile without one, but never clean up
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except OSError:
            os.close(self.fd)
            self.fd = -1
            return False
        return True

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _child_main() -> None:
    """Entry point of the compiling child: read ``{"source", "digest"}`` (JSON) on stdin,
    compile the module's ``run`` into the disk cache (writing its manifest), exit 0; exit
    :data:`_CHILD_WRITE_FAILED` when the cache cannot be written, 1 on any other failure."""
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
        sys.exit(_CHILD_WRITE_FAILED)
    lock = _Lock(kdir, digest)
    lock.acquire()  # a concurrent process compiling the same kernel: wait, then load it
    try:
        module = _from_cache(source, digest)
        _warm_up(module.run)
    except Exception as exc:
        sys.exit(
            _CHILD_WRITE_FAILED
            if kc.is_write_failure(exc) or isinstance(exc, kc.CacheUnusable)
            else 1
        )
    finally:
        lock.release()
    sys.exit(0)


def _compile_in_child(source: str, digest: str, kdir: Path) -> int:
    """Compile a kernel into the disk cache in a child process; return its exit status.

    Waiting is interruptible: on ``KeyboardInterrupt`` (or any other exception) the child is
    killed, the temporary files it may have left are removed (when no other process is
    compiling the same kernel) and the exception re-raised. A kernel cut off half-written is
    harmless: the next load checks every file against the manifest.
    """
    import json
    import subprocess
    import tempfile

    env = dict(os.environ, INITMATH_CACHE_DIR=str(kc.cache_root()))
    if _NUMBA_CONFIG.CACHE_DIR:
        env["NUMBA_CACHE_DIR"] = str(_NUMBA_CONFIG.CACHE_DIR)
    package_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(
        [package_parent, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
    )
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD_CODE],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
        try:
            assert proc.stdin is not None
            with proc.stdin:
                proc.stdin.write(json.dumps({"source": source, "digest": digest}).encode())
            return proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            _clean_partial(kdir, digest)
            raise


def _clean_partial(kdir: Path, digest: str) -> None:
    """Remove the temporary files of a killed compile of ``digest`` (only when no other
    process holds the kernel's lock, i.e. is writing them)."""
    lock = _Lock(kdir, digest)
    if not lock.acquire(blocking=False):
        return
    try:
        tag = f"initmath_kernel_{digest}."
        for directory in (kdir, kdir / "__pycache__"):
            try:
                names = os.listdir(directory)
            except OSError:
                continue
            for n in names:
                if tag in n and (n.endswith(".tmp") or ".tmp." in n):
                    try:
                        kc.remove(directory / n)
                    except OSError:
                        pass
    finally:
        lock.release()


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold back SIGINT (Ctrl-C) until the block ends, then raise ``KeyboardInterrupt``.

    Numba's first compilation in a process sets up shared typing state; an interrupt in the
    middle leaves it half set up for the rest of the process. Outside the main thread
    (where Python delivers no signal) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: got.append(signum))
    except (ValueError, OSError):  # pragma: no cover - no signals here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if got:
            _deliver(previous)


def _deliver(handler: Any) -> None:
    """Act on a held-back SIGINT as ``handler`` (the handler in place before) would."""
    if handler is signal.SIG_IGN:
        return
    if handler is signal.SIG_DFL:
        os.kill(os.getpid(), signal.SIGINT)  # the default action: terminate
        return
    if callable(handler) and handler is not signal.default_int_handler:
        handler(signal.SIGINT, None)
        return
    raise KeyboardInterrupt(
        "interrupted while the kernel was compiling (the compilation was completed first, so "
        "the process stays usable)"
    )


def _from_cache_or_memory(source: str, digest: str) -> ModuleType:
    """The kernel module from the disk cache, or, where the cache cannot be used, compiled in
    memory (with the one :class:`KernelCacheWarning`)."""
    try:
        return _from_cache(source, digest)
    except (kc.CacheUnusable, OSError) as exc:
        sys.modules.pop(f"initmath_kernel_{digest}", None)
        kc.warn_unusable(str(exc), str(kc.cache_root()))
        return _in_memory(source, digest)


def _load(source: str, digest: str) -> ModuleType:
    """Import a kernel module and make sure its ``run`` is compiled, without ever letting
    Ctrl-C interrupt Numba inside this process (see :func:`kernel_module`)."""
    module = _from_cache_or_memory(source, digest)
    entry = getattr(module.run, "_entry", None)
    if entry is not None and not _IN_CHILD and not _compiled_on_disk(module):
        global child_compiles
        child_compiles += 1
        try:
            status = _compile_in_child(source, digest, entry.kdir)
        except BaseException:
            sys.modules.pop(f"initmath_kernel_{digest}", None)
            raise
        if status == _CHILD_WRITE_FAILED:
            sys.modules.pop(f"initmath_kernel_{digest}", None)
            kc.warn_unusable(f"writing {str(entry.numba_dir)!r} failed", str(entry.kdir.parent))
            module = _in_memory(source, digest)
        elif status == 0:
            # import afresh: the child's files are checked against its manifest
            sys.modules.pop(f"initmath_kernel_{digest}", None)
            module = _from_cache_or_memory(source, digest)
        # else: the child failed; compiling here reports the error as it is
    with _sigint_deferred():
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
