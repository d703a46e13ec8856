r"""Counter-based random numbers for Numba kernels: Philox4x64-10 streams.

The Monte Carlo engine runs ``numba.prange`` over independent random networks. Network
``i`` must see the same random numbers for a given seed whatever the thread count and
whatever chunk of networks a process runs, so nothing here has state: every draw is a pure
function of a *key* (from the seed), a *stream* index (the network) and a *position* in
that stream. Kernels compute the draws they need from those three numbers.

The generator: Philox4x64-10
----------------------------
Philox (Salmon, Moraes, Dror and Shaw, "Parallel random numbers: as easy as 1, 2, 3",
SC 2011; the Random123 library) is a keyed bijection of a counter block. Philox4x64-10, the
variant :class:`numpy.random.Philox` implements, acts on a counter of four 64-bit words
:math:`(c_0, c_1, c_2, c_3)` with a key of two 64-bit words :math:`(k_0, k_1)`. One round is

.. math::

    (c_0, c_1, c_2, c_3) \mapsto
    \bigl(\operatorname{hi}(M_1 c_2) \oplus c_1 \oplus k_0,\;
          \operatorname{lo}(M_1 c_2),\;
          \operatorname{hi}(M_0 c_0) \oplus c_3 \oplus k_1,\;
          \operatorname{lo}(M_0 c_0)\bigr),

where :math:`\operatorname{hi}` and :math:`\operatorname{lo}` are the high and low 64 bits
of the 128-bit product, :math:`M_0 = \mathtt{0xD2E7470EE14C6C93}` and
:math:`M_1 = \mathtt{0xCA5A826395121157}`. Between rounds the key is bumped by the Weyl
constants :math:`(\mathtt{0x9E3779B97F4A7C15}, \mathtt{0xBB67AE8584CAA73B})` modulo
:math:`2^{64}`; ten rounds make one block, :func:`philox4x64_10`, which turns one counter
value into four 64-bit outputs. The tests check it bit for bit against NumPy and against
the Random123 known-answer vectors.

(:func:`philox4x32_10`, the 32-bit-word variant with multipliers ``0xD2511F53``,
``0xCD9E8D57`` and Weyl constants ``0x9E3779B9``, ``0xBB67AE85``, is here too, checked
against the Random123 known-answer vectors, but the streams below do not use it: NumPy's
Philox is the 64-bit one, so only that one can be checked against NumPy, and it makes
twice the bits per round.)

Streams
-------
A seed :math:`s \in [0, 2^{128})` *is* the key: :math:`k_0 + 2^{64} k_1 = s`
(:func:`seed_key`). Word :math:`j = 0, 1, 2, \dots` of stream :math:`t \in [0, 2^{64})` is
output word :math:`j \bmod 4` of the block at counter

.. math::

    C(t, j) = t \cdot 2^{128} + \lfloor j/4 \rfloor + 1,
    \qquad\text{i.e.}\qquad (c_0, c_1, c_2, c_3) = (\lfloor j/4 \rfloor + 1,\; 0,\; t,\; 0).

That is exactly NumPy's sequence: stream ``t`` of seed ``s`` is
``numpy.random.Philox(key=s, counter=t << 128).random_raw()`` (NumPy adds one to the
counter before each block, hence the ``+ 1``), so uniforms from :func:`fill_uniform` equal
``numpy.random.Generator(numpy.random.Philox(key=s, counter=t << 128)).random()`` bit for
bit.

*Streams cannot overlap.* For a fixed key a Philox block is a bijection of the 256-bit
counter, so distinct counters give distinct blocks; the counters of stream :math:`t` all lie
in :math:`[t \cdot 2^{128} + 1, (t + 1) \cdot 2^{128})` (a stream would have to pass
:math:`2^{130}` draws to leave it; positions here are ``int64``, below :math:`2^{63}`), and
these ranges are disjoint for distinct :math:`t`. Different seeds are different keys, hence
different permutations. No hashing is involved, so the scheme can be re-derived by hand and
checked against NumPy.

From words to numbers
---------------------
A uniform on :math:`[0, 1)` takes the top 53 bits of a word, as NumPy does:
:math:`U = \lfloor w / 2^{11} \rfloor \cdot 2^{-53}`.

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
addressable like uniforms. (The polar method and NumPy's ziggurat reject, so the position of
a draw would depend on the draws before it.) Normal :math:`j` and uniform :math:`j` share
underlying words; to draw both kinds from one stream give them disjoint position ranges
starting at even positions, or use different streams.

Guarantees
----------
* Every function is pure (no global state, ``nogil``), hence safe in ``prange``.
* The value at a position never depends on how an array is split into calls, nor on the
  thread count.
* Uniforms are exact and platform independent. Normals go through ``log``, ``sqrt``,
  ``cos`` and ``sin`` from the platform's math library: bit-identical on one machine, but a
  different libm may change the last bit.

Using it in a kernel
--------------------
Get the key in Python, pass it into the kernel, give each network its stream::

    import numba
    import numpy as np
    from initmath.rng import fill_normal, jit, seed_key

    @jit(parallel=True)
    def kernel(k0, k1, n_networks, width):
        out = np.empty((n_networks, width))
        for i in numba.prange(n_networks):
            fill_normal(k0, k1, i, 0, out[i])    # network i: stream i, positions 0..width-1
        return out

    k0, k1 = seed_key(1234)
    kernel(k0, k1, 1000, 256)

Pass the key words as the ``numpy.uint64`` that :func:`seed_key` returns: once a jitted
function has an ``int64`` version compiled, Numba tries it first for a plain Python int and
raises ``OverflowError`` for one of ``2**63`` or more. Numba's disk cache of a kernel does
not notice edits to the functions it calls in other modules: after changing this module,
clear the cache of kernels that use it (their ``__pycache__/*.nbi``, ``*.nbc``).

Example
-------
>>> import numpy as np
>>> from initmath.rng import normals, uniforms
>>> u = uniforms(42, stream=3, n=6)
>>> numpy_stream = np.random.Generator(np.random.Philox(key=42, counter=3 << 128))
>>> bool(np.array_equal(u, numpy_stream.random(6)))
True
>>> z = normals(42, stream=3, n=10)
>>> bool(np.array_equal(z[4:], normals(42, stream=3, n=6, offset=4)))
True
"""

