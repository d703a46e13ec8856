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
addressable like uniforms. (The polar method and a textbook ziggurat reject, so the position
of a draw would depend on the draws before it.) Normal :math:`j` and uniform :math:`j` share
underlying words; to draw both kinds from one stream give them disjoint position ranges
starting at even positions, or use different streams.

Fast normals: an addressable ziggurat
-------------------------------------
:func:`ziggurat_fill` makes normals several times as fast, with Marsaglia and Tsang's
(2000) 256-layer ziggurat on 32 bits per normal: normal :math:`j` starts from half
:math:`j \bmod 2` of word :math:`\lfloor j/2 \rfloor` (low half first). The rare draw
that needs more bits (1.5%) takes them from its own *retry sequence*, word :math:`t` of
which comes from the block at counter :math:`(j, 1 + \lfloor t/4 \rfloor, \text{stream}, 0)`
(no stream word uses such a counter), instead of from the next words. So its normals are
addressable too, and independent: each is an exact ziggurat draw on bits of its own. Its
normal :math:`j` occupies half of stream
word :math:`\lfloor j/2 \rfloor`; to mix it with the other kinds in one stream, give it
word positions of its own (the engine draws ziggurat normals at normal position
:math:`2p` for word position :math:`p`).

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
    from initmath.engine.rng import fill_normal, jit, seed_key

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
>>> from initmath.engine.rng import normals, uniforms
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
from collections.abc import Callable
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:  # typed as numba.njit: mypy loses njit's overloads through the partial
    jit = numba.njit
else:
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
# An integer argument of the kernels (taken as uint64 or int64): Python's or NumPy's.
_IntLike = int | np.integer


if TYPE_CHECKING:  # as jitted code calls it (Numba's stubs include the typing context)

    def _mulhi64(a: np.uint64, b: np.uint64, /) -> np.uint64:
        """High 64 bits of the 128-bit product of two uint64."""
        ...
else:

    @intrinsic
    def _mulhi64(typingctx, a, b):
        """High 64 bits of the 128-bit product of two uint64 (one LLVM ``i128`` multiply)."""
        if a != types.uint64 or b != types.uint64:
            return None

        def codegen(context, builder, signature, args):
            i128 = ir.IntType(128)
            product = builder.mul(builder.zext(args[0], i128), builder.zext(args[1], i128))
            return builder.trunc(builder.lshr(product, ir.Constant(i128, 64)), ir.IntType(64))

        return types.uint64(types.uint64, types.uint64), codegen


@jit
def philox4x64_10(
    c0: _IntLike, c1: _IntLike, c2: _IntLike, c3: _IntLike, k0: _IntLike, k1: _IntLike
) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:
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
    c0: _IntLike, c1: _IntLike, c2: _IntLike, c3: _IntLike, k0: _IntLike, k1: _IntLike
) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:
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
def fill_uniform(
    key0: _IntLike, key1: _IntLike, stream: _IntLike, offset: _IntLike, out: np.ndarray
) -> None:
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
def fill_normal(
    key0: _IntLike, key1: _IntLike, stream: _IntLike, offset: _IntLike, out: np.ndarray
) -> None:
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


def _draw(
    fill: Callable[[np.uint64, np.uint64, np.uint64, np.int64, npt.NDArray[np.float64]], None],
    seed: int,
    stream: int,
    n: int,
    offset: int,
) -> npt.NDArray[np.float64]:
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


# -- fast addressable normals: the ziggurat --------------------------------------------------
# Box-Muller costs a log, a sqrt, a sin and a cos per pair; in the engine, where drawing
# Gaussian weights is most of the work, that dominates. The ziggurat of Marsaglia and Tsang
# (2000) needs 32 random bits per normal 98.5% of the time and no transcendental function.
# The design below keeps it addressable (normal j is a pure function of key, stream and j),
# and splits it into a branch-free pass over a batch and a rare fix-up pass; see the
# docstring of ziggurat_fill.
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
_ONE = np.uint64(1)
_BATCH = 512  # normals per pass: 256 words, 64 blocks; buffers stay in L1


