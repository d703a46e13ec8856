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
from typing import Unpack

import numpy as np
import numpy.typing as npt

from ..core.checks import choice, integer, nonnegative_real, positive_real
from ..engine.network import Network, NetworkOptions, as_network
from ..theory.activations import Activation
from ..weights.samplers import init

__all__ = [
    "History",
    "Model",
    "accuracy",
    "forward",
    "loss_and_gradients",
    "network",
    "train",
    "train_many",
]

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
    readout_gain: float | None = None,
    **options: Unpack[NetworkOptions],
) -> Model:
    """One draw of the random network ``network``, as a trainable :class:`Model`.

    Layer ``l``'s weights are ``initmath.init((n_out, n_in), scheme, distribution=...,
    gain=..., mode=..., std=..., rng=numpy.random.default_rng([seed, l]))``; its biases are
    zero, or, when ``bias_std > 0``, :math:`N(0, \\text{bias\\_std}^2)` from
    ``numpy.random.default_rng([seed, l, 1])``. ``input_std`` plays no part (the data are
    given).

    With ``readout_gain`` :math:`g` the output (readout) layer is drawn apart from the
    scheme: its weights are :math:`N(0, g^2/n_{L-1})` (standard normals from
    ``numpy.random.default_rng([seed, L - 1])`` times :math:`g/\\sqrt{n_{L-1}}`; zero for
    :math:`g = 0`). A logit then has variance :math:`g^2\\,E[(h^{L-1})^2]` whatever the
    hidden layers' scheme, and for a small :math:`g` the initial loss is close to
    :math:`\\ln n_L`, the cross-entropy of a uniform guess.

    Parameters
    ----------
    network : Network or sequence of int
        The description (:class:`~initmath.engine.network.Network`), or the short form:
        widths ``[n_0, n_1, ..., n_L]`` (inputs, hidden widths, number of classes) with
        ``activation`` and ``**options`` (``scheme`` default ``"he"``, ``distribution``,
        ``gain``, ``mode``, ``std``, ``bias_std``). Every layer, the output layer included,
        uses the scheme unless ``readout_gain`` is given.
    activation : str, tuple or Activation, optional
        With widths only: the hidden layers' activation (see :func:`initmath.activation`).
    seed : int
        :math:`\\ge 0`; the draw is a deterministic function of it.
    readout_gain : float, optional
        :math:`g \\ge 0`, the scale of the output layer (above); ``None`` draws it by the
        scheme like the other layers.

    Returns
    -------
    Model

    Raises
    ------
    TypeError, ValueError
        An invalid network description or option, ``seed`` not an integer :math:`\\ge 0`,
        ``readout_gain`` not a real number :math:`\\ge 0`.
    """
    net = as_network(network, activation, **options)
    net.require_plain("initmath.practice.training.network")
    seed = integer(seed, "seed", minimum=0)
    gain = None if readout_gain is None else nonnegative_real(readout_gain, "readout_gain")
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
    if gain is not None:
        last = len(net.layers) - 1
        shape = net.layers[last].shape
        readout = np.random.default_rng([seed, last]).standard_normal(shape)
        weights[last] = (gain / math.sqrt(shape[1])) * readout
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


