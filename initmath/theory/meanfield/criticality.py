"""Order and chaos: :math:`\\chi_1` at the fixed point, the critical line, the depth scales.

The network is ordered where :math:`\\chi_1 < 1` and chaotic where :math:`\\chi_1 > 1`;
:func:`~initmath.theory.meanfield.critical_line` finds the line :math:`\\chi_1 = 1` in the
:math:`(\\sigma_w^2, \\sigma_b^2)` plane, and :func:`~initmath.theory.meanfield.depth_scales`
the depths over which lengths and correlations settle, which diverge on it.
"""

from __future__ import annotations

import math

import numpy as np

from ...core.checks import nonnegative_real, positive_real
from .arguments import (
    at_most,
    checked_activation,
    checked_real,
    checked_start,
    checked_variances,
    shown,
)
from .correlation_limits import correlation_limit_of
from .fixed_points import finite_length, search_q_star
from .lengths import chi1_at, length_slope_at

__all__ = ["chi1", "critical_line", "depth_scales"]


def chi1(activation: object, sigma_w2: float, sigma_b2: float) -> float:
    """:math:`\\chi_1 = \\sigma_w^2 E[\\phi'(\\sqrt{q^*} z)^2]` at the length map's fixed point.

    :math:`\\chi_1` is the factor by which the mean squared singular value of a layer's
    Jacobian multiplies the squared length of a perturbation, and, at a fixed point
    :math:`0 < q^* < \\infty`, the slope of the correlation map at :math:`c = 1`:
    :math:`\\chi_1 < 1` ordered, :math:`> 1` chaotic (Poole et al. 2016). At :math:`q^* = 0`
    (the limit :math:`q \\to 0^+` is returned) the slope of the correlation map at :math:`c = 1`
    is :math:`\\chi_1/\\mathcal V'(0^+) = 1` instead: :math:`\\chi_1 < 1` then means vanishing
    gradients, not converging inputs (:func:`correlation_limit`).

    Raises
    ------
    ValueError
        Bad arguments, or no finite :math:`q^*` (see :func:`fixed_point`).

    Examples
    --------
    >>> chi1("relu", 2.0, 0.0)
    1.0
    >>> round(chi1("tanh", 1.0, 0.0), 12)     # q* = 0: sigma_w^2 tanh'(0)^2
    1.0
    """
    act = checked_activation(activation)
    sw2, sb2 = checked_variances(sigma_w2, sigma_b2)
    return chi1_at(act, sw2, finite_length(act, sw2, sb2, None))


#: The default scan of critical_line: sigma_w2 = 2^(k/4) for k in this range.
_SCAN_W2 = (-20, 40)


