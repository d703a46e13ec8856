r"""How second moments drift over depth: simulated networks against the infinite-width maps.

Two measurements of a deep random network, each returning the prediction of
:func:`initmath.predict` next to the simulation of :func:`initmath.simulate`.

**Drift from q = 1.** :func:`drift` builds ``depth`` bias-free layers of ``width`` units with
weight variance :math:`g^2/n` (scheme ``"lecun"`` with ``gain=g``) and inputs of standard
deviation :math:`1/g`, so that the first layer's pre-activations have second moment exactly
:math:`q^1 = g^2 \cdot g^{-2} = 1`; every further layer applies
:math:`q \mapsto g^2 E[\phi(\sqrt q\, z)^2]`, which keeps :math:`q = 1` only when :math:`g` is
the exact gain :math:`1/\sqrt{E[\phi(z)^2]}`.

**Per-layer ratios.** :func:`layer_ratios` reduces a network's per-layer second moments
:math:`q^\ell` of the pre-activations and :math:`r^\ell` of the back-propagated gradients to
geometric means over the last :math:`k` layers,

.. math::

    \chi_f = \left(\frac{q^L}{q^{L-k}}\right)^{1/k}, \qquad
    \chi_b = \left(\frac{r^{L-k}}{r^L}\right)^{1/k},

the factors by which one layer multiplies the signal's second moment on the way forward and
the gradient's on the way back (:func:`per_layer_ratios`). A measured ratio is the ratio of
the pooled estimates; its standard error is a delete-one-group jackknife over :math:`G`
independent groups of networks (:func:`jackknife_ratios`): with :math:`\hat\theta_{(i)}` the
ratio without group :math:`i` and :math:`\bar\theta` their mean,

.. math::

    \widehat{se} = \sqrt{\frac{G-1}{G} \sum_{i=1}^G \bigl(\hat\theta_{(i)} - \bar\theta\bigr)^2},

which accounts for the correlation between the layers' estimates (they come from the same
networks), where propagating their separate errors would overstate the uncertainty.

>>> from initmath.practice.drift import per_layer_ratios
>>> per_layer_ratios([1.0, 2.0, 4.0, 8.0], [27.0, 9.0, 3.0, 1.0], last=2)
(2.0, 3.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Unpack

import numpy as np

from ..core.checks import integer, positive_real
from ..engine.network import Network, NetworkOptions, as_network
from ..engine.simulation import SimulationResult, simulate
from ..theory.activations import Activation
from ..weights.torch_gain import ActivationSpec
from .verification import predict

__all__ = [
    "DriftRun",
    "LayerRatios",
    "drift",
    "jackknife_ratios",
    "layer_ratios",
    "per_layer_ratios",
]


@dataclass(frozen=True)
class DriftRun:
    """A deep network started at :math:`q^1 = 1` with one gain (:func:`drift`).

    Attributes
    ----------
    activation : object
        The activation spec, as given.
    gain : float
        The gain :math:`g`: weight variance :math:`g^2/n`, inputs of std :math:`1/g`.
    network : Network
        The networks simulated.
    predicted : numpy.ndarray
        The infinite-width second moment :math:`q^\\ell` per layer (:func:`initmath.predict`).
    result : SimulationResult
        The simulation (:func:`initmath.simulate`).
    """

    activation: object
    gain: float
    network: Network
    predicted: np.ndarray
    result: SimulationResult

    @property
    def z(self) -> float:
        """``(measured - predicted) / se`` of the last layer's second moment."""
        return float(self.result.z(self.predicted)[-1])

    @property
    def relative(self) -> float:
        """``measured / predicted - 1`` at the last layer."""
        return float(self.result.q[-1] / self.predicted[-1] - 1.0)


