"""The symmetry demo of the book chapter on random initialization (``book/random_init.md``).

:func:`constant_init_demo` trains a tiny tanh network with plain NumPy from a zero, constant
or random start and measures how different the units of each hidden layer are: with a
constant (or zero) start they never become different. It is the chapter's demo, too long for
a cell, and not part of the package (``book/`` is not installed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from initmath.weights.samplers import init as init_weights

__all__ = ["INITS", "SymmetryDemo", "constant_init_demo"]

#: The starting points :func:`constant_init_demo` knows.
INITS: tuple[str, ...] = ("zero", "constant", "random")


@dataclass(frozen=True)
class SymmetryDemo:
    """What :func:`constant_init_demo` measured; hidden layers are numbered from 1.

    Attributes
    ----------
    init : str
        ``"zero"``, ``"constant"`` or ``"random"``.
    widths : tuple of int
        ``(n0, n1, ..., nL)``.
    weight_spread_before, weight_spread_after : tuple of float
        Per hidden layer, the largest difference between two units of the layer in any of
        their incoming weights or their bias: ``max_j (max_i W_ij - min_i W_ij)`` over the
        columns of ``[W | b]``. Zero means that all units of the layer have the same
        parameters.
    activation_spread_before, activation_spread_after : tuple of float
        Per hidden layer, the largest difference between two units' activations on any of
        the training inputs.
    grad_spread : tuple of float
        Per hidden layer, the largest spread across units of the gradient of ``[W | b]``, over
        all steps: zero means every unit always received the same update.
    weight_change : tuple of float
        Per hidden layer, the largest absolute change of a weight or bias during training.
    loss : numpy.ndarray
        The training loss (half the mean squared error over the whole data set) before
        training and after each step.
    """

    init: str
    widths: tuple[int, ...]
    weight_spread_before: tuple[float, ...]
    weight_spread_after: tuple[float, ...]
    activation_spread_before: tuple[float, ...]
    activation_spread_after: tuple[float, ...]
    grad_spread: tuple[float, ...]
    weight_change: tuple[float, ...]
    loss: np.ndarray


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` with every output element summed in the same order.

    A BLAS may use different code paths (and so different rounding) for different rows of
    a product; this reduction treats every element alike, so identical rows give bitwise
    identical results.
    """
    return (a[:, :, None] * b[None, :, :]).sum(axis=1)


def _spread(x: np.ndarray) -> float:
    """Largest difference across units (axis 0) in any column."""
    return float(np.max(np.ptp(x, axis=0)))


