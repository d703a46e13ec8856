"""Derivations, in SymPy, of the variance maps and of every scheme's weight variance.

The setting: a layer :math:`z_i = \\sum_{j=1}^{n_{in}} W_{ij}\\,\\phi(x_j) + b_i` with i.i.d.
zero-mean weights of variance :math:`v`, independent of the zero-mean inputs :math:`x_j`
(pre-activations of the previous layer, second moment :math:`q`), and biases of variance
:math:`\\sigma_b^2`. Every function here returns SymPy objects; nothing is typed as a finished
formula. The derived results are what :mod:`initmath.practice.registry` publishes and what the tests
compare the fast NumPy functions of :mod:`initmath.weights.schemes` with.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import sympy as sp

from ..core.checks import choice, integer
from ..weights.distributions import DISTRIBUTIONS
from ..weights.schemes import DEFAULT_MODE, MODES, SCHEME_ACTIVATION, SCHEME_ALIASES, SCHEMES
from .activations import SLOPE, X, activation
from .moments import Q, symbolic_moment

__all__ = [
    "A",
    "GAIN",
    "N_IN",
    "N_OUT",
    "Q",
    "Q_GRAD",
    "SIGMA_B2",
    "SLOPE",
    "V",
    "backward_condition",
    "backward_map",
    "exact_backward_gain",
    "exact_gain",
    "fan_symbol",
    "forward_condition",
    "forward_map",
    "linearized_moment",
    "orthogonal_mean_square",
    "scheme_variance",
    "solve_for",
    "truncated_normal_factor",
    "xavier_conditions",
    "uniform_bound",
    "uniform_variance",
    "weight_std",
]

N_IN, N_OUT = sp.symbols("n_in n_out", positive=True)
#: Weight variance.
V = sp.Symbol("v", positive=True)
SIGMA_B2 = sp.Symbol("sigma_b^2", nonnegative=True)
#: Second moment of the back-propagated gradient.
Q_GRAD = sp.Symbol("q_g", positive=True)
GAIN = sp.Symbol("g", positive=True)
#: Half-width of a uniform distribution.
A = sp.Symbol("A", positive=True)
_ROWS, _COLS = sp.symbols("r c", positive=True, integer=True)
_J = sp.Symbol("j", positive=True, integer=True)

M = sp.Function("M", positive=True)  # generic E[phi(sqrt(q) z)^2]
D = sp.Function("D", positive=True)  # generic E[phi'(sqrt(q) z)^2]


#: The largest ``order`` :func:`linearized_moment` expands to (the series grows fast).
MAX_ORDER = 20


def _expr(value: object, name: str, *, positive: bool = False) -> sp.Expr:
    """A SymPy expression or a finite real number as one; never a string (no sympify).

    With ``positive``, a value SymPy can decide is not positive is refused.
    """
    if value is None or isinstance(value, (str, bytes, bool, np.bool_)):
        raise TypeError(f"{name} must be a SymPy expression or a real number, got {value!r}")
    if isinstance(value, (numbers.Integral, np.integer)):
        expr: sp.Expr = sp.Integer(int(value))
    elif isinstance(value, (numbers.Real, np.floating)):
        if not math.isfinite(float(value)):
            raise ValueError(f"{name} must be finite, got {value!r}")
        expr = sp.Float(float(value))
    elif isinstance(value, sp.Expr):
        expr = value
    else:
        raise TypeError(f"{name} must be a SymPy expression or a real number, got {value!r}")
    if expr.has(sp.nan, sp.zoo, sp.oo, -sp.oo) or expr.is_real is False:
        raise ValueError(f"{name} must be a finite real expression, got {value!r}")
    if positive and expr.is_positive is False:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return expr


def _scheme(scheme: object) -> str:
    return choice(scheme, "scheme", SCHEMES, SCHEME_ALIASES)


def _mode(mode: object) -> str | None:
    return None if mode is None else choice(mode, "mode", MODES)


def _moment_or_generic(act: object | None, derivative: bool) -> sp.Expr:
    if act is None:
        return (D if derivative else M)(Q)
    spec = activation(act) if not hasattr(act, "expr") else act
    closed = symbolic_moment(spec, 2, derivative=derivative)
    if closed is None:
        raise ValueError(f"activation {act!r} has no closed-form second moment")
    return closed


def forward_map(act: object | None = None) -> sp.Expr:
    """:math:`q_{out}` as a function of :math:`q`: the forward second-moment map.

    .. math:: q_{out} = E[z_i^2] = \\sum_{j=1}^{n_{in}} E[W_{ij}^2]\\,E[\\phi(x_j)^2]
              + \\sigma_b^2 = n_{in}\\, v\\, M(q) + \\sigma_b^2,

    the cross terms vanishing because the weights are independent with mean zero. With
    ``act`` its closed-form :math:`M(q)` is substituted; without, :math:`M` stays a function.
    """
    m = _moment_or_generic(act, derivative=False)
    return sp.Sum(V * m, (_J, 1, N_IN)).doit() + SIGMA_B2


def backward_map(act: object | None = None) -> sp.Expr:
    """Second moment of the gradient at a layer's input, from that at its output.

    With :math:`\\delta_j = \\phi'(z_j) \\sum_i W_{ij} \\delta'_i` over the :math:`n_{out}`
    units the layer feeds, and gradients independent of the forward weights (the usual
    mean-field assumption), :math:`q_g^{in} = n_{out}\\, v\\, D(q)\\, q_g^{out}`.
    """
    d = _moment_or_generic(act, derivative=True)
    return sp.Sum(V * d * Q_GRAD, (_J, 1, N_OUT)).doit()


def forward_condition(act: object | None = None, fan: sp.Expr = N_IN) -> sp.Eq:
    """Variance preserved forward: :math:`q_{out} = q` at :math:`q=1`, no bias.

    For activations whose moment is homogeneous in :math:`q` (linear, ReLU family) the
    condition is the same at every :math:`q`.
    """
    fan = _expr(fan, "fan", positive=True)
    expr = forward_map(act).subs({SIGMA_B2: 0, N_IN: fan})
    return sp.Eq(expr.subs(Q, 1), 1)


def backward_condition(act: object | None = None, fan: sp.Expr = N_OUT) -> sp.Eq:
    """Gradient second moment preserved backward: :math:`q_g^{in} = q_g^{out}` at :math:`q = 1`."""
    fan = _expr(fan, "fan", positive=True)
    expr = backward_map(act).subs(N_OUT, fan)
    return sp.Eq((expr / Q_GRAD).subs(Q, 1), 1)


def solve_for(condition: sp.Eq, symbol: sp.Symbol = V) -> sp.Expr:
    """The unique positive solution of ``condition`` for ``symbol`` (by :func:`sympy.solve`).

    ``condition`` is a :class:`sympy.Eq` that contains the :class:`sympy.Symbol` ``symbol``.
    """
    if not isinstance(condition, sp.Equality):
        raise TypeError(f"condition must be a sympy.Eq, got {condition!r}")
    if not isinstance(symbol, sp.Symbol):
        raise TypeError(f"symbol must be a sympy.Symbol, got {symbol!r}")
    if symbol not in condition.free_symbols:
        raise ValueError(f"symbol {symbol} does not occur in the condition {condition}")
    solutions = [
        sol
        for sol in sp.solve(condition, symbol, dict=False)
        if not (symbol.is_positive and sol.is_positive is False)
    ]
    if len(solutions) != 1:
        raise ValueError(f"{condition} has solutions {solutions} for {symbol}, expected one")
    return sp.simplify(solutions[0])


def xavier_conditions(act: object = "tanh") -> tuple[sp.Eq, sp.Eq, sp.Expr]:
    """Glorot and Bengio's two conditions and their compromise, for ``act`` near 0.

    In the linear regime of an activation with :math:`\\phi(0) = 0` and :math:`\\phi'(0) = 1`
    (tanh, the scaled-down sigmoid of their paper), :math:`E[\\phi(\\sqrt q z)^2] = q + O(q^2)`
    (:func:`linearized_moment`) and :math:`E[\\phi'^2] = 1 + O(q)`, so preserving the forward
    second moment needs :math:`n_{in} v = 1` and preserving the gradient's needs
    :math:`n_{out} v = 1`. Both hold only if :math:`n_{in} = n_{out}`; the compromise
    satisfies their average, :math:`\\tfrac12(n_{in} + n_{out})\\, v = 1`.

    Returns
    -------
    forward, backward : sympy.Eq
    compromise : sympy.Expr
        :math:`v` solving the averaged condition.
    """
    phi = activation(act).expr
    if phi.subs(X, 0) != 0 or sp.diff(phi, X).subs(X, 0) != 1:
        raise ValueError(f"activation {act!r} does not have phi(0) = 0 and phi'(0) = 1")
    m_lin = linearized_moment(act, 1).subs(Q, 1)  # leading coefficient: E ~ m_lin * q
    d_lin = sp.diff(phi, X).subs(X, 0) ** 2  # E[phi'(sqrt(q) z)^2] -> phi'(0)^2 as q -> 0
    forward = sp.Eq(N_IN * V * m_lin, 1)
    backward = sp.Eq(N_OUT * V * d_lin, 1)
    compromise = solve_for(sp.Eq((forward.lhs + backward.lhs) / 2, 1))
    return forward, backward, compromise


def linearized_moment(act: object, order: int = 2) -> sp.Expr:
    """Small-:math:`q` expansion of :math:`E[\\phi(\\sqrt q z)^2]` to :math:`O(q^{order})`.

    From the Taylor series of :math:`\\phi^2` and :math:`E[z^n] = (n-1)!!` (0 for odd n). For
    any :math:`\\phi` with :math:`\\phi(0) = 0, \\phi'(0) = 1` the leading term is :math:`q`:
    the linear regime that Glorot and Bengio's conditions assume. ``order`` is an integer in
    ``1..MAX_ORDER``.
    """
    order = integer(order, "order", minimum=1)
    if order > MAX_ORDER:
        raise ValueError(f"order must be <= {MAX_ORDER}, got {order!r}")
    phi = activation(act).expr
    series = sp.series(phi**2, X, 0, 2 * order + 1).removeO()
    poly = sp.Poly(sp.expand(series), X)
    total = sp.Integer(0)
    for (n,), coeff in poly.terms():
        if n % 2 == 0:
            total += coeff * Q ** sp.Rational(n, 2) * sp.factorial2(n - 1)
    return sp.expand(total)


def fan_symbol(mode: str) -> sp.Expr:
    """The fan a mode divides by: :math:`n_{in}`, :math:`n_{out}`, their mean or geometric mean."""
    m = choice(mode, "mode", MODES)
    return {
        "fan_in": N_IN,
        "fan_out": N_OUT,
        "fan_avg": (N_IN + N_OUT) / 2,
        "fan_geo_avg": sp.sqrt(N_IN * N_OUT),
    }[m]


def uniform_variance() -> sp.Expr:
    """:math:`\\operatorname{Var} U(-A, A) = \\int_{-A}^{A} x^2/(2A)\\,dx = A^2/3`."""
    return sp.integrate(X**2 / (2 * A), (X, -A, A))


def uniform_bound() -> sp.Expr:
    """Half-width giving variance :math:`v`: solves :math:`A^2/3 = v`, so :math:`A = \\sqrt{3v}`."""
    return solve_for(sp.Eq(uniform_variance(), V), A)


def truncated_normal_factor(cut: sp.Expr = sp.Integer(2)) -> sp.Expr:
    """:math:`\\beta`, the std of a unit normal truncated to :math:`(-c, c)`, in closed form.

    .. math:: \\beta^2 = \\frac{\\int_{-c}^{c} z^2 \\varphi(z)\\,dz}{\\int_{-c}^{c}\\varphi(z)\\,dz}

    ``cut`` is a positive SymPy expression or number (not a string).
    """
    cut = _expr(cut, "cut", positive=True)
    z = sp.Symbol("z", real=True)
    pdf = sp.exp(-(z**2) / 2) / sp.sqrt(2 * sp.pi)
    mass = sp.integrate(pdf, (z, -cut, cut))
    second = sp.integrate(z**2 * pdf, (z, -cut, cut))
    return sp.sqrt(sp.simplify(second / mass))


def orthogonal_mean_square() -> sp.Expr:
    """Mean square entry of an :math:`r\\times c` matrix with orthonormal rows or columns.

    The :math:`\\min(r, c)` orthonormal vectors have unit norm, so the squares of all
    :math:`rc` entries sum to :math:`\\min(r, c)`: the mean square is
    :math:`\\min(r,c)/(rc) = 1/\\max(r, c)`.
    """
    return sp.Min(_ROWS, _COLS) / (_ROWS * _COLS)


# -- schemes ---------------------------------------------------------------------------------


def exact_gain(act: object) -> sp.Expr:
    """:math:`g` with :math:`g^2 E[\\phi(z)^2] = 1`: makes :math:`q=1` a fixed point."""
    m = _moment_or_generic(act, derivative=False).subs(Q, 1)
    return solve_for(sp.Eq(GAIN**2 * m, 1), GAIN)


def exact_backward_gain(act: object) -> sp.Expr:
    """:math:`g` with :math:`g^2 E[\\phi'(z)^2] = 1`."""
    d = _moment_or_generic(act, derivative=True).subs(Q, 1)
    return solve_for(sp.Eq(GAIN**2 * d, 1), GAIN)


def scheme_variance(scheme: str, mode: str | None = None, gain: sp.Expr | None = None) -> sp.Expr:
    """Weight variance of a scheme, derived.

    * ``lecun``/``xavier``/``he`` with their own activation (linear, linear, ReLU): the
      forward condition :math:`\\mathrm{fan}\\cdot v\\cdot E[\\phi(z)^2] = 1` solved for
      :math:`v`, with the fan of ``mode`` (Xavier's own ``fan_avg`` is the average of the
      forward and backward conditions: Glorot and Bengio's compromise).
    * with a ``gain`` :math:`g`: the activation is whatever has :math:`E[\\phi(z)^2] = 1/g^2`,
      so the same condition gives :math:`g^2/\\mathrm{fan}`.
    * ``standard``: the variance of :math:`U(\\pm g/\\sqrt{\\mathrm{fan}})`.
    * ``fixed`` (alias ``normal``): :math:`(g\\,s)^2` for the fixed std :math:`s` (a symbol ``s``).

    ``scheme`` and ``mode`` as for :func:`initmath.variance`; ``gain`` a positive SymPy
    expression or number.
    """
    scheme = _scheme(scheme)
    if scheme == "fixed" and mode is not None:
        raise ValueError(f"scheme 'fixed' has a fixed std and takes no mode, got mode={mode!r}")
    mode = _mode(mode)
    gain = None if gain is None else _expr(gain, "gain", positive=True)
    if scheme == "fixed":
        return ((gain if gain is not None else 1) * sp.Symbol("s", positive=True)) ** 2
    fan = fan_symbol(mode or DEFAULT_MODE[scheme])
    if scheme == "standard":
        g = gain if gain is not None else 1
        return uniform_variance().subs(A, g / sp.sqrt(fan))
    if gain is None:
        m = _moment_or_generic(SCHEME_ACTIVATION[scheme], derivative=False).subs(Q, 1)
    else:
        m = 1 / gain**2
    return solve_for(sp.Eq(fan * V * m, 1))


def weight_std(
    scheme: str,
    mode: str | None = None,
    distribution: str = "normal",
    gain: sp.Expr | None = None,
) -> sp.Expr:
    """Standard deviation of the weights :func:`initmath.init` draws, derived.

    The distribution does not change it (the truncated normal's underlying normal is widened
    by :math:`1/\\beta` so that it does not), except ``orthogonal``, whose entries have mean
    square :math:`g^2/\\max(r, c)` whatever the fans (symbols ``r``, ``c``).
    """
    scheme = _scheme(scheme)
    distribution = choice(distribution, "distribution", DISTRIBUTIONS)
    if distribution == "orthogonal":
        if scheme in ("standard", "fixed"):
            raise ValueError(
                f"distribution 'orthogonal' is scaled by a gain; scheme {scheme!r} has none"
            )
        if mode is not None:
            raise ValueError(f"distribution 'orthogonal' takes no mode, got mode={mode!r}")
        gain = None if gain is None else _expr(gain, "gain", positive=True)
        g = gain if gain is not None else exact_gain(SCHEME_ACTIVATION[scheme])
        return g * sp.sqrt(orthogonal_mean_square())
    return sp.sqrt(scheme_variance(scheme, mode, gain))
