r"""Residual connections inside the Monte Carlo kernels (Numba).

A layer with a skip (``initmath.engine.network.Dense.skip``) computes
:math:`z^e = z^s + \alpha (W^e x^{e-1} + b^e)` (ordering ``"pre"``) or
:math:`z^e = \phi(z^s) + \alpha (W^e x^{e-1} + b^e)` (``"post"``): forward,
:func:`add_skip` turns the layer's :math:`W x + b` into that, from the stored pre-activations
or activations of layer :math:`s`. Backward, the gradient with respect to :math:`z^s` gains
the block end's gradient, :math:`\delta^s = \phi'(z^s) \odot (W^{s+1})^T \delta^{s+1} +
\delta^e` (pre) or :math:`\delta^s = \phi'(z^s) \odot ((W^{s+1})^T \delta^{s+1} +
\delta^e)` (post), and the branch's last layer pulls back :math:`\alpha (W^e)^T \delta^e`;
both gradients are kept scaled by powers of two
(:func:`initmath.engine.kernel_checks.rescale`) with their own exponents, which
:func:`add_pending` reconciles exactly. Every function is compiled with
:func:`initmath.engine.jit.jit` and called by the generated kernels
(:data:`initmath.engine.kernel_source.TEMPLATE`)."""

from __future__ import annotations

import math

import numpy as np

from .jit import jit

__all__ = ["WAITING_NONE", "add_pending", "add_skip", "has_skips", "hold", "scale_rows"]

#: The exponent of ``pending_e`` for a layer no gradient waits for.
WAITING_NONE = -(2**62)


@jit
def has_skips(skip: np.ndarray) -> bool:
    """Whether any layer of ``skip`` (one entry per layer, -1 for none) has a skip."""
    for k in range(skip.size):
        if skip[k] >= 0:
            return True
    return False


@jit
def add_skip(
    z: np.ndarray, layer: int, skip: np.ndarray, alpha: np.ndarray, zs: np.ndarray
) -> bool:
    r"""In place, a layer's :math:`z = W x + b` becomes
    :math:`\alpha z + z^{\text{skip}}` (the stored pre-activations ``zs[skip[layer]]``);
    nothing for a layer without a skip. Returns whether it added a skip."""
    source = skip[layer]
    if source < 0:
        return False
    a = alpha[layer]
    rows, cols = z.shape
    for u in range(rows):
        for s in range(cols):
            z[u, s] = a * z[u, s] + zs[source, u, s]
    return True


@jit
def hold(
    delta: np.ndarray,
    e: int,
    layer: int,
    skip: np.ndarray,
    pending: np.ndarray,
    pending_e: np.ndarray,
) -> None:
    """Backward, at a block end: keep its gradient (scaled by :math:`2^e`) for the layer its
    skip comes from; nothing for a layer without a skip."""
    source = skip[layer]
    if source < 0:
        return
    rows, cols = delta.shape
    for u in range(rows):
        for s in range(cols):
            pending[source, u, s] = delta[u, s]
    pending_e[source] = e


@jit
def scale_rows(back: np.ndarray, alpha: float) -> None:
    r"""In place, :math:`\text{back} \leftarrow \alpha\,\text{back}` (the branch multiplier
    on the pulled-back gradient); nothing when :math:`\alpha = 1`."""
    if alpha == 1.0:
        return
    rows, cols = back.shape
    for u in range(rows):
        for s in range(cols):
            back[u, s] *= alpha


@jit
def add_pending(
    delta: np.ndarray,
    e: int,
    big: float,
    finite: bool,
    layer: int,
    pending: np.ndarray,
    pending_e: np.ndarray,
) -> tuple[int, float, bool]:
    r"""Backward, at the layer a skip comes from: in place, the scaled sum of its gradient
    :math:`\delta 2^e` and the one waiting for it, :math:`p\,2^{p_e}`, expressed at the
    larger exponent so that nothing overflows. Returns ``(exponent, max |entry|, whether
    every entry is finite)`` of the new ``delta``; ``(e, big, finite)`` unchanged when no
    gradient waits for ``layer``.

    The shift of the smaller one is by an exact power of two (:func:`math.ldexp`), so the sum
    is the one an unscaled pass would compute wherever neither over- nor underflows.
    """
    pe = pending_e[layer]
    if pe == WAITING_NONE:
        return e, big, finite
    rows, cols = delta.shape
    top = max(e, pe)
    big = 0.0
    finite = True
    for u in range(rows):
        for s in range(cols):
            v = math.ldexp(delta[u, s], e - top) + math.ldexp(pending[layer, u, s], pe - top)
            delta[u, s] = v
            if abs(v) > big:
                big = abs(v)
            if not math.isfinite(v):
                finite = False
    return top, big, finite
