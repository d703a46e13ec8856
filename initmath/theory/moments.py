"""Gaussian moments of activations.

For :math:`z \\sim N(0, 1)` and a pre-activation of second moment :math:`q`,

.. math::
    M_k(q) = E\\bigl[\\phi(\\sqrt q\\, z)^k\\bigr], \\qquad
    D_k(q) = E\\bigl[\\phi'(\\sqrt q\\, z)^k\\bigr].

:math:`M_2` drives the forward variance map and :math:`D_2` the backward one.

How each is computed, and reported in ``Moment.exact``:

* **exact**: when every piece of :math:`\\phi^k` (or :math:`\\phi'^k`) is a sum of
  polynomial-times-exponential terms in :math:`x` (linear, ReLU, leaky ReLU, ELU, SELU, and
  any user activation of that form), the Gaussian integral over each piece has a closed form,
  which :func:`sympy.integrate` finds. The result is a SymPy expression in :math:`q`.
* **numeric**: otherwise (tanh, sigmoid, softplus, GELU, SiLU, ...), tanh-sinh quadrature in
  mpmath at 20 significant digits, split at 0 and at every breakpoint, with the
  integrand scaled by the size of the result (mpmath's own tolerance is absolute) and the
  error estimate checked against a relative tolerance of :math:`10^{-16}`: the float returned is
  within an ulp or two of the 40-digit value (checked in the tests), far more than the 12
  correct digits promised, at a third of the cost.
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from ..core.checks import positive_real
from .activations import Activation, X, activation

__all__ = ["MAX_POWER", "Q", "Moment", "derivative_moment", "moment", "symbolic_moment"]

#: The second moment of the pre-activation, as a SymPy symbol.
Q = sp.Symbol("q", positive=True)
_Z = sp.Symbol("z", real=True)
_GAUSS = sp.exp(-(_Z**2) / 2) / sp.sqrt(2 * sp.pi)
_DPS = 20
_REL_TOL = 1e-16


@dataclass(frozen=True)
class Moment:
    """A Gaussian moment and how it was obtained.

    Attributes
    ----------
    value : float
        The moment.
    exact : bool
        True if ``value`` is a closed form from SymPy evaluated at ``q``; False if it is
        numeric quadrature.
    expr : sympy.Expr or None
        The closed form, as a function of :data:`Q` (``None`` when numeric).
    error : float
        Bound on the absolute error of ``value`` before rounding to double: 0 for exact
        results, mpmath's error estimate for numeric ones.
    """

    value: float
    exact: bool
    expr: sp.Expr | None
    error: float

    @property
    def method(self) -> str:
        """``"exact"`` or ``"numeric"``."""
        return "exact" if self.exact else "numeric"

    def __float__(self) -> float:
        return self.value


# -- exact ----------------------------------------------------------------------------------
def _pieces(expr: sp.Expr) -> list[tuple[sp.Expr, sp.Expr, sp.Expr]] | None:
    """``[(piece, lo, hi), ...]`` covering the real line, or None if the conditions are unusual."""
    if not isinstance(expr, sp.Piecewise):
        return [(expr, -sp.oo, sp.oo)]
    out = []
    lo = -sp.oo
    for piece, cond in expr.args:
        if cond is sp.true:
            out.append((piece, lo, sp.oo))
            return out
        if (
            isinstance(cond, (sp.StrictLessThan, sp.LessThan))
            and cond.lhs == X
            and not (cond.rhs.free_symbols)
        ):
            hi = cond.rhs
        elif (
            isinstance(cond, (sp.StrictGreaterThan, sp.GreaterThan))
            and cond.rhs == X
            and not (cond.lhs.free_symbols)
        ):
            hi = cond.lhs
        else:
            return None
        if not bool(hi > lo):
            return None
        out.append((piece, lo, hi))
        lo = hi
    return None  # no final "True" branch


def _poly_exp_terms(expr: sp.Expr) -> list[tuple[sp.Expr, int, sp.Expr]] | None:
    """``expr`` as a sum of ``c * x**n * exp(b*x)`` terms, as ``[(c, n, b), ...]``, or None.

    ``c`` and ``b`` are free of ``x`` (they may hold parameters). Every such term has a
    closed-form Gaussian integral over an interval.
    """
    terms = []
    for term in sp.Add.make_args(sp.expand(expr)):
        coeff, n, rate = sp.Integer(1), 0, sp.Integer(0)
        for factor in sp.Mul.make_args(term):
            if X not in factor.free_symbols:
                coeff *= factor
            elif factor == X:
                n += 1
            elif (
                isinstance(factor, sp.Pow)
                and factor.base == X
                and factor.exp.is_Integer
                and (factor.exp > 0)
            ):
                n += int(factor.exp)
            elif isinstance(factor, sp.exp):
                arg = sp.Poly(factor.args[0], X) if factor.args[0].is_polynomial(X) else None
                if arg is None or arg.degree() > 1:
                    return None
                b, d = (arg.all_coeffs() + [0])[:2] if arg.degree() == 1 else (0, arg.as_expr())
                rate += b
                coeff *= sp.exp(d)
            else:
                return None
        terms.append((coeff, n, rate))
    return terms


@functools.lru_cache(maxsize=256)
def _gaussian_term(n: int, rate: sp.Expr, lo: sp.Expr, hi: sp.Expr) -> sp.Expr | None:
    # E[x^n e^{b x}; lo < x < hi] for x = sqrt(q) z: only the simple integrand reaches
    # sympy.integrate; constants and parameters are multiplied in afterwards.
    integrand = (sp.sqrt(Q) * _Z) ** n * sp.exp(rate * sp.sqrt(Q) * _Z) * _GAUSS
    result = sp.integrate(integrand, (_Z, lo / sp.sqrt(Q), hi / sp.sqrt(Q)))
    return None if result.has(sp.Integral) else result


@functools.lru_cache(maxsize=512)
def _symbolic(expr: sp.Expr, k: int) -> sp.Expr | None:
    pieces = _pieces(sp.piecewise_fold(expr))
    if pieces is None:
        return None
    expanded = []
    for piece, lo, hi in pieces:
        terms = _poly_exp_terms(piece**k)
        if terms is None:
            return None
        expanded.append((terms, lo, hi))
    total = sp.Integer(0)
    for terms, lo, hi in expanded:
        for coeff, n, rate in terms:
            part = _gaussian_term(n, rate, lo, hi)
            if part is None:
                return None
            total += coeff * part
    return sp.simplify(total)


def symbolic_moment(act: object, k: int = 2, *, derivative: bool = False) -> sp.Expr | None:
    """Closed form of :math:`M_k(q)` (or :math:`D_k(q)`) in :data:`Q`, or None if there is none.

    Parameters left free in an :class:`Activation` (such as the slope ``a`` of an unbound
    leaky ReLU) stay symbols in the result.
    """
    a = act if isinstance(act, Activation) else activation(act)
    kk = _power(k)
    if not isinstance(derivative, (bool, np.bool_)):
        raise TypeError(f"derivative must be a bool, got {derivative!r}")
    return _symbolic(a.derivative if derivative else a.expr, kk)


# -- numeric --------------------------------------------------------------------------------
def _breakpoints(expr: sp.Expr) -> list[float]:
    pieces = _pieces(sp.piecewise_fold(expr)) or []
    return sorted({0.0} | {float(hi) for _, _, hi in pieces if hi.is_finite})


@functools.lru_cache(maxsize=1024)
def _numeric(expr: sp.Expr, q: float, k: int) -> tuple[float, float]:
    f = sp.lambdify(X, expr, modules="mpmath")
    with mpmath.workdps(_DPS):
        sq = mpmath.sqrt(mpmath.mpf(q))
        norm = 1 / mpmath.sqrt(2 * mpmath.pi)
        points = [-mpmath.inf, *(mpmath.mpf(b) / sq for b in _breakpoints(expr)), mpmath.inf]

        def integrate(scale: mpmath.mpf, absolute: bool) -> tuple[mpmath.mpf, mpmath.mpf]:
            # mpmath's tolerance is absolute (10^-dps): the integrand is divided by the size
            # of the result, so that the tolerance is relative at every scale (unscaled,
            # E[tanh(sqrt(q) z)^2] ~ q came out 5% off at q = 1e-24).
            def integrand(z: mpmath.mpf) -> mpmath.mpf:
                y = f(sq * z) ** k
                return (abs(y) if absolute else y) * mpmath.exp(-z * z / 2) * norm / scale

            v, e = mpmath.quad(integrand, points, error=True, maxdegree=10)
            return v * scale, e * scale

        # The size E|phi|^k (= the moment for even k): guessed from phi(+-sqrt q), then
        # measured; the integral is redone once if the guess was off by more than 10^3.
        scale = max(abs(f(sq)), abs(f(-sq))) ** k
        if not (mpmath.isfinite(scale) and scale > 0):
            scale = mpmath.mpf(1)
        size, err = integrate(scale, absolute=True)
        if mpmath.isfinite(size) and size > 0 and not 1e-3 < size / scale < 1e3:
            scale = size
            size, err = integrate(scale, absolute=True)
        value = size
        if k % 2:  # phi^k may change sign: the value itself, with an error relative to size
            value, err = integrate(scale, absolute=False)
        if not mpmath.isfinite(value) or err > _REL_TOL * size:
            raise ArithmeticError(
                f"quadrature of E[phi^{k}] did not converge: value {value}, error {err}"
            )
        return float(value), float(err)


# -- public ---------------------------------------------------------------------------------
#: The largest power :func:`moment` accepts: the exact path expands :math:`\phi^k`
#: symbolically, whose cost grows quickly with k (SELU at k = 16 already takes minutes).
MAX_POWER = 16


def _power(k: object) -> int:
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be an integer in 1..{MAX_POWER}, got {k!r}")
    kk = int(k)
    if not 1 <= kk <= MAX_POWER:
        raise ValueError(f"k must be an integer in 1..{MAX_POWER}, got {k!r}")
    return kk


def _compute(act_spec: object, q: float, k: int, derivative: bool) -> Moment:
    act = act_spec if isinstance(act_spec, Activation) else activation(act_spec)
    if not act.is_bound:
        act = act.bind()
    qq = positive_real(q, "q")
    kk = _power(k)
    expr = act.derivative if derivative else act.expr
    closed = _symbolic(expr, kk)
    if closed is not None:
        value = float(sp.N(closed.subs(Q, sp.Float(qq, 30)), 30))
        if math.isfinite(value):
            return Moment(value, True, closed, 0.0)
    value, err = _numeric(expr, qq, kk)
    return Moment(value, False, None, err)


def moment(activation: object, q: float = 1.0, k: int = 2) -> Moment:
    """Gaussian moment :math:`E[\\phi(\\sqrt q\\, z)^k]`, :math:`z\\sim N(0,1)`.

    Parameters
    ----------
    activation : str, (str, float) or Activation
        See :func:`initmath.activation`.
    q : float
        Second moment of the pre-activation, > 0.
    k : int
        Power, an integer (any integer type, not bool) in ``1..MAX_POWER`` (16).

    Returns
    -------
    Moment
        ``.value``, and ``.exact`` saying whether it is a SymPy closed form (``.expr``) or
        quadrature.

    Examples
    --------
    >>> m = moment("relu", q=3.0)
    >>> m.value, m.exact, m.expr
    (1.5, True, q/2)
    >>> moment("tanh").exact
    False
    """
    return _compute(activation, q, k, derivative=False)


def derivative_moment(activation: object, q: float = 1.0, k: int = 2) -> Moment:
    """Gaussian moment of the derivative, :math:`E[\\phi'(\\sqrt q\\, z)^k]`.

    Parameters and result as for :func:`moment`.

    Examples
    --------
    >>> derivative_moment("relu").value
    0.5
    """
    return _compute(activation, q, k, derivative=True)
