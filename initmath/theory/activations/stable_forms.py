"""Exact rewrites of an activation's expression whose printed code cannot overflow.

:func:`~initmath.theory.activations.stable` rewrites an expression in
:data:`~initmath.theory.activations.expressions.X` by exact identities only (powers of
:math:`e^{-|u|}` on each side of :math:`u = 0`, ``expm1``, ``log1p``, ``erfc``), and adds a
NaN guard and, where IEEE arithmetic would meet :math:`\\infty \\cdot 0`, the limits at
:math:`\\pm\\infty`; its docstring lists the rules. The NumPy and scalar forms of an
:class:`~initmath.theory.activations.Activation` and the Numba kernels are all printed from
its result.
"""

from __future__ import annotations

import functools
import math

import sympy as sp
from sympy.codegen.cfunctions import expm1, isnan, log1p

from .expressions import X, check_expr, isinf

__all__ = ["stable"]


def _split_add(expr: sp.Add, i: int) -> tuple[sp.Expr, sp.Expr, list[sp.Expr]]:
    # term i of an Add as (x-free coefficient, x-dependent factor), and the other terms
    terms = list(expr.args)
    coeff, dep = terms[i].as_independent(X, as_Add=False)
    return coeff, dep, terms[:i] + terms[i + 1 :]


def _local_rules(expr: sp.Expr) -> sp.Expr:
    """Rewrites that remove cancellation: ``c - c tanh(u)^2``, ``c ± c erf(u)``."""
    if expr.is_Atom:
        return expr
    args = [_local_rules(a) for a in expr.args]
    expr = expr.func(*args) if args != list(expr.args) else expr
    if not isinstance(expr, sp.Add):
        return expr
    for i in range(len(expr.args)):
        c, dep, others = _split_add(expr, i)
        if dep.is_Pow and isinstance(dep.base, sp.tanh) and dep.exp == 2 and -c in others:
            others.remove(-c)  # c (1 - tanh(u)^2) = c sech(u)^2 = 4c / (e^u + e^-u)^2
            u = dep.base.args[0]
            return sp.Add(_local_rules(sp.Add(*others)), 4 * -c / (sp.exp(u) + sp.exp(-u)) ** 2)
        if isinstance(dep, sp.erf) and (c in others or -c in others):
            u = dep.args[0] if c in others else -dep.args[0]
            others.remove(c if c in others else -c)
            # c (1 + erf(u)) = c erfc(-u); SymPy would print erfc(-u) as 2 - erfc(u), which
            # cancels for u < 0, so that side is written erfc(|u|).
            tail = sp.Piecewise((1 + sp.erf(u), u >= 0), (sp.erfc(sp.Abs(u)), True))
            return sp.Add(_local_rules(sp.Add(*others)), c * tail)
    return expr


def _final_rules(expr: sp.Expr) -> sp.Expr:
    """``c e^v - c`` to ``c expm1(v)``; ``log(1 + w)`` to ``log1p(w)``."""
    if expr.is_Atom:
        return expr
    args = [_final_rules(a) for a in expr.args]
    expr = expr.func(*args) if args != list(expr.args) else expr
    if isinstance(expr, sp.log):
        arg = expr.args[0]
        if isinstance(arg, sp.Add) and sp.S.One in arg.args:
            return log1p(arg - 1)
        return expr
    if isinstance(expr, sp.Add):
        for i in range(len(expr.args)):
            c, dep, others = _split_add(expr, i)
            if isinstance(dep, sp.exp) and -c in others:
                others.remove(-c)
                return _final_rules(sp.Add(*others, c * expm1(dep.args[0])))
    return expr


def _positive_poly(p: sp.Expr, t: sp.Dummy) -> bool:
    # A polynomial in t > 0 with positive (x-free) coefficients: positive, and no cancellation.
    try:
        coeffs = sp.Poly(p, t).all_coeffs()
    except sp.PolynomialError:
        return False
    return all(c == 0 or (c.is_number and c.is_positive) for c in coeffs)


def _strip_t(p: sp.Expr, t: sp.Dummy) -> tuple[int, sp.Expr]:
    # p = t^n * p1 with p1(0) != 0
    poly = sp.Poly(p, t)
    n = min(m[0] for m in poly.monoms())
    return n, sp.expand(sp.cancel(p / t**n))