def _as_list(value: object, name: str, count: int) -> list[object]:
    """``value`` repeated ``count`` times, or its items if it is a sequence of ``count``."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
        return [value] * count
    items = list(value)
    if len(items) != count:
        raise ValueError(f"{name} must be one value or one per network ({count}), got {value!r}")
    return items


def _check_nets(nets: object) -> list[Model]:
    if isinstance(nets, Model) or not isinstance(nets, Sequence) or len(nets) == 0:
        raise TypeError(f"nets must be a non-empty sequence of Model, got {nets!r}")
    models = [_check_net(n) for n in nets]
    first = models[0]
    for m in models[1:]:
        if m.widths != first.widths or m.activation != first.activation:
            raise ValueError(
                "nets must share their widths and activation, got "
                f"{first.widths} ({first.activation.name}) and {m.widths} ({m.activation.name})"
            )
    if len({id(m) for m in models}) != len(models):
        raise ValueError("nets must be distinct Model objects (each is trained in place)")
    return models


class _Stack:
    """The parameters of ``M`` networks of one architecture, stacked on a leading axis."""

    def __init__(self, nets: list[Model]) -> None:
        self.activation = nets[0].activation
        self.weights = [
            np.stack([n.weights[ell] for n in nets]) for ell in range(len(nets[0].weights))
        ]
        self.biases = [
            np.stack([n.biases[ell] for n in nets]) for ell in range(len(nets[0].biases))
        ]

    def logits(self, xs: Array) -> Array:
        """Logits ``(M, n_L, n)`` of the inputs ``xs`` ``(n_0, n)`` (shared by the networks)."""
        h = xs
        last = len(self.weights) - 1
        for ell, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = w @ h + b[:, :, None]
            if ell < last:
                h = self.activation.numpy(h)
        return h

    def loss_and_gradients(
        self, xs: Array, labels: npt.NDArray[np.int64]
    ) -> tuple[list[Array], list[Array]]:
        """Gradients of each network's mean cross-entropy on its own batch.

        ``xs`` is ``(M, n_0, B)``, ``labels`` ``(M, B)``; the same recursion as
        :func:`loss_and_gradients`, on every network at once.
        """
        h = xs
        zs, hs = [], []
        last = len(self.weights) - 1
        for ell, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            hs.append(h)
            z = w @ h + b[:, :, None]
            zs.append(z)
            if ell < last:
                h = self.activation.numpy(z)
        m, n = labels.shape
        rows, cols = np.arange(m)[:, None], np.arange(n)[None, :]
        delta = np.exp(_log_softmax_rows(zs[-1]))
        delta[rows, labels, cols] -= 1.0
        delta /= n
        gw: list[Array] = [np.empty(0)] * len(self.weights)
        gb: list[Array] = [np.empty(0)] * len(self.weights)
        for ell in range(last, -1, -1):
            gw[ell] = delta @ hs[ell].swapaxes(-1, -2)
            gb[ell] = delta.sum(axis=-1)
            if ell > 0:
                back = self.weights[ell].swapaxes(-1, -2) @ delta
                delta = self.activation.numpy_derivative(zs[ell - 1]) * back
        return gw, gb


def _log_softmax_rows(logits: Array) -> Array:
    """Log-softmax over the class axis (``-2``) of ``(M, n_L, n)`` logits."""
    shifted = logits - logits.max(axis=-2, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-2, keepdims=True))


def _record(
    histories: list[History],
    active: list[bool],
    stack: _Stack,
    x: Array,
    y: npt.NDArray[np.int64],
    x_test: Array | None,
    y_test: npt.NDArray[np.int64] | None,
) -> list[float]:
    """Append the training loss and accuracies of every active network; return the losses."""
    logits = stack.logits(x.T)
    with np.errstate(all="ignore"):
        logp = _log_softmax_rows(logits)
    losses = [float(-logp[m, y, np.arange(y.size)].mean()) for m in range(len(histories))]
    hits = np.argmax(logits, axis=-2) == y
    test_hits = None
    if x_test is not None:
        test_hits = np.argmax(stack.logits(x_test.T), axis=-2) == y_test
    for m, h in enumerate(histories):
        if active[m]:
            h.train_loss.append(losses[m])
            h.train_accuracy.append(float(np.mean(hits[m])))
            if test_hits is not None:
                h.test_accuracy.append(float(np.mean(test_hits[m])))
    return losses


def train_many(
    nets: Sequence[Model],
    x: object,
    y: object,
    *,
    x_test: object | None = None,
    y_test: object | None = None,
    epochs: int = 20,
    batch_size: int = 64,
    learning_rate: float | Sequence[float] = 0.01,
    momentum: float = 0.9,
    seed: int | Sequence[int] = 0,
) -> list[History]:
    r"""Train several networks of one architecture at once, each as :func:`train` would.

    Network ``m`` gets its own learning rate ``learning_rate[m]`` and mini-batch order
    ``numpy.random.default_rng(seed[m])``; the networks are stacked on a leading axis, so
    that one pass of NumPy calls updates all of them (a learning-rate sweep over seeds costs
    little more than one run when the layers are small). Nothing is shared between the
    networks but the data: the result for each is that of :func:`train` on it alone.

    Parameters
    ----------
    nets : sequence of Model
        Distinct models with the same widths and activation; each is updated in place.
    x, y, x_test, y_test, epochs, batch_size, momentum
        As for :func:`train`.
    learning_rate : float or sequence of float
        One :math:`\eta > 0` for every network, or one per network.
    seed : int or sequence of int
        One mini-batch seed for every network, or one per network.

    Returns
    -------
    list of History
        One per network, in order. A network whose loss stops being finite stops there
        (``diverged_at``; its parameters are those of that epoch); the others go on.

    Raises
    ------
    TypeError, ValueError
        As :func:`train`, and ``nets`` not a non-empty sequence of distinct models sharing
        widths and activation, or ``learning_rate``/``seed`` sequences of the wrong length.
    """
    models = _check_nets(nets)
    first = models[0]
    xs = _as_inputs(first, x)
    ys = _as_labels(first, y, xs.shape[0])
    if (x_test is None) != (y_test is None):
        given, missing = ("x_test", "y_test") if y_test is None else ("y_test", "x_test")
        raise ValueError(f"{given} was given without {missing}: give both or neither")
    xt = None if x_test is None else _as_inputs(first, x_test, "x_test")
    yt = None if xt is None else _as_labels(first, y_test, xt.shape[0], "y_test")
    epochs = integer(epochs, "epochs", minimum=1)
    batch_size = integer(batch_size, "batch_size", minimum=1)
    count = len(models)
    etas = np.array(
        [positive_real(v, "learning_rate") for v in _as_list(learning_rate, "learning_rate", count)]
    )
    mu = nonnegative_real(momentum, "momentum")
    if not mu < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
    rngs = [
        np.random.default_rng(integer(v, "seed", minimum=0)) for v in _as_list(seed, "seed", count)
    ]
    stack = _Stack(models)
    vw = [np.zeros_like(w) for w in stack.weights]
    vb = [np.zeros_like(b) for b in stack.biases]
    histories = [History() for _ in models]
    active = [True] * count
    final: list[tuple[list[Array], list[Array]] | None] = [None] * count
    eta_w, eta_b = etas[:, None, None], etas[:, None]
    n = xs.shape[0]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        _record(histories, active, stack, xs, ys, xt, yt)
        for epoch in range(1, epochs + 1):
            orders = np.stack([rng.permutation(n) for rng in rngs])
            for start in range(0, n, batch_size):
                batch = orders[:, start : start + batch_size]
                gw, gb = stack.loss_and_gradients(xs[batch].swapaxes(-1, -2), ys[batch])
                if start == 0:
                    norms = np.stack([np.linalg.norm(g, axis=(-2, -1)) for g in gw], axis=1)
                    for m, h in enumerate(histories):
                        if active[m]:
                            h.grad_norms.append([float(v) for v in norms[m]])
                for ell in range(len(stack.weights)):
                    vw[ell] = mu * vw[ell] - eta_w * gw[ell]
                    vb[ell] = mu * vb[ell] - eta_b * gb[ell]
                    stack.weights[ell] += vw[ell]
                    stack.biases[ell] += vb[ell]
            losses = _record(histories, active, stack, xs, ys, xt, yt)
            for m in range(count):
                if active[m] and not math.isfinite(losses[m]):
                    histories[m].diverged_at = epoch
                    active[m] = False
                    final[m] = (
                        [w[m].copy() for w in stack.weights],
                        [b[m].copy() for b in stack.biases],
                    )
                    for arrays in (stack.weights, stack.biases, vw, vb):
                        for a in arrays:
                            a[m] = 0.0  # a diverged network is frozen (and kept finite)
            if not any(active):
                break
    for m, net in enumerate(models):
        weights, biases = final[m] or ([w[m] for w in stack.weights], [b[m] for b in stack.biases])
        for ell in range(len(net.weights)):
            np.copyto(net.weights[ell], weights[ell])
            np.copyto(net.biases[ell], biases[ell])
    return histories


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

    The update is :math:`u \\leftarrow \\beta u - \\eta g`, :math:`\\theta \\leftarrow
    \\theta + u`, for every weight and bias (:math:`u` the velocity, :math:`\\beta` the
    momentum), with the examples in a new random order each epoch
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
        :math:`\\beta \\in [0, 1)`, a real number (not a string).
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

    See Also
    --------
    train_many : the same for several networks at once (a learning-rate sweep).
    """
    net = _check_net(net)
    if isinstance(learning_rate, (Sequence, np.ndarray)) and not isinstance(learning_rate, str):
        raise TypeError(f"learning_rate must be a real number, got {learning_rate!r}")
    if isinstance(seed, (Sequence, np.ndarray)) and not isinstance(seed, str):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    return train_many(
        [net],
        x,
        y,
        x_test=x_test,
        y_test=y_test,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        momentum=momentum,
        seed=seed,
    )[0]
