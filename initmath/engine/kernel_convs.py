r"""Convolutional layers in the Monte Carlo kernels (Numba): forward and backward.

A layer's geometry row (:meth:`initmath.engine.convolution.Convolution.geometry`) says its
kind -- dense, ordinary or transposed convolution -- and the ordinary convolution's
``c_in, h_in, w_in, c_out, h_out, w_out, kh, kw, sh, sw, ph, pw, groups, circular``. The
weights are drawn as the matrix ``(c_out, c_in/groups * kh * kw)`` (PyTorch's weight,
flattened: for a transposed layer its ``(C_in, C_out/G, *k)``, which is the same matrix),
by :func:`initmath.engine.kernel_draws.draw_weights` like a dense layer's, and then the
layer's biases, one per output channel.

The ordinary convolution is computed as a matrix product per group on the *columns* of its
input (im2col: one row per input channel of the group and tap, one column per output
position and input; zero-padded taps are zeros, circular ones wrap), and its adjoint -- the
backward pass, and a transposed layer's forward pass -- as the transposed product scattered
back onto the input's positions (col2im). Activations are ``(units, n_inputs)`` with unit
``(c * h + y) * w + x``.
"""

from __future__ import annotations

import numpy as np

from .jit import jit
from .kernel_draws import draw_weights, even, pre_activations, pull_back
from .kernel_source import CONV, DENSE
from .streams import fill_normal

__all__ = [
    "conv_adjoint",
    "conv_forward",
    "layer_pre_activations",
    "layer_pull_back",
]


@jit(inline="always")
def _source(geom: np.ndarray, y: int, dy: int, x: int, dx: int) -> int:
    """The input position (``iy * w_in + ix``) that tap (dy, dx) of output (y, x) reads,
    or -1 for a zero of the padding."""
    h_in, w_in = geom[2], geom[3]
    iy = y * geom[9] + dy - geom[11]
    ix = x * geom[10] + dx - geom[12]
    if geom[14]:  # circular
        iy %= h_in
        ix %= w_in
    elif iy < 0 or iy >= h_in or ix < 0 or ix >= w_in:
        return -1
    return iy * w_in + ix


@jit(inline="always")
def _run(geom: np.ndarray, dx: int) -> tuple[int, int]:
    """The outputs ``x0 <= x < x1`` whose tap ``dx`` reads inside the input's row (stride 1,
    zero padding): the run that im2col copies as one slice."""
    w_in, w_out, pw = geom[3], geom[6], geom[12]
    x0 = max(0, pw - dx)
    x1 = min(w_out, w_in + pw - dx)
    return x0, max(x0, x1)


@jit
def _transfer(
    image: np.ndarray, cols: np.ndarray, geom: np.ndarray, group: int, back: bool
) -> None:
    """Between a C-contiguous ``image`` (``(c_in * h_in * w_in, n)``) and the columns of
    group ``group`` (``(c_in/G * kh * kw, h_out * w_out * n)``): fill the columns from the
    image (im2col), or, ``back``, add them onto the image positions they came from (col2im).

    With stride 1 along the rows and zero padding, each output row's valid taps read one
    contiguous run of the image (``_run``), moved as a slice; otherwise entry by entry.
    """
    c_in, h_in, w_in = geom[1], geom[2], geom[3]
    h_out, w_out, kh, kw, groups = geom[5], geom[6], geom[7], geom[8], geom[13]
    cg = c_in // groups
    n = image.shape[1]
    flat = image.reshape(image.size)
    runs = geom[10] == 1 and not geom[14]
    for ci in range(cg):
        base_in = (group * cg + ci) * h_in * w_in
        for dy in range(kh):
            for dx in range(kw):
                r = (ci * kh + dy) * kw + dx
                x0, x1 = _run(geom, dx)
                for y in range(h_out):
                    if runs:
                        iy = y * geom[9] + dy - geom[11]
                        if iy < 0 or iy >= h_in or x1 == x0:
                            continue
                        src = (base_in + iy * w_in + x0 + dx - geom[12]) * n
                        col = (y * w_out + x0) * n
                        size = (x1 - x0) * n
                        if back:
                            flat[src : src + size] += cols[r, col : col + size]
                        else:
                            cols[r, col : col + size] = flat[src : src + size]
                        continue
                    for x in range(w_out):
                        at = _source(geom, y, dy, x, dx)
                        if at < 0:
                            continue
                        col = (y * w_out + x) * n
                        for s in range(n):
                            if back:
                                image[base_in + at, s] += cols[r, col + s]
                            else:
                                cols[r, col + s] = image[base_in + at, s]


