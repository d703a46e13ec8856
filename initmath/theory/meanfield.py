"""Mean-field signal propagation: the length and correlation maps, order and chaos.

A wide fully connected layer :math:`z^\\ell = W^\\ell \\phi(z^{\\ell-1}) + b^\\ell` with
:math:`W_{ij} \\sim N(0, \\sigma_w^2/n)`, :math:`b_i \\sim N(0, \\sigma_b^2)` maps the second
moment (the *length*) :math:`q` of its pre-activations and the correlation :math:`c` between the
pre-activations of two inputs through deterministic maps in the infinite-width limit
(Poole et al. 2016; Schoenholz et al. 2017). With :math:`z, z_1, z_2` independent standard
Gaussians:

.. math::
    \\mathcal V(q) = \\sigma_w^2\\, E[\\phi(\\sqrt q\\, z)^2] + \\sigma_b^2, \\qquad
    \\mathcal C(c; q) = \\frac{\\sigma_w^2\\, E[\\phi(u_1)\\phi(u_2)] + \\sigma_b^2}
    {\\mathcal V(q)},

    u_1 = \\sqrt q\\, z_1, \\quad u_2 = \\sqrt q\\,\\bigl(c z_1 + \\sqrt{1-c^2}\\, z_2\\bigr).

The slope of :math:`\\mathcal C` at :math:`c = 1` (at the fixed point :math:`q^*` of
:math:`\\mathcal V`) is :math:`\\chi_1 = \\sigma_w^2 E[\\phi'(\\sqrt{q^*} z)^2]`: the network is
*ordered* when :math:`\\chi_1 < 1` (nearby inputs converge), *chaotic* when :math:`\\chi_1 > 1`,
and critical on the line :math:`\\chi_1 = 1`. This holds at a fixed point :math:`0 < q^* < \\infty`;
where the length itself decays to 0 or grows without bound, the slope of the correlation map at
:math:`c = 1` tends to 1 whatever :math:`\\chi_1` is, and :func:`correlation_limit` says what the
correlations do instead (tanh without bias below criticality keeps them; ReLU without bias
drives them to 1 as :math:`\\ell^{-2}`). :func:`find_fixed_point` reports half-stable fixed
points (tangencies of the length map, GELU and SiLU) that a sign-change root finder misses.

All expectations are quadrature sums of the activation's NumPy forms (:attr:`Activation.numpy`,
:attr:`Activation.numpy_derivative`) in float64, with fixed nodes
(:mod:`initmath.theory.quadrature`,
the package's one Gaussian rule), so a whole phase diagram is cheap. One-dimensional
expectations :math:`E[f(\\sqrt q z)]` are :func:`~initmath.theory.quadrature.gaussian_expectation`:
Gauss–Legendre on :math:`[-9, 0]` and :math:`[0, 9]`, which puts the kink of ReLU-like
activations on an interval end and agrees with :func:`scipy.integrate.quad` to about 1e-15
relative for :math:`q \\le 25` (Gauss–Hermite, which spends its nodes in the tails, is off
by 8e-4 for tanh at :math:`q = 25`).

The two-dimensional expectations of the correlation map use polar coordinates, Gauss–Legendre
in the radius (:data:`~initmath.theory.quadrature.RADIAL_NODES`) and in the angle on each of
the four
arcs between the angles where :math:`u_1` or :math:`u_2` changes sign
(:data:`~initmath.theory.quadrature.ANGLE_NODES` each): the kink of ReLU-like activations then lies
on an arc boundary, and ReLU's correlation map agrees with the arc-cosine kernel to 1e-14.
For tanh it agrees with :func:`scipy.integrate.dblquad` to about 1e-12 at :math:`q = 2` and
1e-9 at :math:`q = 20`. Gauss–Hermite in two dimensions (the product rule, 80 nodes per axis)
is off by up to 2e-3 for ReLU, whose kink it does not resolve.

Arguments are checked before any quadrature, with a ``TypeError`` or ``ValueError`` that names
the argument: numbers must be real (not ``bool``, strings, ``None`` or complex, which NumPy
would convert silently) and finite; ``sigma_w2``, ``sigma_b2``, ``q0`` and an explicit ``q``
of the correlation maps are at most ``1e100`` (far beyond any initialization, and it keeps the
fixed-point search clear of float64 overflow), and an explicit ``q`` of the correlation maps
is 0 or at least ``1e-280`` (below, the quadrature products are subnormal). A result that
overflows float64 (``length_map("relu", 1e308, 2.0, 0.0)``) is a ``ValueError``, never an
``inf``. Arrays ``q`` and ``c`` of any length are evaluated in chunks of about ``2**20``
node values, so memory does not grow with the number of nodes times the length.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core.checks import nonnegative_real, positive_real
from .activations import Activation, activation
from .quadrature import (
    ANGLE_NODES,
    CHUNK,
    RADIAL_NODES,
    gaussian_expectation,
    half_line_nodes,
    legendre,
    radial_nodes,
)

__all__ = [
    "Q_TINY",
    "TANGENCY_TOL",
    "CorrelationLimit",
    "FixedPoint",
    "chi1",
    "correlation_fixed_point",
    "correlation_map",
    "correlation_slope",
    "correlation_limit",
    "critical_line",
    "depth_scales",
    "find_fixed_point",
    "fixed_point",
    "length_map",
    "length_slope",
]


#: The largest accepted sigma_w2, sigma_b2, q0 and explicit q of the correlation maps. The
#: upward scan of the fixed-point search takes ``_Q_MAX * max(1, q0, sigma_w2, sigma_b2)`` for
#: "no finite fixed point", which stays far from float64 overflow (~1.8e308) for these bounds.
_Q_MAX = 1e100
#: The smallest explicit q > 0 of the correlation maps: below it the products of the quadrature
#: nodes become subnormal and lose their digits (ReLU's C(0.5; 1e-320) would be 0.573, not 0.609).
_Q_LOW = 1e-280
#: Where a derivative moment is wanted at :math:`q = 0`, it is the limit :math:`q \\to 0^+`,
#: evaluated at this :math:`q` (so ReLU gives :math:`E[\\phi'^2] = 1/2`, not :math:`\\phi'(0)^2`).
Q_TINY = 1e-200


_FORMS: dict[tuple[str, object], Activation] = {}


def _act(spec: object) -> Activation:
    # activation() returns a fresh bound copy, whose NumPy forms would be lambdified again at
    # every call; keep one copy per (name, expression).
    act = activation(spec)
    return _FORMS.setdefault((act.name, act.expr), act)


def _checked(check: Callable[[object, str], float], value: object, name: str) -> float:
    """``check(value, name)`` with an int too large for a float (``10**400``) refused by name
    (``float()`` raises ``OverflowError`` on it)."""
    try:
        return check(value, name)
    except OverflowError:
        raise ValueError(
            f"{name} must be <= {_Q_MAX:g} (the domain of the mean-field maps), got {_show(value)}"
        ) from None


def _at_most(x: float, value: object, name: str, bound: float = _Q_MAX) -> float:
    if x > bound:
        raise ValueError(
            f"{name} must be <= {bound:g} (the domain of the mean-field maps), got {value!r}"
        )
    return x


def _variances(sigma_w2: object, sigma_b2: object) -> tuple[float, float]:
    sw2 = _at_most(_checked(positive_real, sigma_w2, "sigma_w2"), sigma_w2, "sigma_w2")
    sb2 = _at_most(_checked(nonnegative_real, sigma_b2, "sigma_b2"), sigma_b2, "sigma_b2")
    return sw2, sb2


def _show(value: object) -> str:
    """``repr(value)``, shortened for long lists (NumPy shortens long arrays itself)."""
    return reprlib.repr(value) if isinstance(value, (list, tuple, set, dict)) else repr(value)


def _is_real_scalar(value: object) -> bool:
    return isinstance(value, (numbers.Real, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def _q_array(
    q: object, name: str = "q", *, nonnegative: bool = True, scalar: bool = False
) -> np.ndarray:
    """``q`` as a float64 array, refusing what is not a real number (or, unless ``scalar``,
    an array of them): strings, bools, complex, ``None``, objects, lists of those; NumPy
    would convert ``"1.0"`` and ``True`` silently."""
    what = "a real number" if scalar else "a real number or an array of them"
    arr: np.ndarray | None
    if _is_real_scalar(q):
        try:
            arr = np.asarray(float(q))  # type: ignore[arg-type]
        except OverflowError:  # an int beyond float64
            raise ValueError(f"{name} must be finite, got {_show(q)}") from None
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
            raise TypeError(f"{name} must be {what}, got {_show(q)}")
        arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {_show(q)}")
    if nonnegative and np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got {_show(q)}")
    return arr


def _finite_result(
    v: np.ndarray, what: str, act: Activation, q: np.ndarray | float, sw2: float, sb2: float
) -> np.ndarray:
    """``v``, or a ``ValueError`` if an entry overflowed (or came out NaN): never an inf or
    NaN for finite arguments."""
    v = np.asarray(v)
    if np.all(np.isfinite(v)):
        return v
    bad = np.broadcast_to(np.asarray(q), v.shape)[~np.isfinite(v)]
    raise ValueError(
        f"{what} of {act.name} is not finite in float64 at q={float(bad.flat[0])!r} with "
        f"sigma_w2={sw2!r}, sigma_b2={sb2!r} (an overflow of the quadrature, or a divergent "
        "expectation): make q, sigma_w2 or sigma_b2 smaller"
    )


def _out(arr: np.ndarray) -> float | np.ndarray:
    return float(arr) if arr.ndim == 0 else arr


def length_map(
    activation: object, q: float | np.ndarray, sigma_w2: float, sigma_b2: float
) -> float | np.ndarray:
    """The length map :math:`\\mathcal V(q) = \\sigma_w^2 E[\\phi(\\sqrt q z)^2] + \\sigma_b^2`.

    Parameters
    ----------
    activation : str, (str, float) or Activation
        :math:`\\phi`, as for :func:`initmath.activation`.
    q : float or array_like
        Second moment(s) of the pre-activations of a layer (>= 0): a real number or an array
        (list) of real numbers, not strings or bools.
    sigma_w2 : float
        :math:`\\sigma_w^2` (> 0, at most 1e100): the weights have variance
        :math:`\\sigma_w^2/n`.
    sigma_b2 : float
        :math:`\\sigma_b^2` (>= 0, at most 1e100), the bias variance.

    Returns
    -------
    float or numpy.ndarray
        The next layer's :math:`q`, of the shape of ``q``.

    Raises
    ------
    TypeError
        A non-number (a string, bool, ``None``, complex, or a list containing one).
    ValueError
        NaN, infinite or out-of-range values (see the module notes), or a result that is not
        finite in float64 (overflow).

    Examples
    --------
    >>> round(length_map("relu", 3.0, 2.0, 0.0), 12)   # He: sigma_w^2 q / 2 = q
    3.0
    >>> length_map("tanh", [0.5, 1.0], 1.0, 0.1).round(6)
    array([0.373676, 0.494294])
    """
    act = _act(activation)
    sw2, sb2 = _variances(sigma_w2, sigma_b2)
    qq = _q_array(q)
    with np.errstate(over="ignore", invalid="ignore"):
        v = sw2 * gaussian_expectation(lambda x: act.numpy(x) ** 2, qq) + sb2
    return _out(_finite_result(v, "the length map", act, qq, sw2, sb2))


def length_slope(activation: object, q: float, sigma_w2: float, sigma_b2: float) -> float:
    """The slope :math:`\\mathcal V'(q)` of the length map.

    By Gaussian integration by parts (:math:`E[z f(z)] = E[f'(z)]`),

    .. math::
        \\mathcal V'(q) = \\frac{\\sigma_w^2}{\\sqrt q} E[\\phi(\\sqrt q z)\\phi'(\\sqrt q z)\\,z]
        = \\chi_1(q) + \\sigma_w^2 E[\\phi(\\sqrt q z)\\phi''(\\sqrt q z)],

    computed in the first form (it needs :math:`\\phi'` only). ``sigma_b2`` does not enter; it
    is taken for a uniform signature. At :math:`q = 0` the limit :math:`q \\to 0^+` is taken
    (evaluated at :data:`Q_TINY`).

    Examples
    --------
    >>> round(length_slope("relu", 5.0, 3.0, 0.0), 12)      # sigma_w^2 / 2
    1.5
    """
    act = _act(activation)
    sw2, sb2 = _variances(sigma_w2, sigma_b2)
    qq = float(_q_array(q, scalar=True))
    with np.errstate(over="ignore", invalid="ignore"):
        v = _length_slope(act, qq, sw2)
    return float(_finite_result(np.asarray(v), "the slope of the length map", act, qq, sw2, sb2))


def _length_slope(act: Activation, q: float, sw2: float) -> float:
    return float(_length_slopes(act, np.asarray(q, dtype=np.float64), sw2))


def _length_slopes(act: Activation, q: np.ndarray, sw2: float) -> np.ndarray:
    qq = np.sqrt(np.maximum(q, Q_TINY))
    z, w = half_line_nodes()
    x = qq[..., None] * z
    with np.errstate(over="ignore", invalid="ignore"):
        return sw2 * (act.numpy(x) * act.numpy_derivative(x) * z) @ w / qq


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
_SLOPE_TOL = 1e-9  # |V'(q*) - 1| below this: slope one, to the precision of the quadrature


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
    act = _act(activation)
    sw2, sb2 = _variances(sigma_w2, sigma_b2)
    return _find_fixed_point(act, sw2, sb2, _start(q0))


def _start(q0: object) -> float:
    return _at_most(_checked(positive_real, q0, "q0"), q0, "q0")


def _fixed_point(act: Activation, sw2: float, sb2: float, q0: float = 1.0) -> float:
    return _find_fixed_point(act, sw2, sb2, q0).q


def _find_fixed_point(act: Activation, sw2: float, sb2: float, q0: float = 1.0) -> FixedPoint:
    from scipy.optimize import brentq

    def vmap(q: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore", invalid="ignore"):
            m = gaussian_expectation(lambda x: act.numpy(x) ** 2, np.asarray(q, dtype=np.float64))
            return sw2 * m + sb2

    def g(q: float) -> float:
        return float(vmap(np.asarray(q))) - q

    def slope(q: float) -> float:
        return _length_slope(act, q, sw2)

    def root(f: Callable[[float], float], a: float, b: float) -> float:
        lo, hi = sorted((a, b))
        return float(brentq(f, lo, hi, xtol=1e-300, rtol=1e-15, maxiter=1000))

    def at(q: float, tangent: bool = False) -> FixedPoint:
        sq = slope(q)
        if tangent:
            return FixedPoint(q, "half-stable", sq, side)
        if q == 0.0:
            return FixedPoint(0.0, "stable" if sq < 1 - _SLOPE_TOL else "marginal", sq, side)
        if abs(sq - 1) <= _SLOPE_TOL:
            return FixedPoint(q, "half-stable", sq, side)
        return FixedPoint(q, "stable" if sq < 1 else "unstable", sq, side)

    def points(q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return values(q)[:2]

    def values(q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        v = vmap(q)
        return v - q, _length_slopes(act, q, sw2) - 1, v

    def cells(qs: np.ndarray, gs: np.ndarray, ss: np.ndarray, refine: bool) -> FixedPoint | None:
        """The first fixed point among the cells [qs[i], qs[i+1]] (in the direction of motion),
        or None. A sign change of V' - 1 inside a cell is an extremum of g: a tangency if g
        reaches zero there; cells where g is tiny are rescanned 64 times finer, where two
        extrema could hide between the points."""
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
    q_max = _Q_MAX * max(1.0, q0, sw2, sb2)  # <= 1e200: far from overflow for ReLU-like maps
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


def _finite_fixed_point(act: Activation, sw2: float, sb2: float, q: object) -> float:
    if q is None:
        qs = _fixed_point(act, sw2, sb2)
        if not math.isfinite(qs):
            raise ValueError(
                f"the length map of {act.name} with sigma_w2={sw2!r}, sigma_b2={sb2!r} has no "
                "finite fixed point (q grows without bound); pass q= explicitly"
            )
        return qs
    qq = float(_q_array(q, scalar=True))
    if 0 < qq < _Q_LOW:
        raise ValueError(
            f"q must be 0 or >= {_Q_LOW:g} (smaller lengths underflow the "
            f"quadrature; correlation_limit gives the q -> 0 limit), got {q!r}"
        )
    return _at_most(qq, q, "q")


def chi1(activation: object, sigma_w2: float, sigma_b2: float) -> float:
    """:math:`\\chi_1 = \\sigma_w^2 E[\\phi'(\\sqrt{q^*} z)^2]` at the fixed point of the length
    map.

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
    act = _act(activation)
    sw2, sb2 = _variances(sigma_w2, sigma_b2)
    return _chi1(act, sw2, _finite_fixed_point(act, sw2, sb2, None))