def critical_line(
    activation: object,
    sigma_b2: float,
    *,
    bracket: tuple[float, float] | None = None,
    q0: float = 1.0,
) -> float:
    """The smallest :math:`\\sigma_w^2` with :math:`\\chi_1(\\sigma_w^2, \\sigma_b^2) = 1`.

    :math:`\\chi_1` is taken at the fixed point :math:`q^*` that iterating the length map
    from ``q0`` reaches (:func:`find_fixed_point`), which for GELU and SiLU can jump with
    :math:`\\sigma_w^2` (a fold of the length map, where a stable and an unstable fixed point
    merge into a half-stable one and vanish) or become infinite. The root is the first
    :math:`\\sigma_w^2` at which :math:`\\chi_1 - 1` changes sign *continuously*: by default a
    scan of :math:`2^{k/4}`, from :math:`2^{-5}` to :math:`2^{10}`, with every sign change between
    scan points where :math:`q^*` is finite solved by :func:`scipy.optimize.brentq`
    (``xtol`` 1e-13) and kept only if :math:`|\\chi_1 - 1| < 10^{-6}` at the root (else it
    is a jump of :math:`q^*`, skipped). The scan stops at the first infinite :math:`q^*`:
    :math:`\\mathcal V` increases with :math:`\\sigma_w^2` at every :math:`q`, so the iterates
    from ``q0`` do too, and :math:`q^*` stays infinite above. With ``bracket`` (a tuple, list
    or array ``(lo, hi)``, ``0 < lo < hi <= 1e100``; anything else is a ``TypeError`` or
    ``ValueError`` naming ``bracket``), only that
    interval is searched (by :func:`scipy.optimize.brentq` on its ends, as before), and both
    ends must have a finite :math:`q^*`.

    For ReLU :math:`\\chi_1 = \\sigma_w^2/2` whenever :math:`q^*` is finite, and :math:`q^*` is
    finite only for :math:`\\sigma_w^2 < 2` (or :math:`\\sigma_w^2 = 2, \\sigma_b^2 = 0`): the
    critical point is :math:`\\sigma_w^2 = 2` at :math:`\\sigma_b^2 = 0` and there is no
    critical line for :math:`\\sigma_b^2 > 0`; this case is answered directly (likewise leaky
    ReLU, :math:`2/(1+a^2)`, and linear, 1). Softplus behaves the same way (no root: its
    :math:`\\chi_1 < 1` wherever :math:`q^*` is finite), and so do GELU and SiLU at every
    :math:`\\sigma_b^2` (:math:`q^*` becomes infinite while :math:`\\chi_1 < 1`), and ELU
    beyond :math:`\\sigma_b^2 \\approx 0.2`. GELU and SiLU have a critical point only where the
    length map is tangent to the identity, :math:`\\mathcal V(q^*) = q^*`,
    :math:`\\mathcal V'(q^*) = \\chi_1 = 1` (:math:`\\sigma_b^2 \\approx 0.1729,
    \\sigma_w^2 \\approx 1.9831, q^* \\approx 3.5616` for GELU, :math:`\\sigma_b^2 \\approx
    0.5551, \\sigma_w^2 \\approx 1.9880, q^* \\approx 14.320` for SiLU; Roberts, Yaida and
    Hanin 2022, ch. 5): a half-stable fixed point (:func:`find_fixed_point`) that GELU's
    iteration reaches only from above and SiLU's only from below, and at which
    :math:`\\chi_1 - 1` jumps instead of crossing zero, so it is not returned here.

    Without bias and with :math:`\\phi(0) = 0`, the ordered phase has :math:`q^* = 0` and
    :math:`\\chi_1 = \\sigma_w^2\\phi'(0)^2`. If :math:`q^* = 0` still at
    :math:`\\sigma_w^2 = 1/\\phi'(0)^2` and :math:`\\chi_1 > 1` just above, that value is returned
    exactly (tanh: 1): on the chaotic side :math:`\\chi_1 - 1` grows only quadratically
    (about :math:`(\\sigma_w^2 - 1)^2/3` for tanh), which limits root finding to ~1e-8.

    Raises
    ------
    ValueError
        No continuous sign change of :math:`\\chi_1 - 1` (on ``bracket``, or in the scan: the
        message says what :math:`q^*` and :math:`\\chi_1` do instead), an infinite
        :math:`q^*` at an end of ``bracket``, ReLU-like activations with
        :math:`\\sigma_b^2 > 0`.

    Examples
    --------
    >>> round(critical_line("tanh", 0.0), 10)
    1.0
    >>> critical_line("relu", 0.0)
    2.0
    >>> round(critical_line("sigmoid", 0.0), 4)
    103.0076
    """
    from scipy.optimize import brentq

    act = checked_activation(activation)
    sb2 = at_most(checked_real(nonnegative_real, sigma_b2, "sigma_b2"), sigma_b2, "sigma_b2")
    q_start = checked_start(q0)
    if bracket is not None:
        # a sequence, not any iterable: a set has no order and an iterator would be used up
        if not isinstance(bracket, (tuple, list, np.ndarray)):
            raise TypeError(
                f"bracket must be None or a pair (lo, hi) of sigma_w2 values, got {shown(bracket)}"
            )
        ends = list(bracket)
        if len(ends) != 2:
            raise ValueError(
                f"bracket must be a pair (lo, hi) of sigma_w2 values, got {shown(bracket)}"
            )
        lo, hi = (
            at_most(checked_real(positive_real, b, "bracket"), bracket, "bracket") for b in ends
        )
        if lo >= hi:
            raise ValueError(f"bracket must have lo < hi, got {bracket!r}")
    if act.name in ("relu", "linear") or (act.name == "leaky_relu"):
        slope = float(act.numpy(np.array(-1.0)))  # -a for leaky ReLU, 0 for ReLU, -1 linear
        crit = 2.0 / (1.0 + slope**2)
        if sb2 > 0:
            raise ValueError(
                f"{act.name} has no critical line at sigma_b2={sigma_b2!r} > 0: q* is finite "
                f"only for sigma_w2 < {crit!r}, where chi1 < 1; the critical point is "
                f"sigma_w2={crit!r}, sigma_b2=0"
            )
        return crit

    def q_star(sw2: float) -> float:
        return search_q_star(act, sw2, sb2, q_start)

    def f(sw2: float) -> float:
        qs = q_star(sw2)
        return chi1_at(act, sw2, qs) - 1.0 if math.isfinite(qs) else math.nan

    if sb2 == 0 and float(act.numpy(np.array(0.0))) == 0:
        d0 = float(act.numpy_derivative(np.array(0.0)))
        if d0 != 0:
            s = 1.0 / d0**2
            inside = bracket is None or lo < s < hi
            if inside and q_star(s) == 0.0 and f(s * (1 + 1e-3)) > 0:
                return s

    def solve(a: float, fa: float, b: float, fb: float) -> float | None:
        if fa == 0:
            return a
        r = float(brentq(f, a, b, xtol=1e-13, maxiter=1000))
        fr = f(r)
        return r if math.isfinite(fr) and abs(fr) < 1e-6 else None  # else a jump of q*

    where = f"({act.name}, sigma_b2={sigma_b2!r}, q0={q0!r})"
    if bracket is not None:
        flo, fhi = f(lo), f(hi)
        for end, val in ((lo, flo), (hi, fhi)):
            if math.isnan(val):
                raise ValueError(
                    f"q* is infinite at sigma_w2={end!r} {where}: the length grows without "
                    f"bound and chi1 is undefined; pass another bracket= than {bracket!r}"
                )
        if np.sign(flo) == np.sign(fhi) and flo != 0:
            raise ValueError(
                f"chi1 - 1 does not change sign for sigma_w2 in {bracket!r} {where}; "
                "pass another bracket="
            )
        r = solve(lo, flo, hi, fhi)
        if r is None:
            raise ValueError(
                f"chi1 - 1 changes sign on {bracket!r} {where} only by a jump of q* (a fold "
                "of the length map), not through chi1 = 1"
            )
        return r
    grid = [float(x) for x in 2.0 ** (np.arange(_SCAN_W2[0], _SCAN_W2[1] + 1) / 4)]
    values: list[float] = []
    for x in grid:
        values.append(f(x))
        if math.isnan(values[-1]):
            break  # V grows with sigma_w2, so q* stays infinite above (see the docstring)
        if len(values) > 1:
            a, fa, b, fb = grid[len(values) - 2], values[-2], x, values[-1]
            if fa == 0 or fa * fb < 0:
                r = solve(a, fa, b, fb)
                if r is not None:
                    return r
    jumps = [
        grid[i]
        for i in range(len(values) - 1)
        if math.isfinite(values[i + 1]) and values[i] * values[i + 1] < 0
    ]
    finite = [v for v in values if math.isfinite(v)]
    detail = (
        f"chi1 - 1 ranges over [{min(finite):.3g}, {max(finite):.3g}] where q* is finite"
        if finite
        else "q* is infinite everywhere"
    )
    if math.isnan(values[-1]):
        detail += (
            f", and q* is infinite for sigma_w2 >= {grid[len(values) - 1]:.4g} (the "
            "length grows without bound)"
        )
    if jumps:
        detail += f"; chi1 jumps across 1 (a fold of the length map) near sigma_w2 = {jumps}"
    raise ValueError(
        f"no critical point {where}: chi1 = 1 is not crossed continuously for sigma_w2 in "
        f"[{grid[0]:.3g}, {grid[-1]:.3g}]: {detail}"
    )


