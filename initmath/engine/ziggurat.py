r"""Fast addressable normals for Numba kernels: a ziggurat on Philox streams.

:func:`ziggurat_fill` makes normals several times as fast as the Box–Muller normals of
:mod:`initmath.engine.streams`, with Marsaglia and Tsang's (2000) 256-layer ziggurat on 32
bits per normal; the engine draws its Gaussian weights with it.
(:func:`initmath.engine.rng.ziggurat_normals` is its Python face.)

Box–Muller costs a log, a sqrt, a sin and a cos per pair; in the engine, where drawing
Gaussian weights is most of the work, that dominates. The ziggurat needs 32 random bits per
normal 98.5% of the time and no transcendental function. A textbook ziggurat takes the
words of a rejected draw from the words after it, so the position of a draw depends on the
draws before it; this one keeps normals addressable (normal :math:`j` is a pure function of
key, stream and :math:`j`):

* normal :math:`j` starts from half :math:`j \bmod 2` of stream word
  :math:`\lfloor j/2 \rfloor` (low half first);
* the rare draw that needs more bits (1.5%) takes them from its own *retry sequence*, word
  :math:`t` of which comes from the block at counter
  :math:`(j, 1 + \lfloor t/4 \rfloor, \text{stream}, 0)` (no stream word uses such a
  counter), instead of from the next words.

So each normal is an exact ziggurat draw on bits of its own, and the normals are
independent. Normal :math:`j` occupies half of stream word :math:`\lfloor j/2 \rfloor`; to
mix it with the other kinds in one stream, give it word positions of its own (the engine
draws ziggurat normals at normal position :math:`2p` for word position :math:`p`). A batch
is drawn in a branch-free pass over all candidates and a fix-up pass over the rejected ones
(the Notes of :func:`ziggurat_fill`).

Example
-------
>>> import numpy as np
>>> from initmath.engine.rng import seed_key
>>> k0, k1 = seed_key(0)
>>> whole, parts = np.empty(1000), np.empty(1000)
>>> ziggurat_fill(k0, k1, np.uint64(4), 3, whole)
>>> ziggurat_fill(k0, k1, np.uint64(4), 3, parts[:301])
>>> ziggurat_fill(k0, k1, np.uint64(4), 304, parts[301:])
>>> bool(np.array_equal(whole, parts))
True
"""

from __future__ import annotations

import math

import numpy as np

from .jit import jit
from .philox import IntLike, philox4x64_10, stream_arguments, stream_blocks
from .streams import word_uniform

__all__ = ["ziggurat_fill"]

_ZERO = np.uint64(0)
_ONE = np.uint64(1)
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
_ZIG_C = 256  # layers; R and V below are Marsaglia and Tsang's (2000) for 256 layers
_ZIG_R = 3.6541528853610088
_ZIG_V = 0.00492867323399
_ZIG_BITS = 23  # bits of the magnitude, as in NumPy's float32 ziggurat