from __future__ import annotations

import functools
import math
import numbers

import numba
import numpy as np
import numpy.typing as npt
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

__all__ = [
    "jit",
    "philox4x64_10",
    "philox4x32_10",
    "seed_key",
    "fill_uniform",
    "fill_normal",
    "uniforms",
    "normals",
    "ziggurat_fill",
    "ziggurat_normals",
]

#: The decorator of every kernel here: compiled once, cached to disk, releases the GIL.
#: Use it for kernels that call these functions too, e.g. ``@jit(parallel=True)``.
jit = functools.partial(numba.njit, cache=True, nogil=True)

# All integer constants are np.uint64: Numba types a mix of signed and unsigned 64-bit
# integers as float64, so no plain Python int may meet a word in arithmetic.
_ZERO = np.uint64(0)
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)
_SHIFT11 = np.uint64(11)

# Philox4x64 multipliers and Weyl key increments (Salmon et al. 2011, Random123).
_PHILOX_M4x64_0 = np.uint64(0xD2E7470EE14C6C93)
_PHILOX_M4x64_1 = np.uint64(0xCA5A826395121157)
_PHILOX_W64_0 = np.uint64(0x9E3779B97F4A7C15)
_PHILOX_W64_1 = np.uint64(0xBB67AE8584CAA73B)

# Philox4x32 multipliers and Weyl key increments.
_PHILOX_M4x32_0 = np.uint64(0xD2511F53)
_PHILOX_M4x32_1 = np.uint64(0xCD9E8D57)
_PHILOX_W32_0 = np.uint64(0x9E3779B9)
_PHILOX_W32_1 = np.uint64(0xBB67AE85)

