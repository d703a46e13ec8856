r"""Layer-sequential unit-variance (LSUV) initialization (Mishkin and Matas, 2016).

A data-dependent scheme: start from orthogonal weights (Saxe et al., 2014), then, from the
first layer to the last, rescale each weight matrix until the variance of that layer's
outputs (its pre-activations :math:`z^\ell = W^\ell h^{\ell-1}`, before the nonlinearity) on a
batch of data is one:

.. math::

    W^\ell \leftarrow \frac{W^\ell}{\sqrt{\widehat{\operatorname{Var}}[z^\ell]}}
    \quad\text{while}\quad \bigl|\widehat{\operatorname{Var}}[z^\ell] - 1\bigr| \ge
    \mathrm{tol} \text{ and fewer than } T_{\max} \text{ steps},

where :math:`\widehat{\operatorname{Var}}` is the sample variance over all units and examples
of the batch (``numpy.var`` of the whole ``(n_out, batch)`` array), and the layers before
:math:`\ell` are already rescaled. The paper's defaults are :math:`\mathrm{tol} = 0.1` and
:math:`T_{\max} = 10`. For a bias-free fully connected layer :math:`z^\ell` is linear in
:math:`W^\ell`, so one step already gives variance one up to rounding; the loop is kept as in
the paper's Algorithm 1.

Two entry points: :func:`lsuv` builds the orthogonal network from widths and a seed (weights
in PyTorch layout ``(n_out, n_in)``, the same draws as
:func:`initmath.practice.training.network` with
``distribution="orthogonal"``), :func:`lsuv_network` rescales an existing
:class:`~initmath.practice.training.Model` **in place**. Both return an :class:`LSUVResult`.

Example
-------
>>> import numpy as np
>>> x = np.random.default_rng(0).standard_normal((500, 32))
>>> res = lsuv([32, 64, 64, 10], "tanh", x, seed=1)
>>> [w.shape for w in res.weights]
[(64, 32), (64, 64), (10, 64)]
>>> bool(np.all(np.abs(res.variance_after - 1) < 0.1))
True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import overload

import numpy as np
import numpy.typing as npt

from ..core.checks import integer, positive_real
from ..engine.network import Network
from .training import Model
from .training import network as training_network

__all__ = ["LSUVResult", "layer_variances", "lsuv", "lsuv_network"]

Array = npt.NDArray[np.float64]


@dataclass(frozen=True)
class LSUVResult:
    """What :func:`lsuv` / :func:`lsuv_network` did, per layer (layer 1 first).

    Attributes
    ----------
    weights : list of numpy.ndarray
        The rescaled weight matrices, shape ``(n_out, n_in)`` (for :func:`lsuv_network` the
        very arrays of the network).
    variance_init : numpy.ndarray
        Output variance of each layer on the batch in the network as it was before LSUV
        (no layer rescaled).
    variance_before : numpy.ndarray
        Output variance of each layer as LSUV first saw it: the layers before it already
        rescaled, itself not yet.
    variance_after : numpy.ndarray
        Output variance of each layer after LSUV (all layers rescaled).
    scales : numpy.ndarray
        The factor :math:`s_\\ell` by which layer :math:`\\ell`'s weights were multiplied in
        total.
    iterations : numpy.ndarray
        Rescaling steps taken per layer (0 if the variance was already within ``tol``).
    converged : numpy.ndarray
        Whether :math:`|\\widehat{\\operatorname{Var}} - 1| < \\mathrm{tol}` was reached within
        ``max_iter`` steps.
    """

    weights: list[Array]
    variance_init: Array
    variance_before: Array
    variance_after: Array
    scales: Array
    iterations: npt.NDArray[np.int64]
    converged: npt.NDArray[np.bool_]


def _as_batch(x: object, n_in: int) -> Array:
    if x is None or isinstance(x, (str, bytes)):
        raise TypeError(f"x must be a real array, got {x!r}")
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"x must be a real array, got dtype {arr.dtype}")
    if arr.ndim != 2 or arr.shape[1] != n_in:
        raise ValueError(f"x must have shape (batch, {n_in}), got {arr.shape}")
    if arr.shape[0] < 2:
        raise ValueError(f"x must hold at least 2 examples for a variance, got {arr.shape[0]}")
    arr = arr.astype(np.float64, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError("x must be finite (no NaN or inf)")
    return arr


def layer_variances(net: Model, x: object) -> Array:
    """Sample variance of every layer's pre-activations on a batch.

    Parameters
    ----------
    net : Model
    x : array_like, shape (batch, n_0)
        One example per row.

    Returns
    -------
    numpy.ndarray
        Per layer :math:`\\ell = 1..L`, ``numpy.var`` of :math:`z^\\ell` over all units and
        examples.
    """
    if not isinstance(net, Model):
        raise TypeError(f"net must be an initmath.practice.training.Model, got {net!r}")
    h = _as_batch(x, net.widths[0]).T
    out = np.empty(len(net.weights))
    last = len(net.weights) - 1
    with np.errstate(over="ignore", invalid="ignore"):
        for ell, (w, b) in enumerate(zip(net.weights, net.biases, strict=True)):
            z = w @ h + b[:, None]
            out[ell] = np.var(z)
            if ell < last:
                h = net.activation.numpy(z)
    return out


def lsuv_network(net: Model, x: object, *, tol: float = 0.1, max_iter: int = 10) -> LSUVResult:
    """Rescale the weights of ``net`` in place, layer by layer, to unit output variance on ``x``.

    Parameters
    ----------
    net : Model
        Typically built with ``distribution="orthogonal"``; its weights are modified in place
        (the biases are left alone and enter the measured variance).
    x : array_like, shape (batch, n_0)
        The data batch, one example per row (at least 2 examples).
    tol : float
        :math:`> 0`: stop rescaling a layer once :math:`|\\widehat{\\operatorname{Var}} - 1|
        < \\mathrm{tol}`.
    max_iter : int
        :math:`\\ge 1`: at most this many rescaling steps per layer.

    Returns
    -------
    LSUVResult

    Raises
    ------
    TypeError
        ``net`` not a Model, ``x`` not real, ``max_iter`` not an int.
    ValueError
        Wrong shape of ``x``, non-finite ``x``, ``tol`` not > 0, ``max_iter < 1``, a layer
        whose output variance on the batch is zero or not finite (it cannot be rescaled).
    """
    if not isinstance(net, Model):
        raise TypeError(f"net must be an initmath.practice.training.Model, got {net!r}")
    xs = _as_batch(x, net.widths[0])
    tol = positive_real(tol, "tol")
    max_iter = integer(max_iter, "max_iter", minimum=1)
    init_var = layer_variances(net, xs)
    n_layers = len(net.weights)
    before, after = np.empty(n_layers), np.empty(n_layers)
    scales, iters = np.ones(n_layers), np.zeros(n_layers, dtype=np.int64)
    h = xs.T
    with np.errstate(over="ignore", invalid="ignore"):
        for ell in range(n_layers):
            w, b = net.weights[ell], net.biases[ell]
            var = float(np.var(w @ h + b[:, None]))
            before[ell] = var
            while True:
                if not (np.isfinite(var) and var > 0):
                    raise ValueError(
                        f"layer {ell + 1}: output variance on the batch is {var!r}; LSUV cannot "
                        "rescale it"
                    )
                if abs(var - 1.0) < tol or iters[ell] >= max_iter:
                    break
                step = 1.0 / np.sqrt(var)
                w *= step
                scales[ell] *= step
                iters[ell] += 1
                var = float(np.var(w @ h + b[:, None]))
            after[ell] = var
            if ell < n_layers - 1:
                h = net.activation.numpy(w @ h + b[:, None])
    return LSUVResult(
        weights=net.weights,
        variance_init=init_var,
        variance_before=before,
        variance_after=after,
        scales=scales,
        iterations=iters,
        converged=np.abs(after - 1.0) < tol,
    )


@overload
def lsuv(
    network: Network, x: object, /, *, tol: float = 0.1, max_iter: int = 10, seed: int = 0
) -> LSUVResult: ...


@overload
def lsuv(
    network: Sequence[int],
    activation: object,
    x: object,
    /,
    *,
    tol: float = 0.1,
    max_iter: int = 10,
    seed: int = 0,
) -> LSUVResult: ...


def lsuv(
    network: Network | Sequence[int],
    second: object,
    third: object = None,
    /,
    *,
    tol: float = 0.1,
    max_iter: int = 10,
    seed: int = 0,
) -> LSUVResult:
    """LSUV initialization: draw a network, then rescale it layer by layer.

    ``lsuv(network, x)`` draws the description ``network``
    (:func:`initmath.practice.training.network`, layer ``l`` from
    ``numpy.random.default_rng([seed, l])``); ``lsuv(widths, activation, x)`` draws the
    paper's start, orthogonal weights with gain 1 (orthonormal rows or columns, PyTorch's
    ``orthogonal_``; ``Network(widths, activation, scheme="lecun",
    distribution="orthogonal")``) and zero biases. Then :func:`lsuv_network` rescales every
    layer, the last included, as in the paper's Algorithm 1.

    Parameters
    ----------
    network : Network or sequence of int
        The description of the network, or its widths ``[n_0, n_1, ..., n_L]`` followed by
        the activation.
    activation : str, tuple or Activation
        With widths only: applied after every layer but the last (see
        :func:`initmath.activation`).
    x : array_like, shape (batch, n_0)
        The data batch, one example per row.
    tol, max_iter
        As for :func:`lsuv_network` (the paper's 0.1 and 10).
    seed : int
        :math:`\\ge 0`; the result is a deterministic function of it.

    Returns
    -------
    LSUVResult
        ``weights[l]`` has shape ``(widths[l+1], widths[l])``.

    Raises
    ------
    TypeError, ValueError
        Invalid widths, activation, seed, or any error of :func:`lsuv_network`.
    """
    if isinstance(network, Network):
        if third is not None:
            raise TypeError("lsuv(network, x) takes a Network and the batch; got a third argument")
        net, x = network, second
    else:
        if third is None:
            raise TypeError("lsuv(widths, activation, x): the data batch x is missing")
        net = Network(network, second, scheme="lecun", distribution="orthogonal")
        x = third
    seed = integer(seed, "seed", minimum=0)
    return lsuv_network(training_network(net, seed=seed), x, tol=tol, max_iter=max_iter)
