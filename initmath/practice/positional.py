r"""Infinite-width predictions for convolutional networks, position by position.

A convolution's outputs do not all see the same inputs: with zero padding a position near
the border sums fewer terms, so the second moment varies with the position and the
fully connected map does not apply. At infinite channel counts the pre-activations at each
position are Gaussian, and (the weights being independent across taps and channels) the
second moments obey, per position :math:`p` of layer :math:`\ell`,

.. math::

    q^\ell_p = \operatorname{Var}(W^\ell)\, c^\ell_{fwd} \sum_{p'} A^\ell_{pp'}\,
    M(q^{\ell-1}_{p'}) + \sigma_b^2, \qquad
    \tilde q^{\ell-1}_{p'} = \operatorname{Var}(W^\ell)\, c^\ell_{bwd}\,
    D(q^{\ell-1}_{p'}) \sum_p A^\ell_{pp'}\, \tilde q^\ell_p,

with :math:`M(q) = E[\phi(\sqrt q z)^2]`, :math:`D(q) = E[\phi'(\sqrt q z)^2]`,
:math:`A^\ell` the layer's tap counts and :math:`c_{fwd}, c_{bwd}` its channels per tap
(:meth:`initmath.engine.convolution.Convolution.incidence`; a dense layer reads every
position: :math:`A = \mathbf 1`, :math:`c_{fwd}` the input's channels). :func:`initmath.simulate`
records the mean over units, so the prediction of a layer is the mean of :math:`q_p` over its
positions. The backward map assumes, as the fully connected one does, that the weights of
the backward pass are independent of the forward pass's (gradient independence).

With circular padding every row of :math:`A` sums to :math:`\prod k` and, from a uniform
input, every position keeps the same :math:`q`: the map is the fully connected one at fan-in
:math:`c_{fwd}\prod k`. With zero padding the first layer already loses, on average, the
fraction of taps that fall outside (:func:`initmath.theory.convolution.zero_padding_factor`),
and deeper layers feel the border further in.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..engine.convolution import Convolution
from ..engine.network import Network
from ..theory.quadrature import gaussian_expectation

__all__ = ["incidence", "positional_moments", "positional_profile"]


def incidence(layer: Any, positions_in: int) -> tuple[np.ndarray, float, float]:
    """``(A, c_fwd, c_bwd)`` of any layer (see the module docstring)."""
    if isinstance(layer, Convolution):
        a, c_fwd, c_bwd = layer.incidence()
        return a, float(c_fwd), float(c_bwd)
    return np.ones((1, positions_in)), layer.n_in / positions_in, float(layer.n_out)


def positional_profile(
    network: Network, backward: bool = False
) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
    """Per layer, the predicted second moment at each position (and of the gradient).

    Returns ``(q, grad)``: lists of arrays, one per layer, of its positions' :math:`q_p`
    (:math:`\\tilde q_p`); the last layer's gradient is the injected :math:`N(0, 1)`.

    Raises
    ------
    ValueError
        For a residual network of ordering ``"post"`` or a batch-normalized one, which have
        no prediction here.
    """
    net = network
    if net.residual is not None and net.residual.ordering == "post":
        raise ValueError(
            "no infinite-width prediction for post-activation residual convolutional "
            "networks yet; initmath.simulate measures them"
        )
    if net.norm == "batch":
        raise ValueError("no position-wise prediction for batch normalization")
    act = net.activation
    phi, dphi = act.numpy, act.numpy_derivative

    def m(q: np.ndarray) -> np.ndarray:
        return np.asarray(gaussian_expectation(lambda x: phi(x) ** 2, q))

    def d(q: np.ndarray) -> np.ndarray:
        return np.asarray(gaussian_expectation(lambda x: dphi(x) ** 2, q))

    shapes = net.shapes
    positions = [max(1, int(np.prod(s[1:]))) for s in shapes]
    maps = [incidence(k, positions[i]) for i, k in enumerate(net.layers)]
    eps = net.norm_eps
    qs: list[np.ndarray] = []
    inflows: list[np.ndarray] = []
    prev = np.full(positions[0], net.input_q)
    for ell, layer in enumerate(net.layers):
        a, c_fwd, _ = maps[ell]
        source = prev if ell == 0 else m(prev)
        inflow = layer.variance * c_fwd * (a @ source) + net.sigma_b2
        inflows.append(inflow)
        q = inflow / (inflow.mean() + eps) if layer.norm == "layer" else inflow
        q = layer.alpha**2 * q
        if layer.skip is not None:
            q = q + qs[layer.skip - 1]
        qs.append(q)
        prev = q
    if not backward:
        return qs, None
    grads: list[np.ndarray] = [np.empty(0)] * len(qs)
    grads[-1] = np.ones_like(qs[-1])
    extra: dict[int, np.ndarray] = {}  # gradients that skips carry back, by their source
    for ell in range(len(qs) - 1, 0, -1):
        layer = net.layers[ell]
        a, _, c_bwd = maps[ell]
        through = layer.alpha**2 * grads[ell]
        if layer.norm == "layer":
            through = through / (inflows[ell].mean() + eps)
        g = layer.variance * c_bwd * (a.T @ through) * d(qs[ell - 1])
        if layer.skip is not None:
            src = layer.skip - 1
            extra[src] = extra.get(src, np.zeros_like(grads[ell])) + grads[ell]
        if ell - 1 in extra:
            g = g + extra.pop(ell - 1)
        grads[ell - 1] = g
    return qs, grads


def positional_moments(
    network: Network, backward: bool = False
) -> tuple[np.ndarray, np.ndarray | None]:
    """The layer means of :func:`positional_profile`: what :func:`initmath.simulate`
    records, as :func:`initmath.predict` returns it."""
    qs, grads = positional_profile(network, backward)
    q = np.array([v.mean() for v in qs])
    return q, None if grads is None else np.array([v.mean() for v in grads])
