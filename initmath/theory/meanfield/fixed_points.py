"""The fixed point :math:`q^*` that iterating the length map reaches, and its stability.

:func:`~initmath.theory.meanfield.find_fixed_point` follows the iteration
:math:`q^{\\ell+1} = \\mathcal V(q^\\ell)` from a starting length to where it ends: a stable
fixed point, a half-stable one (a tangency of :math:`\\mathcal V` to the identity, GELU and
SiLU, which a sign-change root finder misses), 0 or infinity.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..activations import Activation
from ..quadrature import gaussian_expectation
from .arguments import (
    Q_LOW,
    Q_MAX,
    at_most,
    checked_activation,
    checked_start,
    checked_variances,
    real_array,
)
from .lengths import length_slope_at, length_slopes_at

__all__ = [
    "SLOPE_TOL",
    "TANGENCY_TOL",
    "FixedPoint",
    "find_fixed_point",
    "finite_length",
    "fixed_point",
    "search_fixed_point",
    "search_q_star",
]


@dataclass(frozen=True)
class FixedPoint:
    """Where iterating the length map from a starting length ends (:func:`find_fixed_point`).

    Attributes
    ----------
    q : float
        The limit :math:`q^*` of :math:`q^{\\ell+1} = \\mathcal V(q^\\ell)`: a finite value,
        ``0.0`` (the length decays to zero) or ``math.inf`` (it grows without bound).
    stability : str
        ``"stable"``: :math:`\\mathcal V'(q^*) < 1`, approached geometrically;
        ``"half-stable"``: a tangency, :math:`\\mathcal V(q^*) = q^*` and
        :math:`\\mathcal V'(q^*) = 1` with :math:`\\mathcal V(q) - q` of one sign on both sides,
        so that :math:`q^*` attracts from the side the iteration comes from (``approached_from``)
        and repels on the other, and the approach is a power law, about :math:`1/\\ell`;
        ``"marginal"``: :math:`q^* = 0` with :math:`\\mathcal V'(0^+) = 1` (tanh at
        :math:`\\sigma_w^2 = 1, \\sigma_b^2 = 0`), also approached as a power law;
        ``"neutral"``: every length near :math:`q^*` is a fixed point (ReLU at
        :math:`\\sigma_w^2 = 2, \\sigma_b^2 = 0`); ``"unstable"``: the starting length itself is
        a fixed point with :math:`\\mathcal V'(q_0) > 1`; ``"divergent"``: :math:`q^* = \\infty`.
    slope : float
        :math:`\\mathcal V'(q^*)` (the limit :math:`q \\to 0^+` at :math:`q^* = 0`, ``nan`` at
        :math:`q^* = \\infty`).
    approached_from : str or None
        ``"above"`` or ``"below"``: the side from which the iteration approaches :math:`q^*`;
        ``None`` when :math:`q_0` is itself a fixed point or :math:`q^* = \\infty`.
    """

    q: float
    stability: str
    slope: float
    approached_from: str | None


#: Relative step of the scan for the first fixed point in the direction of the iteration.
_SCAN_STEP = 2.0**0.125
#: A local extremum of V(q) - q of size at most this times q is taken for a tangency (a
#: half-stable fixed point): a gap that small makes the iteration stall for more than ~1e5
#: layers (the bottleneck takes about pi / sqrt(gap * V''/2) layers) and is within a few
#: hundred rounding errors of the quadrature.
TANGENCY_TOL = 1e-11
SLOPE_TOL = 1e-9  # |V'(q*) - 1| below this: slope one, to the precision of the quadrature


def fixed_point(activation: object, sigma_w2: float, sigma_b2: float, *, q0: float = 1.0) -> float:
    """The limit :math:`q^*` of iterating the length map from ``q0``.

    Same as ``find_fixed_point(...).q``; see :func:`find_fixed_point` for the method, the
    stability of the point and the domain of validity.

    Parameters
    ----------
    activation, sigma_w2, sigma_b2
        As for :func:`length_map`.
    q0 : float
        Starting length (> 0, at most 1e100).

    Returns
    -------
    float
        :math:`q^*`: finite, ``0.0`` when the length decays to zero (:math:`\\sigma_b^2 = 0`,
        :math:`\\phi(0) = 0` and the map contracts, e.g. tanh with :math:`\\sigma_w^2 \\le 1`,
        ReLU with :math:`\\sigma_w^2 < 2`), ``math.inf`` when it grows without bound (ReLU with
        :math:`\\sigma_w^2 > 2`, or :math:`\\sigma_w^2 = 2, \\sigma_b^2 > 0`), ``q0`` itself
        when ``q0`` is a fixed point (for ReLU at :math:`\\sigma_w^2 = 2, \\sigma_b^2 = 0`
        every :math:`q` is one).

    Raises
    ------
    ValueError
        ``sigma_w2 <= 0``, ``sigma_b2 < 0``, ``q0 <= 0``, NaN or infinite values, values above
        1e100, an unknown activation, a length map that is not finite at ``q0`` (overflow) or
        that decreases on the way (outside the domain).

    Examples
    --------
    >>> fixed_point("relu", 2.0, 0.0, q0=3.0)
    3.0
    >>> fixed_point("relu", 2.5, 0.0)
    inf
    >>> fixed_point("tanh", 0.8, 0.0)
    0.0
    >>> round(fixed_point("relu", 1.0, 0.5), 12)   # q = q/2 + 1/2
    1.0
    """
    return find_fixed_point(activation, sigma_w2, sigma_b2, q0=q0).q


def find_fixed_point(
    activation: object, sigma_w2: float, sigma_b2: float, *, q0: float = 1.0
) -> FixedPoint:
    """The fixed point that iterating the length map from ``q0`` reaches, with its stability.

    The sign of :math:`g(q) = \\mathcal V(q) - q` at :math:`q_0` gives the direction in which
    the iteration moves (up if positive); for an increasing :math:`\\mathcal V` it moves
    monotonically and stops at the first zero of :math:`g` in that direction, which is either a
    crossing (a sign change of :math:`g`, solved with :func:`scipy.optimize.brentq` to relative
    precision ~1e-14) or a tangency, where :math:`g` touches zero without changing sign
    (:math:`\\mathcal V' = 1` there: a *half-stable* fixed point, which the iteration reaches
    from one side as a power law and which a root finder looking for sign changes steps over).
    The function scans :math:`q_0 \\cdot r^{\\pm k}` (:math:`r = 2^{1/8}`) in the direction of
    motion, takes the first sign change, or the first local minimum of :math:`|g|` whose refined
    value (the root of :math:`\\mathcal V'(q) = 1` next to it) is at most :data:`TANGENCY_TOL`
    times :math:`q`, whichever comes first. Downward the scan ends at :math:`\\sigma_b^2`
    (:math:`\\mathcal V(q) \\ge \\sigma_b^2`) or, without bias, at 0: ``0.0`` is returned when
    :math:`|g(q)| < 10^{-13} q` (rounding would hide its sign) or :math:`q < 10^{-20} q_0`.
    Upward it ends with ``math.inf`` above :math:`10^{100}\\max(1, q_0, \\sigma_w^2,
    \\sigma_b^2)`; beyond
    :math:`10^{10}(q_0 + \\sigma_b^2)` values with :math:`|g| \\le 10^{-10} q` (the map is the
    identity to rounding, as for ReLU at :math:`\\sigma_w^2 = 2, \\sigma_b^2 > 0`) count as no
    fixed point.

    Domain: the scan assumes that :math:`\\mathcal V` increases on the range it crosses (true
    for every built-in activation; then the iteration is monotone and its limit is the first
    fixed point in the direction of motion) and refuses a map found decreasing there. Where
    :math:`|g| \\le 10^{-4} q` at a scan point with
    :math:`10^{-8} < q < 10^6 \\max(1, q_0, \\sigma_b^2)` the cell is scanned 64 times finer;
    extrema of :math:`g` closer together than that finer step (about 0.14% of :math:`q`), or
    two of them within one step outside that range, can be missed.

    Examples
    --------
    >>> fp = find_fixed_point("tanh", 1.5, 0.05)
    >>> fp.stability, fp.approached_from, round(fp.q, 6)
    ('stable', 'above', 0.418037)
    >>> find_fixed_point("relu", 2.0, 0.0, q0=3.0).stability
    'neutral'
    """
    act = checked_activation(activation)
    sw2, sb2 = checked_variances(sigma_w2, sigma_b2)
    return search_fixed_point(act, sw2, sb2, checked_start(q0))


def search_q_star(act: Activation, sw2: float, sb2: float, q0: float = 1.0) -> float:
    """:math:`q^*` reached from ``q0``: ``search_fixed_point(...).q``."""
    return search_fixed_point(act, sw2, sb2, q0).q


def search_fixed_point(act: Activation, sw2: float, sb2: float, q0: float = 1.0) -> FixedPoint:
    """:func:`find_fixed_point` for checked arguments: ``act`` bound, floats in the domain."""
    from scipy.optimize import brentq

    def vmap(q: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            m = gaussian_expectation(lambda x: act.numpy(x) ** 2, np.asarray(q, dtype=np.float64))
            return sw2 * m + sb2

    def g(q: float) -> float:
        return float(vmap(np.asarray(q))) - q

    def slope(q: float) -> float:
        return length_slope_at(act, q, sw2)

    def root(f: Callable[[float], float], a: float, b: float) -> float:
        lo, hi = sorted((a, b))
        return float(brentq(f, lo, hi, xtol=1e-300, rtol=1e-15, maxiter=1000))

    def at(q: float, tangent: bool = False) -> FixedPoint:
        sq = slope(q)
        if tangent:
            return FixedPoint(q, "half-stable", sq, side)
        if q == 0.0:
            return FixedPoint(0.0, "stable" if sq < 1 - SLOPE_TOL else "marginal", sq, side)
        if abs(sq - 1) <= SLOPE_TOL:
            return FixedPoint(q, "half-stable", sq, side)
        return FixedPoint(q, "stable" if sq < 1 else "unstable", sq, side)

    def points(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return values(q)[:2]

    def values(q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        v = vmap(q)
        return v - q, length_slopes_at(act, q, sw2) - 1, v

    def cells(qs: np.ndarray, gs: np.ndarray, ss: np.ndarray, refine: bool) -> FixedPoint | None:
        """The first fixed point among the cells [qs[i], qs[i+1]], or None.

        The cells are searched in the direction of motion. A sign change of V' - 1 inside a
        cell is an extremum of g: a tangency if g reaches zero there; cells where g is tiny are
        rescanned 64 times finer, where two extrema could hide between the points.
        """
        qa, qb, ga_, gb_ = qs[:-1], qs[1:], gs[:-1], gs[1:]
        small = np.minimum(np.abs(ga_), np.abs(gb_)) <= 1e-4 * np.maximum(qa, qb)
        fine = refine & small & (np.maximum(qa, qb) > 1e-8) & (np.minimum(qa, qb) < q_fine)
        turns = np.sign(ss[:-1]) * np.sign(ss[1:]) < 0
        candidate = turns | (gb_ == 0) | ((gb_ > 0) != up) | fine
        if not up and sb2 == 0:
            candidate |= (np.abs(gb_) < 1e-13 * qb) | (qb < 1e-20 * q0)
        if up:
            candidate &= ~(
                (qa > 1e10 * (q0 + sb2)) & (np.maximum(np.abs(ga_), np.abs(gb_)) <= 1e-10 * qb)
            )
        for i in np.flatnonzero(candidate):
            a, b, gb = float(qs[i]), float(qs[i + 1]), float(gs[i + 1])
            start = a
            if turns[i]:  # an extremum of g between a and b
                q_e = root(lambda q: slope(q) - 1, a, b)
                g_e = g(q_e)
                if abs(g_e) <= TANGENCY_TOL * q_e:  # touches, or two crossings within rounding
                    return at(q_e, tangent=True)
                if (g_e > 0) != up:
                    return at(root(g, a, q_e))
                start = q_e
            elif fine[i]:
                sub = a * (b / a) ** np.linspace(0, 1, 65)
                sub[0], sub[-1] = a, b
                found = cells(sub, *points(sub), refine=False)
                if found is not None:
                    return found
                continue
            if gb == 0:
                return at(b)
            if (gb > 0) != up:  # a crossing between start and b
                return at(root(g, start, b))
            if not up and sb2 == 0 and (abs(gb) < 1e-13 * b or b < 1e-20 * q0):
                return at(0.0)  # V(q) = q to rounding near 0, or q has decayed to nothing
        return None

    # fine structure (two extrema of g within one scan step) is looked for on 1e-8 < q < q_fine,
    # where phi(sqrt(q) z) is not yet in its small- or large-argument regime
    q_fine = 1e6 * max(1.0, q0, sb2)
    q_max = Q_MAX * max(1.0, q0, sw2, sb2)  # <= 1e200: far from overflow for ReLU-like maps
    v0 = float(vmap(np.asarray(q0)))
    if not math.isfinite(v0):
        raise ValueError(
            f"the length map of {act.name} with sigma_w2={sw2!r}, sigma_b2={sb2!r} is not "
            f"finite in float64 at q0={q0!r} (an overflow of the quadrature): start from a "
            "smaller q0"
        )
    g0 = v0 - q0
    side: str | None = None
    if abs(g0) <= 1e-14 * q0:
        if all(abs(g(f * q0)) <= 1e-14 * f * q0 for f in (0.5, 2.0)):
            return FixedPoint(q0, "neutral", slope(q0), None)
        return at(q0)
    up = g0 > 0
    side = "below" if up else "above"
    last, g_last, s_last, v_last = q0, g0, slope(q0) - 1, v0
    while True:
        k = np.arange(1, 129)
        new = last * _SCAN_STEP**k if up else last / _SCAN_STEP**k
        end_at_sb2 = not up and sb2 > 0 and new[-1] <= sb2
        if end_at_sb2:
            new = np.append(new[new > sb2], sb2)  # g(sb2) = sw2 E[phi(sigma_b z)^2] >= 0
        if up and new[0] > q_max:
            return FixedPoint(math.inf, "divergent", math.nan, None)
        g_new, s_new, v_new = values(new)
        bad = ~(np.isfinite(g_new) & np.isfinite(s_new))
        overflow = bool(bad.any())
        if overflow:  # V(q) overflows float64 beyond here: no fixed point can be resolved
            keep = int(np.argmax(bad))
            new, g_new, s_new, v_new = new[:keep], g_new[:keep], s_new[:keep], v_new[:keep]
        # V itself, not q + g: for q >> V that sum has rounding errors of order 1e-16 q, which
        # made tanh from q0 = 1e8 look decreasing
        path = np.concatenate([[v_last], v_new])
        if np.any(np.diff(path) * (1 if up else -1) < -1e-12 * np.abs(path[1:])):
            raise ValueError(
                f"the length map of {act.name} with sigma_w2={sw2!r}, sigma_b2={sb2!r} "
                f"decreases between q={min(last, new[-1])!r} and q={max(last, new[-1])!r}: "
                "outside the domain of fixed_point (an increasing map)"
            )
        found = cells(
            np.concatenate([[last], new]),
            np.concatenate([[g_last], g_new]),
            np.concatenate([[s_last], s_new]),
            refine=True,
        )
        if found is not None:
            return found
        if overflow:
            if up:
                return FixedPoint(math.inf, "divergent", math.nan, None)
            raise ValueError(
                f"the length map of {act.name} with sigma_w2={sw2!r}, sigma_b2={sb2!r} is not "
                f"finite below q={last!r}: outside the domain of fixed_point"
            )
        if end_at_sb2:
            return at(sb2)  # g(sb2) = 0: phi vanishes where sigma_b z lies
        last, g_last, s_last = float(new[-1]), float(g_new[-1]), float(s_new[-1])
        v_last = float(v_new[-1])


def finite_length(act: Activation, sw2: float, sb2: float, q: object) -> float:
    """The length the correlation maps work at: ``q`` checked, or the fixed point for ``q=None``.

    A given ``q`` must be 0 or in ``[Q_LOW, Q_MAX]``; for ``q=None`` it is the fixed point
    :math:`q^*`, which must be finite.
    """
    if q is None:
        qs = search_q_star(act, sw2, sb2)
        if not math.isfinite(qs):
            raise ValueError(
                f"the length map of {act.name} with sigma_w2={sw2!r}, sigma_b2={sb2!r} has no "
                "finite fixed point (q grows without bound); pass q= explicitly"
            )
        return qs
    qq = float(real_array(q, scalar=True))
    if 0 < qq < Q_LOW:
        raise ValueError(
            f"q must be 0 or >= {Q_LOW:g} (smaller lengths underflow the "
            f"quadrature; correlation_limit gives the q -> 0 limit), got {q!r}"
        )
    return at_most(qq, q, "q")