_TWO_POW_M53 = 2.0**-53
_TWO_PI = 2.0 * math.pi

_U64 = 1 << 64
_MAX_POSITION = 1 << 62  # offsets and offset + n stay well inside int64


@intrinsic
def _mulhi64(typingctx, a, b):  # type: ignore[no-untyped-def]
    """High 64 bits of the 128-bit product of two uint64 (one LLVM ``i128`` multiply)."""
    if a != types.uint64 or b != types.uint64:
        return None

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        i128 = ir.IntType(128)
        product = builder.mul(builder.zext(args[0], i128), builder.zext(args[1], i128))
        return builder.trunc(builder.lshr(product, ir.Constant(i128, 64)), ir.IntType(64))

    return types.uint64(types.uint64, types.uint64), codegen


@jit
def philox4x64_10(
    c0: int, c1: int, c2: int, c3: int, k0: int, k1: int
) -> tuple[int, int, int, int]:
    """The Philox4x64-10 block function: four 64-bit words from a counter and a key.

    Parameters
    ----------
    c0, c1, c2, c3 : int
        The 256-bit counter, least significant word first; each is taken as ``uint64``.
    k0, k1 : int
        The 128-bit key, least significant word first; each is taken as ``uint64``.

    Returns
    -------
    tuple of four numpy.uint64
        The block. ``numpy.random.Philox(key=k, counter=c).random_raw(4)`` is this block at
        counter ``c + 1``.

    Examples
    --------
    Random123's known-answer vector for the all-zero counter and key:

    >>> [hex(w) for w in philox4x64_10(0, 0, 0, 0, 0, 0)]
    ['0x16554d9eca36314c', '0xdb20fe9d672d0fdc', '0xd7e772cee186176b', '0x7e68b68aec7ba23b']
    """
    x0 = np.uint64(c0)
    x1 = np.uint64(c1)
    x2 = np.uint64(c2)
    x3 = np.uint64(c3)
    y0 = np.uint64(k0)
    y1 = np.uint64(k1)
    for r in range(10):
        if r > 0:
            y0 += _PHILOX_W64_0
            y1 += _PHILOX_W64_1
        hi0 = _mulhi64(_PHILOX_M4x64_0, x0)
        lo0 = _PHILOX_M4x64_0 * x0
        hi1 = _mulhi64(_PHILOX_M4x64_1, x2)
        lo1 = _PHILOX_M4x64_1 * x2
        x0, x1, x2, x3 = hi1 ^ x1 ^ y0, lo1, hi0 ^ x3 ^ y1, lo0
    return x0, x1, x2, x3


@jit
def philox4x32_10(
    c0: int, c1: int, c2: int, c3: int, k0: int, k1: int
) -> tuple[int, int, int, int]:
    """The Philox4x32-10 block function: four 32-bit words from a counter and a key.

    Computed on ``uint64`` words masked to 32 bits (a 32 x 32-bit product fits in 64 bits).
    Not used by the streams of this module (see the module docstring).

    Parameters
    ----------
    c0, c1, c2, c3 : int
        The 128-bit counter, least significant word first; the low 32 bits of each are used.
    k0, k1 : int
        The 64-bit key, least significant word first; the low 32 bits of each are used.

    Returns
    -------
    tuple of four numpy.uint64
        The block, each word below ``2**32``.

    Examples
    --------
    Random123's known-answer vector for the all-ones counter and key:

    >>> [hex(w) for w in philox4x32_10(*[0xFFFFFFFF] * 6)]
    ['0x408f276d', '0x41c83b0e', '0xa20bc7c6', '0x6d5451fd']
    """
    x0 = np.uint64(c0) & _MASK32
    x1 = np.uint64(c1) & _MASK32
    x2 = np.uint64(c2) & _MASK32
    x3 = np.uint64(c3) & _MASK32
    y0 = np.uint64(k0) & _MASK32
    y1 = np.uint64(k1) & _MASK32
    for r in range(10):
        if r > 0:
            y0 = (y0 + _PHILOX_W32_0) & _MASK32
            y1 = (y1 + _PHILOX_W32_1) & _MASK32
        p0 = _PHILOX_M4x32_0 * x0
        p1 = _PHILOX_M4x32_1 * x2
        x0, x1, x2, x3 = (
            (p1 >> _SHIFT32) ^ x1 ^ y0,
            p1 & _MASK32,
            (p0 >> _SHIFT32) ^ x3 ^ y1,
            p0 & _MASK32,
        )
    return x0, x1, x2, x3


