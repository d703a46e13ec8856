"""The arguments of the Jacobian functions, checked before anything is computed or drawn.

Depths are whole numbers from 1 to :data:`MAX_DEPTH` (every function of
:mod:`initmath.engine.jacobian` is linear in depth, so deeper requests are refused up front
instead of running for hours); the weights are Gaussian or orthogonal
(:data:`JACOBIAN_DISTRIBUTIONS`). The checks below are shared by the modules of the package:
each takes a user's value and returns it checked, or raises a ``TypeError`` or
``ValueError`` that names the argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np

from ...core.checks import choice, integer, nonnegative_real, positive_real
from ...weights.schemes import Distribution

__all__ = [
    "F64",
    "JACOBIAN_DISTRIBUTIONS",
    "MAX_DEPTH",
    "checked_depth",
    "checked_distribution",
    "depth_list",
    "mean_field_arguments",
]

#: The deepest network (and the largest entry of ``depths``) accepted anywhere in
#: :mod:`initmath.engine.jacobian`. Every function there is linear in depth (a mean-field
#: prediction takes about 10 µs to 1 ms per layer, a simulated network a few matrix products
#: per layer); deeper requests are refused up front with a ``ValueError`` instead of running
#: for hours.
MAX_DEPTH = 100_000
#: Bytes of one float64.
F64 = 8

#: Weight distributions for which the Jacobian is simulated.
JACOBIAN_DISTRIBUTIONS: tuple[str, ...] = ("normal", "orthogonal")
_ALIASES = {"gaussian": "normal"}


def checked_distribution(distribution: object) -> Distribution:
    """``distribution`` checked: one of :data:`JACOBIAN_DISTRIBUTIONS`.

    ``"gaussian"`` is accepted for ``"normal"``.
    """
    return cast(
        Distribution, choice(distribution, "distribution", JACOBIAN_DISTRIBUTIONS, _ALIASES)
    )


def depth_list(depths: object, name: str, maximum: int | None = None) -> list[int]:
    """``depths`` (argument ``name``) as a non-empty list of ints in ``1..MAX_DEPTH``.

    With ``maximum``, every entry is also at most ``maximum``.
    """
    if isinstance(depths, (str, bytes)) or not isinstance(depths, Sequence | np.ndarray):
        raise TypeError(f"{name} must be a sequence of integers, got {depths!r}")
    if len(depths) > MAX_DEPTH:
        raise ValueError(
            f"{name} must have at most MAX_DEPTH={MAX_DEPTH} entries, got {len(depths)}"
        )
    ds = [integer(d, name, 1) for d in depths]
    if not ds:
        raise ValueError(f"{name} must not be empty, got {depths!r}")
    if max(ds) > MAX_DEPTH:
        raise ValueError(f"every entry of {name} must be <= MAX_DEPTH={MAX_DEPTH}, got {depths!r}")
    if maximum is not None and max(ds) > maximum:
        raise ValueError(f"every entry of {name} must be <= depth={maximum}, got {depths!r}")
    return ds


def checked_depth(depth: object) -> int:
    """``depth`` as an int in ``1..MAX_DEPTH``."""
    d = integer(depth, "depth", 1)
    if d > MAX_DEPTH:
        raise ValueError(f"depth must be <= MAX_DEPTH={MAX_DEPTH}, got {depth!r}")
    return d


def mean_field_arguments(
    distribution: object, sigma_w2: object, sigma_b2: object, input_q: object
) -> tuple[Distribution, float, float, float]:
    """``(distribution, sigma_w2, sigma_b2, input_q)``, checked in that order.

    Each ``None`` is replaced by its default: ``"normal"``, 1, 0 and 1.
    """
    dist = checked_distribution("normal" if distribution is None else distribution)
    sw2 = positive_real(1.0 if sigma_w2 is None else sigma_w2, "sigma_w2")
    sb2 = nonnegative_real(0.0 if sigma_b2 is None else sigma_b2, "sigma_b2")
    q0 = positive_real(1.0 if input_q is None else input_q, "input_q")
    return dist, sw2, sb2, q0
