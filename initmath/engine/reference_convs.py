r"""Convolutions for the NumPy reference (:mod:`initmath.engine.reference`), batched over
networks.

Written independently of the kernels' im2col (:mod:`initmath.engine.kernel_convs`): the
input is padded (:func:`numpy.pad`, zeros or ``"wrap"``), and each tap :math:`t` of the
kernel adds one stacked :func:`numpy.matmul` of its weights with the strided view of the
padded input it reads; the adjoint adds each tap's product into a padded gradient, which is
then cropped (zeros) or folded back onto the positions it wraps to (circular). Activations
are ``(batch, units, n_inputs)`` with PyTorch's channel-major units; weights are
``(batch, *layer.shape)``, PyTorch's layout.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .convolution import Convolution

__all__ = ["conv_apply", "conv_apply_adjoint"]


def _spatial(shape: tuple[int, ...]) -> tuple[int, int]:
    return (1, shape[1]) if len(shape) == 2 else (shape[1], shape[2])


def _params(layer: Convolution) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """Kernel, stride and padding as (height, width) pairs (a 1-D layer has height 1)."""
    if len(layer.kernel) == 1:
        return (1, *layer.kernel), (1, *layer.stride), (0, *layer.padding)
    return layer.kernel, layer.stride, layer.padding


def _setup(layer: Convolution, w: np.ndarray) -> tuple[Any, ...]:
    """What both directions need: the ordinary convolution's channels, spatial sizes,
    kernel, stride and padding, and the weights by group,
    ``(cs, cd, (hs, ws), (hd, wd), (kh, kw), (sh, sw), (ph, pw), g, wt)`` with ``cs, cd``
    the channels per group and ``wt`` of shape ``(batch, G, cd, cs, kh, kw)``."""
    src, dst = layer.ordinary_shapes
    (kh, kw), stride, pad = _params(layer)
    g = layer.groups
    wt = w.reshape(w.shape[0], g, dst[0] // g, src[0] // g, kh, kw)
    return src[0] // g, dst[0] // g, _spatial(src), _spatial(dst), (kh, kw), stride, pad, g, wt


def _ordinary(layer: Convolution, w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The ordinary convolution: ``x`` of its input's size, the result of its output's."""
    cs, cd, (hs, ws), (hd, wd), (kh, kw), (sh, sw), (ph, pw), g, wt = _setup(layer, w)
    b, n = x.shape[0], x.shape[2]
    xs = x.reshape(b, g, cs, hs, ws, n)
    pads = ((0, 0), (0, 0), (0, 0), (ph, ph), (pw, pw), (0, 0))
    xp = np.pad(xs, pads, mode="wrap") if layer.padding_mode == "circular" else np.pad(xs, pads)
    z = np.zeros((b, g, cd, hd * wd * n))
    for dy in range(kh):
        for dx in range(kw):
            view = xp[:, :, :, dy : dy + sh * (hd - 1) + 1 : sh, dx : dx + sw * (wd - 1) + 1 : sw]
            z += np.matmul(wt[..., dy, dx], view.reshape(b, g, cs, hd * wd * n))
    return z.reshape(b, g * cd * hd * wd, n)


def _fold(a: np.ndarray, axis: int, size: int, pad: int, circular: bool) -> np.ndarray:
    """A padded axis back to ``size``: crop the zeros, or add the wrapped ends back."""
    if not circular:
        return np.take(a, np.arange(pad, pad + size), axis=axis)
    moved = np.moveaxis(a, axis, 0)
    out = np.zeros((size, *moved.shape[1:]))
    np.add.at(out, (np.arange(moved.shape[0]) - pad) % size, moved)
    return np.moveaxis(out, 0, axis)


def _adjoint(layer: Convolution, w: np.ndarray, d: np.ndarray) -> np.ndarray:
    """The ordinary convolution's adjoint: ``d`` of its output's size, the result of its
    input's."""
    cs, cd, (hs, ws), (hd, wd), (kh, kw), (sh, sw), (ph, pw), g, wt = _setup(layer, w)
    b, n = d.shape[0], d.shape[2]
    dd = d.reshape(b, g, cd, hd * wd * n)
    back = np.zeros((b, g, cs, hs + 2 * ph, ws + 2 * pw, n))
    for dy in range(kh):
        for dx in range(kw):
            part = np.matmul(np.swapaxes(wt[..., dy, dx], 2, 3), dd)
            back[:, :, :, dy : dy + sh * (hd - 1) + 1 : sh, dx : dx + sw * (wd - 1) + 1 : sw] += (
                part.reshape(b, g, cs, hd, wd, n)
            )
    circular = layer.padding_mode == "circular"
    back = _fold(_fold(back, 3, hs, ph, circular), 4, ws, pw, circular)
    return back.reshape(b, g * cs * hs * ws, n)


def conv_apply(layer: Convolution, w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The layer's :math:`W x` (no bias): ``(batch, n_out, n_inputs)``."""
    return _adjoint(layer, w, x) if layer.transposed else _ordinary(layer, w, x)


def conv_apply_adjoint(layer: Convolution, w: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """The layer's :math:`W^T \\delta`: ``(batch, n_in, n_inputs)``."""
    return _ordinary(layer, w, delta) if layer.transposed else _adjoint(layer, w, delta)