def _as_index(value: object, name: str, bound: int) -> int:
    """``value`` as a Python int in ``[0, bound)``; TypeError or ValueError otherwise."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Integral, np.integer)):
        raise TypeError(f"{name} must be an int, got {value!r}")
    value = int(value)
    if not 0 <= value < bound:
        raise ValueError(f"{name} must be in [0, {bound}), got {value}")
    return value


def seed_key(seed: int) -> tuple[np.uint64, np.uint64]:
    """The Philox key of a seed: the seed itself, split into two 64-bit words.

    Parameters
    ----------
    seed : int
        In ``[0, 2**128)``.

    Returns
    -------
    (k0, k1) : tuple of two numpy.uint64
        ``seed == k0 + 2**64 * k1``; the ``key`` of ``numpy.random.Philox(key=seed)``.
        Pass them to :func:`fill_normal` and :func:`fill_uniform` (inside kernels too).

    Raises
    ------
    TypeError
        If ``seed`` is not an integer (``bool`` included).
    ValueError
        If ``seed`` is negative or at least ``2**128``.

    Examples
    --------
    >>> [int(word) for word in seed_key(2**64 + 5)]
    [5, 1]
    """
    s = _as_index(seed, "seed", _U64 * _U64)
    return np.uint64(s % _U64), np.uint64(s // _U64)


@jit
def _block(k0, k1, stream, block):  # type: ignore[no-untyped-def]
    """Block ``block`` of stream ``stream`` (all uint64): counter (block + 1, 0, stream, 0)."""
    return philox4x64_10(block + np.uint64(1), _ZERO, stream, _ZERO, k0, k1)


@jit
def _uniform(w):  # type: ignore[no-untyped-def]
    """The uniform on [0, 1) from the top 53 bits of a uint64 word."""
    # via int64: exact (53 bits) and one instruction, where uint64 -> float64 is a branchy
    # sequence on x86-64
    return np.float64(np.int64(w >> _SHIFT11)) * _TWO_POW_M53


@jit
def _box_muller(w0, w1):  # type: ignore[no-untyped-def]
    """Two independent standard normals from two uint64 words."""
    r = math.sqrt(-2.0 * math.log(1.0 - _uniform(w0)))
    theta = _TWO_PI * _uniform(w1)
    return r * math.cos(theta), r * math.sin(theta)


@jit
def _uniform_block(k0, k1, stream, block):  # type: ignore[no-untyped-def]
    w0, w1, w2, w3 = _block(k0, k1, stream, block)
    return _uniform(w0), _uniform(w1), _uniform(w2), _uniform(w3)


@jit
def _normal_block(k0, k1, stream, block):  # type: ignore[no-untyped-def]
    w0, w1, w2, w3 = _block(k0, k1, stream, block)
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
    off = np.int64(offset)
    if off < 0:
        raise ValueError("offset must be >= 0")
    k0 = np.uint64(key0)
    k1 = np.uint64(key1)
    s = np.uint64(stream)
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
def fill_uniform(key0: int, key1: int, stream: int, offset: int, out: np.ndarray) -> None:
    """Fill ``out`` with uniforms on [0, 1) from positions ``offset, offset + 1, ...``.

    Callable from Python and from other Numba kernels (``prange`` included).

    Parameters
    ----------
    key0, key1 : int
        The key, from :func:`seed_key`; taken as ``uint64``.
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
def fill_normal(key0: int, key1: int, stream: int, offset: int, out: np.ndarray) -> None:
    """Fill ``out`` with standard normals from positions ``offset, offset + 1, ...``.

    Callable from Python and from other Numba kernels (``prange`` included).

    Parameters
    ----------
    key0, key1 : int
        The key, from :func:`seed_key`; taken as ``uint64``.
    stream : int
        The stream index, e.g. the network's; taken as ``uint64``.
    offset : int
        Position of ``out[0]`` in the stream, ``>= 0``; ``out[k]`` is normal number
        ``offset + k`` of the stream, whatever the split of a range of positions into calls.
    out : numpy.ndarray
        1-D float64 array, written in place.

    Raises
    ------
    ValueError
        If ``offset < 0``.

    Notes
    -----
    Normals ``2m`` and ``2m + 1`` are the Box–Muller pair of the stream's 64-bit words
    ``2m`` and ``2m + 1`` (module docstring).
    """
    _fill(True, key0, key1, stream, offset, out)


