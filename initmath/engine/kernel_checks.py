r"""What a simulated network records of each layer, and when it stops (Numba).

After the pre-activations :math:`z^\ell` of a layer, :func:`check_forward` records their
second moment :math:`q^\ell = \overline{(z^\ell)^2}` and its status (:func:`classify`);
after the activations, :func:`check_activations` records their mean and the histograms;
going back, :func:`check_gradient` records the gradient's second moment, and
:func:`rescale` keeps the gradient scaled by an exact power of two. The status codes and
thresholds are those of :mod:`initmath.engine.kernel_source`.

A network whose value overflows or goes NaN stops (:func:`blown_up`): wherever a value would
have come later it gets the code ``AFTER_OVERFLOW`` / ``AFTER_NAN`` and no value, that is
the later layers of its forward pass and its whole backward pass (forward), or the lower
layers (backward). Every function is compiled with :func:`initmath.engine.jit.jit` and called
by the generated kernels (:data:`initmath.engine.kernel_source.TEMPLATE`); each writes only
the arrays it is given, so networks run in ``prange``.
"""

from __future__ import annotations

import math

import numpy as np

from .jit import jit
from .kernel_source import AFTER_NAN, AFTER_OVERFLOW, EXPLODE, NAN, OK, OVERFLOW, TINY, UNDERFLOW

__all__ = [
    "blown_up",
    "check_activations",
    "check_forward",
    "check_gradient",
    "classify",
    "max_width",
    "rescale",
]


@jit
def max_width(widths: np.ndarray) -> int:
    """The largest entry of a 1-D integer array (of at least one entry)."""
    widest = 0
    for k in range(widths.size):
        widest = max(widest, widths[k])
    return widest


@jit(inline="always")
def classify(v: float, nonzero: bool) -> int:
    r"""The status code of a per-network second moment :math:`v`.

    ``NAN`` if :math:`v` is NaN; ``OVERFLOW`` unless :math:`v \le` ``EXPLODE``
    (:math:`10^{150}`, infinity included); ``UNDERFLOW`` if :math:`v <` ``TINY``
    (:math:`2^{-1000}`) and either :math:`v > 0` or ``nonzero``; else ``OK``.

    Parameters
    ----------
    v : float
        A mean of squares.
    nonzero : bool
        The squared values were not all exactly zero (or an earlier layer underflowed), so
        :math:`v = 0` can only come from an underflow.

    Returns
    -------
    int
        One of the codes of :mod:`initmath.engine.kernel_source`.
    """
    if v != v:
        return NAN
    if not (v <= EXPLODE):
        return OVERFLOW
    if v < TINY and (v > 0.0 or nonzero):
        return UNDERFLOW
    return OK


@jit(inline="always")
def blown_up(code: int) -> bool:
    """Whether a status code stops the network (``OVERFLOW`` or ``NAN``)."""
    return code == OVERFLOW or code == NAN


@jit
def _mark(status, row, lo, hi, code):  # type: ignore[no-untyped-def]
    for m in range(lo, hi):
        status[row, m] = code


@jit
def _bin(x, lo, hi, nbins):  # type: ignore[no-untyped-def]
    if not (x >= lo and x < hi):
        return -1
    return int((x - lo) / (hi - lo) * nbins)


@jit
def check_forward(
    z: np.ndarray, layer: int, nonzero: bool, q_out: np.ndarray, status: np.ndarray
) -> int:
    r"""Record :math:`q = \overline{z^2}` of a layer and its status; return the status.

    Writes ``q_out[layer]`` and ``status[0, layer]`` (:func:`classify`, with ``nonzero``).
    On ``OVERFLOW`` or ``NAN`` it also marks, as after one, the later layers' ``q``, this
    and the later layers' mean and the whole backward pass (``status[2]``).
    """
    n_layers = status.shape[1]
    width, n_inputs = z.shape
    total = 0.0
    for u in range(width):
        for s in range(n_inputs):
            total += z[u, s] * z[u, s]
    q = total / (width * n_inputs)
    code = classify(q, nonzero)
    q_out[layer] = q
    status[0, layer] = code
    if blown_up(code):
        after = AFTER_OVERFLOW if code == OVERFLOW else AFTER_NAN
        _mark(status, 0, layer + 1, n_layers, after)
        _mark(status, 1, layer, n_layers, after)
        _mark(status, 2, 0, n_layers, after)
    return code