@jit
def _blocks(k0, k1, s, first, count, out):  # type: ignore[no-untyped-def]
    """Blocks first .. first + count - 1 of a stream into out[0 : 4 count] (count even).

    Two blocks per iteration: one block is a chain of dependent multiplications, and two
    independent chains keep the multiplier busy (about 1.5 times the throughput of one).
    """
    for b in range(0, count, 2):
        a0 = np.uint64(first + b) + _ONE
        a1 = _ZERO
        a2 = s
        a3 = _ZERO
        c0 = a0 + _ONE
        c1 = _ZERO
        c2 = s
        c3 = _ZERO
        y0 = k0
        y1 = k1
        for r in range(10):
            if r > 0:
                y0 += _PHILOX_W64_0
                y1 += _PHILOX_W64_1
            ha = _mulhi64(_PHILOX_M4x64_0, a0)
            la = _PHILOX_M4x64_0 * a0
            hb = _mulhi64(_PHILOX_M4x64_1, a2)
            lb = _PHILOX_M4x64_1 * a2
            hc = _mulhi64(_PHILOX_M4x64_0, c0)
            lc = _PHILOX_M4x64_0 * c0
            hd = _mulhi64(_PHILOX_M4x64_1, c2)
            ld = _PHILOX_M4x64_1 * c2
            a0, a1, a2, a3 = hb ^ a1 ^ y0, lb, ha ^ a3 ^ y1, la
            c0, c1, c2, c3 = hd ^ c1 ^ y0, ld, hc ^ c3 ^ y1, lc
        j = 4 * b
        out[j] = a0
        out[j + 1] = a1
        out[j + 2] = a2
        out[j + 3] = a3
        out[j + 4] = c0
        out[j + 5] = c1
        out[j + 6] = c2
        out[j + 7] = c3


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
                a = _uniform(_retry_word(k0, k1, s, h, t))
                b = _uniform(_retry_word(k0, k1, s, h, t + 1))
                t += 2
                x = -math.log(1.0 - a) / _ZIG_R
                y = -math.log(1.0 - b)
                if 2.0 * y >= x * x:
                    return -(_ZIG_R + x) if negative else _ZIG_R + x
        # the wedge of layer i between x[i + 1] and x[i]: accept under the density
        x = np.float64(np.int64(magnitude)) * _ZIG_W[layer]
        u = _uniform(_retry_word(k0, k1, s, h, t))
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
    key0: _IntLike,
    key1: _IntLike,
    stream: _IntLike,
    offset: _IntLike,
    out: np.ndarray,
    std: float = 1.0,
) -> None:
    r"""Fill ``out`` with normals of standard deviation ``std`` by the ziggurat, from
    positions ``offset, offset + 1, ...`` of a stream.

    Callable from Python and from other Numba kernels (``prange`` included). Several times
    as fast as :func:`fill_normal` and as NumPy's ``standard_normal`` (``benchmarks/
    bench_rng.py`` measures it); the engine draws its Gaussian weights with it.

    Parameters
    ----------
    key0, key1 : int
        The key, from :func:`seed_key`; taken as ``uint64``.
    stream : int
        The stream index, e.g. the network's; taken as ``uint64``.
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
        If ``offset < 0``.

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
    off = np.int64(offset)
    if off < 0:
        raise ValueError("offset must be >= 0")
    k0 = np.uint64(key0)
    k1 = np.uint64(key1)
    s = np.uint64(stream)
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
        _blocks(k0, k1, s, first_word >> 2, n_blocks, words)
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


def ziggurat_normals(
    seed: int, stream: int, n: int, offset: int = 0, std: float = 1.0
) -> npt.NDArray[np.float64]:
    """Normals by the ziggurat: positions ``offset`` to ``offset + n - 1`` of a stream.

    The Python face of :func:`ziggurat_fill`, with the checks of :func:`normals`.

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
    std : float, optional
        Standard deviation, finite and ``> 0``.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(n,)``.

    Raises
    ------
    TypeError, ValueError
        For a non-integer or out-of-range argument.

    Examples
    --------
    >>> z = ziggurat_normals(0, stream=1, n=100_000)
    >>> bool(abs(z.mean()) < 0.02 and abs(z.var() - 1) < 0.02)
    True
    >>> bool(np.array_equal(z[5:9], ziggurat_normals(0, stream=1, n=4, offset=5)))
    True
    """
    if isinstance(std, (bool, np.bool_)) or not isinstance(std, (numbers.Real, np.floating)):
        raise TypeError(f"std must be a real number, got {std!r}")
    if not (math.isfinite(std) and std > 0):
        raise ValueError(f"std must be finite and > 0, got {std!r}")
    k0, k1 = seed_key(seed)
    s = _as_index(stream, "stream", _U64)
    n = _as_index(n, "n", _MAX_POSITION)
    offset = _as_index(offset, "offset", _MAX_POSITION - n)
    out = np.empty(n, dtype=np.float64)
    ziggurat_fill(k0, k1, np.uint64(s), np.int64(offset), out, np.float64(std))
    return out
