r"""Normalization layers inside the Monte Carlo kernels (Numba): LayerNorm and BatchNorm at
initialization (scale 1, shift 0), as PyTorch computes them in training mode.

A layer's pre-activations :math:`z` (units × inputs) are normalized in groups: LayerNorm
over the units of each input (:data:`LAYER`), BatchNorm over the inputs of each unit
(:data:`BATCH`, the inputs of one network being its batch),

.. math::

    \hat z = \frac{z - \bar z}{\sqrt{\sigma^2 + \epsilon}}, \qquad
    \sigma^2 = \overline{(z - \bar z)^2}

(the biased variance, as ``torch.nn.LayerNorm`` and ``torch.nn.BatchNorm1d`` use to
normalize). Backward, with :math:`m` the group's size,

.. math::

    \frac{\partial L}{\partial z} = \frac{1}{\sqrt{\sigma^2 + \epsilon}}
    \big(\delta - \bar\delta - \hat z\,\overline{\delta \hat z}\big),

:func:`norm_back`, exact for any :math:`\epsilon`. Every function is compiled with
:func:`initmath.engine.jit.jit` and called by the generated kernels
(:data:`initmath.engine.kernel_source.TEMPLATE`).
"""

from __future__ import annotations

import math

import numpy as np

from .jit import jit

__all__ = ["BATCH", "LAYER", "NONE", "has_norms", "norm_back", "normalize"]

#: The normalization codes of a layer (``norms`` of the kernels).
NONE, LAYER, BATCH = 0, 1, 2


@jit
def has_norms(norms: np.ndarray) -> bool:
    """Whether any layer of ``norms`` (one code per layer) is normalized."""
    for k in range(norms.size):
        if norms[k] != NONE:
            return True
    return False


@jit
def normalize(z: np.ndarray, kind: int, eps: float, zh: np.ndarray, inv: np.ndarray) -> None:
    r"""In place, :math:`z \leftarrow \hat z`; keeps :math:`\hat z` in ``zh`` (the same
    shape) and each group's :math:`1/\sqrt{\sigma^2 + \epsilon}` in ``inv`` (one per input
    for :data:`LAYER`, one per unit for :data:`BATCH`), for :func:`norm_back`."""
    rows, cols = z.shape
    if kind == LAYER:
        for s in range(cols):
            mean = 0.0
            for u in range(rows):
                mean += z[u, s]
            mean /= rows
            var = 0.0
            for u in range(rows):
                d = z[u, s] - mean
                var += d * d
            var /= rows
            f = 1.0 / math.sqrt(var + eps)
            inv[s] = f
            for u in range(rows):
                v = (z[u, s] - mean) * f
                z[u, s] = v
                zh[u, s] = v
        return
    for u in range(rows):
        mean = 0.0
        for s in range(cols):
            mean += z[u, s]
        mean /= cols
        var = 0.0
        for s in range(cols):
            d = z[u, s] - mean
            var += d * d
        var /= cols
        f = 1.0 / math.sqrt(var + eps)
        inv[u] = f
        for s in range(cols):
            v = (z[u, s] - mean) * f
            z[u, s] = v
            zh[u, s] = v


@jit
def norm_back(
    delta: np.ndarray, kind: int, zh: np.ndarray, inv: np.ndarray, alpha: float
) -> np.ndarray:
    r"""The gradient with respect to the pre-normalization :math:`z` of
    :math:`\alpha\,\hat z`, from the gradient ``delta`` with respect to the layer's output:
    :math:`\alpha\,f\,(\delta - \bar\delta - \hat z\,\overline{\delta \hat z})`,
    :math:`f = 1/\sqrt{\sigma^2 + \epsilon}`, over each group (exact for any
    :math:`\epsilon`: :math:`\hat z` already holds the :math:`\epsilon`)."""
    rows, cols = delta.shape
    out = np.empty((rows, cols))
    if kind == LAYER:
        for s in range(cols):
            md, mdz = 0.0, 0.0
            for u in range(rows):
                md += delta[u, s]
                mdz += delta[u, s] * zh[u, s]
            md /= rows
            c = mdz / rows
            f = alpha * inv[s]
            for u in range(rows):
                out[u, s] = f * (delta[u, s] - md - zh[u, s] * c)
        return out
    for u in range(rows):
        md, mdz = 0.0, 0.0
        for s in range(cols):
            md += delta[u, s]
            mdz += delta[u, s] * zh[u, s]
        md /= cols
        c = mdz / cols
        f = alpha * inv[u]
        for s in range(cols):
            out[u, s] = f * (delta[u, s] - md - zh[u, s] * c)
    return out