def constant_init_demo(
    widths: Sequence[int] = (4, 8, 8, 1),
    init: str = "constant",
    *,
    value: float = 0.1,
    steps: int = 20,
    lr: float = 0.1,
    n_samples: int = 64,
    batch_size: int = 16,
    seed: int = 0,
    jitter: float = 0.0,
) -> SymmetryDemo:
    """Train a small tanh network by SGD and measure whether its units stay identical.

    The network is ``widths[0] -> ... -> widths[-1]``, tanh after every layer but the last
    (which is linear), biases initialized to zero. The data are ``n_samples`` standard
    normal inputs with standard normal targets (one per output unit), the same for every
    ``init`` with the same ``seed``; each step takes a random mini-batch of ``batch_size``
    and the loss is half the mean squared error.

    Parameters
    ----------
    widths : sequence of int
        Layer widths, input first (at least one hidden layer).
    init : {"zero", "constant", "random"}
        Every weight 0, every weight ``value``, or i.i.d. :math:`N(0, \\text{value}^2)`
        (:func:`initmath.init` with scheme ``"normal"``): the same scale, without symmetry.
    value : float
        The constant, or the standard deviation of the random weights.
    steps, lr, n_samples, batch_size, seed
        SGD steps, learning rate, data-set size, mini-batch size and seed (data, batches and
        random weights all come from ``numpy.random.default_rng(seed)``).
    jitter : float
        For ``"zero"`` and ``"constant"``: add i.i.d. :math:`N(0, \text{jitter}^2)` noise to
        the starting weights, a symmetry broken only slightly (default 0: not at all).

    Returns
    -------
    SymmetryDemo

    Examples
    --------
    >>> const = constant_init_demo(init="constant")
    >>> const.weight_spread_after, const.grad_spread
    ((0.0, 0.0), (0.0, 0.0))
    >>> min(constant_init_demo(init="random").weight_spread_after) > 0
    True
    """
    ws = [int(w) for w in widths]
    if len(ws) < 3 or min(ws) < 1:
        raise ValueError(
            f"widths needs an input, at least one hidden layer and an output, got {widths!r}"
        )
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    if steps < 1 or batch_size < 1 or n_samples < batch_size:
        raise ValueError("need steps >= 1 and 1 <= batch_size <= n_samples")
    if not jitter >= 0:
        raise ValueError(f"jitter must be >= 0, got {jitter!r}")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n_samples, ws[0]))
    y = rng.standard_normal((n_samples, ws[-1]))
    batches = [rng.choice(n_samples, size=batch_size, replace=False) for _ in range(steps)]
    wrng = np.random.default_rng([seed, 1])  # weights: their own stream, data unchanged
    n_layers = len(ws) - 1
    weights: list[np.ndarray] = []
    for ell in range(n_layers):
        shape = (ws[ell + 1], ws[ell])  # PyTorch layout: (out, in); units are rows
        if init == "random":
            weights.append(init_weights(shape, "normal", std=value, rng=wrng))
        else:
            w = np.full(shape, 0.0 if init == "zero" else float(value))
            if jitter > 0:
                w += jitter * wrng.standard_normal(shape)
            weights.append(w)
    biases = [np.zeros(ws[ell + 1]) for ell in range(n_layers)]
    start = [w.copy() for w in weights], [b.copy() for b in biases]

    def forward(inp: np.ndarray) -> list[np.ndarray]:
        acts = [inp.T]  # (units, samples)
        for ell in range(n_layers):
            z = _matmul(weights[ell], acts[-1]) + biases[ell][:, None]
            acts.append(np.tanh(z) if ell < n_layers - 1 else z)
        return acts

    def loss() -> float:
        out = forward(x)[-1]
        return float(0.5 * np.mean(np.sum((out - y.T) ** 2, axis=0)))

    hidden = range(n_layers - 1)

    def spreads() -> tuple[tuple[float, ...], tuple[float, ...]]:
        acts = forward(x)
        wsp = tuple(_spread(np.column_stack([weights[ell], biases[ell]])) for ell in hidden)
        asp = tuple(_spread(acts[ell + 1]) for ell in hidden)
        return wsp, asp

    w_before, a_before = spreads()
    grad_spread = np.zeros(n_layers - 1)
    losses = [loss()]
    for idx in batches:
        acts = forward(x[idx])
        delta = (acts[-1] - y[idx].T) / len(idx)  # d loss / d output pre-activation
        grads = []
        for ell in range(n_layers - 1, -1, -1):
            gw = _matmul(delta, acts[ell].T)
            gb = delta.sum(axis=1)
            grads.append((ell, gw, gb))
            if ell > 0:
                delta = _matmul(weights[ell].T, delta) * (1.0 - acts[ell] ** 2)
        for ell, gw, gb in grads:
            if ell < n_layers - 1:
                grad_spread[ell] = max(grad_spread[ell], _spread(np.column_stack([gw, gb])))
            weights[ell] -= lr * gw
            biases[ell] -= lr * gb
        losses.append(loss())
    w_after, a_after = spreads()
    change = tuple(
        float(
            max(
                np.max(np.abs(weights[ell] - start[0][ell])),
                np.max(np.abs(biases[ell] - start[1][ell])),
            )
        )
        for ell in hidden
    )
    return SymmetryDemo(
        init,
        tuple(ws),
        w_before,
        w_after,
        a_before,
        a_after,
        tuple(float(g) for g in grad_spread),
        change,
        np.array(losses),
    )
