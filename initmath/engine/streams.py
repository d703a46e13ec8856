r"""Uniforms and Box–Muller normals at any position of a Philox stream, for Numba kernels.

Position :math:`j` of a stream (:mod:`initmath.engine.philox`) is a pure function of the
key, the stream index and :math:`j`; the functions here fill an array with positions
``offset, offset + 1, ...`` and give the same value at a position however a range is split
into calls. :mod:`initmath.engine.rng` has their Python faces (with argument checks),
:mod:`initmath.engine.ziggurat` faster normals.

From words to numbers
---------------------
A uniform on :math:`[0, 1)` takes the top 53 bits of a word, as NumPy does
(:func:`word_uniform`): :math:`U = \lfloor w / 2^{11} \rfloor \cdot 2^{-53}`. So uniform
:math:`j` of stream :math:`t` of seed :math:`s` equals
``numpy.random.Generator(numpy.random.Philox(key=s, counter=t << 128)).random()`` number
:math:`j`, bit for bit.

Standard normals use the Box–Muller transform on the two uniforms of words
:math:`2m` and :math:`2m + 1` of the stream:

.. math::

    R = \sqrt{-2 \log(1 - U_{2m})}, \qquad \Theta = 2\pi U_{2m+1}, \qquad
    Z_{2m} = R\cos\Theta, \qquad Z_{2m+1} = R\sin\Theta.

:math:`1 - U \in (0, 1]` (exactly representable, never 0), so the logarithm is finite.
Box–Muller is exact in distribution for exact uniforms: with 53-bit uniforms the only
departures are the discreteness of :math:`U` and the truncation
:math:`|Z| \le \sqrt{106 \log 2} \approx 8.57`, both at probability :math:`\sim 2^{-53}`.
It has no rejection step, so normal :math:`j` always uses the same two words: normals are
addressable like uniforms. (The polar method and a textbook ziggurat reject, so the position
of a draw would depend on the draws before it.) Normal :math:`j` and uniform :math:`j` share
underlying words; to draw both kinds from one stream give them disjoint position ranges
starting at even positions, or use different streams.

Uniforms are exact and platform independent. Normals go through ``log``, ``sqrt``, ``cos``
and ``sin`` from the platform's math library: bit-identical on one machine, but a different
libm may change the last bit.

Example
-------
Network ``i`` of a ``prange`` kernel draws from stream ``i``::

    import numba
    import numpy as np
    from initmath.engine.jit import jit
    from initmath.engine.rng import seed_key
    from initmath.engine.streams import fill_normal

    @jit(parallel=True)
    def kernel(k0, k1, n_networks, width):
        out = np.empty((n_networks, width))
        for i in numba.prange(n_networks):
            fill_normal(k0, k1, i, 0, out[i])    # network i: stream i, positions 0..width-1
        return out

    k0, k1 = seed_key(1234)
    kernel(k0, k1, 1000, 256)
"""

from __future__ import annotations

import math

import numpy as np

from .jit import jit
from .philox import IntLike, stream_arguments, stream_block

__all__ = ["fill_normal", "fill_uniform", "word_uniform"]

_SHIFT11 = np.uint64(11)
_TWO_POW_M53 = 2.0**-53
_TWO_PI = 2.0 * math.pi


@jit
def word_uniform(w: np.uint64) -> float:
    r"""The uniform on :math:`[0, 1)` of a 64-bit word: :math:`\lfloor w / 2^{11} \rfloor
    \cdot 2^{-53}`, NumPy's ``random()`` of a Philox word.

    Parameters
    ----------
    w : numpy.uint64
        The word.

    Returns
    -------
    float
        Its top 53 bits as a multiple of :math:`2^{-53}`, exactly.

    Examples
    --------
    >>> word_uniform(np.uint64(2**64 - 1)) == 1 - 2.0**-53
    True
    """
    # via int64: exact (53 bits) and one instruction, where uint64 -> float64 is a branchy
    # sequence on x86-64
    return np.float64(np.int64(w >> _SHIFT11)) * _TWO_POW_M53


@jit
def _box_muller(w0, w1):  # type: ignore[no-untyped-def]
    """Two independent standard normals from two uint64 words."""
    r = math.sqrt(-2.0 * math.log(1.0 - word_uniform(w0)))
    theta = _TWO_PI * word_uniform(w1)
    return r * math.cos(theta), r * math.sin(theta)