def _draw(fill, seed: int, stream: int, n: int, offset: int) -> npt.NDArray[np.float64]:
    k0, k1 = seed_key(seed)
    s = _as_index(stream, "stream", _U64)
    n = _as_index(n, "n", _MAX_POSITION)
    offset = _as_index(offset, "offset", _MAX_POSITION - n)
    out = np.empty(n, dtype=np.float64)
    fill(k0, k1, np.uint64(s), np.int64(offset), out)
    return out


def uniforms(seed: int, stream: int, n: int, offset: int = 0) -> npt.NDArray[np.float64]:
    """Uniforms on [0, 1): positions ``offset`` to ``offset + n - 1`` of a stream.

    Parameters
    ----------
    seed : int
        In ``[0, 2**128)``; see :func:`seed_key`.
    stream : int
        In ``[0, 2**64)``.
    n : int
        How many, ``>= 0``.
    offset : int, optional
        The first position, ``>= 0``.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(n,)``; equal to
        ``Generator(Philox(key=seed, counter=stream << 128)).random(offset + n)[offset:]``.

    Raises
    ------
    TypeError, ValueError
        For a non-integer or out-of-range argument.
    """
    return _draw(fill_uniform, seed, stream, n, offset)


def normals(seed: int, stream: int, n: int, offset: int = 0) -> npt.NDArray[np.float64]:
    """Standard normals: positions ``offset`` to ``offset + n - 1`` of a stream.

    Parameters
    ----------
    seed : int
        In ``[0, 2**128)``; see :func:`seed_key`.
    stream : int
        In ``[0, 2**64)``.
    n : int
        How many, ``>= 0``.
    offset : int, optional
        The first position, ``>= 0``.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(n,)``; ``normals(seed, stream, n, offset)`` equals
        ``normals(seed, stream, offset + n)[offset:]``.

    Raises
    ------
    TypeError, ValueError
        For a non-integer or out-of-range argument.

    Examples
    --------
    >>> z = normals(0, stream=7, n=100_000)
    >>> bool(abs(z.mean()) < 0.02 and abs(z.var() - 1) < 0.02)
    True
    """
    return _draw(fill_normal, seed, stream, n, offset)


# -- sequential fast normals: the ziggurat ---------------------------------------------------
# Box-Muller costs a log, a sqrt, a sin and a cos per pair; in the engine, where drawing
# Gaussian weights is most of the work, that dominates. The ziggurat of Marsaglia and Tsang
# (2000), in Doornik's (2005) ZIGNOR form with independent bits for the layer and the
# uniform, needs one 64-bit word per normal about 99% of the time and no transcendental
# function. It rejects, so draws are not addressable one by one: a run of them starts at a
# word position and reports where it ended, which is all the engine needs (it records the
# position at which each layer's weights start and can redraw them from there).
_ZIG_C = 128  # Doornik (2005): R and V below are for 128 layers
_ZIG_R = 3.442619855899
_ZIG_V = 9.91256303526217e-3


