"""Independent references for the activation tests: the SymPy definition evaluated at 400
digits by mpmath, and its limits at +-oo by sympy.limit (never the generated forms)."""

from __future__ import annotations

import math

import mpmath
import sympy as sp

from initmath.theory.activations import X, _builtin

BUILTINS = sorted(_builtin())
FINITE = [1e3, -1e3, 1e4, -1e4, 700.0, -700.0, 0.0, 1e-300, -1e-300, 37.5, -37.5, 2.5, -2.5]


def true_value(expr: sp.Expr, v: float) -> float:
    """The definition at x = v (its exact binary value) in 400-digit mpmath arithmetic, rounded
    to double.

    400 digits resolve any cancellation down to 1e-390; a value below that is far under the
    smallest double (5e-324) whatever |x| <= 1e4 multiplies it, so the rounding is exact.
    """
    f = sp.lambdify(X, expr, modules="mpmath")
    with mpmath.workdps(400):
        return float(f(mpmath.mpf(v)))


def limit_value(expr: sp.Expr, side: int) -> float:
    expr = sp.piecewise_fold(expr)  # SELU is lambda * Piecewise(...)
    pieces = expr.args if isinstance(expr, sp.Piecewise) else ((expr, sp.true),)
    for piece, cond in pieces:
        if cond is sp.true or cond.subs(X, side * sp.oo) is sp.true:
            return float(sp.limit(piece, X, side * sp.oo))
    raise AssertionError("no piece at infinity")


def close(got: float, want: float) -> bool:
    if math.isinf(want):
        return got == want
    # relative 1e-12; values that underflow double are compared with the subnormal floor
    return abs(got - want) <= 1e-12 * abs(want) + 1e-300