def _chi1(act: Activation, sw2: float, qs: float) -> float:
    qs = max(qs, Q_TINY)
    return float(sw2 * gaussian_expectation(lambda x: act.numpy_derivative(x) ** 2, np.asarray(qs)))


def _length(act: Activation, q: float, sw2: float, sb2: float) -> float:
    return sw2 * float(gaussian_expectation(lambda x: act.numpy(x) ** 2, np.asarray(q))) + sb2


def _check_c(c: object, scalar: bool = False) -> np.ndarray:
    cc = _q_array(c, "c", nonnegative=False, scalar=scalar)
    if np.any(np.abs(cc) > 1):
        raise ValueError(f"c must lie in [-1, 1], got {_show(c)}")
    return cc


def _pair_mean(f: Callable[[np.ndarray], np.ndarray], c: np.ndarray, q: float) -> np.ndarray:
    """:math:`E[f(u_1) f(u_2)]` for each correlation in ``c``, in polar coordinates.

    With :math:`(z_1, z_2) = r(\\cos\\theta, \\sin\\theta)` and :math:`c = \\cos\\theta_c`,
    :math:`u_1 = \\sqrt q\\, r\\cos\\theta` and :math:`u_2 = \\sqrt q\\, r\\cos(\\theta-\\theta_c)`.
    The signs of :math:`u_1, u_2` change only at the four angles :math:`\\pm\\pi/2`,
    :math:`\\theta_c \\pm \\pi/2`: Gauss–Legendre on each of the four arcs between them keeps a
    kink at 0 (ReLU, ELU, ...) on an arc boundary, where it costs no accuracy.
    """
    c = np.asarray(c)
    step = CHUNK // (4 * ANGLE_NODES * RADIAL_NODES)
    if c.size > step:  # in chunks, so that memory does not grow with the length of c
        flat = c.reshape(-1)
        out = np.concatenate(
            [_pair_mean(f, flat[i : i + step], q) for i in range(0, flat.size, step)]
        )
        return out.reshape(c.shape)
    theta_c = np.arccos(np.clip(c, -1.0, 1.0))[..., None]  # (..., 1)
    h = np.pi / 2
    edges = [
        (-h + 0 * theta_c, theta_c - h),
        (theta_c - h, h + 0 * theta_c),
        (h + 0 * theta_c, theta_c + h),
        (theta_c + h, 3 * h + 0 * theta_c),
    ]
    x, wx = legendre(ANGLE_NODES)
    thetas = np.concatenate([(lo + hi) / 2 + (hi - lo) / 2 * x for lo, hi in edges], axis=-1)
    wtheta = np.concatenate([(hi - lo) / 2 * wx + 0 * x for lo, hi in edges], axis=-1)
    r, wr = radial_nodes()
    sq = math.sqrt(q)
    with np.errstate(over="ignore"):
        a1 = f(sq * np.cos(thetas)[..., None] * r)  # (..., 4 n_angle, n_radial)
        a2 = f(sq * np.cos(thetas - theta_c)[..., None] * r)
    return np.einsum("...ij,...i,j->...", a1 * a2, wtheta, wr)


