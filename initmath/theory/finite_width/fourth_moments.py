r"""The kurtosis of a unit, exact at any width for any symmetric i.i.d. weight law.

Given :math:`h`, for i.i.d. weights of variance
:math:`s^2` and excess kurtosis :math:`\kappa`,

.. math:: E[z_i^4 \mid h] = 3 s^4 \lVert h\rVert^4 + \kappa\, s^4 \textstyle\sum_j h_j^4 ,

and since the rows of :math:`W` are independent and :math:`z_i` is symmetric given
:math:`h`, :math:`E[\phi(z)^k \mid h] = p_k E[z^k \mid h]` with
:math:`p_k = (1 + a^k)/2` for a leaky ReLU of slope :math:`a` (:math:`p_k = 1` linear,
:math:`1/2` ReLU). So :math:`A = E[N^2]` and :math:`B = E[\sum_j h_j^4]` obey an exact
linear recursion. Normalized by :math:`E[N]^2` (constant at the critical variance
:math:`s^2 = 1/(n p_2)`), with :math:`\varepsilon = 1/n` and :math:`r = p_4/p_2^2`,

.. math:: \begin{pmatrix} a \\ b \end{pmatrix}_{\ell}
          = \begin{pmatrix} 1 + (3r-1)\varepsilon & r\kappa\varepsilon \\
                           3r\varepsilon & r\kappa\varepsilon \end{pmatrix}
            \begin{pmatrix} a \\ b \end{pmatrix}_{\ell-1},
          \qquad \frac{E[(z^\ell_i)^4]}{E[(z^\ell_i)^2]^2} = 3a_{\ell-1} + \kappa b_{\ell-1},

(:func:`moment_recursion`), started from the Gaussian input :math:`x \sim N(0, I_n)`:
:math:`a_0 = 1 + 2\varepsilon`, :math:`b_0 = 3\varepsilon`. For Gaussian weights
(:math:`\kappa = 0`) this is :math:`3(1 + 2/n)\,E[R^2]^{L-1}`, geometric in depth. To first
order in :math:`1/n` the weight law only shifts the kurtosis by :math:`3\kappa/n` (layer 1)
and :math:`3r\kappa/n` (deeper layers), independent of depth (:func:`kurtosis_first_order`);
the norm fluctuations :math:`a_\ell - 1` feel :math:`\kappa` only at order :math:`1/n^2`.

The kurtosis is scale-free for these activations, so it does not depend on :math:`c`.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ...core.checks import choice, integer
from .setting import EPS, KAPPA, WEIGHT_LAWS, L, N, checked_depth, covered_activation

__all__ = [
    "MAX_N_CHECK",
    "MAX_SYMBOLIC_DEPTH",
    "conditional_fourth_moment",
    "kurtosis",
    "kurtosis_closed_form",
    "kurtosis_expr",
    "kurtosis_first_order",
    "moment_recursion",
    "weight_excess_kurtosis",
]


#: The deepest layer :func:`kurtosis_expr` accepts: its exact polynomial in :math:`1/n` has
#: rational coefficients whose size grows with depth (at depth 100 about a second, half a
#: minute for truncated normal weights, whose kappa is irrational).
MAX_SYMBOLIC_DEPTH = 100
#: The largest ``n_check`` of :func:`conditional_fourth_moment`, whose symbolic expansion of
#: :math:`(\sum_j w_j h_j)^4` has :math:`O(n^4)` terms.
MAX_N_CHECK = 16


def _p(a: sp.Expr, k: int) -> sp.Expr:
    """:math:`E[\\phi(z)^k] / E[z^k]` for a symmetric ``z``: :math:`(1 + a^k)/2`."""
    return (1 + a**k) / 2


def weight_excess_kurtosis(distribution: str) -> sp.Expr:
    r"""Excess kurtosis :math:`\kappa = E[w^4]/E[w^2]^2 - 3` of a weight distribution.

    ``"normal"``: 0. ``"uniform"``: :math:`U(-1, 1)` has :math:`E w^2 = 1/3`,
    :math:`E w^4 = 1/5`, so :math:`\kappa = 9/5 - 3 = -6/5`. ``"truncated_normal"`` (cut at
    :math:`\pm 2` standard deviations of the underlying normal, as in
    :mod:`initmath.weights.distributions`): integrating by parts,
    :math:`m_2 = 1 - 2c\varphi(c)/Z`, :math:`m_4 = 3m_2 - 2c^3\varphi(c)/Z`,
    :math:`Z = 2\Phi(c) - 1`.

    >>> weight_excess_kurtosis("uniform")
    -6/5
    """
    dist = choice(distribution, "distribution", WEIGHT_LAWS + ("orthogonal",))
    if dist == "orthogonal":
        raise NotImplementedError(
            "distribution 'orthogonal' has dependent weights; the finite-width moments here "
            "assume i.i.d. weights"
        )
    if dist == "normal":
        return sp.Integer(0)
    if dist == "uniform":
        w = sp.Symbol("w", real=True)
        m2 = sp.integrate(w**2 / 2, (w, -1, 1))
        m4 = sp.integrate(w**4 / 2, (w, -1, 1))
        return sp.nsimplify(m4 / m2**2 - 3)
    c = sp.Integer(2)
    phi = sp.exp(-(c**2) / 2) / sp.sqrt(2 * sp.pi)
    z = sp.erf(c / sp.sqrt(2))
    m2 = 1 - 2 * c * phi / z
    m4 = 3 * m2 - 2 * c**3 * phi / z
    return m4 / m2**2 - 3


def conditional_fourth_moment(n_check: int = 4) -> sp.Eq:
    r""":math:`E[z^4 \mid h]` for :math:`z = \sum_j w_j h_j`, i.i.d. symmetric :math:`w_j`.

    Returned in the general form
    :math:`3 s^4 \lVert h\rVert^4 + \kappa s^4 \sum_j h_j^4` after checking it by
    expanding :math:`(\sum_j w_j h_j)^4` for ``n_check`` terms and replacing
    :math:`E[w^2] = s^2`, :math:`E[w^4] = (3 + \kappa) s^4` and odd moments by 0.
    ``n_check`` is at most :data:`MAX_N_CHECK` (the expansion has :math:`O(n^4)` terms).

    >>> print(sp.latex(conditional_fourth_moment().lhs))
    E\left[z^{4} \mid h\right]
    """
    n_check = integer(n_check, "n_check", 1)
    if n_check > MAX_N_CHECK:
        raise ValueError(f"n_check must be <= MAX_N_CHECK={MAX_N_CHECK}, got {n_check!r}")
    s = sp.Symbol("s", positive=True)
    w = sp.symbols(f"w1:{n_check + 1}", real=True)
    h = sp.symbols(f"h1:{n_check + 1}", real=True)
    poly = sp.Poly(sp.expand(sum(wi * hi for wi, hi in zip(w, h, strict=True)) ** 4), *w)
    moments = {0: 1, 1: 0, 2: s**2, 3: 0, 4: (3 + KAPPA) * s**4}
    total = sum(coef * sp.Mul(*(moments[e] for e in mon)) for mon, coef in poly.terms())
    norm2 = sum(hi**2 for hi in h)
    claim = 3 * s**4 * norm2**2 + KAPPA * s**4 * sum(hi**4 for hi in h)
    assert sp.expand(total - claim) == 0
    j = sp.Symbol("j", integer=True)
    hj = sp.IndexedBase("h")
    lhs = sp.Symbol(r"E\left[z^{4} \mid h\right]")
    rhs = 3 * s**4 * sp.Symbol(r"\lVert h\rVert") ** 4 + KAPPA * s**4 * sp.Sum(
        hj[j] ** 4, (j, 1, sp.Symbol("n_{in}"))
    )
    return sp.Eq(lhs, rhs, evaluate=False)


def moment_recursion(activation: object) -> sp.Matrix:
    r"""The exact map of :math:`(a, b) = (E[N^2], E[\sum_j h_j^4]) / E[N]^2` across a layer.

    Entries are SymPy expressions in :data:`EPS` (:math:`1/n`) and :data:`KAPPA`; see the
    module docstring for the derivation.

    >>> moment_recursion("relu").tolist()
    [[5*varepsilon + 1, 2*kappa*varepsilon], [6*varepsilon, 2*kappa*varepsilon]]
    """
    _, a = covered_activation(activation)
    n, s2 = sp.Symbol("n_", positive=True), sp.Symbol("s2", positive=True)
    A, B, m = sp.symbols("A B m", positive=True)
    p2, p4 = _p(a, 2), _p(a, 4)
    ez4 = s2**2 * (3 * A + KAPPA * B)  # E[z^4] (averaged over h)
    A_next = n * p4 * ez4 + n * (n - 1) * p2**2 * s2**2 * A
    B_next = n * p4 * ez4
    m_next = n * p2 * s2 * m
    crit = {s2: 1 / (n * p2)}
    rows = []
    for new in (A_next, B_next):
        expr = sp.expand(sp.simplify((new / m_next**2).subs(crit)))
        expr = sp.expand(expr.subs({A: sp.Symbol("a") * m**2, B: sp.Symbol("b") * m**2}))
        expr = sp.expand(expr.subs(n, 1 / EPS))
        rows.append([expr.coeff(sp.Symbol("a")), expr.coeff(sp.Symbol("b"))])
    return sp.Matrix(rows).applyfunc(sp.simplify)


def _initial() -> sp.Matrix:
    """:math:`(a_0, b_0)` for :math:`x \\sim N(0, I_n)`: :math:`E\\chi_n^4 = n^2 + 2n`."""
    return sp.Matrix([1 + 2 * EPS, 3 * EPS])


def kurtosis_expr(activation: object, depth: int, distribution: str = "normal") -> sp.Expr:
    r"""Exact kurtosis of a layer-``depth`` pre-activation, a rational function of :math:`n`.

    ``depth`` is at most :data:`MAX_SYMBOLIC_DEPTH` (the polynomial in :math:`1/n` has
    about ``depth**2`` terms); :func:`kurtosis` gives the numbers at any depth up to
    :data:`MAX_DEPTH`.

    >>> kurtosis_expr("linear", 1)
    3 + 6/n
    """
    depth = checked_depth(depth, MAX_SYMBOLIC_DEPTH, "MAX_SYMBOLIC_DEPTH")
    kappa = weight_excess_kurtosis(distribution)
    M = moment_recursion(activation)
    # Polynomials in EPS, multiplied as SymPy Poly objects (the same expansion as Matrix
    # products followed by expand, far faster); a rational kappa (normal, uniform) is put in
    # first, an irrational one (truncated normal) is kept as the symbol KAPPA until the end.
    gens = (EPS,) if kappa.is_Rational else (EPS, KAPPA)
    k = kappa if kappa.is_Rational else KAPPA
    m = [[sp.Poly(M[i, j].subs(KAPPA, k), *gens) for j in range(2)] for i in range(2)]
    v = [sp.Poly(e, *gens) for e in _initial()]
    for _ in range(depth - 1):
        v = [m[0][0] * v[0] + m[0][1] * v[1], m[1][0] * v[0] + m[1][1] * v[1]]
    kurt = 3 * v[0] + sp.Poly(k, *gens) * v[1]
    if kappa.is_Rational:
        return sp.expand(kurt.as_expr().subs(EPS, 1 / N))
    # The coefficient of each power of 1/n is a polynomial in kappa: put kappa in without
    # expanding its powers (their expansion grows exponentially with depth).
    by_eps = sp.Poly(kurt.as_expr(), EPS)
    return sp.Add(
        *(sp.Poly(c, KAPPA).as_expr().subs(KAPPA, kappa) / N**e for (e,), c in by_eps.terms())
    )


def kurtosis_closed_form(activation: object) -> sp.Expr:
    r"""Kurtosis at depth :data:`L` for Gaussian weights: :math:`3(1+2/n)\,E[R^2]^{L-1}`.

    With :math:`\kappa = 0` the second row of :func:`moment_recursion` no longer feeds the
    first, so :math:`a_\ell = E[R^2]\,a_{\ell-1}` and the kurtosis is :math:`3a_{L-1}`.
    """
    M = moment_recursion(activation).subs(KAPPA, 0)
    assert M[0, 1] == 0
    return 3 * _initial()[0].subs(EPS, 1 / N) * M[0, 0].subs(EPS, 1 / N) ** (L - 1)


def kurtosis_first_order(activation: object, distribution: str = "normal") -> sp.Expr:
    r"""Kurtosis to first order in :math:`1/n` at depth :data:`L` :math:`\ge 2`.

    Write the map as :math:`M = P + \varepsilon M_1` with :math:`P = \mathrm{diag}(1, 0)`;
    then :math:`M^k = P + \varepsilon\,[(k-2)(M_1)_{11} P + M_1 P + P M_1] + O(\varepsilon^2)`
    for :math:`k \ge 2`, and with :math:`k = L - 1` applied to :math:`(a_0, b_0)`.

    >>> kurtosis_first_order("linear", "uniform")
    3 + 6*(L - 3/5)/n
    """
    kappa = weight_excess_kurtosis(distribution)
    M = moment_recursion(activation)
    P = sp.diag(1, 0)
    M1 = ((M - P) / EPS).applyfunc(sp.simplify).subs(EPS, 0)
    k = L - 1
    Mk = P + EPS * ((k - 2) * M1[0, 0] * P + M1 * P + P * M1)
    v = Mk * _initial()
    kurt = (3 * v[0] + KAPPA * v[1]).subs(KAPPA, kappa)
    first = sp.expand(sp.diff(kurt, EPS).subs(EPS, 0))
    return 3 + sp.factor_terms(sp.collect(first, L)) / N


def kurtosis(
    activation: object,
    depth: int,
    width: int,
    *,
    distribution: str = "normal",
) -> np.ndarray:
    r"""Kurtosis :math:`E[z^4]/E[z^2]^2` of a pre-activation at layers ``1..depth``.

    Exact at finite width for i.i.d. symmetric weights (any variance: the value is
    scale-free), zero biases, constant width ``width`` and the Gaussian input
    :math:`x \sim N(0, I_{width})`, averaging over weights and inputs as
    :func:`initmath.simulate` does. A Gaussian has 3.

    Parameters
    ----------
    activation : str or tuple
        ``"linear"``, ``"relu"`` or ``("leaky_relu", a)``; others raise NotImplementedError.
    depth, width : int
        Number of layers (>= 1) and units per layer (>= 1).
    distribution : str
        ``"normal"``, ``"uniform"`` or ``"truncated_normal"`` weights.

    Returns
    -------
    numpy.ndarray
        Shape ``(depth,)``. The kurtosis grows geometrically in depth (like
        :math:`(1 + 5/n)^{L}` for He-ReLU); where it exceeds the largest double it is
        ``inf``, an overflow, not a value.

    Raises
    ------
    ValueError
        ``depth`` or ``width`` < 1, ``depth`` above :data:`MAX_DEPTH`, an unknown activation
        or distribution, a negative or non-finite leaky ReLU slope.
    NotImplementedError
        A registered activation that is not positively homogeneous (tanh, gelu, ...).

    Examples
    --------
    >>> [round(float(k), 3) for k in kurtosis("relu", 3, 16)]
    [3.375, 4.43, 5.814]
    """
    depth = checked_depth(depth)
    width = integer(width, "width", 1)
    kappa = float(weight_excess_kurtosis(distribution))
    M = np.array(
        moment_recursion(activation).subs({EPS: sp.Rational(1, width), KAPPA: kappa}).evalf(),
        dtype=float,
    )
    v = np.array([1 + 2 / width, 3 / width])
    out = np.empty(depth)
    with np.errstate(over="ignore"):  # an overflow is reported as inf, never as a number
        for ell in range(depth):
            if not np.all(np.isfinite(v)):
                out[ell:] = math.inf
                break
            out[ell] = 3 * v[0] + kappa * v[1]
            v = M @ v
    return out