def _rational(expr: sp.Expr, t: sp.Dummy, log_t: sp.Expr) -> sp.Expr:
    """Rewrite ``expr`` (a function of ``t = e^{-|u|}`` in ``(0, 1]``) so no part overflows."""
    if not expr.has(t):
        return expr
    if isinstance(expr, sp.Add):
        return sp.Add(*[_rational(a, t, log_t) for a in expr.args])
    if isinstance(expr, sp.log):
        arg = sp.cancel(expr.args[0])
        num, den = arg.as_numer_denom()
        if _positive_poly(num, t) and _positive_poly(den, t):
            a, p1 = _strip_t(num, t)
            b, q1 = _strip_t(den, t)
            c0p, c0q = p1.subs(t, 0), q1.subs(t, 0)
            parts = [(a - b) * log_t, sp.log(c0p / c0q)]
            parts.append(sp.log(sp.expand(p1 / c0p)))
            parts.append(-sp.log(sp.expand(q1 / c0q)))
            return sp.Add(*parts)
        return expr
    if expr.is_rational_function(t):
        r = sp.cancel(expr)
        num, den = r.as_numer_denom()
        if _positive_poly(den, t):
            return sp.factor(num, t) / sp.factor(den, t)
        return expr
    if isinstance(expr, (sp.Mul, sp.Pow)) or expr.args:
        return expr.func(*[_rational(a, t, log_t) for a in expr.args])
    return expr


def _sign_on(u: sp.Expr, region: sp.Basic) -> int | None:
    """+1 if u >= 0 wherever ``region`` holds, -1 if u < 0 there, None if unknown/mixed."""
    if u.is_nonnegative:
        return 1
    if u.is_negative:
        return -1
    if (u.free_symbols - {X}) or (region is not sp.true and region.free_symbols - {X}):
        return None
    try:
        where = sp.S.Reals if region is sp.true else region.as_set()
        pos = sp.solveset(u >= 0, X, sp.S.Reals)
        if where.intersect(pos) is sp.S.EmptySet:
            return -1
        if where.is_subset(pos):
            return 1
    except (NotImplementedError, TypeError, ValueError):
        return None
    return None


def _split_exp(expr: sp.Expr, region: sp.Basic) -> sp.Expr:
    """Write every ``exp(k u)`` as a power of ``e^{-|u|}`` on each side of ``u = 0``."""
    atoms = [a for a in expr.atoms(sp.exp) if X in a.free_symbols]
    if not atoms:
        return expr
    arg0 = atoms[0].args[0]
    u = -arg0 if arg0.could_extract_minus_sign() else arg0
    group: list[tuple[sp.exp, sp.Rational]] = []
    for a in atoms:
        k = sp.cancel(a.args[0] / u)
        if k.is_Rational:
            group.append((a, k))
    g = sp.Rational(
        math.gcd(*[int(k.p) for _, k in group]), math.lcm(*[int(k.q) for _, k in group])
    )
    u = u * g
    t = sp.Dummy("t", positive=True)
    sign = _sign_on(u, region)
    branches = []
    for side in (1, -1):
        if sign is not None and sign != side:
            continue
        # side +1: t = e^{-u} <= 1 and e^{k g u} = t^{-k}; side -1: t = e^{u} and e^{k g u} = t^k
        sub = {a: t ** (-side * int(k / g)) for a, k in group}
        body = _rational(expr.xreplace(sub), t, -side * u)
        body = body.xreplace({t: sp.exp(-side * u)})
        branches.append((body, u >= 0 if side == 1 else sp.true))
    if len(branches) == 1:
        return branches[0][0]
    return sp.Piecewise(*branches)


def _stabilize(expr: sp.Expr, region: sp.Basic) -> sp.Expr:
    if isinstance(expr, sp.Piecewise):
        return sp.Piecewise(*[(_stabilize(e, c), c) for e, c in expr.args])
    return _final_rules(_split_exp(_local_rules(expr), region))