@jit
def _uniform_block(k0, k1, stream, block):  # type: ignore[no-untyped-def]
    w0, w1, w2, w3 = stream_block(k0, k1, stream, block)
    return word_uniform(w0), word_uniform(w1), word_uniform(w2), word_uniform(w3)


@jit
def _normal_block(k0, k1, stream, block):  # type: ignore[no-untyped-def]
    w0, w1, w2, w3 = stream_block(k0, k1, stream, block)
    z0, z1 = _box_muller(w0, w1)
    z2, z3 = _box_muller(w2, w3)
    return z0, z1, z2, z3


@jit
def _block_values(normal, k0, k1, stream, block):  # type: ignore[no-untyped-def]
    """The four normals (``normal`` true) or uniforms of block ``block`` of a stream."""
    if normal:
        return _normal_block(k0, k1, stream, block)
    return _uniform_block(k0, k1, stream, block)


@jit
def _fill(normal, key0, key1, stream, offset, out):  # type: ignore[no-untyped-def]
    """Write positions offset, offset + 1, ... of a stream into ``out``.

    Normals if ``normal`` is true, else uniforms. (A flag, not a function argument: Numba
    cannot cache functions that take functions.) The partial blocks at either end are
    computed whole and cut.
    """
    k0, k1, s, off = stream_arguments(key0, key1, stream, offset)
    n = out.shape[0]
    b = np.uint64(off >> 2)
    skip = off & 3
    i = 0
    if skip != 0 and n > 0:  # head: the rest of a partly used block
        vals = _block_values(normal, k0, k1, s, b)
        for q in range(skip, min(4, skip + n)):
            out[i] = vals[q]
            i += 1
        b += np.uint64(1)
    while i + 4 <= n:  # whole blocks
        v0, v1, v2, v3 = _block_values(normal, k0, k1, s, b)
        out[i] = v0
        out[i + 1] = v1
        out[i + 2] = v2
        out[i + 3] = v3
        i += 4
        b += np.uint64(1)
    if i < n:  # tail: the start of a block
        vals = _block_values(normal, k0, k1, s, b)
        for q in range(n - i):
            out[i + q] = vals[q]


@jit
def fill_uniform(
    key0: IntLike, key1: IntLike, stream: IntLike, offset: IntLike, out: np.ndarray
) -> None:
    """Fill ``out`` with uniforms on [0, 1) from positions ``offset, offset + 1, ...``.

    Callable from Python and from other Numba kernels (``prange`` included).

    Parameters
    ----------
    key0, key1 : int
        The key, from :func:`initmath.engine.rng.seed_key`; taken as ``uint64``.
    stream : int
        The stream index, e.g. the network's; taken as ``uint64``.
    offset : int
        Position of ``out[0]`` in the stream, ``>= 0``; ``out[k]`` is position
        ``offset + k``, whatever the split of a range of positions into calls.
    out : numpy.ndarray
        1-D float64 array, written in place.

    Raises
    ------
    ValueError
        If ``offset < 0``.

    Notes
    -----
    Position ``j`` is ``(w >> 11) * 2**-53`` for the ``j``-th 64-bit word ``w`` of the
    stream, bit for bit NumPy's ``Generator(Philox(key=seed, counter=stream << 128))
    .random()`` sequence.
    """
    _fill(False, key0, key1, stream, offset, out)


@jit
def fill_normal(
    key0: IntLike, key1: IntLike, stream: IntLike, offset: IntLike, out: np.ndarray
) -> None:
    """Fill ``out`` with standard normals from positions ``offset, offset + 1, ...``.

    Like :func:`fill_uniform`, it can be called from Python and from Numba kernels.

    Parameters
    ----------
    key0, key1, stream
        As for :func:`fill_uniform`.
    offset : int
        Position of ``out[0]`` in the stream, ``>= 0``; ``out[k]`` is normal number
        ``offset + k`` of the stream, whatever the split of a range of positions into calls.
    out : numpy.ndarray
        1-D float64 array, written in place.

    Raises
    ------
    ValueError
        If ``offset < 0``, as :func:`fill_uniform`.

    Notes
    -----
    Normals ``2m`` and ``2m + 1`` are the Box–Muller pair of the stream's 64-bit words
    ``2m`` and ``2m + 1`` (module docstring).
    """
    _fill(True, key0, key1, stream, offset, out)
