"""The arguments of the mean-field maps, checked before any quadrature, and their bounds.

Every function of :mod:`initmath.theory.meanfield` checks its arguments before any
quadrature, with a ``TypeError`` or ``ValueError`` that names
the argument: numbers must be real (not ``bool``, strings, ``None`` or complex, which NumPy
would convert silently) and finite; ``sigma_w2``, ``sigma_b2``, ``q0`` and an explicit ``q``
of the correlation maps are at most ``1e100`` (far beyond any initialization, and it keeps the
fixed-point search clear of float64 overflow), and an explicit ``q`` of the correlation maps
is 0 or at least ``1e-280`` (below, the quadrature products are subnormal). A result that
overflows float64 (``length_map("relu", 1e308, 2.0, 0.0)``) is a ``ValueError``, never an
``inf``.

The checks below are shared by the modules of the package: each takes a user's value and
returns a float (or a float64 array), or raises.
"""

from __future__ import annotations

import numbers
import reprlib
from collections.abc import Callable

import numpy as np

from ...core.checks import nonnegative_real, positive_real
from ..activations import Activation, activation

__all__ = [
    "Q_LOW",
    "Q_MAX",
    "as_output",
    "at_most",
    "checked_activation",
    "checked_real",
    "checked_start",
    "checked_variances",
    "finite_result",
    "real_array",
    "shown",
]


#: The largest accepted sigma_w2, sigma_b2, q0 and explicit q of the correlation maps. The
#: upward scan of the fixed-point search takes ``Q_MAX * max(1, q0, sigma_w2, sigma_b2)`` for
#: "no finite fixed point", which stays far from float64 overflow (~1.8e308) for these bounds.
Q_MAX = 1e100
#: The smallest explicit q > 0 of the correlation maps: below it the products of the quadrature
#: nodes become subnormal and lose their digits (ReLU's C(0.5; 1e-320) would be 0.573, not 0.609).
Q_LOW = 1e-280


_FORMS: dict[tuple[str, object], Activation] = {}


def checked_activation(spec: object) -> Activation:
    """The bound activation for ``spec`` (as for :func:`initmath.activation`).

    One copy is kept per name and expression.
    """
    # activation() returns a fresh bound copy, whose NumPy forms would be lambdified again at
    # every call; keep one copy per (name, expression).
    act = activation(spec)
    return _FORMS.setdefault((act.name, act.expr), act)


def checked_real(check: Callable[[object, str], float], value: object, name: str) -> float:
    """``check(value, name)``, with an int too large for a float (``10**400``) refused by name.

    ``float()`` raises ``OverflowError`` on such an int.
    """
    try:
        return check(value, name)
    except OverflowError:
        raise ValueError(
            f"{name} must be <= {Q_MAX:g} (the domain of the mean-field maps), got {shown(value)}"
        ) from None


def at_most(x: float, value: object, name: str, bound: float = Q_MAX) -> float:
    """``x``, the checked ``value`` of argument ``name``, if it is at most ``bound``.

    Above ``bound`` it is a ``ValueError``.
    """
    if x > bound:
        raise ValueError(
            f"{name} must be <= {bound:g} (the domain of the mean-field maps), got {value!r}"
        )
    return x


def checked_variances(sigma_w2: object, sigma_b2: object) -> tuple[float, float]:
    """``(sigma_w2, sigma_b2)`` as floats: ``0 < sigma_w2 <= Q_MAX``, ``0 <= sigma_b2 <= Q_MAX``."""
    sw2 = at_most(checked_real(positive_real, sigma_w2, "sigma_w2"), sigma_w2, "sigma_w2")
    sb2 = at_most(checked_real(nonnegative_real, sigma_b2, "sigma_b2"), sigma_b2, "sigma_b2")
    return sw2, sb2


def shown(value: object) -> str:
    """``repr(value)``, shortened for long lists (NumPy shortens long arrays itself)."""
    return reprlib.repr(value) if isinstance(value, (list, tuple, set, dict)) else repr(value)


def _is_real_scalar(value: object) -> bool:
    return isinstance(value, (numbers.Real, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def real_array(
    q: object, name: str = "q", *, nonnegative: bool = True, scalar: bool = False
) -> np.ndarray:
    """``q`` as a float64 array, refusing what is not a real number (or an array of them).

    An array of real numbers is accepted unless ``scalar``. Refused are strings, bools,
    complex, ``None``, objects, lists of those; NumPy would convert ``"1.0"`` and ``True``
    silently.
    """
    what = "a real number" if scalar else "a real number or an array of them"
    arr: np.ndarray | None
    if _is_real_scalar(q):
        try:
            arr = np.asarray(float(q))  # type: ignore[arg-type]
        except OverflowError:  # an int beyond float64
            raise ValueError(f"{name} must be finite, got {shown(q)}") from None
    else:
        arr = None
        if not isinstance(q, (str, bytes)) and q is not None:
            try:
                arr = np.asarray(q)
                if (
                    not isinstance(q, np.ndarray)
                    and arr.dtype.kind in "iuf"
                    and not all(map(_is_real_scalar, np.asarray(q, dtype=object).flat))
                ):
                    arr = None  # [1.0, True] would become [1.0, 1.0]
            except (TypeError, ValueError):  # ragged nesting
                arr = None
        if arr is None or arr.dtype.kind not in "iuf" or (scalar and arr.ndim != 0):
            raise TypeError(f"{name} must be {what}, got {shown(q)}")
        arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {shown(q)}")
    if nonnegative and np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got {shown(q)}")
    return arr


def finite_result(
    v: np.ndarray, what: str, act: Activation, q: np.ndarray | float, sw2: float, sb2: float
) -> np.ndarray:
    """``v``, or a ``ValueError`` if an entry overflowed (or came out NaN).

    The result is never an inf or NaN for finite arguments.
    """
    v = np.asarray(v)
    if np.all(np.isfinite(v)):
        return v
    bad = np.broadcast_to(np.asarray(q), v.shape)[~np.isfinite(v)]
    raise ValueError(
        f"{what} of {act.name} is not finite in float64 at q={float(bad.flat[0])!r} with "
        f"sigma_w2={sw2!r}, sigma_b2={sb2!r} (an overflow of the quadrature, or a divergent "
        "expectation): make q, sigma_w2 or sigma_b2 smaller"
    )


def as_output(arr: np.ndarray) -> float | np.ndarray:
    """A 0-d array as a float, any other array as it is."""
    return float(arr) if arr.ndim == 0 else arr


def checked_start(q0: object) -> float:
    """The starting length ``q0`` as a float, ``0 < q0 <= Q_MAX``."""
    return at_most(checked_real(positive_real, q0, "q0"), q0, "q0")
