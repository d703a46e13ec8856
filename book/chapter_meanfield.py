"""Helpers of the chapter on signal propagation at the edge of chaos (``book/meanfield.md``).

A small NumPy simulation of pairs of correlated inputs through the same random networks (the
Numba engine of :func:`initmath.simulate` draws independent inputs), the iterated maps of
:mod:`initmath.theory.meanfield` as per-layer curves, and the depth-scale grid of the phase diagram.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from initmath.core.checks import integer, nonnegative_real, positive_real
from initmath.theory.activations import activation as _activation
from initmath.theory.meanfield import correlation_map, depth_scales, fixed_point, length_map

__all__ = [
    "CorrelationRun",
    "iterate_correlation",
    "iterate_length",
    "iterate_pair",
    "phase_grid",
    "simulate_correlations",
]


def iterate_length(
    act: object, q1: float, sigma_w2: float, sigma_b2: float, depth: int
) -> np.ndarray:
    """``[q^1, ..., q^depth]``: :math:`q^{\\ell+1} = \\mathcal V(q^\\ell)` from ``q1``."""
    qs = [positive_real(q1, "q1")]
    for _ in range(integer(depth, "depth", 1) - 1):
        qs.append(float(length_map(act, qs[-1], sigma_w2, sigma_b2)))
    return np.array(qs)


def iterate_correlation(
    act: object, c1: Sequence[float] | np.ndarray, sigma_w2: float, sigma_b2: float, depth: int
) -> np.ndarray:
    """Shape ``(depth, len(c1))``: :math:`c^{\\ell+1} = \\mathcal C(c^\\ell; q^*)` from ``c1``.

    The two inputs of each pair are taken at the fixed length :math:`q^*`.
    """
    cs = [np.asarray(c1, dtype=np.float64)]
    for _ in range(integer(depth, "depth", 1) - 1):
        cs.append(np.asarray(correlation_map(act, cs[-1], sigma_w2, sigma_b2)))
    return np.array(cs)


def iterate_pair(
    act: object,
    q1: float,
    c1: Sequence[float] | np.ndarray,
    sigma_w2: float,
    sigma_b2: float,
    depth: int,
) -> tuple[np.ndarray, np.ndarray]:
    """``(q, c)``, shapes ``(depth,)`` and ``(depth, len(c1))``: the length and the correlation
    iterated together, :math:`q^{\\ell+1} = \\mathcal V(q^\\ell)`,
    :math:`c^{\\ell+1} = \\mathcal C(c^\\ell; q^\\ell)`, from ``q1`` and ``c1``.

    Unlike :func:`iterate_correlation` the inputs need not start at :math:`q^*`; this is the
    iteration to use where :math:`q^\\ell` never settles at a positive length (:math:`q^* = 0`).
    """
    qs = iterate_length(act, q1, sigma_w2, sigma_b2, depth)
    cs = [np.asarray(c1, dtype=np.float64)]
    for q in qs[:-1]:
        cs.append(np.asarray(correlation_map(act, cs[-1], sigma_w2, sigma_b2, q=float(q))))
    return qs, np.array(cs)


@dataclass(frozen=True)
class CorrelationRun:
    """Per-layer correlations of input pairs, simulated and predicted.

    Attributes
    ----------
    sigma_w : tuple of float
        The weight scales simulated (weights :math:`N(0, \\sigma_w^2/n)`).
    c, c_se : numpy.ndarray
        Shape ``(len(sigma_w), depth, n_pairs)``: mean over networks of the empirical
        correlation :math:`\\sum_i z_i z'_i / (|z|\\,|z'|)` of the pre-activations, and its
        standard error over networks.
    predicted : numpy.ndarray
        Same shape: :math:`c^1` iterated with the correlation map at :math:`q^*`.
    q_star : tuple of float
        :math:`q^*` for each :math:`\\sigma_w` (the length of both inputs at layer 1).
    n_networks, width : int
    """

    sigma_w: tuple[float, ...]
    c: np.ndarray
    c_se: np.ndarray
    predicted: np.ndarray
    q_star: tuple[float, ...]
    n_networks: int
    width: int

    def z(self) -> np.ndarray:
        """(simulated - predicted) / se for every layer and pair."""
        return (self.c - self.predicted) / self.c_se


def simulate_correlations(
    act: object,
    sigma_w: Sequence[float],
    sigma_b: float,
    c_first: Sequence[float],
    *,
    width: int = 500,
    depth: int = 12,
    n_networks: int = 50,
    seed: int = 0,
) -> CorrelationRun:
    """Pairs of inputs through the same random networks, one network per draw.

    For each :math:`\\sigma_w` the inputs :math:`x, x'` (width ``width``) have exactly the
    squared length and overlap that give the first layer's pre-activations length
    :math:`q^*` and correlation ``c_first[k]`` (in expectation over the weights):
    :math:`\\sigma_w^2 |x|^2/n + \\sigma_b^2 = q^*` and
    :math:`(\\sigma_w^2\\, x\\cdot x'/n + \\sigma_b^2)/q^* = c^1`. Layer :math:`\\ell`:
    :math:`z^1 = W^1 x + b^1`, :math:`z^{\\ell} = W^\\ell \\phi(z^{\\ell-1}) + b^\\ell`, with
    :math:`W_{ij} = \\sigma_w G_{ij}/\\sqrt n`, :math:`b_i = \\sigma_b \\beta_i`; the same
    standard Gaussians :math:`G, \\beta` serve every :math:`\\sigma_w` (common random numbers),
    so each curve has independent networks but the curves are correlated with each other.

    Returns
    -------
    CorrelationRun
    """
    phi = _activation(act).numpy
    n = integer(width, "width", 2)
    depth = integer(depth, "depth", 1)
    n_networks = integer(n_networks, "n_networks", 2)
    sb = nonnegative_real(sigma_b, "sigma_b")
    sws = tuple(positive_real(s, "sigma_w") for s in sigma_w)
    c1 = np.asarray(c_first, dtype=np.float64)
    if c1.ndim != 1 or np.any(np.abs(c1) > 1):
        raise ValueError(f"c_first must be a sequence of correlations in [-1, 1], got {c_first!r}")
    rng = np.random.default_rng(seed)
    # Two orthonormal directions, scaled by sqrt(n): x = a e1, x' = a (c e1 + s e2).
    e, _ = np.linalg.qr(rng.standard_normal((n, 2)))
    e = e * math.sqrt(n)
    q_star, inputs = [], []
    for sw in sws:
        qs = fixed_point(act, sw**2, sb**2)
        a2 = (qs - sb**2) / sw**2
        c_in = (c1 * qs - sb**2) / (qs - sb**2)
        if np.any(np.abs(c_in) > 1):
            raise ValueError(f"c_first={c_first!r} is not reachable at sigma_w={sw!r}")
        second = np.outer(e[:, 0], c_in) + np.outer(e[:, 1], np.sqrt(1 - c_in**2))
        x = math.sqrt(a2) * np.concatenate([np.repeat(e[:, :1], len(c1), axis=1), second], 1)
        q_star.append(qs)
        inputs.append(x)
    k = len(c1)
    corr = np.empty((n_networks, len(sws), depth, k))
    # Small products: BLAS threads only cost time here (and contend on a busy machine).
    with threadpool_limits(1, user_api="blas"):
        for net in range(n_networks):
            xs = np.concatenate(inputs, axis=1)  # (n, len(sws) * 2k)
            scale = np.repeat(np.array(sws) / math.sqrt(n), 2 * k)
            for layer in range(depth):
                g = rng.standard_normal((n, n))
                beta = rng.standard_normal((n, 1))
                z = scale * (g @ xs) + sb * beta
                sq = np.einsum("ij,ij->j", z, z).reshape(len(sws), 2 * k)
                zz = z.reshape(n, len(sws), 2 * k)
                num = np.einsum("isj,isj->sj", zz[:, :, :k], zz[:, :, k:])
                corr[net, :, layer] = num / np.sqrt(sq[:, :k] * sq[:, k:])
                xs = phi(z)
    pred = np.array([iterate_correlation(act, c1, sw**2, sb**2, depth) for sw in sws])
    return CorrelationRun(
        sws,
        corr.mean(0),
        corr.std(0, ddof=1) / math.sqrt(n_networks),
        pred,
        tuple(q_star),
        n_networks,
        n,
    )


def phase_grid(act: object, sigma_w2: np.ndarray, sigma_b2: np.ndarray) -> np.ndarray:
    """:math:`\\xi_c` on the grid, shape ``(len(sigma_b2), len(sigma_w2))``.

    ``inf`` on the critical line and wherever
    :func:`initmath.theory.meanfield.correlation_limit` finds
    no geometric approach (``"power_law"`` or ``"preserved"``: for tanh the edge
    :math:`\\sigma_b^2 = 0, \\sigma_w^2 < 1`, where :math:`q^* = 0` and the input correlation
    is kept), ``nan`` outside the domain of :func:`~initmath.theory.meanfield.depth_scales`.
    """
    out = np.empty((len(sigma_b2), len(sigma_w2)))
    for i, sb2 in enumerate(sigma_b2):
        for j, sw2 in enumerate(sigma_w2):
            try:
                out[i, j] = depth_scales(act, float(sw2), float(sb2))[1]
            except ValueError:
                out[i, j] = np.nan
    return out
