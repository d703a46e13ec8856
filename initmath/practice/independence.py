"""The gradient independence assumption, examined by simulation in NumPy.

Mean-field theories of back-propagation (Schoenholz et al. 2017) treat the weights of the
backward pass as if they were drawn independently of those of the forward pass. Then the
second moment :math:`\\tilde q^\\ell` of the back-propagated gradient
:math:`\\delta^\\ell = \\partial(\\cdot)/\\partial z^\\ell` obeys a linear recursion,

.. math::
    \\tilde q^{\\ell-1} = \\sigma_w^2\\,\\frac{n_\\ell}{n_{\\ell-1}}\\,
    E\\bigl[\\phi'(z^{\\ell-1})^2\\bigr]\\,\\tilde q^\\ell ,

in which the Jacobian's weights never meet the pre-activations they produced. True
back-propagation uses the same :math:`W^\\ell` in both passes:
:math:`\\delta^{\\ell-1} = \\phi'(z^{\\ell-1}) \\odot W^{\\ell\\top}\\delta^\\ell`, where
:math:`\\delta^\\ell` depends on :math:`W^\\ell` through :math:`\\phi'(z^\\ell)`,
:math:`z^\\ell = W^\\ell x^{\\ell-1} + b^\\ell`.

:func:`gradient_independence` runs both on the same networks: one forward pass, one injected
gradient :math:`\\delta^L \\sim N(0, I)`, then back-propagation through :math:`W^\\ell`
(``true``) and through an independent copy :math:`\\tilde W^\\ell` with the same
distribution (``independent``, the assumption). The copy need not be drawn: given
:math:`\\delta^\\ell`, the entries of :math:`\\tilde W^{\\ell\\top}\\delta^\\ell` are i.i.d.
:math:`N(0, s_\\ell^2 \\lVert\\delta^\\ell\\rVert^2)` (:math:`s_\\ell` the weights' standard
deviation), which is what is sampled. The first step down from the injection is the same
in expectation for both (:math:`W^L` is independent of :math:`z^{L-1}`); below it they differ
at finite width, and agree in the infinite-width limit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Unpack

import numpy as np
import numpy.typing as npt

from ..core.checks import integer
from ..engine.kernel_source import EXPLODE
from ..engine.network import Network, NetworkOptions, as_network

__all__ = ["IndependenceRun", "gradient_independence"]

#: Budget, in bytes, of the weights one batch of networks keeps for the backward pass.
MEMORY = 32 * 2**20


@dataclass(frozen=True)
class IndependenceRun:
    """Per-layer gradient second moments of true and of independent-copy back-propagation.

    Layers are numbered from 1 (index 0) to :math:`L` (the injected gradient, where both
    are the same draw). Standard errors are over networks (``ddof=1``).

    Attributes
    ----------
    network : Network
        The networks simulated.
    n_networks : int
        How many.
    true, true_se : numpy.ndarray
        :math:`\\tilde q^\\ell` of true back-propagation (the same weights in both passes):
        the mean over networks of each network's mean of :math:`(\\delta^\\ell_i)^2`.
    independent, independent_se : numpy.ndarray
        The same with an independent copy of the weights in the backward pass.
    ratio, ratio_se : numpy.ndarray
        ``true / independent - 1`` per layer, with its delta-method standard error
        :math:`\\operatorname{sd}(t_k - r\\, u_k) / (\\sqrt N\\, \\bar u)` over the networks'
        pairs :math:`(t_k, u_k)` (:math:`r` = ``true / independent``).
    """

    network: Network
    n_networks: int
    true: npt.NDArray[np.float64]
    true_se: npt.NDArray[np.float64]
    independent: npt.NDArray[np.float64]
    independent_se: npt.NDArray[np.float64]
    ratio: npt.NDArray[np.float64]
    ratio_se: npt.NDArray[np.float64]

    def z(self) -> npt.NDArray[np.float64]:
        """``ratio / ratio_se`` per layer (0 at the injected layer, where both are equal)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            out = np.where(self.ratio_se > 0, self.ratio / self.ratio_se, 0.0)
        return np.asarray(out, dtype=np.float64)