def _limit_at(expr: sp.Expr, side: int) -> sp.Expr | None:
    """The limit of ``expr`` as x -> side * oo, or None if SymPy cannot say."""
    target = side * sp.oo
    pieces = expr.args if isinstance(expr, sp.Piecewise) else ((expr, sp.true),)
    for piece, cond in pieces:
        holds = cond if cond is sp.true else cond.subs(X, target)
        if holds is sp.true:
            try:
                value = sp.limit(piece, X, target)
            except (NotImplementedError, TypeError, ValueError, ArithmeticError):
                return None
            if value.has(sp.Limit, sp.AccumBounds, sp.nan, sp.zoo) or not (value.is_extended_real):
                return None
            return value
        if holds is not sp.false:
            return None
    return None


def _indeterminate_at(expr: sp.Expr, side: int) -> bool:
    # Evaluate in IEEE arithmetic (math functions) at +-inf; parameters at a generic value.
    generic = {s: sp.Rational(1, 2) for s in expr.free_symbols - {X}}
    f = sp.lambdify(X, sp.N(expr.subs(generic), 20), modules="math")
    try:
        value = f(side * math.inf)
    except (ArithmeticError, ValueError, TypeError):
        return True
    return not isinstance(value, (int, float)) or math.isnan(value)


@functools.lru_cache(maxsize=1024)
def _stable(expr: sp.Expr) -> sp.Expr:
    folded = sp.piecewise_fold(expr)
    core = _stabilize(folded, sp.true)
    guards: list[tuple[sp.Expr, sp.Basic]] = [(sp.nan, isnan(X))]
    for side in (1, -1):
        if _indeterminate_at(core, side):
            value = _limit_at(folded, side)
            if value is not None:
                guards.append((value, isinf(X) & (X > 0 if side == 1 else X < 0)))
    pieces = core.args if isinstance(core, sp.Piecewise) else ((core, sp.true),)
    return sp.Piecewise(*guards, *pieces)


def stable(expr: sp.Expr) -> sp.Expr:
    """An expression equal to ``expr`` (for real :data:`X`) whose printed code is stable.

    ``expr`` is an activation or derivative in :data:`X`, possibly with parameter symbols
    (they stay symbols). The result is built from ``expr`` by exact identities only:

    * every :math:`e^{ku}` (``u`` in ``x``, ``k`` rational) is written on each side of
      :math:`u = 0` as a power of :math:`t = e^{-|u|} \\in (0, 1]`, the rational functions of
      ``t`` are cancelled and logarithms split, so that for instance

      .. math::
          \\log(1 + e^x) = \\begin{cases} x + \\operatorname{log1p}(e^{-x}) & x \\ge 0 \\\\
          \\operatorname{log1p}(e^x) & x < 0\\end{cases},\\qquad
          \\frac{e^{-x}}{(1+e^{-x})^2} = \\frac{e^{-|x|}}{(1 + e^{-|x|})^2};

    * :math:`c\\,e^v - c \\to c\\,\\operatorname{expm1}(v)`,
      :math:`\\log(1 + w) \\to \\operatorname{log1p}(w)`,
      :math:`1 \\pm \\operatorname{erf}(u) \\to \\operatorname{erfc}(\\mp u)`,
      :math:`1 - \\tanh^2 u \\to 4/(e^u + e^{-u})^2` (then split as above);
    * a first branch returns NaN for a NaN input (``isnan``, printed as ``math.isnan`` /
      ``numpy.isnan``), and where IEEE arithmetic would meet :math:`\\infty \\cdot 0` at
      :math:`x = \\pm\\infty` (GELU, SiLU) a branch (``isinf``) returns the limit.

    Printed with :func:`sympy.pycode` (``math`` functions, lazy ``if``/``else``) or by
    :func:`sympy.lambdify` with the branch-safe NumPy printer used for
    :attr:`Activation.numpy`, no branch overflows for any finite input.

    Raises
    ------
    TypeError
        ``expr`` is not a SymPy expression.
    ValueError
        ``expr`` uses a function or symbol that cannot be printed safely (see
        :func:`register_activation`).
    """
    if not isinstance(expr, sp.Expr):
        raise TypeError(f"expr must be a SymPy expression, got {type(expr).__name__}: {expr!r}")
    check_expr(expr)
    if isinstance(expr, sp.Piecewise) and expr.args[0] == (sp.nan, isnan(X)):
        return expr  # already stable
    return _stable(expr)