def correlation_map(
    activation: object,
    c: float | np.ndarray,
    sigma_w2: float,
    sigma_b2: float,
    q: float | None = None,
) -> float | np.ndarray:
    """The correlation map :math:`\\mathcal C(c; q)`.

    .. math::
        \\mathcal C(c; q) = \\frac{\\sigma_w^2\\, E[\\phi(u_1)\\phi(u_2)] + \\sigma_b^2}
        {\\mathcal V(q)}, \\qquad u_1 = \\sqrt q z_1,\\
        u_2 = \\sqrt q\\,(c z_1 + \\sqrt{1-c^2}\\, z_2),

    the correlation of the next layer's pre-activations for two inputs of equal length
    :math:`q` and correlation :math:`c` (Poole et al. 2016, eq. 5). The denominator is the next
    layer's length :math:`\\mathcal V(q)`, so that :math:`\\mathcal C(1; q) = 1` at every
    :math:`q`; at the default :math:`q = q^*` it equals :math:`q^*`.

    Parameters
    ----------
    activation, sigma_w2, sigma_b2
        As for :func:`length_map`.
    c : float or array_like
        Input correlation(s) in :math:`[-1, 1]`.
    q : float, optional
        The common length of the two inputs (> 0); default :math:`q^*` (:func:`fixed_point`).

    Returns
    -------
    float or numpy.ndarray
        Of the shape of ``c``.

    Examples
    --------
    >>> round(correlation_map("tanh", 1.0, 2.0, 0.1), 12)
    1.0
    >>> round(correlation_map("relu", 0.0, 2.0, 0.0, q=1.0), 4)  # arc-cosine kernel: 1/pi
    0.3183
    """
    act = _act(activation)
    sw2, sb2 = _variances(sigma_w2, sigma_b2)
    cc = _check_c(c)
    qq = _positive_length(act, sw2, sb2, q)
    with np.errstate(over="ignore", invalid="ignore"):
        v = _cmap(act, cc, sw2, sb2, qq)
    return _out(_finite_result(v, "the correlation map", act, qq, sw2, sb2))