@jit
def _columns(a: np.ndarray, geom: np.ndarray, group: int) -> np.ndarray:
    """im2col of group ``group``: ``(c_in/G * kh * kw, h_out * w_out * n)``, zeros where a
    tap falls in the zero padding."""
    cg, kk = geom[1] // geom[13], geom[7] * geom[8]
    cols = np.zeros((cg * kk, geom[5] * geom[6] * a.shape[1]))
    _transfer(np.ascontiguousarray(a), cols, geom, group, False)
    return cols


@jit
def conv_forward(w: np.ndarray, a: np.ndarray, geom: np.ndarray) -> np.ndarray:
    """The ordinary convolution of ``a`` (``(c_in * h_in * w_in, n)``) with the weight
    matrix ``w`` (``(c_out, c_in/G * kh * kw)``): ``(c_out * h_out * w_out, n)``."""
    c_out, positions, groups = geom[4], geom[5] * geom[6], geom[13]
    n = a.shape[1]
    og = c_out // groups
    z = np.empty((c_out * positions, n))
    rows = z.reshape((c_out, positions * n))
    for g in range(groups):
        wg = np.ascontiguousarray(w[g * og : (g + 1) * og, :])  # typed C for np.dot
        rows[g * og : (g + 1) * og, :] = np.dot(wg, _columns(a, geom, g))
    return z


@jit
def conv_adjoint(w: np.ndarray, delta: np.ndarray, geom: np.ndarray) -> np.ndarray:
    """The adjoint of :func:`conv_forward`: ``W^T delta`` for ``delta`` of the output's shape
    (``(c_out * h_out * w_out, n)``), ``(c_in * h_in * w_in, n)``."""
    c_in, c_out, positions, groups = geom[1], geom[4], geom[5] * geom[6], geom[13]
    n = delta.shape[1]
    og = c_out // groups
    out = np.zeros((c_in * geom[2] * geom[3], n))
    rows = np.ascontiguousarray(delta).reshape((c_out, positions * n))
    for g in range(groups):
        wg = np.ascontiguousarray(w[g * og : (g + 1) * og, :].T)
        cols = np.dot(wg, np.ascontiguousarray(rows[g * og : (g + 1) * og, :]))
        _transfer(out, cols, geom, g, True)
    return out


@jit
def layer_pre_activations(
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
    geom: np.ndarray,
) -> tuple[np.ndarray, int]:
    """A layer's pre-activations and the next stream position, whatever its kind: a dense
    layer's from :func:`~initmath.engine.kernel_draws.pre_activations`, a convolution's
    (ordinary: :func:`conv_forward`; transposed: :func:`conv_adjoint`) from its weight matrix
    and then one bias per output channel."""
    if geom[0] == DENSE:
        return pre_activations(k0, k1, stream, pos, dist, scale, cut, bias_std, a, width)
    w = np.empty((geom[4], geom[1] // geom[13] * geom[7] * geom[8]))
    pos = draw_weights(k0, k1, stream, pos, dist, scale, cut, w)
    z = conv_forward(w, a, geom) if geom[0] == CONV else conv_adjoint(w, a, geom)
    if bias_std > 0.0:
        channels = geom[4] if geom[0] == CONV else geom[1]
        positions = z.shape[0] // channels
        b = np.empty(channels)
        fill_normal(k0, k1, stream, pos, b)
        pos += even(channels)
        for u in range(z.shape[0]):
            bu = bias_std * b[u // positions]
            for s in range(z.shape[1]):
                z[u, s] += bu
    return z, pos


@jit
def layer_pull_back(
    k0: np.uint64,
    k1: np.uint64,
    stream: np.uint64,
    pos: int,
    dist: int,
    scale: float,
    cut: float,
    delta: np.ndarray,
    fan_in: int,
    geom: np.ndarray,
) -> np.ndarray:
    """:math:`W^T \\delta` for a layer of any kind, its weights regenerated at ``pos``
    (``fan_in``: the layer's input size)."""
    if geom[0] == DENSE:
        return pull_back(k0, k1, stream, pos, dist, scale, cut, delta, fan_in)
    w = np.empty((geom[4], geom[1] // geom[13] * geom[7] * geom[8]))
    draw_weights(k0, k1, stream, pos, dist, scale, cut, w)
    if geom[0] == CONV:
        return conv_adjoint(w, delta, geom)
    return conv_forward(w, np.ascontiguousarray(delta), geom)
