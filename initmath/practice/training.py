r"""A small, exact trainer for fully connected classifiers.

Does the initialization matter for learning?

Plain NumPy in float64, no deep-learning framework: a network is a list of weight matrices
drawn by :func:`initmath.init`, the hidden layers apply one of the package's activations (its
NumPy form and derivative are generated from the SymPy expression), the last layer is linear
and feeds a softmax. :func:`loss_and_gradients` back-propagates by hand,

.. math::

    \delta^L = \frac{1}{B}\bigl(\operatorname{softmax}(z^L) - Y\bigr), \qquad
    \frac{\partial \mathcal L}{\partial W^\ell} = \delta^\ell \,(h^{\ell-1})^{\mathsf T}, \qquad
    \delta^{\ell-1} = \phi'(z^{\ell-1}) \odot (W^\ell)^{\mathsf T} \delta^\ell,

with :math:`\mathcal L` the mean cross-entropy over a batch of :math:`B` examples (rows of
the matrices here are units, columns examples), and the tests check it against finite
differences. :func:`train` runs mini-batch SGD with momentum. Everything is deterministic for
a seed: the weights (``seed``), the order of the mini-batches (``seed`` of :func:`train`).

Example
-------
>>> import numpy as np
>>> from initmath.practice.training import network, train
>>> rng = np.random.default_rng(0)
>>> x = rng.standard_normal((200, 2))
>>> y = (x[:, 0] + x[:, 1] > 0).astype(int)
>>> net = network([2, 16, 2], "relu", scheme="he", seed=1)
>>> history = train(net, x, y, epochs=20, learning_rate=0.1)
>>> bool(history.train_loss[-1] < 0.25 * history.train_loss[0])
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Unpack

import numpy as np
import numpy.typing as npt

from ..core.checks import choice, integer, nonnegative_real, positive_real
from ..engine.network import Network, NetworkOptions, as_network
from ..theory.activations import Activation
from ..weights.samplers import init

__all__ = ["History", "Model", "accuracy", "forward", "loss_and_gradients", "network", "train"]

Array = npt.NDArray[np.float64]


@dataclass
class Model:
    """A fully connected classifier: ``weights[l]`` has shape ``(n_out, n_in)``.

    Attributes
    ----------
    weights, biases : list of numpy.ndarray
        Per layer, float64; the last layer is linear (its outputs are the logits).
    activation : Activation
        Applied after every layer but the last.
    """

    weights: list[Array]
    biases: list[Array]
    activation: Activation

    @property
    def widths(self) -> list[int]:
        """``[n_0, n_1, ..., n_L]``."""
        return [self.weights[0].shape[1]] + [w.shape[0] for w in self.weights]

    def copy(self) -> Model:
        """An independent copy (the arrays are copied)."""
        return Model(
            [w.copy() for w in self.weights], [b.copy() for b in self.biases], self.activation
        )


def network(
    network: Network | Sequence[int],
    activation: object = None,
    *,
    seed: int = 0,
    **options: Unpack[NetworkOptions],
) -> Model:
    """One draw of the random network ``network``, as a trainable :class:`Model`.

    Layer ``l``'s weights are ``initmath.init((n_out, n_in), scheme, distribution=...,
    gain=..., mode=..., std=..., rng=numpy.random.default_rng([seed, l]))``; its biases are
    zero, or, when ``bias_std > 0``, :math:`N(0, \\text{bias\\_std}^2)` from
    ``numpy.random.default_rng([seed, l, 1])``. ``input_std`` plays no part (the data are
    given).

    Parameters
    ----------
    network : Network or sequence of int
        The description (:class:`~initmath.engine.network.Network`), or the short form:
        widths ``[n_0, n_1, ..., n_L]`` (inputs, hidden widths, number of classes) with
        ``activation`` and ``**options`` (``scheme`` default ``"he"``, ``distribution``,
        ``gain``, ``mode``, ``std``, ``bias_std``). Every layer, the output layer included,
        uses the scheme.
    activation : str, tuple or Activation, optional
        With widths only: the hidden layers' activation (see :func:`initmath.activation`).
    seed : int
        :math:`\\ge 0`; the draw is a deterministic function of it.

    Returns
    -------
    Model
    """
    net = as_network(network, activation, **options)
    seed = integer(seed, "seed", minimum=0)
    weights = [
        init(
            layer.shape,
            net.scheme,
            distribution=net.distribution,
            gain=net.gain,
            mode=net.mode,
            std=net.std,
            rng=np.random.default_rng([seed, ell]),
        )
        for ell, layer in enumerate(net.layers)
    ]
    biases = [
        np.random.default_rng([seed, ell, 1]).normal(0.0, net.bias_std, layer.n_out)
        if net.bias_std > 0
        else np.zeros(layer.n_out)
        for ell, layer in enumerate(net.layers)
    ]
    return Model(weights, biases, net.activation)


def _check_net(net: object) -> Model:
    if not isinstance(net, Model):
        raise TypeError(f"net must be an initmath.practice.training.Model, got {net!r}")
    return net


def _as_inputs(net: Model, x: object, name: str = "x") -> Array:
    """``x`` as a finite float64 array of shape ``(n, n_0)`` with ``n >= 1``."""
    if x is None or isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a real array, got {x!r}")
    arr = np.asarray(x)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"{name} must be a real array, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if arr.ndim != 2 or arr.shape[1] != net.widths[0]:
        raise ValueError(f"{name} must have shape (n, {net.widths[0]}), got {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} must hold at least one example, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf)")
    return arr


def _as_labels(net: Model, y: object, n: int, name: str = "y") -> npt.NDArray[np.int64]:
    if y is None or isinstance(y, (str, bytes)):
        raise TypeError(f"{name} must be an integer array, got {y!r}")
    arr = np.asarray(y)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name} must be an integer array, got dtype {arr.dtype}")
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {arr.shape}")
    classes = net.widths[-1]
    if arr.size and (arr.min() < 0 or arr.max() >= classes):
        raise ValueError(
            f"{name} must be in [0, {classes}), got values in [{arr.min()}, {arr.max()}]"
        )
    return arr.astype(np.int64)


def forward(net: Model, x: object) -> tuple[Array, list[Array]]:
    """Logits and the pre-activations of every layer.

    Parameters
    ----------
    net : Model
    x : array_like, shape (n, n_0)

    Returns
    -------
    logits : numpy.ndarray, shape (n, n_L)
    pre_activations : list of numpy.ndarray
        :math:`z^\\ell` of each layer, shape ``(n_l, n)`` (units by examples).
    """
    zs, _ = _forward(_check_net(net), _as_inputs(_check_net(net), x))
    return zs[-1].T, zs


def _forward(net: Model, xs: Array) -> tuple[list[Array], list[Array]]:
    """Pre-activations z^1..z^L and the layer inputs h^0..h^(L-1) (units by examples)."""
    h = xs.T
    zs, hs = [], []
    last = len(net.weights) - 1
    for ell, (w, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        hs.append(h)
        z = w @ h + b[:, None]
        zs.append(z)
        if ell < last:
            h = net.activation.numpy(z)
    return zs, hs


def _log_softmax(logits: Array) -> Array:
    shifted = logits - logits.max(axis=0, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))


def _cross_entropy(logp: Array, labels: npt.NDArray[np.int64]) -> float:
    """Mean of -log p(label) over the examples (columns of ``logp``)."""
    return float(-logp[labels, np.arange(labels.size)].mean())


def loss_and_gradients(net: Model, x: object, y: object) -> tuple[float, list[Array], list[Array]]:
    """Mean softmax cross-entropy over the batch and its exact gradients.

    Parameters
    ----------
    net : Model
    x : array_like, shape (n, n_0)
    y : array_like of int, shape (n,)
        Class labels in ``[0, n_L)``.

    Returns
    -------
    loss : float
    grad_weights, grad_biases : list of numpy.ndarray
        Shaped like ``net.weights`` and ``net.biases``.
    """
    xs = _as_inputs(_check_net(net), x)
    labels = _as_labels(net, y, xs.shape[0])
    zs, hs = _forward(net, xs)
    n = xs.shape[0]
    logp = _log_softmax(zs[-1])
    loss = _cross_entropy(logp, labels)
    delta = np.exp(logp)
    delta[labels, np.arange(n)] -= 1.0
    delta /= n
    gw: list[Array] = [np.empty(0)] * len(net.weights)
    gb: list[Array] = [np.empty(0)] * len(net.weights)
    for ell in range(len(net.weights) - 1, -1, -1):
        gw[ell] = delta @ hs[ell].T
        gb[ell] = delta.sum(axis=1)
        if ell > 0:
            delta = net.activation.numpy_derivative(zs[ell - 1]) * (net.weights[ell].T @ delta)
    return loss, gw, gb


def accuracy(net: Model, x: object, y: object) -> float:
    """Fraction of the examples whose largest logit is their label."""
    _as_labels(_check_net(net), y, _as_inputs(net, x).shape[0])
    logits, _ = forward(net, x)
    labels = _as_labels(net, y, logits.shape[0])
    return float(np.mean(np.argmax(logits, axis=1) == labels))


@dataclass
class History:
    """What :func:`train` measured, at epoch 0 (before training) and after each epoch.

    Attributes
    ----------
    train_loss, train_accuracy : list of float
        Mean cross-entropy and accuracy on the whole training set.
    test_accuracy : list of float
        On the test set (empty without one).
    grad_norms : list of list of float
        Per epoch, the Frobenius norm of each layer's weight gradient on the first
        mini-batch of the epoch (layer 1 first): where the gradient vanishes or explodes.
    diverged_at : int or None
        The epoch whose loss was not finite; training stopped there.
    """

    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)
    grad_norms: list[list[float]] = field(default_factory=list)
    diverged_at: int | None = None

    def epochs_to(self, target: float, *, on: str = "test") -> int | None:
        """The first epoch at which the accuracy reached ``target`` (``None`` if never).

        ``target`` is a finite number; ``on`` is ``"test"`` or ``"train"``.
        """
        if isinstance(target, (bool, np.bool_)) or not isinstance(
            target, (int, float, np.floating, np.integer)
        ):
            raise TypeError(f"target must be a real number, got {target!r}")
        if not math.isfinite(target):
            raise ValueError(f"target must be finite, got {target!r}")
        on = choice(on, "on", ("test", "train"))
        values = self.test_accuracy if on == "test" else self.train_accuracy
        return next((e for e, a in enumerate(values) if a >= target), None)


def _record(
    history: History, net: Model, x: Array, y: Any, x_test: Array | None, y_test: Any
) -> float:
    logits, _ = forward(net, x)
    loss = _cross_entropy(_log_softmax(logits.T), y)
    history.train_loss.append(loss)
    history.train_accuracy.append(float(np.mean(np.argmax(logits, axis=1) == y)))
    if x_test is not None:
        history.test_accuracy.append(accuracy(net, x_test, y_test))
    return loss


def train(
    net: Model,
    x: object,
    y: object,
    *,
    x_test: object | None = None,
    y_test: object | None = None,
    epochs: int = 20,
    batch_size: int = 64,
    learning_rate: float = 0.01,
    momentum: float = 0.9,
    seed: int = 0,
) -> History:
    """Mini-batch SGD with momentum on the mean cross-entropy; ``net`` is updated in place.

    The update is :math:`v \\leftarrow \\mu v - \\eta g`, :math:`\\theta \\leftarrow \\theta +
    v`, for every weight and bias, with the examples in a new random order each epoch
    (``numpy.random.default_rng(seed)``).

    Parameters
    ----------
    net : Model
    x, y : array_like
        Training inputs ``(n, n_0)`` and integer labels ``(n,)``.
    x_test, y_test : array_like, optional
        A held-out set whose accuracy is recorded every epoch; give both or neither.
    epochs, batch_size : int
        ``>= 1``. The last mini-batch of an epoch may be smaller.
    learning_rate : float
        :math:`\\eta > 0`.
    momentum : float
        :math:`\\mu \\in [0, 1)`, a real number (not a string).
    seed : int
        Seed of the mini-batch order.

    Returns
    -------
    History
        Training stops early, with ``diverged_at`` set, if the loss stops being finite.

    Raises
    ------
    TypeError, ValueError
        Before any update: ``net`` not a Model; ``x``/``x_test`` not a finite real array
        of shape ``(n, n_0)`` with ``n >= 1``; labels not integers in ``[0, n_L)`` of length
        ``n``; only one of ``x_test`` and ``y_test``; ``epochs``, ``batch_size`` not
        integers >= 1; ``learning_rate`` not > 0; ``momentum`` not a number in ``[0, 1)``.
    """
    xs = _as_inputs(_check_net(net), x)
    ys = _as_labels(net, y, xs.shape[0])
    if (x_test is None) != (y_test is None):
        given, missing = ("x_test", "y_test") if y_test is None else ("y_test", "x_test")
        raise ValueError(f"{given} was given without {missing}: give both or neither")
    xt = None if x_test is None else _as_inputs(net, x_test, "x_test")
    yt = None if xt is None else _as_labels(net, y_test, xt.shape[0], "y_test")
    epochs = integer(epochs, "epochs", minimum=1)
    batch_size = integer(batch_size, "batch_size", minimum=1)
    eta = positive_real(learning_rate, "learning_rate")
    mu = nonnegative_real(momentum, "momentum")
    if not mu < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    rng = np.random.default_rng(integer(seed, "seed", minimum=0))
    vw = [np.zeros_like(w) for w in net.weights]
    vb = [np.zeros_like(b) for b in net.biases]
    history = History()
    _record(history, net, xs, ys, xt, yt)
    with np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(1, epochs + 1):
            order = rng.permutation(xs.shape[0])
            for start in range(0, xs.shape[0], batch_size):
                batch = order[start : start + batch_size]
                _, gw, gb = loss_and_gradients(net, xs[batch], ys[batch])
                if start == 0:
                    history.grad_norms.append([float(np.linalg.norm(g)) for g in gw])
                for ell in range(len(net.weights)):
                    vw[ell] = mu * vw[ell] - eta * gw[ell]
                    vb[ell] = mu * vb[ell] - eta * gb[ell]
                    net.weights[ell] += vw[ell]
                    net.biases[ell] += vb[ell]
            loss = _record(history, net, xs, ys, xt, yt)
            if not math.isfinite(loss):
                history.diverged_at = epoch
                break
    return history
