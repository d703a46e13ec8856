"""What the correlation of two inputs does with depth, in every phase.

At a fixed point :math:`0 < q^* < \\infty` of the length map the correlation tends to the stable
fixed point :math:`c^*` of the correlation map
(:func:`~initmath.theory.meanfield.correlation_fixed_point`); where the length tends to 0 or
grows without bound, to what the limit of the correlation map decides: kept (tanh without bias
below criticality), or driven to 1 as a power law of depth (ReLU-like activations).
:func:`~initmath.theory.meanfield.correlation_limit` says which, and how fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..activations import Activation
from ..quadrature import half_line_nodes
from .arguments import checked_activation, checked_variances
from .correlations import correlation_map_at, correlation_slope_at
from .fixed_points import SLOPE_TOL, search_fixed_point
from .lengths import chi1_at

__all__ = [
    "CorrelationLimit",
    "correlation_fixed_point",
    "correlation_limit",
    "correlation_limit_of",
]


@dataclass(frozen=True)
class CorrelationLimit:
    """How the correlation of two inputs behaves with depth (:func:`correlation_limit`).

    Attributes
    ----------
    kind : str
        ``"geometric"``: :math:`c^\\ell \\to c^*` with
        :math:`|c^\\ell - c^*| \\sim \\chi_c^\\ell`, :math:`\\chi_c < 1`;
        ``"power_law"``: :math:`c^\\ell \\to c^* = 1` slower than any exponential (the slope
        of the correlation map at :math:`c^* = 1` is one), :math:`1 - c^\\ell \\sim
        \\ell^{-\\text{exponent}}`;
        ``"preserved"``: there is no attracting correlation; :math:`c^\\ell` tends to a limit
        that depends on the input correlation, which the network keeps (the correlation map
        tends to the identity :math:`c \\mapsto c`).
    c_star : float
        :math:`c^*`; ``nan`` for ``"preserved"``.
    chi_c : float
        The slope of the (limiting) correlation map at :math:`c^*` (1 for ``"power_law"`` and
        ``"preserved"``).
    xi_c : float
        :math:`-1/\\log \\chi_c`; ``math.inf`` unless ``kind == "geometric"``.
    q_star : float
        The fixed point of the length map reached from :math:`q = 1`
        (:func:`find_fixed_point`): finite, 0 or ``math.inf``.
    exponent : float or None
        For ``"power_law"``: 2 where the limiting map has a kink of :math:`\\phi` in it
        (:math:`1 - \\mathcal C(1 - \\epsilon) = \\epsilon - \\kappa\\epsilon^{3/2}`, ReLU-like),
        1 for a smooth map on the critical line (:math:`\\epsilon - \\beta\\epsilon^2`).
    power_law : float or None
        The constant :math:`A` of :math:`(1 - c^\\ell)\\,\\ell^2 \\to A = 4/\\kappa^2`, where it
        is known exactly: the limiting map is the arc-cosine kernel of a two-slope
        :math:`\\phi` (slopes :math:`a` for :math:`u > 0`, :math:`b` for :math:`u < 0`),
        :math:`\\kappa = \\frac{2\\sqrt 2}{3\\pi} \\frac{(a-b)^2}{a^2+b^2}` (ReLU:
        :math:`A = 9\\pi^2/2`), and the length decays or grows geometrically (or is constant
        without bias). ``None`` otherwise.
    note : str
        One sentence on what happens.
    """

    kind: str
    c_star: float
    chi_c: float
    xi_c: float
    q_star: float
    exponent: float | None
    power_law: float | None
    note: str


_X_FAR = 40.0  # where the asymptotic slopes phi'(+-inf) are read (and checked at 2 * _X_FAR)


def _power_law(qs: float, exponent: float, constant: float | None, text: str) -> CorrelationLimit:
    """A limit c* = 1 approached as a power of the depth (slope chi_c = 1, no depth scale)."""
    return CorrelationLimit("power_law", 1.0, 1.0, math.inf, qs, exponent, constant, text)


def _two_slope_constant(a: float, b: float) -> float:
    """:math:`A = 4/\\kappa^2` of :math:`(1 - c^\\ell)\\ell^2 \\to A` for the two-slope kernel."""
    kappa = 2 * math.sqrt(2) / (3 * math.pi) * (a - b) ** 2 / (a * a + b * b)
    return 4 / kappa**2


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def _homogeneous_slopes(act: Activation) -> tuple[float, float] | None:
    """``(a, b)`` if :math:`\\phi` is positively homogeneous of degree 1, else None.

    That is, :math:`\\phi(x) = a x` for :math:`x > 0` and :math:`b x` for :math:`x < 0`, to
    1e-12 on test points.
    """
    x = np.array([1e-6, 1e-3, 0.3, 1.0, 2.5, 9.0, 1e3])
    with np.errstate(all="ignore"):
        a, b = float(act.numpy(np.array(1.0))), -float(act.numpy(np.array(-1.0)))
        ok = np.allclose(act.numpy(x), a * x, rtol=1e-12, atol=0) and np.allclose(
            act.numpy(-x), -b * x, rtol=1e-12, atol=0
        )
    return (a, b) if ok and math.isfinite(a) and math.isfinite(b) else None


def _is_odd(act: Activation) -> bool:
    z, _ = half_line_nodes()
    x = z[z > 0]
    with np.errstate(all="ignore"):
        return bool(np.allclose(act.numpy(-x), -act.numpy(x), rtol=1e-12, atol=1e-300))


def _slopes(act: Activation, x: float) -> tuple[float, float]:
    with np.errstate(all="ignore"):
        d = act.numpy_derivative(np.array([x, -x]))
    return float(d[0]), float(d[1])


def correlation_limit(activation: object, sigma_w2: float, sigma_b2: float) -> CorrelationLimit:
    """What the correlation :math:`c^\\ell` of two inputs does with depth, in every phase.

    At a fixed point :math:`0 < q^* < \\infty` of the length map the correlation map
    :math:`\\mathcal C(c; q^*)` has the stable fixed point :math:`c^*`
    (:func:`correlation_fixed_point`) with slope :math:`\\chi_c` (``"geometric"`` when
    :math:`\\chi_c < 1`, ``"power_law"`` on the critical line :math:`\\chi_1 = 1`). Where the
    length itself tends to 0 or :math:`\\infty`, the correlation map at :math:`q^\\ell` tends
    to a limit map instead:

    * :math:`q^* = 0` (no bias, :math:`\\phi(0) = 0`): :math:`\\mathcal C(c; q) \\to c` if
      :math:`\\phi` is differentiable at 0 with :math:`\\phi'(0) \\ne 0` (the net becomes linear:
      for odd :math:`\\phi = x + \\phi_3 x^3 + \\dots`,
      :math:`\\mathcal C(c; q) = c + O(q^2)`, otherwise :math:`c + O(q^{1/2})` or
      :math:`O(q)`). When :math:`q^\\ell` decays geometrically (:math:`\\mathcal V'(0) < 1`)
      the corrections add up to a finite amount: ``"preserved"``, the input correlation is
      kept up to :math:`O(q)`, and there is no attracting :math:`c^*` (tanh at
      :math:`\\sigma_w^2 < 1, \\sigma_b = 0`, where the old answer :math:`c^* = 1` was wrong).
      At :math:`\\mathcal V'(0) = 1` (:math:`q^\\ell \\sim 1/\\ell`) this still holds for odd
      :math:`\\phi` (:math:`\\sum q_\\ell^2 < \\infty`). If :math:`\\phi` has a kink at 0
      (slopes :math:`a \\ne b` on the two sides), the limit map is the arc-cosine kernel
      :math:`\\mathcal C_{ab}(c) = c + \\frac{(a-b)^2}{(a^2+b^2)\\pi}(\\sin\\theta - \\theta
      \\cos\\theta)`, :math:`\\theta = \\arccos c`, whose slope at :math:`c = 1` is exactly 1:
      correlations go to 1 as the power law :math:`1 - c^\\ell \\approx A/\\ell^2`
      (``"power_law"``, :math:`\\xi_c = \\infty`).
    * positively homogeneous :math:`\\phi` (ReLU, leaky ReLU, linear) without bias:
      :math:`\\mathcal C = \\mathcal C_{ab}` exactly at every :math:`q`, so the same holds
      for :math:`q^* = 0`, finite or :math:`\\infty` (for :math:`a = b`, linear, every
      correlation is kept exactly).
    * :math:`q^* = \\infty`: :math:`\\phi(\\sqrt q z)/\\sqrt q` tends to the two-slope function of
      :math:`a = \\phi'(\\infty), b = \\phi'(-\\infty)` (ReLU for GELU, SiLU, ELU, softplus) and
      the bias becomes negligible: ``"power_law"`` for :math:`a \\ne b`, ``"preserved"`` for
      :math:`a = b` if the length grows geometrically.

    Domain: the activation's forms must be finite where they are evaluated. Refused with a
    ``ValueError``: :math:`q^* = 0` with :math:`\\phi'(0^\\pm) = 0`; :math:`q^* = 0` with
    :math:`\\mathcal V'(0) = 1` and :math:`\\phi` not odd or kinked (the corrections decide);
    :math:`q^* = \\infty` with :math:`\\phi` not asymptotically linear (:math:`\\phi'` at 40 and
    80 differ), or with :math:`a = b` and a length that grows only sub-geometrically.

    Examples
    --------
    >>> r = correlation_limit("relu", 1.0, 0.0)
    >>> r.kind, r.c_star, r.xi_c, round(r.power_law, 4)   # 9 pi^2 / 2
    ('power_law', 1.0, inf, 44.4132)
    >>> correlation_limit("tanh", 0.8, 0.0).kind
    'preserved'
    >>> r = correlation_limit("tanh", 1.5, 0.05)
    >>> r.kind, r.c_star, round(r.xi_c, 4)
    ('geometric', 1.0, 15.791)
    """
    act = checked_activation(activation)
    sw2, sb2 = checked_variances(sigma_w2, sigma_b2)
    return correlation_limit_of(act, sw2, sb2)


def correlation_limit_of(act: Activation, sw2: float, sb2: float) -> CorrelationLimit:
    """:func:`correlation_limit` for checked arguments: ``act`` bound, floats in the domain."""
    fp = search_fixed_point(act, sw2, sb2)
    qs = fp.q
    where = f"{act.name} with sigma_w2={sw2!r}, sigma_b2={sb2!r}"

    def kernel(a: float, b: float, q_text: str, exact: bool) -> CorrelationLimit:
        if _same(a, b):
            return CorrelationLimit(
                "preserved",
                math.nan,
                1.0,
                math.inf,
                qs,
                None,
                None,
                f"{q_text}: the correlation map tends to c -> c, the input correlation is kept"
                + (" exactly" if exact else " (up to corrections that add up to O(q))"),
            )
        big_a = _two_slope_constant(a, b)
        return _power_law(
            qs,
            2.0,
            big_a,
            f"{q_text}: the correlation map is{'' if exact else ' asymptotically'} the "
            f"arc-cosine kernel of slopes ({a:.6g}, {b:.6g}), slope 1 at c = 1: "
            f"1 - c_l ~ {big_a:.6g} / l^2",
        )

    hom = _homogeneous_slopes(act)
    if hom is not None and sb2 == 0:
        return kernel(*hom, f"{act.name} without bias is positively homogeneous", True)
    if qs == 0.0:
        a, b = _slopes(act, 1e-100)
        if a == 0 and b == 0:
            raise ValueError(
                f"correlation_limit: q* = 0 for {where} and phi'(0) = 0; the limit of the "
                "correlation map depends on the higher-order terms of phi (outside the domain)"
            )
        if fp.slope < 1 - SLOPE_TOL:
            return kernel(
                a, b, f"q* = 0 for {where}, q decays geometrically (V'(0) = {fp.slope:.6g})", False
            )
        if _same(a, b) and _is_odd(act):
            return kernel(
                a,
                b,
                f"q* = 0 for {where}, q decays as a power law "
                "(V'(0) = 1; odd phi: C(c; q) = c + O(q^2))",
                False,
            )
        raise ValueError(
            f"correlation_limit: q* = 0 for {where} with V'(0) = 1 (the length decays as a "
            "power law) and phi not odd: whether the correlation drifts depends on the "
            "higher-order terms of phi (outside the domain)"
        )
    if qs == math.inf:
        a, b = _slopes(act, _X_FAR)
        a2, b2 = _slopes(act, 2 * _X_FAR)
        if not (
            all(map(math.isfinite, (a, b, a2, b2)))
            and abs(a - a2) <= 1e-6 * max(1, abs(a))
            and abs(b - b2) <= 1e-6 * max(1, abs(b))
        ):
            raise ValueError(
                f"correlation_limit: q* = inf for {where} and phi is not asymptotically linear "
                f"(phi' = {a!r}, {b!r} at +-{_X_FAR}, {a2!r}, {b2!r} at +-{2 * _X_FAR}): "
                "outside the domain"
            )
        growth = sw2 * (a * a + b * b) / 2
        if growth > 1 + SLOPE_TOL:
            return kernel(
                a,
                b,
                f"q* = inf for {where}, q grows geometrically (by {growth:.6g} per layer)",
                False,
            )
        if not _same(a, b):
            return _power_law(
                qs,
                2.0,
                None,
                f"q* = inf for {where}, q grows sub-geometrically: the arc-cosine kernel of "
                f"slopes ({a:.6g}, {b:.6g}) and the bias both pull c to 1, as ~1/l^2",
            )
        raise ValueError(
            f"correlation_limit: q* = inf for {where} with growth factor 1 and equal slopes "
            "at +-inf: the bias decides (outside the domain)"
        )
    chi = chi1_at(act, sw2, qs)
    cs = _c_star(act, sw2, sb2, qs, chi)
    chi_c = chi if cs == 1.0 else float(correlation_slope_at(act, np.asarray(cs), sw2, sb2, qs))
    if abs(chi_c) < 1:
        xi = 0.0 if chi_c == 0 else -1.0 / math.log(abs(chi_c))
        return CorrelationLimit(
            "geometric",
            cs,
            chi_c,
            xi,
            qs,
            None,
            None,
            f"c_l -> {cs:.6g} geometrically, |c_l - c*| ~ {chi_c:.6g}^l",
        )
    kinked = not _same(*_slopes(act, 1e-100))
    return _power_law(
        qs,
        2.0 if kinked else 1.0,
        None,
        f"critical: chi1 = 1 at q* = {qs:.6g}, c_l -> 1 as ~1/l^{2 if kinked else 1}",
    )


def correlation_fixed_point(activation: object, sigma_w2: float, sigma_b2: float) -> float:
    """The stable fixed point :math:`c^*` of the correlation map.

    At a finite :math:`q^* > 0`, :math:`c = 1` is always a fixed point; it is stable when
    :math:`\\chi_1 \\le 1` (ordered phase and critical line) and :math:`c^* = 1` is returned.
    When :math:`\\chi_1 > 1` (chaos) the stable fixed point is the root :math:`c^* < 1` of
    :math:`\\mathcal C(c) - c`, found by :func:`scipy.optimize.brentq` on
    :math:`[-1+\\delta, 1-\\delta]` (``1.0`` is returned if the root is within 1e-9 of 1,
    where the quadrature cannot resolve it). Where :math:`q^* = 0` or :math:`\\infty` the
    limit of the correlation map decides (:func:`correlation_limit`): ReLU-like limits give
    :math:`c^* = 1`, reached as a power law.

    Raises
    ------
    ValueError
        Where no correlation attracts: the input correlation is preserved
        (``correlation_limit(...).kind == "preserved"``: tanh and other activations with
        :math:`\\phi'(0) \\ne 0` at :math:`\\sigma_b = 0` below the critical point, where
        :math:`q^* = 0`; linear nets without bias); and outside the domain of
        :func:`correlation_limit`.

    Examples
    --------
    >>> correlation_fixed_point("tanh", 1.5, 0.05)
    1.0
    >>> abs(correlation_fixed_point("tanh", 4.0, 0.0)) < 1e-12   # odd phi, no bias: c* = 0
    True
    >>> correlation_fixed_point("relu", 1.0, 0.0)   # q* = 0, power law 1 - c ~ 44.4 / l^2
    1.0
    """
    act = checked_activation(activation)
    sw2, sb2 = checked_variances(sigma_w2, sigma_b2)
    lim = correlation_limit_of(act, sw2, sb2)
    if lim.kind == "preserved":
        raise ValueError(
            f"correlation_fixed_point: no correlation attracts for {act.name} with "
            f"sigma_w2={sigma_w2!r}, sigma_b2={sigma_b2!r}; {lim.note} "
            "(see correlation_limit)"
        )
    return lim.c_star


def _c_star(act: Activation, sw2: float, sb2: float, qs: float, chi: float) -> float:
    from scipy.optimize import brentq

    if chi <= 1 or qs <= 0:
        return 1.0

    def f(c: float) -> float:
        return float(correlation_map_at(act, np.asarray(c), sw2, sb2, qs)) - c

    delta = 1e-2
    while f(1 - delta) >= 0:
        delta /= 10
        if delta < 1e-9:
            return 1.0
    lo = -1 + 1e-6
    if f(lo) <= 0:
        return lo
    return float(brentq(f, lo, 1 - delta, xtol=1e-13))