def _positive_length(act: Activation, sw2: float, sb2: float, q: object) -> float:
    qq = _finite_fixed_point(act, sw2, sb2, q)
    if qq <= 0:
        raise ValueError(
            f"the correlation map needs a length q > 0, got q={qq!r}"
            + (" (the fixed point q* of the length map is 0)" if q is None else "")
        )
    return qq


def _cmap(act: Activation, c: np.ndarray, sw2: float, sb2: float, q: float) -> np.ndarray:
    return (sw2 * _pair_mean(act.numpy, c, q) + sb2) / _length(act, q, sw2, sb2)


def correlation_slope(
    activation: object, c: float, sigma_w2: float, sigma_b2: float, q: float | None = None
) -> float:
    """:math:`\\partial \\mathcal C/\\partial c = \\sigma_w^2\\, q\\, E[\\phi'(u_1)\\phi'(u_2)]
    / \\mathcal V(q)`.

    From :math:`\\partial_c E[\\phi(u_1)\\phi(u_2)] = q\\,E[\\phi'(u_1)\\phi'(u_2)]` (Gaussian
    integration by parts). At :math:`q = q^*` this is
    :math:`\\chi_c = \\sigma_w^2 E[\\phi'(u_1)\\phi'(u_2)]` (Schoenholz et al. 2017), and at
    :math:`c = 1` it is :math:`\\chi_1`.

    Examples
    --------
    >>> abs(correlation_slope("tanh", 1.0, 1.5, 0.05) - chi1("tanh", 1.5, 0.05)) < 1e-9
    True
    """
    act = _act(activation)
    sw2, sb2 = _variances(sigma_w2, sigma_b2)
    cc = _check_c(c, scalar=True)
    qq = _positive_length(act, sw2, sb2, q)
    with np.errstate(over="ignore", invalid="ignore"):
        v = _cslope(act, cc, sw2, sb2, qq)
    return float(_finite_result(v, "the slope of the correlation map", act, qq, sw2, sb2))