@jit
def check_activations(
    z: np.ndarray,
    a: np.ndarray,
    total: float,
    layer: int,
    hist_ranges: np.ndarray,
    mean_out: np.ndarray,
    status: np.ndarray,
    hist: np.ndarray,
) -> bool:
    r"""Record the mean of a layer's activations ``a`` (whose entries sum to ``total``), the
    histograms of ``z`` and ``a``, and the status; return whether the network stops.

    ``hist[0 | 1, layer]`` counts the entries of ``z`` / ``a`` in ``hist_ranges[0 | 1] =
    (lo, hi)`` in ``hist.shape[2]`` equal bins (none if 0). A mean that is not finite (an
    activation overflowed or went NaN) gets ``OVERFLOW`` or ``NAN`` in ``status[1, layer]``
    and marks the later layers and the backward pass; the network stops.
    """
    n_layers = status.shape[1]
    width, n_inputs = z.shape
    nbins = hist.shape[2]
    mean = total / (width * n_inputs)
    mean_out[layer] = mean
    if nbins > 0:
        for u in range(width):
            for s in range(n_inputs):
                k = _bin(z[u, s], hist_ranges[0, 0], hist_ranges[0, 1], nbins)
                if k >= 0:
                    hist[0, layer, k] += 1
                k = _bin(a[u, s], hist_ranges[1, 0], hist_ranges[1, 1], nbins)
                if k >= 0:
                    hist[1, layer, k] += 1
    if not math.isfinite(mean):
        code = NAN if mean != mean else OVERFLOW
        after = AFTER_OVERFLOW if code == OVERFLOW else AFTER_NAN
        status[1, layer] = code
        _mark(status, 0, layer + 1, n_layers, after)
        _mark(status, 1, layer + 1, n_layers, after)
        _mark(status, 2, 0, n_layers, after)
        return True
    status[1, layer] = OK
    return False


@jit
def check_gradient(
    delta: np.ndarray,
    e: int,
    layer: int,
    tainted: bool,
    hist_ranges: np.ndarray,
    grad_out: np.ndarray,
    status: np.ndarray,
    hist: np.ndarray,
) -> int:
    r"""Record the second moment of a layer's gradient :math:`\delta \cdot 2^e` and its
    status; return the status.

    ``grad_out[layer]`` is :math:`2^{2e}\,\overline{\delta^2}`, computed with
    :func:`math.ldexp` (exact unless it over- or underflows). ``status[2, layer]`` is its
    :func:`classify` code (a zero is an underflow if :math:`\delta` is not all zero or
    ``tainted``, i.e. a higher layer underflowed). On ``OVERFLOW`` or ``NAN`` the lower
    layers are marked and no histogram is counted; otherwise ``hist[2, layer]`` counts the
    entries of :math:`\delta \cdot 2^e` in ``hist_ranges[2]``.
    """
    width, n_inputs = delta.shape
    nbins = hist.shape[2]
    total = 0.0
    for u in range(width):
        for s in range(n_inputs):
            total += delta[u, s] * delta[u, s]
    g = math.ldexp(total / (width * n_inputs), 2 * e) if math.isfinite(total) else total
    code = classify(g, total > 0.0 or tainted)
    grad_out[layer] = g
    status[2, layer] = code
    if blown_up(code):
        _mark(status, 2, 0, layer, AFTER_OVERFLOW if code == OVERFLOW else AFTER_NAN)
        return code
    if nbins > 0:
        for u in range(width):
            for s in range(n_inputs):
                k = _bin(math.ldexp(delta[u, s], e), hist_ranges[2, 0], hist_ranges[2, 1], nbins)
                if k >= 0:
                    hist[2, layer, k] += 1
    return code


@jit
def rescale(delta: np.ndarray, big: float, finite: bool) -> int:
    r"""Scale ``delta`` in place by an exact power of two, :math:`2^{-s}`, that brings its
    largest magnitude ``big`` into :math:`[1/2, 1)`; return :math:`s`.

    The backward pass is linear in the gradient, so keeping it scaled loses nothing: its
    second moment stays representable from ``TINY`` to ``EXPLODE`` whatever the depth,
    bit for bit the value an unscaled pass would give where that one neither over- nor
    underflows. Nothing is done (and 0 returned) when ``delta`` is all zero or not finite:
    a non-finite entry is left for the next layer's :func:`check_gradient` to report.

    Parameters
    ----------
    delta : numpy.ndarray
        2-D float64, written in place.
    big : float
        :math:`\max |\delta|`.
    finite : bool
        Whether every entry is finite.

    Returns
    -------
    int
        The exponent :math:`s` (the true gradient is the scaled one times :math:`2^s`).
    """
    if not (finite and big > 0.0):
        return 0
    rows, cols = delta.shape
    shift = math.frexp(big)[1]  # big * 2**-shift is in [0.5, 1)
    if -1000 < shift < 1000:
        f = math.ldexp(1.0, -shift)
        for u in range(rows):
            for s in range(cols):
                delta[u, s] *= f  # exact: a power of two
    else:
        for u in range(rows):
            for s in range(cols):
                delta[u, s] = math.ldexp(delta[u, s], -shift)
    return shift
