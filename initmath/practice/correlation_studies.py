"""Pairs of correlated inputs through the same random networks, simulated in NumPy.

:func:`initmath.simulate` draws independent inputs, so it measures lengths, not the
correlation between two inputs of one network. :func:`simulate_correlations` sends pairs of
inputs with a chosen first-layer correlation :math:`c^1` through the same wide random
networks and measures, layer by layer, the empirical correlation of their pre-activations,

.. math::
    \\hat c^\\ell = \\frac{\\sum_i z^\\ell_i z'^\\ell_i}{\\lVert z^\\ell\\rVert\\,
    \\lVert z'^\\ell\\rVert},

next to the mean-field prediction :math:`c^{\\ell+1} = \\mathcal C(c^\\ell; q^*)`
(:func:`initmath.theory.iteration.iterate_correlation`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ..core.checks import integer, nonnegative_real, positive_real
from ..theory.activations import activation as get_activation
from ..theory.iteration import iterate_correlation
from ..theory.meanfield import fixed_point

__all__ = ["CorrelationRun", "simulate_correlations"]


@dataclass(frozen=True)
class CorrelationRun:
    """Per-layer correlations of input pairs, simulated and predicted.

    Attributes
    ----------
    sigma_w : tuple of float
        The weight scales simulated (weights :math:`N(0, \\sigma_w^2/n)`).
    c, c_se : numpy.ndarray
        Shape ``(len(sigma_w), depth, n_pairs)``: mean over networks of the empirical
        correlation :math:`\\sum_i z_i z'_i / (\\lVert z\\rVert\\,\\lVert z'\\rVert)` of the
        pre-activations, and its standard error over networks.
    predicted : numpy.ndarray
        Same shape: :math:`c^1` iterated with the correlation map at :math:`q^*`.
    q_star : tuple of float
        :math:`q^*` for each :math:`\\sigma_w` (the length of both inputs at layer 1).
    n_networks, width : int
        Networks per weight scale, and their width.
    """

    sigma_w: tuple[float, ...]
    c: np.ndarray
    c_se: np.ndarray
    predicted: np.ndarray
    q_star: tuple[float, ...]
    n_networks: int
    width: int

    def z(self) -> np.ndarray:
        """``(c - predicted) / c_se`` for every weight scale, layer and pair."""
        return (self.c - self.predicted) / self.c_se


def simulate_correlations(
    activation: object,
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
    :math:`\\sigma_w^2 \\lVert x\\rVert^2/n + \\sigma_b^2 = q^*` and
    :math:`(\\sigma_w^2\\, x\\cdot x'/n + \\sigma_b^2)/q^* = c^1`. Layer :math:`\\ell`
    computes :math:`z^1 = W^1 x + b^1`, :math:`z^{\\ell} = W^\\ell \\phi(z^{\\ell-1}) +
    b^\\ell`, with :math:`W_{ij} = \\sigma_w G_{ij}/\\sqrt n`, :math:`b_i = \\sigma_b
    \\beta_i`; the same standard Gaussians :math:`G, \\beta` serve every :math:`\\sigma_w`
    (common random numbers), so each curve has independent networks but the curves are
    correlated with each other.

    Parameters
    ----------
    activation : str, (str, float) or Activation
        :math:`\\phi`.
    sigma_w : sequence of float
        Weight scales (> 0), each with a finite fixed point :math:`q^* > 0`.
    sigma_b : float
        Bias scale (>= 0).
    c_first : sequence of float
        First-layer correlations, one input pair each, in :math:`[-1, 1]` and reachable:
        the inputs' own correlation :math:`(c^1 q^* - \\sigma_b^2)/(q^* - \\sigma_b^2)` must
        be in :math:`[-1, 1]` too.
    width, depth, n_networks : int
        Layer width :math:`n` (>= 2), number of layers (>= 1) and of networks (>= 2).
    seed : int
        Seed of :func:`numpy.random.default_rng`: inputs and weights.

    Returns
    -------
    CorrelationRun

    Raises
    ------
    TypeError, ValueError
        For an invalid argument, naming it.

    Examples
    --------
    >>> run = simulate_correlations("tanh", [1.5], 0.3, [0.5, 1.0], width=64, depth=3,
    ...                             n_networks=10, seed=1)
    >>> run.c.shape, bool(np.allclose(run.c[0, :, 1], 1.0))  # identical inputs stay identical
    ((1, 3, 2), True)
    """
    phi = get_activation(activation).numpy
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
        qs = fixed_point(activation, sw**2, sb**2)
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
    pred = np.array([iterate_correlation(activation, c1, sw**2, sb**2, depth) for sw in sws])
    return CorrelationRun(
        sws,
        corr.mean(0),
        corr.std(0, ddof=1) / math.sqrt(n_networks),
        pred,
        tuple(q_star),
        n_networks,
        n,
    )