def _ziggurat_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Edges x[0..C] (x[0] = V / f(R) the base strip's pseudo-width, x[1] = R, x[C] = 0),
    the integer acceptance bounds k[i] = ceil(2^23 x[i+1] / x[i]), the scales
    w[i] = x[i] 2^-23 and the density values f[i] = exp(-x[i]^2 / 2)."""
    x = np.empty(_ZIG_C + 1)
    f = math.exp(-0.5 * _ZIG_R * _ZIG_R)
    x[0] = _ZIG_V / f
    x[1] = _ZIG_R
    x[_ZIG_C] = 0.0
    for i in range(2, _ZIG_C):
        x[i] = math.sqrt(-2.0 * math.log(_ZIG_V / x[i - 1] + f))
        f = math.exp(-0.5 * x[i] * x[i])
    scale = 2.0**_ZIG_BITS
    bound = np.ceil(x[1:] / x[:-1] * scale).astype(np.uint64)
    return x, bound, x[:-1] / scale, np.exp(-0.5 * x * x)


_ZIG_X, _ZIG_K, _ZIG_W, _ZIG_F = _ziggurat_tables()
_LOW8 = np.uint64(_ZIG_C - 1)
_SIGN_BIT = np.uint64(_ZIG_C)
_SHIFT9 = np.uint64(9)
_BATCH = 512  # normals per pass: 256 words, 64 blocks; buffers stay in L1


@jit
def _retry_word(k0, k1, s, h, t):  # type: ignore[no-untyped-def]
    """Word t of the retry sequence of normal h: block (h, 1 + t // 4, s, 0), word t % 4."""
    b = philox4x64_10(h, _ONE + np.uint64(t >> 2), s, _ZERO, k0, k1)
    return b[t & 3]


@jit
def _ziggurat_slow(k0, k1, s, h, r):  # type: ignore[no-untyped-def]
    """Finish the ziggurat draw of normal h whose first 32 bits r failed the fast test."""
    t = 0
    while True:
        layer = np.int64(r & _LOW8)
        negative = (r & _SIGN_BIT) != _ZERO
        magnitude = r >> _SHIFT9
        if magnitude < _ZIG_K[layer]:  # only for a retry: the fast case
            x = np.float64(np.int64(magnitude)) * _ZIG_W[layer]
            return -x if negative else x
        if layer == 0:  # the tail beyond R (Marsaglia 1964)
            while True:
                a = word_uniform(_retry_word(k0, k1, s, h, t))
                b = word_uniform(_retry_word(k0, k1, s, h, t + 1))
                t += 2
                x = -math.log(1.0 - a) / _ZIG_R
                y = -math.log(1.0 - b)
                if 2.0 * y >= x * x:
                    return -(_ZIG_R + x) if negative else _ZIG_R + x
        # the wedge of layer i between x[i + 1] and x[i]: accept under the density
        x = np.float64(np.int64(magnitude)) * _ZIG_W[layer]
        u = word_uniform(_retry_word(k0, k1, s, h, t))
        t += 1
        if _ZIG_F[layer] + u * (_ZIG_F[layer + 1] - _ZIG_F[layer]) < math.exp(-0.5 * x * x):
            return -x if negative else x
        r = _retry_word(k0, k1, s, h, t) & _MASK32  # rejected: a fresh candidate
        t += 1


@jit
def _ziggurat_fast(r, std):  # type: ignore[no-untyped-def]
    """The fast-path candidate of 32 bits r, times std, and whether it is accepted."""
    layer = np.int64(r & _LOW8)
    magnitude = r >> _SHIFT9
    x = np.float64(np.int64(magnitude)) * _ZIG_W[layer] * std
    return (-x if (r & _SIGN_BIT) != _ZERO else x), magnitude < _ZIG_K[layer]


@jit
def _ziggurat_pairs(words, scale, out, j0, rejected, n_rejected):  # type: ignore[no-untyped-def]
    """The fast pass: out[2q], out[2q + 1] from the low and high halves of words[q]; append
    the batch index (j0 + position in out) of every rejected candidate to rejected, and
    return the new count. Appending every index and counting only the rejected ones keeps
    the loop free of branches."""
    for q in range(words.shape[0]):
        w = words[q]
        for half in range(2):
            r = (w >> _SHIFT32) if half else (w & _MASK32)
            out[2 * q + half], ok = _ziggurat_fast(r, scale)
            rejected[n_rejected] = j0 + 2 * q + half
            n_rejected += 0 if ok else 1
    return n_rejected


@jit
def ziggurat_fill(
    key0: IntLike,
    key1: IntLike,
    stream: IntLike,
    offset: IntLike,
    out: np.ndarray,
    std: float = 1.0,
) -> None:
    r"""Fill ``out`` with normals of standard deviation ``std`` by the ziggurat, from
    positions ``offset, offset + 1, ...`` of a stream.

    Callable from Python and from other Numba kernels (``prange`` included). Several times
    as fast as :func:`~initmath.engine.streams.fill_normal` and as NumPy's
    ``standard_normal`` (``benchmarks/bench_rng.py`` measures it); the engine draws its
    Gaussian weights with it.

    Parameters
    ----------
    key0, key1, stream
        As for :func:`~initmath.engine.streams.fill_uniform`.
    offset : int
        Position of ``out[0]``, ``>= 0``; ``out[k]`` is normal ``offset + k`` of the
        stream, whatever the split of a range of positions into calls.
    out : numpy.ndarray
        1-D float64 array, written in place.
    std : float, optional
        Every normal is multiplied by it.

    Raises
    ------
    ValueError
        If ``offset < 0`` (as :func:`~initmath.engine.streams.fill_uniform`).

    Notes
    -----
    Normal :math:`j` of a stream starts from the 32-bit half :math:`r` of the stream's
    64-bit word :math:`\lfloor j/2 \rfloor` (the low half for even :math:`j`, as NumPy's
    ``next_uint32`` splits Philox words): bits 0–7 pick a layer :math:`i` of Marsaglia and
    Tsang's (2000) 256-layer ziggurat, bit 8 the sign, bits 9–31 a magnitude
    :math:`m < 2^{23}`. The candidate is :math:`\pm m\,x_i 2^{-23}`, accepted at once if
    :math:`m < \lceil 2^{23} x_{i+1}/x_i \rceil` (98.5% of the time: the top layer, which
    has no core, always goes on). Otherwise the draw continues as the ordinary ziggurat
    (wedge test, Marsaglia's tail method beyond :math:`R = 3.654`, fresh candidates after
    a rejection), but every further word it needs comes from normal :math:`j`'s own *retry
    sequence*, word :math:`t` of which is output word :math:`t \bmod 4` of the block at counter
    :math:`(j, 1 + \lfloor t/4 \rfloor, \text{stream}, 0)`. Stream words use counters
    :math:`(b + 1, 0, \text{stream}, 0)`, so retry words never coincide with stream words
    nor with each other.

    Hence each normal is an exact ziggurat draw from bits nobody else uses: the normals are
    independent, and normal :math:`j` depends on nothing but the key, the stream and
    :math:`j`. A sequential ziggurat, which takes its retry words from the words after the
    candidate, cannot be cut into independent positions like this.

    A batch is drawn in two passes: all candidates without a branch (so that the compiler
    vectorizes it), then the few rejected ones. The magnitude has 23 bits, as in NumPy's
    float32 ziggurat: a normal is a multiple of :math:`x_i 2^{-23}` (at most
    :math:`4.7 \times 10^{-7}`) outside the rare slow path, far finer than any statistic
    the engine estimates.
    """
    k0, k1, s, off = stream_arguments(key0, key1, stream, offset)
    scale = np.float64(std)
    n = out.shape[0]
    words = np.empty(_BATCH // 2 + 8, np.uint64)
    rejected = np.empty(_BATCH, np.int64)  # indices in the batch, a list of n_rejected
    for start in range(0, n, _BATCH):
        m = min(_BATCH, n - start)
        h0 = off + start  # the batch's first position
        first_word = (h0 >> 1) & ~np.int64(3)  # the start of its first block
        n_blocks = (((h0 + m + 1) >> 1) - first_word + 3) >> 2
        n_blocks += n_blocks & 1
        stream_blocks(k0, k1, s, first_word >> 2, n_blocks, words)
        j0 = 0
        n_rejected = 0
        if h0 & 1:  # an odd first position: the high half of its word
            out[start], ok = _ziggurat_fast(words[(h0 >> 1) - first_word] >> _SHIFT32, scale)
            rejected[0] = 0
            n_rejected = 0 if ok else 1
            j0 = 1
        q0 = ((h0 + j0) >> 1) - first_word
        pairs = (m - j0) >> 1
        n_rejected = _ziggurat_pairs(
            words[q0 : q0 + pairs],
            scale,
            out[start + j0 : start + j0 + 2 * pairs],
            j0,
            rejected,
            n_rejected,
        )
        if j0 + 2 * pairs < m:  # an odd last position: the low half of its word
            out[start + m - 1], ok = _ziggurat_fast(words[q0 + pairs] & _MASK32, scale)
            rejected[n_rejected] = m - 1
            n_rejected += 0 if ok else 1
        for k in range(n_rejected):  # the fix-up pass, 1.5% of the positions
            j = rejected[k]
            h = h0 + j
            w = words[(h >> 1) - first_word]
            r = (w >> _SHIFT32) if h & 1 else (w & _MASK32)
            out[start + j] = _ziggurat_slow(k0, k1, s, np.uint64(h), r) * scale
