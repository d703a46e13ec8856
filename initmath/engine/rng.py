r"""Random numbers for Python callers: seeds, and arrays of uniforms and normals.

The engine's random numbers are counter-based: every draw is a pure function of a *key*
(:func:`seed_key`), a *stream* index (a network) and a *position* in that stream, so
network ``i`` sees the same numbers for a seed whatever the thread count and whatever chunk
of networks a process runs. The Numba side is in three modules, each usable inside kernels
(``prange`` included):

* :mod:`initmath.engine.philox`: the Philox4x64-10 block function, checked bit for bit
  against NumPy and Random123, and the layout of the streams (which cannot overlap);
* :mod:`initmath.engine.streams`: uniforms (NumPy's ``Generator(Philox).random()``, bit
  for bit) and Box–Muller normals, :func:`~initmath.engine.streams.fill_uniform` and
  :func:`~initmath.engine.streams.fill_normal`;
* :mod:`initmath.engine.ziggurat`: an addressable ziggurat,
  :func:`~initmath.engine.ziggurat.ziggurat_fill`, several times as fast; the engine draws
  its Gaussian weights with it.

This module is their Python face: the same draws as arrays, with the arguments checked
(:class:`TypeError` or :class:`ValueError` for a bad one, where a kernel would wrap around
or overflow).

Guarantees
----------
* The value at a position never depends on how an array is split into calls, nor on the
  thread count.
* Uniforms are exact and platform independent. Normals go through ``log``, ``sqrt``,
  ``cos`` and ``sin`` from the platform's math library (the ziggurat only on its rare slow
  path): bit-identical on one machine, but a different libm may change the last bit.

Example
-------
>>> import numpy as np
>>> u = uniforms(42, stream=3, n=6)
>>> numpy_stream = np.random.Generator(np.random.Philox(key=42, counter=3 << 128))
>>> bool(np.array_equal(u, numpy_stream.random(6)))
True
>>> z = normals(42, stream=3, n=10)
>>> bool(np.array_equal(z[4:], normals(42, stream=3, n=6, offset=4)))
True
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from .streams import fill_normal, fill_uniform
from .ziggurat import ziggurat_fill

__all__ = ["normals", "seed_key", "uniforms", "ziggurat_normals"]

_U64 = 1 << 64
_MAX_POSITION = 1 << 62  # offsets and offset + n stay well inside int64


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
        Pass them to :func:`~initmath.engine.streams.fill_normal`,
        :func:`~initmath.engine.streams.fill_uniform` and
        :func:`~initmath.engine.ziggurat.ziggurat_fill` (inside kernels too).

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
    seed, stream, n, offset
        As for :func:`uniforms`.

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


def ziggurat_normals(
    seed: int, stream: int, n: int, offset: int = 0, std: float = 1.0
) -> npt.NDArray[np.float64]:
    """Normals by the ziggurat: positions ``offset`` to ``offset + n - 1`` of a stream.

    The Python face of :func:`~initmath.engine.ziggurat.ziggurat_fill`, with the checks of
    :func:`normals`.

    Parameters
    ----------
    seed, stream, n, offset
        As for :func:`uniforms`.
    std : float, optional
        Standard deviation, finite and ``> 0``.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(n,)``.

    Raises
    ------
    TypeError, ValueError
        As :func:`uniforms` does.

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