def drift(
    activation: ActivationSpec | Activation,
    gain: float,
    *,
    width: int = 256,
    depth: int = 50,
    n_networks: int = 200,
    seed: int = 0,
) -> DriftRun:
    """Simulate and predict deep networks with gain ``gain``, started at :math:`q^1 = 1`.

    Parameters
    ----------
    activation : str, (str, float) or Activation
        The nonlinearity of every layer.
    gain : float
        :math:`g > 0`: weight variance :math:`g^2/\\mathrm{fan_{in}}` (scheme ``"lecun"``
        with ``gain``) in every layer, inputs of standard deviation :math:`1/g`.
    width, depth : int
        ``depth`` layers of ``width`` units, without biases.
    n_networks, seed : int
        As for :func:`initmath.simulate`.

    Returns
    -------
    DriftRun

    Examples
    --------
    >>> run = drift("linear", 1.0, width=16, depth=4, n_networks=20)
    >>> run.predicted.tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    g = positive_real(gain, "gain")
    widths = [integer(width, "width", 1)] * (integer(depth, "depth", 1) + 1)
    net = Network(widths, activation, scheme="lecun", gain=g, input_std=1.0 / g)
    q, _ = predict(net)
    result = simulate(net, n_networks=n_networks, seed=seed)
    return DriftRun(activation, g, net, q, result)


def per_layer_ratios(
    q: Sequence[float] | np.ndarray, r: Sequence[float] | np.ndarray, last: int
) -> tuple[float, float]:
    """The forward and backward ratios :math:`(\\chi_f, \\chi_b)` over the last ``last`` layers.

    Parameters
    ----------
    q, r : array_like
        Per layer (layer 1 first), the second moments of the pre-activations and of the
        gradients; equal lengths :math:`L > ` ``last``.
    last : int
        :math:`k \\ge 1`.

    Returns
    -------
    (float, float)
        :math:`\\chi_f = (q^L/q^{L-k})^{1/k}` and :math:`\\chi_b = (r^{L-k}/r^L)^{1/k}`.
    """
    q, r = np.asarray(q, dtype=float), np.asarray(r, dtype=float)
    k = integer(last, "last", 1)
    L = len(q)
    if len(r) != L or L <= k:
        raise ValueError(f"q and r must have the same length > last = {k}, got {L} and {len(r)}")
    fwd = (q[L - 1] / q[L - 1 - k]) ** (1.0 / k)
    bwd = (r[L - 1 - k] / r[L - 1]) ** (1.0 / k)
    return float(fwd), float(bwd)


def jackknife_ratios(
    groups: Sequence[SimulationResult], last: int
) -> tuple[float, float, float, float]:
    """Forward and backward ratios of pooled groups, with delete-one-group jackknife errors.

    Parameters
    ----------
    groups : sequence of SimulationResult
        At least two simulations of equal numbers of independent networks of one
        description, each with ``backward=True``.
    last : int
        The ratios are over the last ``last`` layers (:func:`per_layer_ratios`).

    Returns
    -------
    (fwd, fwd_se, bwd, bwd_se) : tuple of float
        The ratios of the means pooled over the groups, and their jackknife standard errors.
    """
    if len(groups) < 2:
        raise ValueError(f"the jackknife needs at least 2 groups, got {len(groups)}")
    if any(g.grad_q is None for g in groups):
        raise ValueError("every group must be simulated with backward=True")
    if len({g.n_networks for g in groups}) != 1:
        raise ValueError("the groups must have equal numbers of networks")
    q = np.array([g.q for g in groups])
    r = np.array([g.grad_q for g in groups])
    G = len(groups)
    fwd, bwd = per_layer_ratios(q.mean(axis=0), r.mean(axis=0), last)
    q_out = (q.sum(axis=0) - q) / (G - 1)
    r_out = (r.sum(axis=0) - r) / (G - 1)
    loo = np.array([per_layer_ratios(q_out[i], r_out[i], last) for i in range(G)])
    se = np.sqrt((G - 1) / G * ((loo - loo.mean(axis=0)) ** 2).sum(axis=0))
    return fwd, float(se[0]), bwd, float(se[1])


@dataclass(frozen=True)
class LayerRatios:
    """Predicted and measured per-layer ratios of one network (:func:`layer_ratios`).

    Attributes
    ----------
    network : Network
        The networks simulated.
    last : int
        The ratios are over the last ``last`` layers.
    fwd_pred, bwd_pred : float
        :math:`\\chi_f` and :math:`\\chi_b` of the infinite-width prediction.
    fwd, fwd_se, bwd, bwd_se : float
        The measured ratios and their jackknife standard errors.
    q_pred, r_pred : numpy.ndarray
        The predicted second moments per layer (:func:`initmath.predict` with ``backward``).
    result : SimulationResult
        The groups merged into one simulation (bit for bit a single run over all networks).
    """

    network: Network
    last: int
    fwd_pred: float
    bwd_pred: float
    fwd: float
    fwd_se: float
    bwd: float
    bwd_se: float
    q_pred: np.ndarray = field(repr=False)
    r_pred: np.ndarray = field(repr=False)
    result: SimulationResult = field(repr=False)

    @property
    def z_fwd(self) -> float:
        """``(fwd - fwd_pred) / fwd_se``."""
        return (self.fwd - self.fwd_pred) / self.fwd_se

    @property
    def z_bwd(self) -> float:
        """``(bwd - bwd_pred) / bwd_se``."""
        return (self.bwd - self.bwd_pred) / self.bwd_se


def layer_ratios(
    network: Network | Sequence[int],
    activation: object = None,
    *,
    last: int,
    n_networks: int = 200,
    groups: int = 10,
    seed: int = 0,
    **options: Unpack[NetworkOptions],
) -> LayerRatios:
    """Per-layer forward and backward ratios of a network, predicted and simulated.

    Parameters
    ----------
    network : Network or sequence of int
        The description, or widths with ``activation`` and ``**options`` (as for
        :func:`initmath.simulate`).
    last : int
        The ratios are geometric means over the last ``last`` layers, ``1 <= last < depth``.
    n_networks, groups : int
        ``n_networks`` networks, a multiple of ``groups >= 2``, simulated as ``groups`` runs
        over consecutive ranges of networks (the jackknife's groups).
    seed : int
        The seed of every run (:func:`initmath.simulate`).

    Returns
    -------
    LayerRatios

    Raises
    ------
    ValueError
        ``n_networks`` not a multiple of ``groups``, fewer than 2 groups, or ``last`` not
        less than the depth.
    """
    net = as_network(network, activation, **options)
    k = integer(last, "last", 1)
    G = integer(groups, "groups", 2)
    n = integer(n_networks, "n_networks", G)
    if n % G:
        raise ValueError(f"n_networks ({n}) must be a multiple of groups ({G})")
    if k >= net.depth:
        raise ValueError(f"last must be less than the depth {net.depth}, got {k}")
    size = n // G
    parts = [
        simulate(net, n_networks=size, first_network=i * size, seed=seed, backward=True)
        for i in range(G)
    ]
    merged = parts[0]
    for p in parts[1:]:
        merged = merged.merge(p)
    q_pred, r_pred = predict(net, backward=True)
    assert r_pred is not None  # backward=True
    fwd_pred, bwd_pred = per_layer_ratios(q_pred, r_pred, k)
    fwd, fwd_se, bwd, bwd_se = jackknife_ratios(parts, k)
    return LayerRatios(net, k, fwd_pred, bwd_pred, fwd, fwd_se, bwd, bwd_se, q_pred, r_pred, merged)