def _cslope(act: Activation, c: np.ndarray, sw2: float, sb2: float, q: float) -> np.ndarray:
    return sw2 * q * _pair_mean(act.numpy_derivative, c, q) / _length(act, q, sw2, sb2)


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


#: The default scan of critical_line: sigma_w2 = 2^(k/4) for k in this range.
_SCAN_W2 = (-20, 40)
_X_FAR = 40.0  # where the asymptotic slopes phi'(+-inf) are read (and checked at 2 * _X_FAR)


def _two_slope_constant(a: float, b: float) -> float:
    """:math:`A = 4/\\kappa^2` of :math:`(1 - c^\\ell)\\ell^2 \\to A` for the two-slope kernel."""
    kappa = 2 * math.sqrt(2) / (3 * math.pi) * (a - b) ** 2 / (a * a + b * b)
    return 4 / kappa**2


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 * max(abs(a), abs(b))


def _homogeneous_slopes(act: Activation) -> tuple[float, float] | None:
    """``(a, b)`` if :math:`\\phi(x) = a x` for :math:`x > 0` and :math:`b x` for
    :math:`x < 0` (positively homogeneous of degree 1) to 1e-12 on test points, else None."""
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
    act = _act(activation)
    sw2, sb2 = _variances(sigma_w2, sigma_b2)
    return _limit(act, sw2, sb2)


