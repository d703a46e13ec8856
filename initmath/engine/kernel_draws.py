r"""What a simulated network draws from its random stream (Numba): its inputs, the weights
and biases of each layer, and the gradient injected for the backward pass.

Network :math:`i` draws everything from stream :math:`i` (:mod:`initmath.engine.philox`),
at word positions that follow one another in the order of the forward pass and are kept
even (:func:`even`), so that Box–Muller pairs never straddle two draws:

.. math::

    x^0,\; W^1, b^1,\; W^2, b^2,\; \dots,\; W^L, b^L,\; \delta^L.

A weight matrix is a pure function of its start position, so the backward pass regenerates
:math:`W^\ell` (:func:`pull_back`) instead of storing it. Gaussian weights come from the
ziggurat (:mod:`initmath.engine.ziggurat`), the inputs, biases and gradient from Box–Muller
normals (:mod:`initmath.engine.streams`). Every function is compiled with
:func:`initmath.engine.jit.jit` and called by the generated kernels
(:data:`initmath.engine.kernel_source.TEMPLATE`).
"""

from __future__ import annotations

import numpy as np

from .jit import jit
from .streams import fill_normal, fill_uniform
from .ziggurat import ziggurat_fill

__all__ = [
    "NORMAL",
    "ORTHOGONAL",
    "TRUNCATED_NORMAL",
    "UNIFORM",
    "draw_weights",
    "even",
    "network_input",
    "output_gradient",
    "pre_activations",
    "pull_back",
]


#: The ``dist`` codes of :func:`draw_weights`: its distributions of the weights.
NORMAL, UNIFORM, TRUNCATED_NORMAL, ORTHOGONAL = 0, 1, 2, 3


@jit(inline="always")
def even(n: int) -> int:
    """``n`` rounded up to even: normals come in Box–Muller pairs, so every block of stream
    positions is kept pair-aligned.

    Examples
    --------
    >>> even(5), even(6)
    (6, 6)
    """
    return n + (n & 1)


@jit
def _zig(k0, k1, stream, pos, out, std):  # type: ignore[no-untyped-def]
    """Ziggurat normals at word position pos (two per word); return the next even one."""
    ziggurat_fill(k0, k1, stream, 2 * pos, out, std)
    return pos + even((out.size + 1) >> 1)


