r"""Counter-based random bits for Numba kernels: Philox4x64-10 and the streams made of it.

The Monte Carlo engine runs ``numba.prange`` over independent random networks. Network
``i`` must see the same random numbers for a given seed whatever the thread count and
whatever chunk of networks a process runs, so nothing here has state: every word is a pure
function of a *key* (from the seed, :func:`initmath.engine.rng.seed_key`), a *stream* index
(the network) and a *position* in that stream. :mod:`initmath.engine.streams` turns words
into uniforms and normals, :mod:`initmath.engine.ziggurat` into fast normals.

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
against the Random123 known-answer vectors, but the streams do not use it: NumPy's
Philox is the 64-bit one, so only that one can be checked against NumPy, and it makes
twice the bits per round.)

Streams
-------
A seed :math:`s \in [0, 2^{128})` *is* the key: :math:`k_0 + 2^{64} k_1 = s`. Word
:math:`j = 0, 1, 2, \dots` of stream :math:`t \in [0, 2^{64})` is output word
:math:`j \bmod 4` of the block (:func:`stream_block`) at counter

.. math::

    C(t, j) = t \cdot 2^{128} + \lfloor j/4 \rfloor + 1,
    \qquad\text{i.e.}\qquad (c_0, c_1, c_2, c_3) = (\lfloor j/4 \rfloor + 1,\; 0,\; t,\; 0).

That is exactly NumPy's sequence: stream ``t`` of seed ``s`` is
``numpy.random.Philox(key=s, counter=t << 128).random_raw()`` (NumPy adds one to the
counter before each block, hence the ``+ 1``).

*Streams cannot overlap.* For a fixed key a Philox block is a bijection of the 256-bit
counter, so distinct counters give distinct blocks; the counters of stream :math:`t` all lie
in :math:`[t \cdot 2^{128} + 1, (t + 1) \cdot 2^{128})` (a stream would have to pass
:math:`2^{130}` draws to leave it; positions here are ``int64``, below :math:`2^{63}`), and
these ranges are disjoint for distinct :math:`t`. Different seeds are different keys, hence
different permutations. No hashing is involved, so the scheme can be re-derived by hand and
checked against NumPy. (The ziggurat's retry words use counters with :math:`c_1 \ge 1`,
which no stream word uses.)

Using these in a kernel
-----------------------
Every function here is pure (no global state) and ``nogil``, hence safe in ``prange``.
Decorate kernels that call them with :func:`initmath.engine.jit.jit` (cached to disk, and
recompiled when this module changes). Pass the key words as the ``numpy.uint64`` that
:func:`initmath.engine.rng.seed_key` returns: once a jitted function has an ``int64``
version compiled, Numba tries it first for a plain Python int and raises ``OverflowError``
for one of ``2**63`` or more.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic

from .jit import jit

__all__ = [
    "IntLike",
    "philox4x32_10",
    "philox4x64_10",
    "stream_arguments",
    "stream_block",
    "stream_blocks",
]

#: An integer argument of the kernels, Python's or NumPy's (taken as uint64 or int64).
IntLike = int | np.integer

# All integer constants are np.uint64: Numba types a mix of signed and unsigned 64-bit
# integers as float64, so no plain Python int may meet a word in arithmetic.
_ZERO = np.uint64(0)
_ONE = np.uint64(1)
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)

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
    c0: IntLike, c1: IntLike, c2: IntLike, c3: IntLike, k0: IntLike, k1: IntLike
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
    c0: IntLike, c1: IntLike, c2: IntLike, c3: IntLike, k0: IntLike, k1: IntLike
) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:
    """The Philox4x32-10 block function: four 32-bit words from a counter and a key.

    Computed on ``uint64`` words masked to 32 bits (a 32 x 32-bit product fits in 64 bits).
    Not used by the streams (see the module docstring).

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


@jit
def stream_block(
    k0: np.uint64, k1: np.uint64, stream: np.uint64, block: np.uint64
) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:
    r"""Words :math:`4b` to :math:`4b + 3` of a stream: the Philox block at counter
    :math:`(b + 1, 0, t, 0)`.

    Parameters
    ----------
    k0, k1 : numpy.uint64
        The key.
    stream : numpy.uint64
        The stream index :math:`t`.
    block : numpy.uint64
        The block index :math:`b` (word position divided by four).

    Returns
    -------
    tuple of four numpy.uint64
        ``numpy.random.Philox(key=k0 + 2**64 * k1, counter=t << 128).random_raw(4 * b + 4)``
        ``[4 * b:]``.

    Examples
    --------
    >>> words = stream_block(np.uint64(3), np.uint64(0), np.uint64(5), np.uint64(2))
    >>> raw = np.random.Philox(key=3, counter=5 << 128).random_raw(12)[8:]
    >>> [int(w) for w in words] == [int(w) for w in raw]
    True
    """
    return philox4x64_10(block + np.uint64(1), _ZERO, stream, _ZERO, k0, k1)


@jit
def stream_blocks(
    k0: np.uint64,
    k1: np.uint64,
    stream: np.uint64,
    first: IntLike,
    count: int,
    out: np.ndarray,
) -> None:
    r"""Blocks ``first`` to ``first + count - 1`` of a stream (:func:`stream_block`) into
    ``out[:4 * count]``: words :math:`4 \cdot \text{first}` onwards, in order.

    Two blocks per iteration: one block is a chain of dependent multiplications, and two
    independent chains keep the multiplier busy (about 1.5 times the throughput of one).

    Parameters
    ----------
    k0, k1 : numpy.uint64
        The key.
    stream : numpy.uint64
        The stream index.
    first : int
        The first block, ``>= 0``.
    count : int
        How many blocks; even (the loop makes pairs), ``>= 0``.
    out : numpy.ndarray
        1-D ``uint64`` array of at least ``4 * count`` words, written in place.

    Raises
    ------
    ValueError
        If ``count`` is odd or negative, or ``out`` holds fewer than ``4 * count`` words.
    """
    if count < 0 or (count & 1) != 0:
        raise ValueError("count must be even and >= 0")
    if out.shape[0] < 4 * count:
        raise ValueError("out must hold 4 * count words")
    for b in range(0, count, 2):
        a0 = np.uint64(first + b) + _ONE
        a1 = _ZERO
        a2 = stream
        a3 = _ZERO
        c0 = a0 + _ONE
        c1 = _ZERO
        c2 = stream
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


@jit(inline="always")
def stream_arguments(key0: IntLike, key1: IntLike, stream: IntLike, offset: IntLike):  # type: ignore[no-untyped-def]
    """The arguments of a stream fill as the kernels use them: ``(k0, k1, stream, offset)``
    as ``uint64, uint64, uint64, int64``.

    Raises
    ------
    ValueError
        If ``offset < 0``.
    """
    off = np.int64(offset)
    if off < 0:
        raise ValueError("offset must be >= 0")
    return np.uint64(key0), np.uint64(key1), np.uint64(stream), off
