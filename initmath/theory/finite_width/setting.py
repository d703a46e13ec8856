r"""The setting of the finite-width moments: the symbols, the depth limit, the activations.

The formulas of :mod:`initmath.theory.finite_width` are SymPy expressions in the width
:data:`N`, the depth :data:`L`, the excess kurtosis :data:`KAPPA` of the weights and
:data:`EPS` :math:`= 1/n`. They are exact for the positively homogeneous activations (linear,
ReLU, leaky ReLU); ``covered_activation`` reads an activation argument as one of them (or
refuses it), and ``checked_depth`` a depth argument.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from ...core.checks import integer
from ...weights.torch_gain import canonical_name

__all__ = [
    "EPS",
    "KAPPA",
    "L",
    "MAX_DEPTH",
    "N",
    "WEIGHT_LAWS",
    "checked_depth",
    "covered_activation",
]


#: The width :math:`n` (a SymPy symbol).
N = sp.Symbol("n", positive=True, integer=True)
#: The depth :math:`L` (a SymPy symbol).
L = sp.Symbol("L", positive=True, integer=True)
#: The excess kurtosis :math:`\kappa` of the weight distribution (a SymPy symbol).
KAPPA = sp.Symbol("kappa", real=True)
#: :math:`\varepsilon = 1/n` (a SymPy symbol).
EPS = sp.Symbol("varepsilon", positive=True)


#: The deepest layer the numeric functions (:func:`kurtosis`, :func:`log_norm_moments`,
#: :func:`mean_second_moment`) accept: they are linear in depth (about 10 µs per layer for the
#: closed forms, 1 ms for :func:`mean_second_moment`'s quadratures), so deeper requests are
#: refused up front with a ``ValueError`` instead of running for hours.
MAX_DEPTH = 100_000


_COVERED = ("linear", "relu", "leaky_relu")
#: The i.i.d. weight distributions the moments are derived for (orthogonal weights are
#: refused).
WEIGHT_LAWS = ("normal", "uniform", "truncated_normal")


def checked_depth(depth: object, maximum: int = MAX_DEPTH, cap: str = "MAX_DEPTH") -> int:
    """``depth`` as an int, ``1 <= depth <= maximum`` (the limit named ``cap`` in the message)."""
    d = integer(depth, "depth", 1)
    if d > maximum:
        raise ValueError(f"depth must be <= {cap}={maximum}, got {depth!r}")
    return d


def covered_activation(activation: object) -> tuple[str, sp.Expr]:
    """Canonical name and negative-side slope ``a`` (linear 1, ReLU 0).

    A name that is not a registered activation is a ``ValueError``; a registered one that
    is not positively homogeneous (tanh, gelu, ...) is a ``NotImplementedError``: the exact
    finite-width moments here do not cover it.
    """
    param: object = None
    name = activation
    if isinstance(activation, tuple):
        if len(activation) != 2:
            raise TypeError(f"activation must be a name or (name, parameter), got {activation!r}")
        name, param = activation
    if not isinstance(name, str):
        raise TypeError(f"activation must be a string or (name, parameter), got {activation!r}")
    key = canonical_name(name)
    if key not in _COVERED:
        from ..activations import activation as lookup
        from ..activations import activation_names

        try:
            lookup(name)
        except ValueError:
            raise ValueError(
                f"unknown activation {activation!r}; expected one of "
                f"{', '.join(map(repr, activation_names()))} (finite-width moments are exact "
                f"for {', '.join(map(repr, _COVERED))})"
            ) from None
        raise NotImplementedError(
            f"finite-width moments are exact only for positively homogeneous activations "
            f"{', '.join(map(repr, _COVERED))}; activation {activation!r} is not covered "
            f"(simulate it with initmath.simulate instead)"
        )
    if key == "leaky_relu":
        p = 0.01 if param is None else param
        if isinstance(p, bool) or not isinstance(p, (int, float, sp.Rational, np.floating)):
            raise TypeError(f"leaky_relu slope must be a real number, got {p!r}")
        if not math.isfinite(float(p)):
            raise ValueError(f"leaky_relu slope must be finite, got {p!r}")
        if float(p) < 0:
            raise ValueError(f"leaky_relu slope must be >= 0, got {p!r}")
        return key, sp.nsimplify(p)
    if param is not None:
        raise TypeError(f"activation {key!r} takes no parameter, got {activation!r}")
    return key, sp.Integer(1 if key == "linear" else 0)
