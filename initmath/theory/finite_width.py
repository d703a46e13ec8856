r"""Finite width: the fluctuations that the infinite-width maps average away.

The infinite-width maps of :mod:`initmath.theory.derivations` describe the second moment :math:`q`
of a pre-activation averaged over the random weights. In a network of finite width :math:`n`
every network has its own :math:`q`, and the distribution of a single unit is not Gaussian.
For the positively homogeneous activations (linear, ReLU, leaky ReLU) with i.i.d. zero-mean
weights and zero biases these fluctuations are exactly computable at any width; this module
derives them (SymPy for the formulas, SciPy for the numbers).

Setting
-------
Layers :math:`z^\ell = W^\ell h^{\ell-1}`, :math:`h^\ell = \phi(z^\ell)`, :math:`h^0 = x`,
weights i.i.d. of variance :math:`s^2 = c/n_{\ell-1}` (:math:`c = 2` He, :math:`c = 1`
LeCun) and excess kurtosis :math:`\kappa` (0 normal, :math:`-6/5` uniform), constant width
:math:`n` (the input has :math:`n` entries too). Write :math:`N_\ell = \lVert h^\ell\rVert^2`.

**The per-layer ratio (Gaussian weights).** Given :math:`h^{\ell-1}`, the :math:`z^\ell_i`
are i.i.d. :math:`N(0, s^2 N_{\ell-1})`. For the ReLU the number :math:`K` of positive units is
:math:`\mathrm{Binomial}(n, 1/2)` and the positive ones are half-normal, so

.. math:: R_\ell = \frac{N_\ell}{N_{\ell-1}} = s^2 n_{\ell-1}\,\frac{\chi^2_K}{n_{\ell-1}}
          \;\overset{d}{=}\; \frac{c}{n}\,\chi^2_K ,\qquad K \sim \mathrm{Bin}(n, \tfrac12),

whose law does not depend on :math:`h^{\ell-1}`: the :math:`R_\ell` are i.i.d. and
independent of the input. With the generating functions :math:`E[t^K]`,
:math:`E[(\chi^2_k)^2] = k(k+2)` SymPy gives (:func:`ratio_second_moment`)
:math:`E[R] = 1`, :math:`E[R^2] = 1 + 5/n` for He-ReLU and :math:`R = \chi^2_n/n`,
:math:`E[R^2] = 1 + 2/n` for LeCun-linear networks. With widths :math:`n_j` the relative
second moment of :math:`N_L` is a product of factors :math:`1 + 5/n_j`, at most
:math:`\exp(5\sum_j 1/n_j)`: the growth exponential in the sum of reciprocal widths that
Hanin and Rolnick (2018, "How to start training: the effect of initialization and
architecture", NeurIPS) proved for the length of ReLU activations, and Hanin (2018, "Which
neural net architectures give rise to exploding and vanishing gradients?", NeurIPS) for the
squared entries of the input-output Jacobian.

**Log-norm.** :math:`\log(N_L/N_0) = \sum_\ell \log R_\ell` is a sum of
i.i.d. terms, so its mean and variance grow exactly linearly in depth (for a bias-free
network :math:`h^L = J h^0`, a product of random matrices applied to a fixed vector, whose
log-norm Hanin and Nica (2020) show to be asymptotically Gaussian). With
:math:`E[\log\chi^2_k] = \psi(k/2) + \log 2` and
:math:`\operatorname{Var}[\log\chi^2_k] = \psi'(k/2)`, mixing over :math:`K` gives the
per-layer mean :math:`\mu(n)` and variance :math:`v(n)` (:func:`log_ratio_exprs`). The event
:math:`K = 0` (every unit of a ReLU layer off, probability :math:`2^{-n}`) makes
:math:`N_\ell = 0` for good; the moments are taken conditional on :math:`K \ge 1` in every
layer, and the probability that a network has died by layer :math:`\ell`,
:math:`1 - (1 - 2^{-n})^\ell`, is reported separately (:func:`log_norm_moments`).

**Kurtosis, any symmetric weight law.** Given :math:`h`, for i.i.d. weights of variance
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
import re
from typing import NamedTuple

import numpy as np
import sympy as sp

from ..core.checks import choice, fits_in_memory, integer
from ..weights.torch_gain import canonical_name

__all__ = [
    "EPS",
    "KAPPA",
    "L",
    "MAX_DEPTH",
    "MAX_N_CHECK",
    "MAX_SYMBOLIC_DEPTH",
    "N",
    "LogNormMoments",
    "conditional_fourth_moment",
    "kurtosis",
    "kurtosis_closed_form",
    "kurtosis_expr",
    "kurtosis_first_order",
    "log_norm_moments",
    "log_ratio_exprs",
    "mean_second_moment",
    "moment_recursion",
    "ratio_second_moment",
    "to_latex",
    "weight_excess_kurtosis",
]

#: The width :math:`n` (a SymPy symbol).
N = sp.Symbol("n", positive=True, integer=True)
#: The depth :math:`L` (a SymPy symbol).
L = sp.Symbol("L", positive=True, integer=True)
#: The excess kurtosis :math:`\kappa` of the weight distribution (a SymPy symbol).
KAPPA = sp.Symbol("kappa", real=True)
#: :math:`\varepsilon = 1/n` (a SymPy symbol).
EPS = sp.Symbol("varepsilon", positive=True)

#: The deepest layer the numeric functions (:func:`kurtosis`, :func:`log_norm_moments`,
#: :func:`mean_second_moment`) accept: they are linear in depth (about 10 µs per layer for the
#: closed forms, 1 ms for :func:`mean_second_moment`'s quadratures), so deeper requests are
#: refused up front with a ``ValueError`` instead of running for hours.
MAX_DEPTH = 100_000
#: The deepest layer :func:`kurtosis_expr` accepts: its exact polynomial in :math:`1/n` has
#: rational coefficients whose size grows with depth (at depth 100 about a second, half a
#: minute for truncated normal weights, whose kappa is irrational).
MAX_SYMBOLIC_DEPTH = 100
#: The largest ``n_check`` of :func:`conditional_fourth_moment`, whose symbolic expansion of
#: :math:`(\sum_j w_j h_j)^4` has :math:`O(n^4)` terms.
MAX_N_CHECK = 16

_COVERED = ("linear", "relu", "leaky_relu")
_WEIGHTS = ("normal", "uniform", "truncated_normal")
_SCHEME_C = {"he": 2, "kaiming": 2, "lecun": 1}


def _depth(depth: object, maximum: int = MAX_DEPTH, cap: str = "MAX_DEPTH") -> int:
    d = integer(depth, "depth", 1)
    if d > maximum:
        raise ValueError(f"depth must be <= {cap}={maximum}, got {depth!r}")
    return d


def _slope(activation: object) -> tuple[str, sp.Expr]:
    """Canonical name and negative-side slope ``a`` (linear 1, ReLU 0).

    A name that is not a registered activation is a ``ValueError``; a registered one that
    is not positively homogeneous (tanh, gelu, ...) is a ``NotImplementedError``: the exact
    finite-width moments here do not cover it.
    """
    param: object = None
    name = activation
    if isinstance(activation, tuple):
        if len(activation) != 2:
            raise TypeError(f"activation must be a name or (name, parameter), got {activation!r}")
        name, param = activation
    if not isinstance(name, str):
        raise TypeError(f"activation must be a string or (name, parameter), got {activation!r}")
    key = canonical_name(name)
    if key not in _COVERED:
        from .activations import activation as lookup
        from .activations import activation_names

        try:
            lookup(name)
        except ValueError:
            raise ValueError(
                f"unknown activation {activation!r}; expected one of "
                f"{', '.join(map(repr, activation_names()))} (finite-width moments are exact "
                f"for {', '.join(map(repr, _COVERED))})"
            ) from None
        raise NotImplementedError(
            f"finite-width moments are exact only for positively homogeneous activations "
            f"{', '.join(map(repr, _COVERED))}; activation {activation!r} is not covered "
            f"(simulate it with initmath.simulate instead)"
        )
    if key == "leaky_relu":
        p = 0.01 if param is None else param
        if isinstance(p, bool) or not isinstance(p, (int, float, sp.Rational, np.floating)):
            raise TypeError(f"leaky_relu slope must be a real number, got {p!r}")
        if not math.isfinite(float(p)):
            raise ValueError(f"leaky_relu slope must be finite, got {p!r}")
        if float(p) < 0:
            raise ValueError(f"leaky_relu slope must be >= 0, got {p!r}")
        return key, sp.nsimplify(p)
    if param is not None:
        raise TypeError(f"activation {key!r} takes no parameter, got {activation!r}")
    return key, sp.Integer(1 if key == "linear" else 0)


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
    dist = choice(distribution, "distribution", _WEIGHTS + ("orthogonal",))
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
    _, a = _slope(activation)
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
    depth = _depth(depth, MAX_SYMBOLIC_DEPTH, "MAX_SYMBOLIC_DEPTH")
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
    depth = _depth(depth)
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


def ratio_second_moment(activation: object) -> sp.Expr:
    r""":math:`E[R^2]` of the per-layer ratio :math:`R = N_\ell/N_{\ell-1}`, Gaussian weights.

    The ReLU value :math:`1 + 5/n` is the per-layer factor of the law
    :math:`E[N_L^2]/E[N_L]^2 \propto \prod_j (1 + 5/n_j) \le \exp(5\sum_j 1/n_j)` of Hanin
    and Rolnick (2018) and Hanin (2018); see the module docstring.

    Derived from generating functions at the critical variance: ReLU
    :math:`R = (2/n)\chi^2_K`, :math:`E[R^2 \mid K] = (2/n)^2 K(K+2)` with
    :math:`E[K^j] = \partial_t^j (\tfrac12 + \tfrac12 e^t)^n |_{t=0}`; linear
    :math:`R = \chi^2_n/n`. :math:`E[(\chi^2_k)^2]` comes from :math:`(1-2t)^{-k/2}`.

    >>> ratio_second_moment("relu")
    1 + 5/n
    >>> ratio_second_moment("linear")
    1 + 2/n
    """
    key, _ = _slope(activation)
    if key == "leaky_relu":
        raise NotImplementedError("the chi-square law of R is derived for 'relu' and 'linear'")
    t, k = sp.symbols("t k", positive=True)
    chi2_m2 = sp.diff((1 - 2 * t) ** (-k / 2), t, 2).subs(t, 0)  # k(k+2)
    if key == "linear":
        return sp.expand(chi2_m2.subs(k, N) / N**2)
    mgf = (sp.Rational(1, 2) + sp.exp(t) / 2) ** N
    ek = [sp.simplify(sp.diff(mgf, t, j).subs(t, 0)) for j in (1, 2)]
    m2 = sp.expand(chi2_m2)  # k^2 + 2k
    ek_r2 = m2.coeff(k, 2) * ek[1] + m2.coeff(k, 1) * ek[0]
    mean_r = sp.simplify(2 / N * ek[0])
    assert mean_r == 1
    return sp.expand(sp.simplify((2 / N) ** 2 * ek_r2))


def log_ratio_exprs(activation: object, scheme: str | None = None) -> tuple[sp.Expr, sp.Expr]:
    r"""SymPy :math:`(\mu(n), v(n))`: per-layer mean and variance of :math:`\log R`.

    ReLU: a mixture over :math:`K \sim \mathrm{Bin}(n, 1/2)` conditioned on :math:`K \ge 1`
    of :math:`\log(c/n) + \log\chi^2_K`; linear: :math:`\log(c/n) + \log\chi^2_n`.
    """
    key, c = _scheme(activation, scheme)
    k = sp.Symbol("k", positive=True, integer=True)
    elog = sp.digamma(k / 2) + sp.log(2)
    if key == "linear":
        return sp.log(c / N) + elog.subs(k, N), sp.trigamma(N / 2)
    w = sp.binomial(N, k) / (2**N - 1)  # P(K = k | K >= 1)
    mean_psi = sp.Sum(w * sp.digamma(k / 2), (k, 1, N))
    var = sp.Sum(w * (sp.trigamma(k / 2) + sp.digamma(k / 2) ** 2), (k, 1, N)) - mean_psi**2
    return sp.log(c / N) + sp.log(2) + mean_psi, var


def _scheme(activation: object, scheme: str | None) -> tuple[str, sp.Expr]:
    key, _ = _slope(activation)
    if key == "leaky_relu":
        raise NotImplementedError(
            "log-norm moments are derived for 'relu' and 'linear' only (for a leaky ReLU the "
            "ratio is a mixture of two scaled chi-squares)"
        )
    if scheme is None:
        scheme = "he" if key == "relu" else "lecun"
    s = choice(scheme, "scheme", tuple(_SCHEME_C))
    return key, sp.Integer(_SCHEME_C[s])


def to_latex(expr: sp.Expr) -> str:
    r"""LaTeX of ``expr`` with SymPy's ``polygamma(0, x)``, ``polygamma(1, x)`` as
    :math:`\psi(x)`, :math:`\psi'(x)`.

    ``expr`` must be a SymPy object (an expression, equation or matrix): a string is never
    parsed, and a Python number is refused (wrap it, e.g. ``sp.Integer(3)``).

    >>> to_latex(sp.digamma(N / 2) + sp.trigamma(N))
    "\\psi\\left(\\frac{n}{2}\\right) + \\psi'\\left(n\\right)"
    """
    if not isinstance(expr, (sp.Basic, sp.MatrixBase)):
        raise TypeError(f"expr must be a SymPy expression, got {expr!r}")
    text = sp.latex(expr)
    pattern = re.compile(r"\\operatorname\{polygamma\}(\^\{2\})?\{\\left\(([01]),")
    out, pos = [], 0
    for m in pattern.finditer(text):
        # find the matching "\right)}" of this \left(
        depth, i = 1, m.end()
        while depth:
            if text.startswith(r"\left(", i):
                depth, i = depth + 1, i + 6
            elif text.startswith(r"\right)", i):
                depth, i = depth - 1, i + 7
            else:
                i += 1
        arg = text[m.end() : i - 7].strip()
        name = r"\psi" if m.group(2) == "0" else r"\psi'"
        power = m.group(1) or ""
        out.append(text[pos : m.start()] + f"{name}{power}\\left({arg}\\right)")
        pos = i + 1  # skip the closing brace of \operatorname's argument group
    out.append(text[pos:])
    return "".join(out)


class LogNormMoments(NamedTuple):
    """Per-layer moments of :math:`\\log(\\lVert h^\\ell\\rVert^2/\\lVert x\\rVert^2)`."""

    mean: np.ndarray
    """Mean at layers 1..depth, conditional on no dead layer."""
    variance: np.ndarray
    """Variance at layers 1..depth, conditional on no dead layer."""
    death_probability: np.ndarray
    """Probability that some ReLU layer up to ``ell`` has every unit off (norm 0)."""
    per_layer_mean: float
    """:math:`\\mu(n)`, the increment of the mean per layer."""
    per_layer_variance: float
    """:math:`v(n)`, the increment of the variance per layer."""


def log_norm_moments(
    activation: object,
    depth: int,
    width: int,
    *,
    scheme: str | None = None,
    distribution: str = "normal",
) -> LogNormMoments:
    r"""Mean and variance of :math:`\log(\lVert\phi(z^\ell)\rVert^2/\lVert x\rVert^2)`.

    Exact for Gaussian weights of variance ``c/width`` (``scheme`` ``"he"``: 2, ``"lecun"``:
    1; default the critical one, He for ReLU, LeCun for linear), zero biases, constant
    width, and any fixed or random nonzero input: the ratio is a product of i.i.d. per-layer
    ratios, so mean and variance are :math:`\ell\mu(n)` and :math:`\ell v(n)`.

    ``depth`` is at most :data:`MAX_DEPTH`; for the ReLU the mixture over the number of
    active units needs a few arrays of ``width`` doubles, checked against the available
    memory before anything is allocated.

    Examples
    --------
    >>> m = log_norm_moments("linear", 2, 8)
    >>> m.variance.round(4)
    array([0.2838, 0.5676])
    """
    key, c = _scheme(activation, scheme)
    depth = _depth(depth)
    width = integer(width, "width", 1)
    dist = choice(distribution, "distribution", _WEIGHTS + ("orthogonal",))
    if dist != "normal":
        raise NotImplementedError(
            f"log_norm_moments is exact for normal weights only, got distribution {dist!r}; "
            f"for other i.i.d. weights the variance differs at order 1/width**2"
        )
    if key == "relu":
        fits_in_memory(8 * (8 * width + depth), f"width={width!r} and depth={depth!r}")
    from scipy.special import gammaln, polygamma  # lazy: SciPy is heavy

    base = math.log(float(c) / width) + math.log(2.0)
    if key == "linear":
        mu = base + float(polygamma(0, width / 2))
        v = float(polygamma(1, width / 2))
        p0 = 0.0
    else:
        k = np.arange(1, width + 1, dtype=float)
        logw = gammaln(width + 1) - gammaln(k + 1) - gammaln(width - k + 1)
        logw -= width * math.log(2.0) + math.log(-math.expm1(-width * math.log(2.0)))
        w = np.exp(logw)
        psi, tri = polygamma(0, k / 2), polygamma(1, k / 2)
        mean_psi = float(w @ psi)
        mu = base + mean_psi
        v = float(w @ tri + w @ (psi - mean_psi) ** 2)
        p0 = 2.0 ** (-width)
    ell = np.arange(1, depth + 1, dtype=float)
    death = -np.expm1(ell * math.log1p(-p0)) if p0 > 0 else np.zeros(depth)
    return LogNormMoments(mu * ell, v * ell, death, mu, v)


def mean_second_moment(
    activation: object,
    depth: int,
    *,
    sigma_w2: float = 1.0,
    sigma_b2: float = 0.0,
    input_std: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""The average second moment to first order in :math:`1/n`, for any activation.

    Gaussian weights of variance :math:`\sigma_w^2/n`, biases of variance
    :math:`\sigma_b^2`, constant width :math:`n`, input :math:`x \sim N(0,
    \text{input\_std}^2 I_n)` drawn per network (as :func:`initmath.simulate` does).
    Given layer :math:`\ell-1`, the pre-activations of layer :math:`\ell` are i.i.d.
    :math:`N(0, q_\ell)` with :math:`q_\ell = \sigma_w^2 \lVert h^{\ell-1}\rVert^2/n +
    \sigma_b^2`, so :math:`q_\ell` is a Markov chain,

    .. math::

        q_{\ell+1} = \sigma_w^2 \hat M_n(q_\ell) + \sigma_b^2, \qquad
        E[\hat M_n \mid q] = M(q), \quad
        \operatorname{Var}[\hat M_n \mid q] = \frac{M_4(q) - M(q)^2}{n},

    with :math:`M(q) = E[\phi(\sqrt q z)^2]` and :math:`M_4(q) = E[\phi(\sqrt q z)^4]`.
    Writing :math:`E[q_\ell] = m_\ell + a_\ell/n` and
    :math:`\operatorname{Var}[q_\ell] = b_\ell/n` and expanding :math:`M` to second order
    around :math:`m_\ell` (the third central moment is :math:`O(1/n^2)`):

    .. math::

        m_{\ell+1} = \sigma_w^2 M(m_\ell) + \sigma_b^2, \qquad
        a_{\ell+1} = \sigma_w^2\bigl(M'(m_\ell)\, a_\ell + \tfrac12 M''(m_\ell)\,
        b_\ell\bigr), \qquad
        b_{\ell+1} = \sigma_w^4\bigl(M'(m_\ell)^2 b_\ell + M_4(m_\ell) - M(m_\ell)^2\bigr),

    from :math:`m_1 = \sigma_w^2\,\text{input\_std}^2 + \sigma_b^2`, :math:`a_1 = 0`,
    :math:`b_1 = 2\sigma_w^4\,\text{input\_std}^4` (a :math:`\chi^2_n/n` input norm).
    :math:`m_\ell` is the infinite-width prediction; the correction :math:`a_\ell/n` comes
    from the curvature :math:`M''` acting on the network-to-network fluctuations of
    :math:`q`, so it vanishes for the linear, ReLU and leaky ReLU networks, whose :math:`M`
    is linear. The expectations use :mod:`initmath.theory.meanfield`'s Gauss–Legendre quadrature,
    the derivatives central differences of it (relative accuracy about :math:`10^{-7}`).

    Parameters
    ----------
    activation : str, tuple or Activation
    depth : int
        Number of layers, ``1..MAX_DEPTH``.
    sigma_w2, sigma_b2, input_std : float
        :math:`\sigma_w^2 > 0` (LeCun: 1), :math:`\sigma_b^2 \ge 0`, input std ``> 0``.

    Returns
    -------
    m, a : numpy.ndarray
        Shape ``(depth,)``: layer :math:`\ell = 1..L` has
        :math:`E[q_\ell] = m_\ell + a_\ell/n + O(1/n^2)`.

    Examples
    --------
    >>> m, a = mean_second_moment("relu", 4, sigma_w2=2.0)
    >>> bool(np.allclose(a, 0.0, atol=1e-7))   # M is linear for the ReLU: no correction
    True
    >>> m, a = mean_second_moment("tanh", 3)
    >>> bool(a[-1] < 0)                     # tanh: finite networks fall short
    True
    """
    from ..core.checks import nonnegative_real, positive_real
    from .activations import activation as lookup
    from .quadrature import gaussian_expectation  # the same rule as the length map

    act = lookup(activation)
    depth = _depth(depth)
    sw2 = positive_real(sigma_w2, "sigma_w2")
    sb2 = nonnegative_real(sigma_b2, "sigma_b2")
    s0 = positive_real(input_std, "input_std")

    def expect(q: float, power: int) -> float:
        return float(gaussian_expectation(lambda x: act.numpy(x) ** power, np.asarray(q)))

    m = np.empty(depth)
    a = np.empty(depth)
    m[0], a[0], b = sw2 * s0**2 + sb2, 0.0, 2 * sw2**2 * s0**4
    for ell in range(depth - 1):
        q = m[ell]
        h = 1e-3 * q
        m0, mp, mm = expect(q, 2), expect(q + h, 2), expect(q - h, 2)
        d1, d2 = (mp - mm) / (2 * h), (mp - 2 * m0 + mm) / (h * h)
        m[ell + 1] = sw2 * m0 + sb2
        a[ell + 1] = sw2 * (d1 * a[ell] + 0.5 * d2 * b)
        b = sw2**2 * (d1 * d1 * b + expect(q, 4) - m0 * m0)
    return m, a
