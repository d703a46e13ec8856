"""Activations, each defined once as a SymPy expression.

Every other form is generated from that one expression: the derivative (by
:func:`sympy.diff`), a NumPy function, a Numba-compilable scalar function and an mpmath
function (all by :func:`sympy.lambdify`). Nothing is typed twice, so the forms cannot disagree.

Parameters (the slope of leaky ReLU, ELU's :math:`\\alpha`) are SymPy symbols with a default
value; :meth:`Activation.bind` substitutes numbers for them.

Users add their own with :func:`register_activation`, passing a SymPy expression. Strings are
refused: nothing here ever evaluates or sympifies user text.
"""

from __future__ import annotations

import functools
import keyword
import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import mpmath
import numpy as np
import sympy as sp
from sympy.codegen import cfunctions
from sympy.codegen.cfunctions import expm1, isnan, log1p
from sympy.core.function import AppliedUndef
from sympy.printing.numpy import NumPyPrinter

from ..core.checks import nonnegative_real
from ..weights.torch_gain import ACTIVATION_ALIASES, canonical_name, split_spec

__all__ = [
    "X",
    "Activation",
    "activation",
    "activation_names",
    "register_activation",
    "registered",
    "selu_constants",
    "stable",
]

#: The variable every activation is written in.
X = sp.Symbol("x", real=True)

_SLOPE = sp.Symbol("a", nonnegative=True)
_ALPHA = sp.Symbol("alpha", positive=True)


def selu_constants() -> tuple[sp.Expr, sp.Expr]:
    """SELU's :math:`(\\alpha_{01}, \\lambda_{01})` in closed form (Klambauer et al. 2017, eq. 14).

    They make mean 0, variance 1 the fixed point of a layer with LeCun-normal weights:

    .. math::
        \\alpha_{01} = -\\frac{\\sqrt{2/\\pi}}{\\operatorname{erfc}(1/\\sqrt2)\\, e^{1/2} - 1},
        \\quad
        \\lambda_{01} = \\bigl(1-\\operatorname{erfc}(1/\\sqrt2)\\sqrt e\\bigr)\\sqrt{2\\pi}
        \\bigl(2\\operatorname{erfc}(\\sqrt2)e^2 + \\pi\\operatorname{erfc}(1/\\sqrt2)^2 e
        - 2(2+\\pi)\\operatorname{erfc}(1/\\sqrt2)\\sqrt e + \\pi + 2\\bigr)^{-1/2}

    (about 1.6732632423543772 and 1.0507009873554805).
    """
    e, pi = sp.E, sp.pi
    c = sp.erfc(1 / sp.sqrt(2))
    alpha = -sp.sqrt(2 / pi) / (c * sp.sqrt(e) - 1)
    lam = (
        (1 - c * sp.sqrt(e))
        * sp.sqrt(2 * pi)
        / sp.sqrt(
            2 * sp.erfc(sp.sqrt(2)) * e**2 + pi * c**2 * e - 2 * (2 + pi) * c * sp.sqrt(e) + pi + 2
        )
    )
    return alpha, lam


