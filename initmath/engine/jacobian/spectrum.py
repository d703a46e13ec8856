"""The simulation: the spectrum of the Jacobians of many random networks, and its summary.

:func:`~initmath.engine.jacobian.jacobian_spectrum` draws networks one at a time
(:func:`~initmath.engine.jacobian.sample_network`), multiplies out each one's Jacobian with
NumPy's matrix products (BLAS) and records per network the moments
:math:`m_1 = \\operatorname{tr}(J^\\top J)/n` and
:math:`m_2 = \\operatorname{tr}((J^\\top J)^2)/n` of its spectrum, and the spectrum itself
at chosen depths; :class:`~initmath.engine.jacobian.JacobianSpectrum` holds them and
estimates :math:`E[\\lambda]`, the relative variance and its slope in depth, with standard
errors over networks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from ...core.checks import fits_in_memory, integer
from ...theory.activations import Activation
from ...theory.activations import activation as get_activation
from ...weights.torch_gain import ActivationSpec
from ..network import Network
from ..stats import Estimate
from .arguments import F64, checked_depth, depth_list, mean_field_arguments
from .networks import layer_jacobians, sample_network
from .predictions import from_network

__all__ = ["JacobianSpectrum", "jacobian_spectrum"]


@dataclass(frozen=True)
class JacobianSpectrum:
    """Per-network spectral moments of :math:`J^\\top J` of many random networks.

    Attributes
    ----------
    activation, distribution : str
        What was simulated.
    width, sigma_w2, sigma_b2, seed
        Parameters of :func:`jacobian_spectrum`.
    depths : tuple of int
        Depths at which the moments were recorded.
    m1, m2 : numpy.ndarray
        ``(n_networks, len(depths))``: :math:`\\operatorname{tr}(J^\\top J)/n` and
        :math:`\\operatorname{tr}((J^\\top J)^2)/n`, i.e. the mean of :math:`\\lambda` and of
        :math:`\\lambda^2` over the spectrum of each network.
    spectra : dict of int to numpy.ndarray
        Depth -> ``(n_networks, width)`` squared singular values, descending.
    input_q : float
        Second moment of the input's entries.
    """

    activation: str
    distribution: str
    width: int
    sigma_w2: float
    sigma_b2: float
    seed: int
    depths: tuple[int, ...]
    m1: np.ndarray
    m2: np.ndarray
    spectra: dict[int, np.ndarray] = field(default_factory=dict)
    input_q: float = 1.0

    @property
    def n_networks(self) -> int:
        return int(self.m1.shape[0])

    def mean_lambda(self) -> tuple[np.ndarray, np.ndarray]:
        """:math:`E[\\lambda]` per depth and its standard error over networks."""
        return self.m1.mean(axis=0), self.m1.std(axis=0, ddof=1) / math.sqrt(self.n_networks)

    def mean_lambda2(self) -> tuple[np.ndarray, np.ndarray]:
        """:math:`E[\\lambda^2]` per depth and its standard error over networks."""
        return self.m2.mean(axis=0), self.m2.std(axis=0, ddof=1) / math.sqrt(self.n_networks)

    def relative_variance(self) -> tuple[np.ndarray, np.ndarray]:
        """:math:`r = E[\\lambda^2]/E[\\lambda]^2 - 1` of the spectrum pooled over networks.

        Standard errors by the delta method from the covariance of :math:`(m_1, m_2)` over
        networks.
        """
        a, b = self.m1.mean(axis=0), self.m2.mean(axis=0)
        r = b / a**2 - 1.0
        n = self.n_networks
        ca = self.m1 - a
        cb = self.m2 - b
        vaa = (ca * ca).sum(0) / (n - 1)
        vbb = (cb * cb).sum(0) / (n - 1)
        vab = (ca * cb).sum(0) / (n - 1)
        ga, gb = -2.0 * b / a**3, 1.0 / a**2
        var = ga * ga * vaa + 2 * ga * gb * vab + gb * gb * vbb
        return r, np.sqrt(np.maximum(var, 0.0) / n)

    def slope(self, max_depth: int | None = None) -> Estimate:
        """Least-squares slope of :math:`r` against depth, with a jackknife standard error.

        Fits the recorded depths up to ``max_depth`` (all by default). Leaving out one
        network at a time keeps the correlation between depths (the same networks at every
        depth) in the error.
        """
        n = self.n_networks
        top = max(self.depths) if max_depth is None else integer(max_depth, "max_depth", 1)
        sel = np.array([d <= top for d in self.depths])
        if n < 3 or sel.sum() < 2:
            raise ValueError(
                f"the slope needs >= 3 networks and >= 2 depths <= max_depth, got {n} "
                f"networks and depths {self.depths} with max_depth={max_depth!r}"
            )
        x = np.asarray(self.depths, dtype=float)[sel]

        def fit(m1: np.ndarray, m2: np.ndarray) -> float:
            r = m2[:, sel].mean(0) / m1[:, sel].mean(0) ** 2 - 1.0
            return float(np.polyfit(x, r, 1)[0])

        full = fit(self.m1, self.m2)
        keep = ~np.eye(n, dtype=bool)
        jack = np.array([fit(self.m1[k], self.m2[k]) for k in keep])
        se = math.sqrt((n - 1) / n * float(((jack - jack.mean()) ** 2).sum()))
        return Estimate(full, se, n)


def jacobian_spectrum(
    activation: ActivationSpec | Activation | Network,
    depth: int | None = None,
    width: int | None = None,
    *,
    distribution: str | None = None,
    sigma_w2: float | None = None,
    sigma_b2: float | None = None,
    n_networks: int = 20,
    seed: int = 0,
    depths: Sequence[int] | None = None,
    spectrum_depths: Sequence[int] | None = None,
    input_q: float | None = None,
) -> JacobianSpectrum:
    """Simulate ``n_networks`` random networks and record the spectrum of their Jacobians.

    Parameters
    ----------
    activation : str, (str, float), Activation or Network
        See :func:`initmath.activation`; or a square
        :class:`~initmath.engine.network.Network`, which then gives everything the
        following arguments say (:func:`mean_field`), and they must not be given.
    depth, width : int
        Number of layers :math:`L` and their common width :math:`n` (input included).
    distribution : {"normal", "orthogonal"}
        Gaussian weights of variance :math:`\\sigma_w^2/n` or :math:`\\sigma_w` times a
        Haar-orthogonal matrix (``"gaussian"`` is accepted for ``"normal"``).
    sigma_w2, sigma_b2 : float
        Weight scale :math:`\\sigma_w^2 > 0` (the gain squared) and bias variance.
    n_networks : int
        Independent networks, >= 2. Network ``i`` uses
        ``numpy.random.default_rng([seed, i])`` for its input, weights and biases, so results
        do not depend on how networks are batched.
    seed : int
        >= 0.
    depths : sequence of int, optional
        Depths (1..``depth``) at which :math:`m_1, m_2` are recorded; default every layer.
    spectrum_depths : sequence of int, optional
        Depths at which all squared singular values are kept (``numpy.linalg.svd``);
        default ``(depth,)``; ``()`` for none.
    input_q : float
        Second moment :math:`q_0 > 0` of the Gaussian input's entries (default 1); the first
        layer's pre-activations then have second moment :math:`\\sigma_w^2 q_0 + \\sigma_b^2`.

    Returns
    -------
    JacobianSpectrum

    Raises
    ------
    ValueError
        A bad argument; ``depth`` above :data:`MAX_DEPTH`; or a run whose arrays (the
        ``depth`` weight matrices of one network, the Jacobian and the per-network outputs)
        do not fit in the available memory, all before anything is drawn.
    FloatingPointError
        The Jacobian overflowed.

    Examples
    --------
    >>> s = jacobian_spectrum("linear", 6, 8, distribution="orthogonal", sigma_w2=1.21,
    ...                       n_networks=2, seed=1)
    >>> bool(np.allclose(s.spectra[6], 1.21 ** 6, rtol=1e-12))
    True
    """
    if isinstance(activation, Network):
        mf = from_network(
            activation,
            {
                "depth": depth,
                "width": width,
                "distribution": distribution,
                "sigma_w2": sigma_w2,
                "sigma_b2": sigma_b2,
                "input_q": input_q,
            },
        )
        act, big_l, n, dist = mf.activation, checked_depth(mf.depth), mf.width, mf.distribution
        sw2, sb2, q0 = mf.sigma_w2, mf.sigma_b2, mf.input_q
    else:
        if depth is None or width is None:
            raise TypeError("depth and width are required unless a Network gives them")
        act = get_activation(activation)
        big_l = checked_depth(depth)
        n = integer(width, "width", 1)
        dist, sw2, sb2, q0 = mean_field_arguments(distribution, sigma_w2, sigma_b2, input_q)
    n_net = integer(n_networks, "n_networks", 2)
    s = integer(seed, "seed", 0)
    ds = (
        list(range(1, big_l + 1))
        if depths is None
        else sorted(set(depth_list(depths, "depths", big_l)))
    )
    if spectrum_depths is None:
        sds: list[int] = [big_l]
    elif isinstance(spectrum_depths, Sequence | np.ndarray) and len(spectrum_depths) == 0:
        sds = []
    else:
        sds = sorted(set(depth_list(spectrum_depths, "spectrum_depths", big_l)))
    # One network's weights, biases and input (sample_network), the Jacobian, its Gram
    # matrix, the product and the SVD's workspace; the outputs of every network.
    fits_in_memory(
        F64 * (big_l * (n * n + n) + 6 * n * n + n_net * (2 * len(ds) + n * len(sds))),
        f"depth={big_l!r}, width={n!r} and n_networks={n_net!r}",
    )
    column = {d: j for j, d in enumerate(ds)}
    m1 = np.empty((n_net, len(ds)))
    m2 = np.empty((n_net, len(ds)))
    spectra = {d: np.empty((n_net, n)) for d in sds}
    # One network at a time on one BLAS thread: n x n products are too small to gain from
    # threads, and threads competing for busy cores slow QR and SVD down many times over.
    with threadpool_limits(limits=1, user_api="blas"):
        for i in range(n_net):
            _one_network(
                act,
                big_l,
                n,
                dist,
                sw2,
                sb2,
                q0,
                np.random.default_rng([s, i]),
                column,
                spectra,
                m1[i],
                m2[i],
                i,
            )
    if not (np.all(np.isfinite(m1)) and np.all(np.isfinite(m2))):
        raise FloatingPointError("the Jacobian overflowed; use a smaller depth or sigma_w2")
    return JacobianSpectrum(act.name, dist, n, sw2, sb2, s, tuple(ds), m1, m2, spectra, q0)


def _one_network(
    act: Activation,
    big_l: int,
    n: int,
    dist: str,
    sw2: float,
    sb2: float,
    q0: float,
    rng: np.random.Generator,
    column: dict[int, int],
    spectra: dict[int, np.ndarray],
    m1: np.ndarray,
    m2: np.ndarray,
    i: int,
) -> None:
    """Fill row ``i`` of the outputs for one network drawn from ``rng``."""
    h, weights, biases = sample_network(
        big_l, n, distribution=dist, sigma_w2=sw2, sigma_b2=sb2, rng=rng, input_q=q0
    )
    for layer, jac in enumerate(layer_jacobians(act, h, weights, biases), start=1):
        if layer in column:
            gram = jac.T @ jac
            m1[column[layer]] = np.trace(gram) / n
            m2[column[layer]] = float(np.sum(gram * gram)) / n
        if layer in spectra:
            spectra[layer][i] = np.linalg.svd(jac, compute_uv=False) ** 2