@jit
def draw_weights(
    k0: np.uint64,
    k1: np.uint64,
    stream: np.uint64,
    pos: int,
    dist: int,
    scale: float,
    cut: float,
    w: np.ndarray,
) -> int:
    r"""Fill a weight matrix from word position ``pos`` of a stream; return the next (even)
    position.

    Gaussian weights come from the ziggurat (:mod:`initmath.engine.ziggurat`: half a 64-bit
    word per weight, no transcendental function in the common case): drawing them is most
    of the engine's work.

    Parameters
    ----------
    k0, k1 : numpy.uint64
        The key.
    stream : numpy.uint64
        The network's stream.
    pos : int
        The first word position to use, even.
    dist : int
        :data:`NORMAL`: :math:`N(0, \text{scale}^2)`. :data:`UNIFORM`:
        :math:`U(-\text{scale}, \text{scale})`, as :math:`(2U - 1)\,\text{scale}`.
        :data:`TRUNCATED_NORMAL`: :math:`\text{scale} \cdot Z` for the standard normals
        :math:`|Z| \le \text{cut}`, in order (the others are skipped). :data:`ORTHOGONAL`:
        :math:`\text{scale} \cdot Q` from the QR decomposition of a standard Gaussian
        matrix (of :math:`W^T` when ``w`` is wide), each column's sign made that of
        :math:`R`'s diagonal entry, so that :math:`Q` is Haar-distributed.
    scale : float
        The scale of the distribution (above), ``> 0``.
    cut : float
        The truncation, in units of the underlying normal's std (truncated normal only).
    w : numpy.ndarray
        ``(rows, cols)`` float64, C-contiguous, written in place.

    Returns
    -------
    int
        The first word position after the ones used.
    """
    rows, cols = w.shape
    n = rows * cols
    flat = w.reshape(n)
    if dist == NORMAL:
        return _zig(k0, k1, stream, pos, flat, scale)
    if dist == UNIFORM:
        fill_uniform(k0, k1, stream, pos, flat)
        for j in range(n):
            flat[j] = (2.0 * flat[j] - 1.0) * scale
        return pos + even(n)
    if dist == TRUNCATED_NORMAL:
        batch = np.empty(even(n + n // 16 + 16))
        filled = 0
        while filled < n:
            pos = _zig(k0, k1, stream, pos, batch, 1.0)
            for j in range(batch.size):
                if abs(batch[j]) <= cut:
                    flat[filled] = batch[j] * scale
                    filled += 1
                    if filled == n:
                        break
        return pos
    pos = _zig(k0, k1, stream, pos, flat, 1.0)
    if rows < cols:
        a = np.ascontiguousarray(w.T)
    else:
        a = w.copy()
    q, r = np.linalg.qr(a)
    for c in range(q.shape[1]):
        s = -1.0 if r[c, c] < 0 else 1.0
        for i in range(q.shape[0]):
            q[i, c] *= s * scale
    if rows < cols:
        w[:, :] = q.T
    else:
        w[:, :] = q
    return pos


@jit
def network_input(
    k0: np.uint64, k1: np.uint64, stream: np.uint64, width: int, n_inputs: int, input_std: float
) -> tuple[np.ndarray, int]:
    r"""The network's inputs :math:`x^0`, i.i.d. :math:`N(0, \text{input\_std}^2)`: Box–Muller
    normals from position 0 of its stream.

    Returns
    -------
    (x0, pos) : (numpy.ndarray, int)
        ``(width, n_inputs)`` float64, and the first stream position after them.
    """
    a = np.empty((width, n_inputs))
    fill_normal(k0, k1, stream, np.int64(0), a.reshape(width * n_inputs))
    for j in range(width):
        for s in range(n_inputs):
            a[j, s] *= input_std
    return a, even(width * n_inputs)


@jit
def pre_activations(
    k0: np.uint64,
    k1: np.uint64,
    stream: np.uint64,
    pos: int,
    dist: int,
    scale: float,
    cut: float,
    bias_std: float,
    a: np.ndarray,
    width: int,
) -> tuple[np.ndarray, int]:
    r"""One layer's pre-activations :math:`z = W a + b` for the previous layer's activations
    ``a`` (``(fan_in, n_inputs)``).

    :math:`W` (``(width, fan_in)``) comes from :func:`draw_weights` at ``pos``, then, when
    ``bias_std > 0``, the biases :math:`b \sim N(0, \text{bias\_std}^2)` (Box–Muller
    normals of the stream, the same for every input).

    Returns
    -------
    (z, pos) : (numpy.ndarray, int)
        ``(width, n_inputs)`` float64, and the first stream position after the ones used.
    """
    n_inputs = a.shape[1]
    w = np.empty((width, a.shape[0]))
    pos = draw_weights(k0, k1, stream, pos, dist, scale, cut, w)
    z = np.dot(w, a)
    if bias_std > 0.0:
        b = np.empty(width)
        fill_normal(k0, k1, stream, pos, b)
        pos += even(width)
        for u in range(width):
            for s in range(n_inputs):
                z[u, s] += bias_std * b[u]
    return z, pos


@jit
def output_gradient(
    k0: np.uint64, k1: np.uint64, stream: np.uint64, pos: int, width: int, n_inputs: int
) -> np.ndarray:
    """The gradient injected at the last layer's pre-activations: ``(width, n_inputs)``
    standard Box–Muller normals from position ``pos`` of the stream (after the forward
    pass's)."""
    delta = np.empty((width, n_inputs))
    fill_normal(k0, k1, stream, pos, delta.reshape(width * n_inputs))
    return delta


@jit
def pull_back(
    k0: np.uint64,
    k1: np.uint64,
    stream: np.uint64,
    pos: int,
    dist: int,
    scale: float,
    cut: float,
    delta: np.ndarray,
    fan_in: int,
) -> np.ndarray:
    r""":math:`W^T \delta` for the weights :math:`W` (``(delta.shape[0], fan_in)``) drawn at
    word position ``pos`` by :func:`draw_weights`: regenerated, not stored."""
    w = np.empty((delta.shape[0], fan_in))
    draw_weights(k0, k1, stream, pos, dist, scale, cut, w)
    return np.dot(w.T, delta)