@dataclass(frozen=True)
class Activation:
    """An activation :math:`\\phi(x)` given by a SymPy expression in :data:`X`.

    Attributes
    ----------
    name : str
        Registry name.
    expr : sympy.Expr
        :math:`\\phi(x)`, possibly with parameter symbols.
    params : Mapping[sympy.Symbol, float]
        The parameters still free in ``expr``, with their default values.
    citation : str or None
        Key into the book's bibliography.
    description : str
        One line for tables.
    """

    name: str
    expr: sp.Expr
    params: Mapping[sp.Symbol, float] = field(default_factory=dict)
    citation: str | None = None
    description: str = ""
    #: The expression before :meth:`bind` substituted numbers for its parameters
    #: (``expr`` itself for an activation that has none or is not bound yet).
    family: sp.Expr | None = None
    #: The ``(symbol, value)`` pairs :meth:`bind` substituted into ``family``, in order.
    bound: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()

    # -- parameters ------------------------------------------------------------------------
    def bind(self, *values: float, **named: float) -> Activation:
        """A copy with numbers substituted for the parameters (defaults for those not given)."""
        syms = list(self.params)
        if len(values) > len(syms):
            raise ValueError(
                f"activation {self.name!r} takes {len(syms)} parameter(s), got {values!r}"
            )
        chosen = dict(zip(syms, values, strict=False))  # values may bind a prefix
        by_name = {s.name: s for s in syms}
        for key, val in named.items():
            if key not in by_name:
                raise ValueError(f"activation {self.name!r} has no parameter {key!r}")
            chosen[by_name[key]] = val
        subs = {}
        for s in syms:
            val = chosen.get(s, self.params[s])
            subs[s] = _param_value(val, f"{self.name} {s.name}")
        return Activation(
            self.name,
            self.expr.subs(subs),
            {},
            self.citation,
            self.description,
            family=self.expr,
            bound=tuple(subs.items()),
        )

    @property
    def is_bound(self) -> bool:
        """True when no parameter is left free."""
        return not self.params

    def _bound(self) -> Activation:
        return self if self.is_bound else self.bind()

    # -- generated forms -------------------------------------------------------------------
    @functools.cached_property
    def derivative(self) -> sp.Expr:
        """:math:`\\phi'(x)`, by :func:`sympy.diff`."""
        return _piecewise_safe(sp.diff(self.expr, X))

    @functools.cached_property
    def numpy(self) -> Callable[[np.ndarray], np.ndarray]:
        """Vectorized NumPy :math:`\\phi` (parameters at their defaults)."""
        return _vectorize(self._bound().expr)

    @functools.cached_property
    def numpy_derivative(self) -> Callable[[np.ndarray], np.ndarray]:
        """Vectorized NumPy :math:`\\phi'` (parameters at their defaults)."""
        return _vectorize(self._bound().derivative)

    @functools.cached_property
    def scalar(self) -> Callable[[float], float]:
        """Scalar :math:`\\phi` using only :mod:`math`: Numba's ``njit`` compiles it as is."""
        return _scalar(self._bound().expr)

    @functools.cached_property
    def scalar_derivative(self) -> Callable[[float], float]:
        """Scalar :math:`\\phi'` using only :mod:`math`, for Numba."""
        return _scalar(self._bound().derivative)

    @functools.cached_property
    def mpmath(self) -> Callable[[Any], Any]:
        """:math:`\\phi` on mpmath numbers, for high-precision quadrature."""
        return sp.lambdify(X, self._bound().expr, modules="mpmath")

    def latex(self) -> str:
        """LaTeX of :math:`\\phi(x)`."""
        return sp.latex(self.expr)

    def __repr__(self) -> str:
        return f"Activation({self.name!r}, {self.expr})"


# -- numerically stable forms ---------------------------------------------------------------
class isinf(cfunctions.isinf):  # noqa: N801 - the printers look the name up as "isinf"
    """``isinf(x)``, left undecided for a real symbol.

    SymPy's own ``isinf`` is False for any real symbol (real means finite there), so a
    ``Piecewise`` branch on it would vanish; this one stays and prints as ``math.isinf`` or
    ``numpy.isinf``. For every real number it is False, so :func:`stable` stays exact.
    """

    @classmethod
    def eval(cls, arg: sp.Expr) -> sp.Basic | None:
        if arg.is_number:
            return sp.true if arg.is_infinite else sp.false
        return None


# ---------------------------------------------------------------
#: Functions an activation may use: each one is printed by SymPy's math, NumPy and mpmath
#: printers, and its derivative stays in the set. (``Abs``, ``Max`` and ``Min`` are rewritten
#: as ``Piecewise`` by :func:`register_activation`: their derivatives would be ``sign`` and
#: ``Heaviside``.)
_FUNCTIONS: frozenset[type] = frozenset(
    {
        sp.exp,
        sp.log,
        sp.sin,
        sp.cos,
        sp.tanh,
        sp.sinh,
        sp.cosh,
        sp.atan,
        sp.asinh,
        sp.erf,
        sp.erfc,
        sp.Abs,
        sp.Max,
        sp.Min,
        sp.Piecewise,
        expm1,
        log1p,
    }
)
#: Arithmetic, numbers and logic allowed around them. Classes are compared exactly, never by
#: isinstance: a subclass could carry its own printing method, i.e. its own code.
_STRUCTURE: frozenset[type] = frozenset(
    {
        sp.Add,
        sp.Mul,
        sp.Pow,
        sp.Symbol,
        sp.Dummy,
        sp.Integer,
        sp.Rational,
        sp.Float,
        type(sp.S.Zero),
        type(sp.S.One),
        type(sp.S.NegativeOne),
        type(sp.S.Half),
        type(sp.pi),
        type(sp.E),
        type(sp.EulerGamma),
        sp.StrictLessThan,
        sp.LessThan,
        sp.StrictGreaterThan,
        sp.GreaterThan,
        sp.And,
        sp.Or,
        sp.Not,
        type(sp.true),
        type(sp.false),
        sp.functions.elementary.piecewise.ExprCondPair,
    }
)
#: Only in expressions :func:`stable` generated (its NaN and infinity guards).
_GUARDS: frozenset[type] = frozenset(
    {isnan, isinf, type(sp.nan), type(sp.oo), type(sp.S.NegativeInfinity)}
)
_REFUSED_HINT = {
    "sign": "write it with Piecewise",
    "Heaviside": "write it with Piecewise",
    "DiracDelta": "a distribution is not an activation",
}