def _limit(act: Activation, sw2: float, sb2: float) -> CorrelationLimit:
    fp = _find_fixed_point(act, sw2, sb2)
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
        return CorrelationLimit(
            "power_law",
            1.0,
            1.0,
            math.inf,
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
        if fp.slope < 1 - _SLOPE_TOL:
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
        if growth > 1 + _SLOPE_TOL:
            return kernel(
                a,
                b,
                f"q* = inf for {where}, q grows geometrically (by {growth:.6g} per layer)",
                False,
            )
        if not _same(a, b):
            return CorrelationLimit(
                "power_law",
                1.0,
                1.0,
                math.inf,
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
    chi = _chi1(act, sw2, qs)
    cs = _c_star(act, sw2, sb2, qs, chi)
    chi_c = chi if cs == 1.0 else float(_cslope(act, np.asarray(cs), sw2, sb2, qs))
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
    return CorrelationLimit(
        "power_law",
        1.0,
        1.0,
        math.inf,
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
    act = _act(activation)
    sw2, sb2 = _variances(sigma_w2, sigma_b2)
    lim = _limit(act, sw2, sb2)
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
        return float(_cmap(act, np.asarray(c), sw2, sb2, qs)) - c

    delta = 1e-2
    while f(1 - delta) >= 0:
        delta /= 10
        if delta < 1e-9:
            return 1.0
    lo = -1 + 1e-6
    if f(lo) <= 0:
        return lo
    return float(brentq(f, lo, 1 - delta, xtol=1e-13))


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

    act = _act(activation)
    sb2 = _at_most(_checked(nonnegative_real, sigma_b2, "sigma_b2"), sigma_b2, "sigma_b2")
    q_start = _start(q0)
    if bracket is not None:
        # a sequence, not any iterable: a set has no order and an iterator would be used up
        if not isinstance(bracket, (tuple, list, np.ndarray)):
            raise TypeError(
                f"bracket must be None or a pair (lo, hi) of sigma_w2 values, got {_show(bracket)}"
            )
        ends = list(bracket)
        if len(ends) != 2:
            raise ValueError(
                f"bracket must be a pair (lo, hi) of sigma_w2 values, got {_show(bracket)}"
            )
        lo, hi = (_at_most(_checked(positive_real, b, "bracket"), bracket, "bracket") for b in ends)
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
        return _fixed_point(act, sw2, sb2, q_start)

    def f(sw2: float) -> float:
        qs = q_star(sw2)
        return _chi1(act, sw2, qs) - 1.0 if math.isfinite(qs) else math.nan

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
    act = _act(activation)
    sw2, sb2 = _variances(sigma_w2, sigma_b2)
    lim = _limit(act, sw2, sb2)
    qs = lim.q_star
    if math.isinf(qs):
        return math.nan, lim.xi_c
    slope_q = _length_slope(act, qs, sw2)
    if abs(slope_q) >= 1.0:
        xi_q = math.inf
    else:
        xi_q = 0.0 if slope_q == 0 else -1.0 / math.log(abs(slope_q))
    return xi_q, lim.xi_c
