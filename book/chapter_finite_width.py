"""Helpers for the book chapter on finite width (``book/finite_width.md``).

A plain NumPy simulation of many real fully connected networks that keeps what
:func:`initmath.simulate` averages away: each network's squared norm per layer and the
second and fourth moments of its pre-activations, with estimators (and standard errors over
networks) of the kurtosis and of the mean and variance of the log-norm.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from initmath.core.checks import choice, integer
from initmath.weights.distributions import sample

__all__ = [
    "Curve",
    "InverseWidthFit",
    "NetworkSample",
    "fit_inverse_width",
    "kurtosis_estimate",
    "log_norm_estimate",
    "simulate_networks",
]

_SCALE = {"linear": 1.0, "relu": 2.0}  # LeCun for linear, He for ReLU: the critical variances


class Curve(NamedTuple):
    """Per-layer estimates and standard errors in the shape that
    :func:`initmath.practice.plotting.plot_moments` reads (``q``, ``q_se``)."""

    q: np.ndarray
    q_se: np.ndarray


class NetworkSample(NamedTuple):
    """Per-network, per-layer statistics of a simulation (arrays ``(n_networks, depth)``)."""

    log_norm: np.ndarray
    """:math:`\\log(\\lVert\\phi(z^\\ell)\\rVert^2 / \\lVert x\\rVert^2)`; ``-inf`` if dead."""
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
    """Simulate ``n_networks`` networks of constant ``width`` on inputs ``x ~ N(0, I)``.

    Weights i.i.d. with variance ``2/width`` (ReLU, He) or ``1/width`` (linear, LeCun), zero
    biases, one fresh input per network; every weight matrix is drawn with
    :func:`initmath.weights.distributions.sample`.
    """
    act = choice(activation, "activation", tuple(_SCALE))
    depth = integer(depth, "depth", 1)
    width = integer(width, "width", 1)
    n_networks = integer(n_networks, "n_networks", 1)
    dist = choice(distribution, "distribution", ("normal", "uniform", "truncated_normal"))
    rng = np.random.default_rng(seed)
    s = float(np.sqrt(_SCALE[act] / width))
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


def kurtosis_estimate(result: NetworkSample) -> tuple[np.ndarray, np.ndarray]:
    """Per-layer kurtosis ``mean(m4) / mean(m2)**2`` and its delta-method standard error.

    The networks are independent; the units of one network are not, so the standard error
    is computed from the per-network averages ``m2``, ``m4``.
    """
    m2, m4 = result.m2, result.m4
    n = m2.shape[0]
    a, b = m4.mean(axis=0), m2.mean(axis=0)
    k = a / b**2
    ga, gb = 1.0 / b**2, -2.0 * a / b**3
    cov = ((m4 - a) * (m2 - b)).sum(axis=0) / (n - 1)
    var = ga**2 * m4.var(axis=0, ddof=1) + gb**2 * m2.var(axis=0, ddof=1) + 2 * ga * gb * cov
    return k, np.sqrt(var / n)


def log_norm_estimate(result: NetworkSample) -> dict[str, np.ndarray]:
    """Mean and variance over the surviving networks of the log-norm, with standard errors.

    ``se_var`` is :math:`\\sqrt{(\\mu_4 - s^4)/N}` with :math:`\\mu_4` the fourth central
    moment; ``dead`` counts the networks whose norm is 0 at each layer.
    """
    x = result.log_norm
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
    """Weighted least-squares fit of :math:`y(n) = \\sum_k c_k n^{-k}`."""

    coef: np.ndarray
    """Coefficients :math:`c_1, c_2, \\ldots`."""
    se: np.ndarray
    """Their standard errors."""
    chi2: float
    """Weighted sum of squared residuals."""
    dof: int
    """Number of points minus number of coefficients."""


def fit_inverse_width(
    widths: np.ndarray, y: np.ndarray, se: np.ndarray, order: int = 2
) -> InverseWidthFit:
    """Fit ``y = c_1/n + ... + c_order/n**order`` with weights ``1/se**2`` (no constant:
    the correction vanishes at infinite width)."""
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