def _check_expr(expr: sp.Basic, what: str = "expr", *, guards: bool = True) -> None:
    """Refuse anything the printers, the derivative or the moments cannot handle.

    Runs before any code is generated from ``expr``. Every node's class must be one of a
    fixed set (compared exactly, so a ``Function`` or subclass whose name is Python code is
    refused), and every symbol name must be a plain identifier that is not a keyword, so that
    nothing user-chosen reaches generated source as code.
    """
    allowed = _FUNCTIONS | _STRUCTURE | (_GUARDS if guards else frozenset())
    for node in sp.preorder_traversal(expr):
        kind = type(node)
        if kind in (sp.Symbol, sp.Dummy):
            name = node.name
            if not (isinstance(name, str) and name.isidentifier()) or keyword.iskeyword(name):
                raise ValueError(
                    f"{what} has a symbol whose name {name!r} is not a plain Python identifier"
                )
            continue
        if kind is sp.Float and not node.is_finite:
            raise ValueError(f"{what} contains the non-finite number {node}: {expr!r}")
        if kind in allowed:
            continue
        if node is sp.I or (
            isinstance(node, sp.Expr) and node.is_number and (node.is_extended_real is False)
        ):
            raise ValueError(
                f"{what} is complex ({node!r} appears in {expr!r}); an activation is real"
            )
        if node in (sp.oo, -sp.oo, sp.zoo, sp.nan):
            raise ValueError(f"{what} contains the non-finite number {node}: {expr!r}")
        if isinstance(node, AppliedUndef):
            raise ValueError(
                f"{what} uses the undefined function {kind.__name__!r} in {expr!r}; write it "
                "out with SymPy's functions"
            )
        label = getattr(kind, "__name__", "?")
        hint = _REFUSED_HINT.get(label, "")
        names = ", ".join(sorted(f.__name__ for f in _FUNCTIONS))
        raise ValueError(
            f"{what} uses {label!r}{' (' + hint + ')' if hint else ''}, which initmath cannot "
            f"print, differentiate and integrate reliably; allowed functions: {names}. "
            f"Got {expr!r}"
        )


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
    """lim of ``expr`` as x -> side * oo, or None if SymPy cannot say."""
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
    _check_expr(expr)
    if isinstance(expr, sp.Piecewise) and expr.args[0] == (sp.nan, isnan(X)):
        return expr  # already stable
    return _stable(expr)


def _param_value(value: object, name: str) -> sp.Expr:
    if isinstance(value, sp.Basic):
        if not value.is_real or value.free_symbols:
            raise ValueError(f"{name} must be a real number, got {value!r}")
        if value.is_negative:
            raise ValueError(f"{name} must be >= 0, got {value!r}")
        return value
    x = nonnegative_real(value, name)
    # Integers stay exact; a float is taken at its binary value.
    if isinstance(value, numbers.Integral):
        return sp.Integer(int(value))
    return sp.Float(x, 17) if x != int(x) else sp.Integer(int(x))


def _piecewise_safe(expr: sp.Expr) -> sp.Expr:
    # diff of a Piecewise is a Piecewise; of Max/Abs it would bring Heaviside/sign, which the
    # quadrature and code printers handle badly. All built-ins are written with Piecewise.
    return sp.piecewise_fold(expr)


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


def _vectorize(expr: sp.Expr) -> Callable[[np.ndarray], np.ndarray]:
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


def _scalar(expr: sp.Expr) -> Callable[[float], float]:
    # Python's conditional expression evaluates only the branch taken.
    return sp.lambdify(X, _numeric(stable(expr)), modules="math")