def _ziggurat_tables() -> tuple[np.ndarray, np.ndarray]:
    """Doornik's table: x[0..C] layer edges (x[1] = R, x[C] = 0) and r[i] = x[i+1] / x[i]."""
    x = np.empty(_ZIG_C + 1)
    f = math.exp(-0.5 * _ZIG_R * _ZIG_R)
    x[0] = _ZIG_V / f
    x[1] = _ZIG_R
    x[_ZIG_C] = 0.0
    for i in range(2, _ZIG_C):
        x[i] = math.sqrt(-2.0 * math.log(_ZIG_V / x[i - 1] + f))
        f = math.exp(-0.5 * x[i] * x[i])
    return x, x[1:] / x[:-1]


_ZIG_X, _ZIG_RATIO = _ziggurat_tables()
_LOW7 = np.uint64(_ZIG_C - 1)


@jit
def _word(k0, k1, s, p):  # type: ignore[no-untyped-def]
    """Word at position p of a stream (computes its whole block; callers cache)."""
    w = _block(k0, k1, s, np.uint64(p >> 2))
    return w[p & 3]


@jit
def ziggurat_fill(key0: int, key1: int, stream: int, pos: int, out: np.ndarray) -> int:
    """Fill ``out`` with standard normals by the ziggurat, reading the stream's 64-bit words
    from position ``pos``; return the position after the last word used.

    Each normal takes one word (53 bits for a uniform on (-1, 1), the low 7 bits, which
    the uniform does not use, for the layer), plus more only in the rare rejection and tail
    steps. Deterministic for a given (key, stream, pos), so a range of draws can be
    repeated by calling again from the same ``pos``.
    """
    k0 = np.uint64(key0)
    k1 = np.uint64(key1)
    s = np.uint64(stream)
    p = np.int64(pos)
    n = out.shape[0]
    i = 0
    while i < n:
        words = _block(k0, k1, s, np.uint64(p >> 2))
        q = p & 3
        # The common case, one word per normal, runs through a block's words in a loop;
        # the rare slow steps fetch their extra words by position.
        while q < 4 and i < n:
            w = words[q]
            q += 1
            p += 1
            u = 2.0 * _uniform(w) - 1.0
            layer = np.int64(w & _LOW7)
            if abs(u) < _ZIG_RATIO[layer]:
                out[i] = u * _ZIG_X[layer]
                i += 1
                continue
            if layer == 0:  # the tail beyond R
                while True:
                    a = _uniform(_word(k0, k1, s, p))
                    b = _uniform(_word(k0, k1, s, p + 1))
                    p += 2
                    x = math.log(1.0 - a) / _ZIG_R
                    y = math.log(1.0 - b)
                    if -2.0 * y >= x * x:
                        break
                out[i] = x - _ZIG_R if u < 0 else _ZIG_R - x
                i += 1
                break  # p moved past this block's remaining words: refetch
            x = u * _ZIG_X[layer]
            f0 = math.exp(-0.5 * (_ZIG_X[layer] * _ZIG_X[layer] - x * x))
            f1 = math.exp(-0.5 * (_ZIG_X[layer + 1] * _ZIG_X[layer + 1] - x * x))
            b = _uniform(_word(k0, k1, s, p))
            p += 1
            if f1 + b * (f0 - f1) < 1.0:
                out[i] = x
                i += 1
            break  # p moved: refetch
    return p


def ziggurat_normals(seed: int, stream: int, n: int, pos: int = 0) -> tuple[npt.NDArray[np.float64], int]:
    """``n`` ziggurat normals from word position ``pos`` of a stream, and the next position.

    Examples
    --------
    >>> z, end = ziggurat_normals(0, stream=1, n=100_000)
    >>> bool(abs(z.mean()) < 0.02 and abs(z.var() - 1) < 0.02), end >= 100_000
    (True, True)
    """
    k0, k1 = seed_key(seed)
    s = _as_index(stream, "stream", _U64)
    n = _as_index(n, "n", _MAX_POSITION)
    pos = _as_index(pos, "pos", _MAX_POSITION - 2 * n - 64)
    out = np.empty(n, dtype=np.float64)
    end = ziggurat_fill(k0, k1, np.uint64(s), np.int64(pos), out)
    return out, int(end)