def depth_scales(activation: object, sigma_w2: float, sigma_b2: float) -> tuple[float, float]:
    """Depth scales :math:`(\\xi_q, \\xi_c)` of Schoenholz et al. (2017).

    Near the fixed points, :math:`|q^\\ell - q^*| \\sim e^{-\\ell/\\xi_q}` and
    :math:`|c^\\ell - c^*| \\sim e^{-\\ell/\\xi_c}`, with

    .. math::
        \\xi_q^{-1} = -\\log \\mathcal V'(q^*) = -\\log\\Bigl[\\chi_1 + \\sigma_w^2
        E[\\phi''(\\sqrt{q^*}z)\\phi(\\sqrt{q^*}z)]\\Bigr], \\qquad
        \\xi_c^{-1} = -\\log \\chi_c, \\quad
        \\chi_c = \\sigma_w^2 E[\\phi'(u_1^*)\\phi'(u_2^*)],

    where :math:`u^*_{1,2}` are the Gaussians of :func:`correlation_map` at :math:`q^*` and
    :math:`c^*` (:func:`correlation_fixed_point`); :math:`\\chi_c = \\chi_1` when
    :math:`c^* = 1` (the logarithms are of absolute values). :math:`\\xi_c` is the one of
    :func:`correlation_limit`, which also covers :math:`q^* = 0` and :math:`q^* = \\infty`.

    Returns
    -------
    (float, float)
        ``math.inf`` where the slope is 1 (or, by rounding, above): :math:`\\xi_c` on the
        critical line :math:`\\chi_1 = 1`, :math:`\\xi_q` where the length map is marginal
        (tanh at :math:`\\sigma_w^2 = 1, \\sigma_b^2 = 0`, ReLU at :math:`\\sigma_w^2 = 2`, a
        half-stable :math:`q^*`). :math:`\\xi_c` is also ``math.inf`` where :math:`q^* = 0` or
        :math:`\\infty` (:func:`correlation_limit`): ReLU-like limits approach :math:`c = 1`
        as the power law :math:`1 - c^\\ell \\approx A/\\ell^2`, and tanh-like ones at
        :math:`\\sigma_b = 0` below criticality preserve the input correlation. At
        :math:`q^* = 0`, :math:`\\xi_q = -1/\\log \\mathcal V'(0^+)` (the length decays as
        :math:`\\mathcal V'(0)^\\ell`); at :math:`q^* = \\infty`, :math:`\\xi_q` is ``nan``
        (the length does not converge). Within about 1e-9 of the critical line the quadrature
        decides whether :math:`c^* = 1`.

    Raises
    ------
    ValueError
        Bad arguments, or outside the domain of :func:`correlation_limit`.

    Examples
    --------
    >>> xi_q, xi_c = depth_scales("relu", 1.0, 0.0)   # q ~ 2^-l, 1 - c ~ 44.4 / l^2
    >>> round(xi_q, 6), xi_c
    (1.442695, inf)
    >>> xi_q, xi_c = depth_scales("relu", 1.0, 0.5)   # q* = 1, slopes 1/2 and 1/2
    >>> round(xi_q, 6), round(xi_c, 6)
    (1.442695, 1.442695)
    """
    act = checked_activation(activation)
    sw2, sb2 = checked_variances(sigma_w2, sigma_b2)
    lim = correlation_limit_of(act, sw2, sb2)
    qs = lim.q_star
    if math.isinf(qs):
        return math.nan, lim.xi_c
    slope_q = length_slope_at(act, qs, sw2)
    if abs(slope_q) >= 1.0:
        xi_q = math.inf
    else:
        xi_q = 0.0 if slope_q == 0 else -1.0 / math.log(abs(slope_q))
    return xi_q, lim.xi_c
