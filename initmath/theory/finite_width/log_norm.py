r"""The per-layer ratio :math:`R = N_\ell/N_{\ell-1}` and the log-norm, for Gaussian weights.

In the notation of :mod:`initmath.theory.finite_width`,
:math:`\log(N_L/N_0) = \sum_\ell \log R_\ell` is a sum of
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
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

import numpy as np
import sympy as sp

from ...core.checks import choice, fits_in_memory, integer
from .setting import WEIGHT_LAWS, N, checked_depth, covered_activation

__all__ = [
    "LogNormMoments",
    "log_norm_moments",
    "log_ratio_exprs",
    "ratio_second_moment",
    "to_latex",
]


_SCHEME_C = {"he": 2, "kaiming": 2, "lecun": 1}


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
    key, _ = covered_activation(activation)
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
    key, _ = covered_activation(activation)
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
    r"""LaTeX of ``expr``, with the digamma and trigamma functions as :math:`\psi`, :math:`\psi'`.

    SymPy's ``polygamma(0, x)`` and ``polygamma(1, x)`` are written :math:`\psi(x)` and
    :math:`\psi'(x)`.

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
    depth = checked_depth(depth)
    width = integer(width, "width", 1)
    dist = choice(distribution, "distribution", WEIGHT_LAWS + ("orthogonal",))
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