def _erf(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return erf(x)


def _erfc(x: np.ndarray) -> np.ndarray:
    from scipy.special import erfc

    return erfc(x)


# -- the registry --------------------------------------------------------------------------
def _builtin() -> dict[str, Activation]:
    x, a, alpha = X, _SLOPE, _ALPHA
    sel_alpha, sel_lambda = selu_constants()
    sigmoid = 1 / (1 + sp.exp(-x))
    acts = [
        Activation("linear", x, description="identity"),
        Activation(
            "relu",
            sp.Piecewise((0, x < 0), (x, True)),
            citation="he2015",
            description="rectified linear unit",
        ),
        Activation(
            "leaky_relu",
            sp.Piecewise((a * x, x < 0), (x, True)),
            {a: 0.01},
            citation="he2015",
            description="leaky ReLU / PReLU, slope a",
        ),
        Activation("tanh", sp.tanh(x), citation="glorot2010", description="hyperbolic tangent"),
        Activation("sigmoid", sigmoid, citation="glorot2010", description="logistic sigmoid"),
        Activation("softplus", sp.log(1 + sp.exp(x)), description="softplus"),
        Activation(
            "elu",
            sp.Piecewise((alpha * (sp.exp(x) - 1), x < 0), (x, True)),
            {alpha: 1},
            citation="clevert2016",
            description="exponential linear unit",
        ),
        Activation(
            "selu",
            sel_lambda * sp.Piecewise((sel_alpha * (sp.exp(x) - 1), x < 0), (x, True)),
            citation="klambauer2017",
            description="scaled ELU (exact constants)",
        ),
        Activation(
            "gelu",
            x * (1 + sp.erf(x / sp.sqrt(2))) / 2,
            citation="hendrycks2016",
            description="Gaussian error linear unit (exact, erf)",
        ),
        Activation(
            "silu",
            x * sigmoid,
            citation="ramachandran2017",
            description="sigmoid-weighted linear unit (swish)",
        ),
        Activation(
            "lecun_tanh",
            sp.Rational(17159, 10000) * sp.tanh(sp.Rational(2, 3) * x),
            citation="lecun1998",
            description="1.7159 tanh(2x/3)",
        ),
    ]
    return {act.name: act for act in acts}


_REGISTRY: dict[str, Activation] = _builtin()
_PROBE = np.array([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
#: Names a parameter may not have: the generated code uses them.
_RESERVED = frozenset({"math", "numpy", "np", "mpmath", "scipy", "numba", "p", "nan", "inf"})


def activation_names() -> tuple[str, ...]:
    """Names of every registered activation, built-in and user-registered."""
    return tuple(_REGISTRY)


def registered(name: str) -> Activation:
    """The activation registered under ``name`` (or an alias) as it was registered: its
    parameters still free symbols (``leaky_relu``'s slope ``a``), for derivations in them.

    >>> registered("prelu").expr.free_symbols == {X, *registered("prelu").params}
    True

    Raises
    ------
    ValueError
        No activation has that name.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {name!r}")
    key = canonical_name(name)
    if key not in _REGISTRY:
        raise ValueError(
            f"unknown activation {name!r}; expected one of {', '.join(map(repr, _REGISTRY))}"
        )
    return _REGISTRY[key]


def activation(spec: object, param: object = None) -> Activation:
    """Look up an activation and bind its parameters.

    Parameters
    ----------
    spec : str, (str, float) or Activation
        A registered name (``"relu"``, ``"tanh"``, ...; see :func:`activation_names`),
        ``(name, parameter)`` such as ``("leaky_relu", 0.2)``, or an :class:`Activation`.
    param : float, optional
        The parameter, instead of giving it in ``spec``.

    Returns
    -------
    Activation
        With every parameter bound (defaults where not given).

    Raises
    ------
    ValueError
        Unknown name, a parameter for an activation without one, a negative or NaN parameter.
    """
    # bind() validates its values (_param_value), whatever their type.
    if isinstance(spec, Activation):
        return spec.bind(cast(float, param)) if param is not None else spec._bound()
    name, value = split_spec(spec, param)
    key = canonical_name(name)
    if key not in _REGISTRY:
        raise ValueError(
            f"unknown activation {spec!r}; expected one of {', '.join(map(repr, _REGISTRY))} "
            "or an Activation (see register_activation)"
        )
    act = _REGISTRY[key]
    if value is None:
        return act.bind()
    if not act.params:
        raise ValueError(f"activation {name!r} takes no parameter, got param={value!r}")
    return act.bind(cast(float, value))


def register_activation(
    name: str,
    expr: sp.Expr,
    *,
    symbol: sp.Symbol | None = None,
    params: Mapping[sp.Symbol, float] | None = None,
    citation: str | None = None,
    description: str = "",
    replace: bool = False,
) -> Activation:
    """Add an activation given as a SymPy expression.

    Parameters
    ----------
    name : str
        Registry name; an existing name needs ``replace=True``.
    expr : sympy.Expr
        :math:`\\phi` in one variable. Never a string: strings are refused, not sympified.
    symbol : sympy.Symbol, optional
        The variable of ``expr``; by default its only free symbol that is not a parameter.
    params : mapping of sympy.Symbol to float, optional
        Parameters and their default values.

    Returns
    -------
    Activation

    Examples
    --------
    >>> import sympy as sp, initmath
    >>> t = sp.Symbol("t", real=True)
    >>> act = register_activation("cube_doc", t**3, replace=True)
    >>> initmath.moment("cube_doc").value      # E[z^6] = 15
    15.0
    """
    if isinstance(expr, (str, bytes)):
        raise TypeError(
            f"expr must be a SymPy expression, got the string {expr!r}; build it with SymPy "
            "(strings are never evaluated or sympified)"
        )
    if not isinstance(expr, sp.Expr):
        raise TypeError(f"expr must be a SymPy expression, got {type(expr).__name__}: {expr!r}")
    if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"name must be a Python identifier that is not a keyword, got {name!r}")
    key = name.lower()
    if key in ACTIVATION_ALIASES:
        raise ValueError(
            f"name {name!r} is an alias of the built-in {ACTIVATION_ALIASES[key]!r}: an activation "
            "registered under it could never be looked up; choose another name"
        )
    if key in _REGISTRY and not replace:
        raise ValueError(f"activation {name!r} is already registered; pass replace=True")
    for arg, val in (("citation", citation), ("description", description)):
        if val is not None and not isinstance(val, str):
            raise TypeError(f"{arg} must be a string, got {val!r}")
    # Nothing below generates or runs code before this check: classes are whitelisted
    # exactly, symbol names must be identifiers.
    _check_expr(expr, "expr", guards=False)
    if not isinstance(replace, (bool, np.bool_)):
        raise TypeError(f"replace must be a bool, got {replace!r}")
    if params is not None and not isinstance(params, Mapping):
        raise TypeError(f"params must be a mapping of SymPy symbols to numbers, got {params!r}")
    params = dict(params or {})
    for p, v in params.items():
        if type(p) is not sp.Symbol:
            raise TypeError(f"params keys must be SymPy symbols, got {p!r}")
        _check_expr(p, "params")
        if p not in expr.free_symbols:
            raise ValueError(f"params has {p!r}, which does not appear in expr {expr!r}")
        _param_value(v, f"params[{p.name!r}]")
    if symbol is not None and type(symbol) not in (sp.Symbol, sp.Dummy):
        raise TypeError(f"symbol must be a SymPy Symbol, got {symbol!r}")
    free = expr.free_symbols - set(params)
    if symbol is None:
        if len(free) != 1:
            raise ValueError(
                "expr must have exactly one variable besides its params, got "
                f"{sorted(map(str, free))} in {expr!r}"
            )
        (symbol,) = free
    elif symbol not in free or len(free) != 1:
        raise ValueError(f"symbol {symbol!r} must be the only free variable of expr {expr!r}")
    names = [s.name for s in params] + [X.name]
    if len(set(names)) != len(names) or any(n in _RESERVED for n in names[:-1]):
        raise ValueError(
            f"params names must be distinct, not {X.name!r} and not one of "
            f"{sorted(_RESERVED)}; got {names[:-1]}"
        )
    # |u|, max, min become Piecewise, whose derivative is again a Piecewise (not sign or
    # Heaviside, which neither the printers nor the moments handle).
    body = sp.piecewise_fold(
        expr.subs(symbol, X).rewrite(sp.Piecewise)
        if expr.has(sp.Abs, sp.Max, sp.Min)
        else expr.subs(symbol, X)
    )
    act = Activation(key, body, params, citation, description)
    _check_expr(act.derivative, "the derivative of expr", guards=False)
    values = [mpmath.mpmathify(act.mpmath(mpmath.mpf(float(v)))) for v in _PROBE]
    if not all(isinstance(v, mpmath.mpf) for v in values):
        raise ValueError(f"expr {expr!r} takes complex values on [-2, 2]: {values}")
    with np.errstate(all="ignore"):
        probe = act.numpy(_PROBE)
    if not np.all(np.isfinite(probe)):
        raise ValueError(f"expr {expr!r} is not finite on [-2, 2]: {probe}")
    _REGISTRY[key] = act
    return act