def gradient_independence(
    network: Network | Sequence[int],
    activation: object = None,
    *,
    n_networks: int = 1000,
    seed: int = 0,
    **options: Unpack[NetworkOptions],
) -> IndependenceRun:
    """Back-propagate through the forward weights and through an independent copy of them.

    For each of ``n_networks`` draws of ``network`` (one input
    :math:`x^0 \\sim N(0, s_x^2 I)`), the forward pass :math:`z^\\ell = W^\\ell x^{\\ell-1} +
    b^\\ell`, :math:`x^\\ell = \\phi(z^\\ell)` is kept, a gradient :math:`\\delta^L \\sim
    N(0, I)` is injected at the last pre-activations and pulled back twice:

    .. math::
        \\delta^{\\ell-1} = \\phi'(z^{\\ell-1}) \\odot W^{\\ell\\top}\\delta^\\ell
        \\quad\\text{(true)}, \\qquad
        \\tilde\\delta^{\\ell-1} = \\phi'(z^{\\ell-1}) \\odot
        \\tilde W^{\\ell\\top}\\tilde\\delta^\\ell \\quad\\text{(independent)},

    with :math:`\\tilde W^\\ell` independent of everything else (sampled as
    :math:`\\tilde W^{\\ell\\top}\\tilde\\delta^\\ell \\sim N(0, s_\\ell^2
    \\lVert\\tilde\\delta^\\ell\\rVert^2 I)`). The true gradients are those of
    :func:`initmath.simulate` with ``backward=True`` (which it reproduces within standard
    errors, from other random streams).

    Parameters
    ----------
    network : Network or sequence of int
        The networks, as for :func:`initmath.simulate` (or widths, with ``activation`` and
        ``**options``); the distribution must be ``"normal"``.
    activation : str, (str, float) or Activation, optional
        With widths only.
    n_networks : int
        Independent networks (>= 2).
    seed : int
        Seed (>= 0) of the :func:`numpy.random.default_rng` generator that draws everything.
        Networks are drawn in batches whose weights take at most 32 MB.

    Returns
    -------
    IndependenceRun

    Raises
    ------
    TypeError, ValueError
        For an invalid argument (named in the message), a distribution other than
        ``"normal"``, or a pass that overflowed, went NaN or exceeded the engine's
        :data:`~initmath.engine.kernel_source.EXPLODE` (use a shallower network or smaller
        weights).

    Examples
    --------
    >>> run = gradient_independence([4] * 5, "tanh", scheme="lecun", gain=2.5,
    ...                             n_networks=20000, seed=1)
    >>> bool(run.ratio[0] < -5 * run.ratio_se[0])  # width 4: true back-propagation is smaller
    True
    """
    net = as_network(network, activation, **options)
    net.require_plain("gradient_independence")
    if net.distribution != "normal":
        raise ValueError(
            f"distribution must be 'normal' for gradient_independence, got {net.distribution!r}"
        )
    n_networks = integer(n_networks, "n_networks", 2)
    seed = integer(seed, "seed", 0)
    ws = list(net.widths)
    depth = len(ws) - 1
    phi, dphi = net.activation.numpy, net.activation.numpy_derivative
    scales = net.scales
    per_network = sum(a * b for a, b in zip(ws[1:], ws[:-1], strict=True))
    batch = max(1, min(n_networks, MEMORY // (8 * per_network)))
    rng = np.random.default_rng(seed)
    true = np.empty((n_networks, depth))
    indep = np.empty((n_networks, depth))
    with np.errstate(all="ignore"):
        for start in range(0, n_networks, batch):
            b = min(batch, n_networks - start)
            rows = slice(start, start + b)
            x = net.input_std * rng.standard_normal((b, ws[0], 1))
            weights: list[npt.NDArray[np.float64]] = []
            zs: list[npt.NDArray[np.float64]] = []
            for layer in range(depth):
                w = scales[layer] * rng.standard_normal((b, ws[layer + 1], ws[layer]))
                z = np.matmul(w, x)
                if net.bias_std > 0.0:
                    z += net.bias_std * rng.standard_normal((b, ws[layer + 1], 1))
                weights.append(w)
                zs.append(z)
                x = phi(z)
            d_true = rng.standard_normal((b, ws[depth], 1))
            d_ind = d_true.copy()
            for layer in range(depth - 1, -1, -1):
                true[rows, layer] = np.mean(d_true**2, axis=(1, 2))
                indep[rows, layer] = np.mean(d_ind**2, axis=(1, 2))
                if layer == 0:
                    break
                slope = dphi(zs[layer - 1])
                d_true = slope * np.matmul(weights[layer].transpose(0, 2, 1), d_true)
                norm = np.sqrt(np.sum(d_ind**2, axis=(1, 2)))[:, None, None]
                d_ind = slope * (scales[layer] * norm * rng.standard_normal((b, ws[layer], 1)))
    if not (np.all(true <= EXPLODE) and np.all(indep <= EXPLODE)):  # NaN fails too
        raise ValueError(
            f"a pass overflowed or went NaN for network {net!r}: use a shallower network or "
            "smaller weights"
        )
    root_n = math.sqrt(n_networks)
    t_mean, u_mean = true.mean(axis=0), indep.mean(axis=0)
    r = t_mean / u_mean
    return IndependenceRun(
        network=net,
        n_networks=n_networks,
        true=t_mean,
        true_se=true.std(axis=0, ddof=1) / root_n,
        independent=u_mean,
        independent_se=indep.std(axis=0, ddof=1) / root_n,
        ratio=r - 1.0,
        ratio_se=(true - r * indep).std(axis=0, ddof=1) / (root_n * u_mean),
    )
