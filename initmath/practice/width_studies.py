"""Finite-width effects measured on real networks, network by network.

:func:`initmath.simulate` averages over networks; the finite-width theory of
:mod:`initmath.theory.finite_width` is about how single networks scatter around that average.
:func:`simulate_networks` draws many real fully connected networks in plain NumPy and keeps,
per network and layer, the log of the squared norm and the second and fourth moments of the
pre-activations. :func:`kurtosis_estimate` and :func:`log_norm_estimate` turn them into the
per-layer estimates (with standard errors over networks) that the theory predicts
(:func:`initmath.theory.finite_width.kurtosis`,
:func:`initmath.theory.finite_width.log_norm_moments`), and :func:`fit_inverse_width` fits a
correction :math:`\\sum_k c_k n^{-k}` across widths.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core.checks import choice, integer
from ..weights.distributions import sample

__all__ = [
    "InverseWidthFit",
    "NetworkSample",
    "fit_inverse_width",
    "kurtosis_estimate",
    "log_norm_estimate",
    "simulate_networks",
]

#: The critical weight variance times the width: LeCun for linear, He for ReLU.
SCALE = {"linear": 1.0, "relu": 2.0}


class NetworkSample(NamedTuple):
    """Per-network, per-layer statistics of :func:`simulate_networks`.

    Arrays of shape ``(n_networks, depth)``; column ``l - 1`` is layer ``l``.
    """

    log_norm: np.ndarray
    """:math:`\\log(\\lVert\\phi(z^\\ell)\\rVert^2 / \\lVert x\\rVert^2)`; ``-inf`` once the
    network is dead (every unit of a layer off)."""
    m2: np.ndarray
    """Mean over the units of :math:`(z^\\ell_i)^2`."""
    m4: np.ndarray
    """Mean over the units of :math:`(z^\\ell_i)^4`."""


def simulate_networks(
    activation: str,
    depth: int,
    width: int,
    n_networks: int,
    *,
    distribution: str = "normal",
    seed: int = 0,
    chunk: int = 500,
) -> NetworkSample:
    """Simulate ``n_networks`` real networks of constant ``width`` on inputs ``x ~ N(0, I)``.

    Layer :math:`\\ell` computes :math:`z^\\ell = W^\\ell h^{\\ell-1}`, :math:`h^\\ell =
    \\phi(z^\\ell)`, :math:`h^0 = x`, with i.i.d. weights of variance :math:`c/n` at the
    critical scale (:math:`c = 2`, He, for ``"relu"``; :math:`c = 1`, LeCun, for
    ``"linear"``), zero biases and one fresh input per network. Every weight matrix is drawn
    with :func:`initmath.weights.distributions.sample`.

    Parameters
    ----------
    activation : {"relu", "linear"}
        :math:`\\phi`.
    depth, width, n_networks : int
        Number of layers, their width :math:`n`, and of networks (all >= 1).
    distribution : {"normal", "uniform", "truncated_normal"}
        Of the weights (all of variance :math:`c/n`).
    seed : int
        Seed of :func:`numpy.random.default_rng`: inputs and weights.
    chunk : int
        Networks pushed through a layer at once (memory: ``chunk * width**2`` floats); the
        result depends on it, since it orders the random draws.

    Returns
    -------
    NetworkSample

    Examples
    --------
    >>> s = simulate_networks("linear", 3, 8, 50, seed=1)
    >>> s.m2.shape
    (50, 3)
    """
    act = choice(activation, "activation", tuple(SCALE))
    depth = integer(depth, "depth", 1)
    width = integer(width, "width", 1)
    n_networks = integer(n_networks, "n_networks", 1)
    chunk = integer(chunk, "chunk", 1)
    dist = choice(distribution, "distribution", ("normal", "uniform", "truncated_normal"))
    rng = np.random.default_rng(seed)
    s = float(np.sqrt(SCALE[act] / width))
    out = [np.empty((n_networks, depth)) for _ in range(3)]
    for start in range(0, n_networks, chunk):
        b = min(chunk, n_networks - start)
        h = rng.standard_normal((b, width))
        log_n0 = np.log(np.einsum("bi,bi->b", h, h))
        for ell in range(depth):
            w = sample(rng, b * width * width, dist, s).reshape(b, width, width)
            z = np.einsum("bij,bj->bi", w, h)
            z2 = z * z
            out[1][start : start + b, ell] = z2.mean(axis=1)
            out[2][start : start + b, ell] = (z2 * z2).mean(axis=1)
            h = np.maximum(z, 0.0) if act == "relu" else z
            norm = np.einsum("bi,bi->b", h, h)
            with np.errstate(divide="ignore"):
                out[0][start : start + b, ell] = np.log(norm) - log_n0
    return NetworkSample(*out)


def kurtosis_estimate(networks: NetworkSample) -> tuple[np.ndarray, np.ndarray]:
    """Per-layer kurtosis of a pre-activation over networks, and its standard error.

    The estimate is :math:`\\hat K = \\overline{m_4} / \\overline{m_2}^{\\,2}`, the averages
    over networks of the per-network moments; its standard error is the delta method's,

    .. math::
        \\operatorname{se}(\\hat K)^2 = \\frac1N\\Bigl(g_4^2 s_{44} + g_2^2 s_{22} +
        2 g_4 g_2 s_{42}\\Bigr), \\qquad g_4 = \\frac{1}{\\overline{m_2}^{\\,2}}, \\;
        g_2 = -\\frac{2\\overline{m_4}}{\\overline{m_2}^{\\,3}},

    with :math:`s` the sample (co)variances of :math:`m_4, m_2` over the :math:`N` networks.
    The networks are independent; the units of one network are not, which is why the error
    comes from the per-network averages.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        The estimate and its standard error, shape ``(depth,)`` each.
    """
    m2, m4 = networks.m2, networks.m4
    n = m2.shape[0]
    a, b = m4.mean(axis=0), m2.mean(axis=0)
    k = a / b**2
    ga, gb = 1.0 / b**2, -2.0 * a / b**3
    cov = ((m4 - a) * (m2 - b)).sum(axis=0) / (n - 1)
    var = ga**2 * m4.var(axis=0, ddof=1) + gb**2 * m2.var(axis=0, ddof=1) + 2 * ga * gb * cov
    return k, np.sqrt(var / n)


def log_norm_estimate(networks: NetworkSample) -> dict[str, np.ndarray]:
    """Mean and variance over the surviving networks of the log-norm, with standard errors.

    Per layer, over the :math:`N'` networks whose norm is not zero: the mean :math:`m`, the
    variance :math:`s^2` (``ddof=1``), ``se_mean`` :math:`= s/\\sqrt{N'}` and ``se_var``
    :math:`= \\sqrt{(\\mu_4 - s^4)/N'}` with :math:`\\mu_4` the fourth central moment
    (clipped at 0); ``dead`` counts the networks whose norm is 0 at that layer.

    Returns
    -------
    dict of str to numpy.ndarray
        Keys ``mean``, ``var``, ``se_mean``, ``se_var``, ``dead``; shape ``(depth,)`` each.
    """
    x = networks.log_norm
    mean, var, se_mean, se_var, dead = [], [], [], [], []
    for col in x.T:
        alive = col[np.isfinite(col)]
        n = alive.size
        m, v = alive.mean(), alive.var(ddof=1)
        mean.append(m)
        var.append(v)
        se_mean.append(np.sqrt(v / n))
        se_var.append(np.sqrt(max(np.mean((alive - m) ** 4) - v**2, 0.0) / n))
        dead.append(col.size - n)
    return {
        k: np.asarray(v, dtype=float)
        for k, v in dict(mean=mean, var=var, se_mean=se_mean, se_var=se_var, dead=dead).items()
    }


class InverseWidthFit(NamedTuple):
    """Weighted least-squares fit of :math:`y(n) = \\sum_{k=1}^K c_k n^{-k}`."""

    coef: np.ndarray
    """Coefficients :math:`c_1, \\ldots, c_K`."""
    se: np.ndarray
    """Their standard errors."""
    chi2: float
    """Weighted sum of squared residuals."""
    dof: int
    """Number of points minus number of coefficients."""


def fit_inverse_width(
    widths: np.ndarray, y: np.ndarray, se: np.ndarray, order: int = 2
) -> InverseWidthFit:
    """Fit a finite-width correction :math:`y(n) = c_1/n + \\cdots + c_K/n^K`.

    Weighted least squares with weights :math:`1/\\operatorname{se}^2` and no constant term
    (the correction vanishes at infinite width): with the design matrix
    :math:`X_{ik} = n_i^{-k}/\\operatorname{se}_i`, the coefficients minimize
    :math:`\\chi^2 = \\lVert X c - y/\\operatorname{se}\\rVert^2`, and their covariance is
    :math:`(X^\\top X)^{-1}`.

    Parameters
    ----------
    widths, y, se : array_like
        The widths :math:`n_i`, the measured corrections and their standard errors (> 0),
        all of the same length, more than ``order``.
    order : int
        :math:`K` (>= 1).

    Returns
    -------
    InverseWidthFit

    Examples
    --------
    >>> n = np.array([8.0, 16, 32, 64])
    >>> fit = fit_inverse_width(n, -2 / n + 3 / n**2, np.full(4, 1e-3))
    >>> fit.coef.round(9), fit.dof
    (array([-2.,  3.]), 2)
    """
    n = np.asarray(widths, dtype=float)
    y, se = np.asarray(y, dtype=float), np.asarray(se, dtype=float)
    order = integer(order, "order", 1)
    if not (n.shape == y.shape == se.shape) or n.size <= order or np.any(se <= 0):
        raise ValueError("widths, y and se must have the same length > order, with se > 0")
    X = np.stack([n ** -(k + 1) for k in range(order)], axis=1) / se[:, None]
    coef, *_ = np.linalg.lstsq(X, y / se, rcond=None)
    cov = np.linalg.inv(X.T @ X)
    chi2 = float(np.sum((X @ coef - y / se) ** 2))
    return InverseWidthFit(coef, np.sqrt(np.diag(cov)), chi2, int(n.size - order))
