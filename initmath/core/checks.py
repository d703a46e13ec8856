"""Argument validation shared by the public functions.

Every check raises ``TypeError`` (wrong kind of value) or ``ValueError`` (right kind, bad
value) with a message that names the argument and repeats the offending value, so that a
mistake deep in user code is easy to find.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping

import numpy as np

__all__ = [
    "available_memory",
    "choice",
    "finite_real",
    "fits_in_memory",
    "float_dtype",
    "integer",
    "layer_widths",
    "nonnegative_real",
    "positive_real",
    "shape_tuple",
]


def _is_integer(value: object) -> bool:
    # bool is an int subclass, but ``(True, 3)`` is never a meaningful shape.
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )


def shape_tuple(
    shape: object, name: str = "shape", *, min_ndim: int = 2, allow_zero: bool = False
) -> tuple[int, ...]:
    """Return ``shape`` as a tuple of Python ints.

    By default (a weight whose fans are needed) at least 2 dimensions, each >= 1;
    ``min_ndim`` lowers the number of dimensions (0 for a scalar) and ``allow_zero`` admits
    zero-size dimensions (an empty tensor).
    """
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Iterable):
        raise TypeError(f"{name} must be a sequence of integers, got {shape!r}")
    dims = tuple(shape)
    for d in dims:
        if not _is_integer(d):
            raise TypeError(f"{name} must contain only integers, got {shape!r}")
    if len(dims) < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimensions"
            + (" to define fan_in and fan_out" if min_ndim == 2 else "")
            + f", got {shape!r}"
        )
    least = 0 if allow_zero else 1
    if any(int(d) < least for d in dims):
        raise ValueError(f"every dimension of {name} must be >= {least}, got {shape!r}")
    return tuple(int(d) for d in dims)


def _real(value: object, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    try:
        x = float(value)
    except OverflowError:  # an integer beyond the doubles, e.g. 10**400
        raise ValueError(f"{name} must be finite, got {value!r}") from None
    if math.isnan(x) or math.isinf(x):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return x


def finite_real(value: object, name: str) -> float:
    """Return ``value`` as a float, requiring a finite real number (not a bool)."""
    return _real(value, name)


def positive_real(value: object, name: str) -> float:
    """Return ``value`` as a float, requiring a finite number > 0."""
    x = _real(value, name)
    if x <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return x


def nonnegative_real(value: object, name: str) -> float:
    """Return ``value`` as a float, requiring a finite number >= 0."""
    x = _real(value, name)
    if x < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return x


def choice(
    value: object,
    name: str,
    options: Iterable[str],
    aliases: Mapping[str, str] | None = None,
) -> str:
    """Return the canonical spelling of ``value``, one of ``options`` or an alias of one."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, got {value!r}")
    key = value.lower()
    if aliases and key in aliases:
        key = aliases[key]
    opts = tuple(options)
    if key not in opts:
        known = sorted(set(opts) | set(aliases or ()))
        raise ValueError(f"unknown {name} {value!r}; expected one of {', '.join(map(repr, known))}")
    return key


def integer(value: object, name: str, minimum: int) -> int:
    """Return ``value`` as a Python int, requiring an integer (not bool) >= ``minimum``."""
    if not _is_integer(value):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if int(value) < minimum:  # type: ignore[call-overload]
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(value)  # type: ignore[call-overload]


def layer_widths(widths: object) -> list[int]:
    """``[n0, n1, ..., nL]`` as Python ints: at least two entries, each an integer >= 1."""
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Iterable):
        raise TypeError(f"widths must be a sequence of integers, got {widths!r}")
    ws = list(widths)
    if len(ws) < 2:
        raise ValueError(f"widths must list the input width and at least one layer, got {widths!r}")
    for w in ws:
        if not _is_integer(w):
            raise TypeError(f"widths must contain integers, got {widths!r}")
        if int(w) < 1:
            raise ValueError(f"every entry of widths must be >= 1, got {widths!r}")
    return [int(w) for w in ws]


def available_memory() -> int:
    """Bytes of memory available to this process (Linux: ``MemAvailable``), else physical."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import os

        return int(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 16 * 2**30


def fits_in_memory(need: int, what: str) -> None:
    """Refuse, with a ``ValueError`` naming ``what``, a computation too large for memory.

    It is refused if it needs ``need`` bytes at once and that is more than
    :func:`available_memory`. ``what`` names the arguments and their values, e.g.
    ``"depth=10 and width=10**6"``.
    """
    have = available_memory()
    if need > have:
        size = (
            f"{need} bytes ({need / 2**30:.3g} GiB)"
            if need < 2**200
            else f"about 2**{need.bit_length() - 1} bytes"
        )
        raise ValueError(
            f"{what} need {size} of memory at once, more than the {have / 2**30:.3g} GiB available"
        )


_FLOAT_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))


def float_dtype(dtype: object) -> np.dtype:
    """``dtype`` as a NumPy dtype, requiring float16, float32 or float64 (else ``TypeError``)."""
    try:
        dt = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError as exc:
        raise TypeError(f"dtype must be a floating-point dtype, got {dtype!r}") from exc
    if dt not in _FLOAT_DTYPES:
        raise TypeError(f"dtype must be float16, float32 or float64, got {dtype!r}")
    return dt
