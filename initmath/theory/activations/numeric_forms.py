"""The numeric forms of an activation, printed from its stable expression.

``numpy_form`` gives a vectorized NumPy function, whose ``Piecewise`` evaluates each branch
only where it is taken (an unused branch can neither overflow nor warn), and ``scalar_form``
a scalar one using only :mod:`math`, which Numba's ``njit`` compiles as is. An
:class:`~initmath.theory.activations.Activation` exposes them as its ``numpy``,
``numpy_derivative``, ``scalar`` and ``scalar_derivative``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp
from sympy.codegen.cfunctions import isnan
from sympy.printing.numpy import NumPyPrinter

from .expressions import X
from .stable_forms import stable

__all__ = ["numpy_form", "scalar_form"]


def _numeric(expr: sp.Expr) -> sp.Expr:
    # Evaluate constant subexpressions (SELU's erfc(1/sqrt 2), sqrt(2), ...) once, to more
    # than double precision, instead of at every call of the generated code.
    return sp.N(expr, 20)


class _BranchSafePrinter(NumPyPrinter):
    """NumPy printer whose ``Piecewise`` evaluates each branch only where it is taken.

    ``numpy.select`` (SymPy's default) evaluates every branch everywhere: ELU's
    :math:`e^x - 1` overflows (and warns) at large positive x although that branch is unused.
    Here every branch becomes a pair of lambdas handed to :func:`_piecewise`, which calls the
    value lambda on the masked inputs only. Valid for expressions in :data:`X` alone.
    """

    def _print_Piecewise(self, expr: sp.Piecewise) -> str:
        v = X.name
        pairs = ", ".join(
            f"(lambda {v}: {self._print(cond)}, lambda {v}: {self._print(val)})"
            for val, cond in expr.args
        )
        return f"_piecewise({v}, {pairs})"


def _piecewise(x: np.ndarray, *branches: tuple[Callable, Callable]) -> np.ndarray:
    """First branch whose condition holds, per entry (NaN where none does).

    The branches are applied in reverse order, each overwriting the entries where its
    condition holds, so the first true condition wins. Every value is computed on the whole
    array with floating-point errors silenced and kept only where its branch is taken, so an
    unused branch can neither warn (ELU's :math:`e^x - 1` at large x) nor leak into the
    result. A NaN input satisfies no comparison and falls to the final ``True`` branch,
    which gives NaN for every built-in.
    """
    arr = np.asarray(x, dtype=np.float64)
    out = np.empty(arr.shape)
    filled = False
    with np.errstate(all="ignore"):
        for cond, value in reversed(branches):
            c = cond(arr)
            if np.ndim(c) == 0:  # a constant condition (the final ``True``)
                if c:
                    out[...] = value(arr)
                    filled = True
                continue
            if not filled:
                out.fill(np.nan)
                filled = True
            np.copyto(out, value(arr), where=c)
    if not filled:
        out.fill(np.nan)
    return out


def _mirror_merged(pieces: list[tuple[sp.Expr, sp.Basic]]) -> list[tuple[sp.Expr, sp.Basic]]:
    # Two final halves (v, x >= 0), (w, True) with w(x) = v(-x) are one function of |x|:
    # v(|x|) is as stable as v on x >= 0, and costs one branch instead of two.
    if len(pieces) >= 2 and pieces[-1][1] == sp.true and pieces[-2][1] == (X >= 0):
        v, w = pieces[-2][0], pieces[-1][0]
        if w == v.subs(X, -X):
            return [*pieces[:-2], (v.subs(X, sp.Abs(X)), sp.true)]
    return pieces


def _lambdify_numpy(code: sp.Expr) -> Callable[[np.ndarray], Any]:
    # scipy supplies a vectorized erf; lambdify's "numpy" module alone has none.
    namespace = {"erf": _erf, "erfc": _erfc, "_piecewise": _piecewise}
    printer = _BranchSafePrinter(
        {
            "fully_qualified_modules": False,
            "inline": True,
            "allow_unknown_functions": True,
            "user_functions": {k: k for k in namespace},
        }
    )
    return sp.lambdify(X, code, modules=[namespace, "numpy"], printer=printer)


def numpy_form(expr: sp.Expr) -> Callable[[np.ndarray], np.ndarray]:
    """A vectorized NumPy function of ``expr`` (every parameter bound), printed from :func:`stable`.

    It returns a fresh float64 array of the input's shape.
    """
    code = _numeric(stable(expr))
    if code.free_symbols - {X}:
        raise ValueError(f"a NumPy form needs every parameter bound, got {expr}")
    f = _lambdify_numpy(code)
    if isinstance(code, sp.Piecewise) and code.args[0] == (sp.nan, isnan(X)):
        # Array speed: drop the NaN guard where the other branches already give NaN for a
        # NaN input (checked here, on the very function used), and merge mirrored halves.
        lean = _lambdify_numpy(sp.Piecewise(*_mirror_merged(list(code.args[1:]))))
        nan_in = np.array([np.nan, -np.nan])
        with np.errstate(all="ignore"):
            lean_nan = np.broadcast_to(lean(nan_in), nan_in.shape)
        if np.isnan(lean_nan).all():
            f = lean

    def apply(x: np.ndarray) -> np.ndarray:
        arr = np.asarray(x, dtype=np.float64)
        r = f(arr)
        if (
            type(r) is np.ndarray
            and r.dtype == np.float64
            and r.shape == arr.shape
            and not np.may_share_memory(r, arr)
        ):
            return r  # a fresh array of the input's shape (every ufunc result, _piecewise)
        return np.array(np.broadcast_to(r, arr.shape), dtype=np.float64)

    return apply


def scalar_form(expr: sp.Expr) -> Callable[[float], float]:
    """A scalar function of ``expr`` using only :mod:`math` (Numba compiles it).

    It is printed from :func:`stable`.
    """
    # Python's conditional expression evaluates only the branch taken.
    return sp.lambdify(X, _numeric(stable(expr)), modules="math")


def _erf(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return erf(x)


def _erfc(x: np.ndarray) -> np.ndarray:
    from scipy.special import erfc

    return erfc(x)
