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
and critical on the line :math:`\\chi_1 = 1`.

All expectations are quadrature sums of the activation's NumPy forms (:attr:`Activation.numpy`,
:attr:`Activation.numpy_derivative`) in float64, with fixed nodes, so a whole phase diagram is
cheap. One-dimensional expectations :math:`E[f(\\sqrt q z)]` use Gauss–Legendre nodes on
:math:`[-9, 0]` and on :math:`[0, 9]` (:data:`HALF_NODES` each), with the Gaussian density in the
weights (normalized to sum 1). Splitting at 0 puts the kink of ReLU, ELU, SELU, ... on an
interval end, where it costs no accuracy; Gauss–Hermite
(:func:`numpy.polynomial.hermite_e.hermegauss`) is not used because it spends its nodes in the
tails: for :math:`E[\\tanh(\\sqrt q z)^2]` 200 Gauss–Hermite nodes are off by 8e-8 at
:math:`q = 5` and 8e-4 at :math:`q = 25`, the split Gauss–Legendre rule agrees with
:func:`scipy.integrate.quad` (and with the exact moments of :func:`initmath.moment` for ReLU,
ELU, SELU, GELU) to about 1e-15 relative for :math:`q \\le 25`.

The two-dimensional expectations of the correlation map use polar coordinates, Gauss–Legendre
in the radius (:data:`RADIAL_NODES`) and in the angle on each of the four arcs between the
angles where :math:`u_1` or :math:`u_2` changes sign (:data:`ANGLE_NODES` each): the kink of
ReLU-like activations then lies on an arc boundary, and ReLU's correlation map agrees with the
arc-cosine kernel to 1e-14. For tanh it agrees with :func:`scipy.integrate.dblquad` to about
1e-12 at :math:`q = 2` and 1e-9 at :math:`q = 20`. Gauss–Hermite in two dimensions (the
product rule, 80 nodes per axis) is off by up to 2e-3 for ReLU, whose kink it does not resolve.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np

from ._checks import nonnegative_real, positive_real
from .activations import Activation, activation

__all__ = [
    "ANGLE_NODES",
    "HALF_NODES",
    "Q_TINY",
    "RADIAL_NODES",
        "chi1",
    "correlation_fixed_point",
    "correlation_map",
    "correlation_slope",
    "critical_line",
    "depth_scales",
    "fixed_point",
    "length_map",
    "length_slope",
]

#: Gauss–Legendre nodes on each half line (:math:`[-9, 0]`, :math:`[0, 9]`) in one dimension.
HALF_NODES = 100
#: Gauss–Legendre nodes per arc of the angle in the two-dimensional rule.
ANGLE_NODES = 24
#: Gauss–Legendre nodes of the radius (on :math:`[0, 9]`) in the two-dimensional rule.
RADIAL_NODES = 80

_Q_MAX = 1e100  # beyond this the length map is taken to have no finite fixed point
#: Where a derivative moment is wanted at :math:`q = 0`, it is the limit :math:`q \\to 0^+`,
#: evaluated at this :math:`q` (so ReLU gives :math:`E[\\phi'^2] = 1/2`, not :math:`\\phi'(0)^2`).
Q_TINY = 1e-200


@functools.lru_cache(maxsize=None)
def _nodes() -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes on :math:`[-9, 0]` and :math:`[0, 9]` (symmetric), with the
    Gaussian density in the weights, normalized to sum 1."""
    x, w = _legendre(HALF_NODES)
    z = 4.5 * (x + 1)
    w = w * np.exp(-z * z / 2)
    z, w = np.concatenate([-z[::-1], z]), np.concatenate([w[::-1], w])
    return z, w / w.sum()


@functools.lru_cache(maxsize=None)
def _legendre(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.polynomial.legendre.leggauss(n)


@functools.lru_cache(maxsize=None)
def _radial() -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Legendre nodes on :math:`[0, 9]` with weights :math:`w\\, r e^{-r^2/2}/(2\\pi)`."""
    x, w = _legendre(RADIAL_NODES)
    r = 4.5 * (x + 1)
    return r, 4.5 * w * r * np.exp(-r * r / 2) / (2 * np.pi)


_FORMS: dict[tuple[str, object], Activation] = {}


def _act(spec: object) -> Activation:
    # activation() returns a fresh bound copy, whose NumPy forms would be lambdified again at
    # every call; keep one copy per (name, expression).
    act = activation(spec)
    return _FORMS.setdefault((act.name, act.expr), act)


def _variances(sigma_w2: object, sigma_b2: object) -> tuple[float, float]:
    return positive_real(sigma_w2, "sigma_w2"), nonnegative_real(sigma_b2, "sigma_b2")


def _gauss(f: Callable[[np.ndarray], np.ndarray], q: np.ndarray) -> np.ndarray:
    """:math:`E[f(\\sqrt q z)]` for every entry of ``q`` (Gauss–Legendre on two half lines)."""
    z, w = _nodes()
    x = np.sqrt(q)[..., None] * z
    with np.errstate(over="ignore"):  # exp overflow in an unused branch (ELU at large x)
        return f(x) @ w


def _q_array(q: object, name: str = "q", *, nonnegative: bool = True) -> np.ndarray:
    if isinstance(q, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number or an array of them, got {q!r}")
    try:
        arr = np.asarray(q, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number or an array of them, got {q!r}") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {q!r}")
    if nonnegative and np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got {q!r}")
    return arr


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
        Second moment(s) of the pre-activations of a layer (>= 0).
    sigma_w2 : float
        :math:`\\sigma_w^2` (> 0): the weights have variance :math:`\\sigma_w^2/n`.
    sigma_b2 : float
        :math:`\\sigma_b^2` (>= 0), the bias variance.

    Returns
    -------
    float or numpy.ndarray
        The next layer's :math:`q`, of the shape of ``q``.

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
    return _out(sw2 * _gauss(lambda x: act.numpy(x) ** 2, qq) + sb2)


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
    sw2, _ = _variances(sigma_w2, sigma_b2)
    qq = float(_q_array(q))
    qq = max(qq, Q_TINY)
    z, w = _nodes()
    x = math.sqrt(qq) * z
    with np.errstate(over="ignore"):
        return float(sw2 * (act.numpy(x) * act.numpy_derivative(x) * z) @ w / math.sqrt(qq))


def fixed_point(
    activation: object, sigma_w2: float, sigma_b2: float, *, q0: float = 1.0
) -> float:
    """The fixed point :math:`q^* = \\mathcal V(q^*)` that iterating the length map from ``q0``
    approaches.

    The sign of :math:`\\mathcal V(q_0) - q_0` gives the direction of the iteration; the
    function brackets the first sign change in that direction (steps by factors of 4, and
    :math:`[\\sigma_b^2, q_0]` downward, since :math:`\\mathcal V(q) \\ge \\sigma_b^2`) and
    solves with :func:`scipy.optimize.brentq` to relative precision ~1e-14 (plus the quadrature
    error of :func:`length_map`). For a monotone map with one fixed point in that direction
    (every built-in activation) this is the limit of the iteration.

    Parameters
    ----------
    activation, sigma_w2, sigma_b2
        As for :func:`length_map`.
    q0 : float
        Starting length (> 0).

    Returns
    -------
    float
        :math:`q^*`. Special cases:

        * ``0.0`` when the iteration decays to zero (:math:`\\sigma_b^2 = 0`,
          :math:`\\phi(0)=0` and the map contracts, e.g. tanh with :math:`\\sigma_w^2 \\le 1`,
          ReLU with :math:`\\sigma_w^2 < 2`); the search down stops with 0 where
          :math:`|\\mathcal V(q) - q| < 10^{-13} q` (close to rounding, which would hide its
          sign) or :math:`q < 10^{-20} q_0`;
        * ``math.inf`` when the map has no finite fixed point above ``q0`` (ReLU with
          :math:`\\sigma_w^2 > 2`, or :math:`\\sigma_w^2 = 2, \\sigma_b^2 > 0`): the length
          grows without bound (also when the map is the identity to within 1e-10 relative
          beyond :math:`10^{10}(q_0 + \\sigma_b^2)`, where rounding hides the sign of
          :math:`\\mathcal V(q) - q`);
        * ``q0`` itself when ``q0`` is already a fixed point. For ReLU at exactly
          :math:`\\sigma_w^2 = 2, \\sigma_b^2 = 0` (He) every :math:`q` is a fixed point and
          ``q0`` is returned.

    Raises
    ------
    ValueError
        ``sigma_w2 <= 0``, ``sigma_b2 < 0``, ``q0 <= 0``, NaN or infinite values, an unknown
        activation.

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
    act = _act(activation)
    sw2, sb2 = _variances(sigma_w2, sigma_b2)
    return _fixed_point(act, sw2, sb2, positive_real(q0, "q0"))


def _fixed_point(act: Activation, sw2: float, sb2: float, q0: float = 1.0) -> float:
    from scipy.optimize import brentq

    def g(q: float) -> float:
        return float(sw2 * _gauss(lambda x: act.numpy(x) ** 2, np.asarray(q)) + sb2 - q)

    g0 = g(q0)
    if abs(g0) <= 1e-14 * q0:
        return q0
    if g0 > 0:
        lo, hi = q0, 4.0 * q0
        while (g_hi := g(hi)) > 0 or (hi > 1e10 * (q0 + sb2) and abs(g_hi) <= 1e-10 * hi):
            # (the second condition: V(q) is the identity to rounding, q grows without a
            # fixed point that could be resolved, as for ReLU at sigma_w2 = 2, sigma_b2 > 0)
            lo, hi = hi, 4.0 * hi
            if hi > _Q_MAX:
                return math.inf
    else:
        hi = q0
        if sb2 > 0:
            lo = sb2  # V(sb2) - sb2 = sw2 E[phi(sigma_b z)^2] >= 0
            if g(lo) <= 0:
                return lo
        else:
            lo = q0 / 4.0
            while (g_lo := g(lo)) < 0:
                if g_lo > -1e-13 * lo or lo < 1e-20 * q0:
                    return 0.0  # V(q) = q to rounding: no resolvable fixed point above 0
                hi, lo = lo, lo / 4.0
    return float(brentq(g, lo, hi, xtol=1e-300, rtol=1e-15, maxiter=1000))


def _finite_fixed_point(act: Activation, sw2: float, sb2: float, q: object) -> float:
    if q is None:
        qs = _fixed_point(act, sw2, sb2)
        if not math.isfinite(qs):
            raise ValueError(
                f"the length map of {act.name} with sigma_w2={sw2!r}, sigma_b2={sb2!r} has no "
                "finite fixed point (q grows without bound); pass q= explicitly"
            )
        return qs
    return float(_q_array(q))


def chi1(activation: object, sigma_w2: float, sigma_b2: float) -> float:
    """:math:`\\chi_1 = \\sigma_w^2 E[\\phi'(\\sqrt{q^*} z)^2]` at the fixed point of the length
    map.

    :math:`\\chi_1` is the slope of the correlation map at :math:`c = 1` and the factor by which
    the mean squared singular value of a layer's Jacobian multiplies the squared length of a
    perturbation: :math:`\\chi_1 < 1` ordered, :math:`> 1` chaotic (Poole et al. 2016).

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
    return float(sw2 * _gauss(lambda x: act.numpy_derivative(x) ** 2, np.asarray(qs)))


def _length(act: Activation, q: float, sw2: float, sb2: float) -> float:
    return sw2 * float(_gauss(lambda x: act.numpy(x) ** 2, np.asarray(q))) + sb2


def _check_c(c: object) -> np.ndarray:
    cc = _q_array(c, "c", nonnegative=False)
    if np.any(np.abs(cc) > 1):
        raise ValueError(f"c must lie in [-1, 1], got {c!r}")
    return cc


def _pair_mean(f: Callable[[np.ndarray], np.ndarray], c: np.ndarray, q: float) -> np.ndarray:
    """:math:`E[f(u_1) f(u_2)]` for each correlation in ``c``, in polar coordinates.

    With :math:`(z_1, z_2) = r(\\cos\\theta, \\sin\\theta)` and :math:`c = \\cos\\theta_c`,
    :math:`u_1 = \\sqrt q\\, r\\cos\\theta` and :math:`u_2 = \\sqrt q\\, r\\cos(\\theta-\\theta_c)`.
    The signs of :math:`u_1, u_2` change only at the four angles :math:`\\pm\\pi/2`,
    :math:`\\theta_c \\pm \\pi/2`: Gauss–Legendre on each of the four arcs between them keeps a
    kink at 0 (ReLU, ELU, ...) on an arc boundary, where it costs no accuracy.
    """
    theta_c = np.arccos(np.clip(c, -1.0, 1.0))[..., None]  # (..., 1)
    h = np.pi / 2
    edges = [(-h + 0 * theta_c, theta_c - h), (theta_c - h, h + 0 * theta_c),
             (h + 0 * theta_c, theta_c + h), (theta_c + h, 3 * h + 0 * theta_c)]
    x, wx = _legendre(ANGLE_NODES)
    thetas = np.concatenate([(lo + hi) / 2 + (hi - lo) / 2 * x for lo, hi in edges], axis=-1)
    wtheta = np.concatenate([(hi - lo) / 2 * wx + 0 * x for lo, hi in edges], axis=-1)
    r, wr = _radial()
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
    return _out(_cmap(act, cc, sw2, sb2, qq))


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
    cc = _check_c(c)
    qq = _positive_length(act, sw2, sb2, q)
    return float(_cslope(act, cc, sw2, sb2, qq))


def _cslope(act: Activation, c: np.ndarray, sw2: float, sb2: float, q: float) -> np.ndarray:
    return sw2 * q * _pair_mean(act.numpy_derivative, c, q) / _length(act, q, sw2, sb2)


def correlation_fixed_point(activation: object, sigma_w2: float, sigma_b2: float) -> float:
    """The stable fixed point :math:`c^*` of the correlation map at :math:`q = q^*`.

    :math:`c = 1` is always a fixed point; it is stable when :math:`\\chi_1 \\le 1` (ordered
    phase and critical line) and :math:`c^* = 1` is returned. When :math:`\\chi_1 > 1` (chaos)
    the stable fixed point is the root :math:`c^* < 1` of :math:`\\mathcal C(c) - c`, found by
    :func:`scipy.optimize.brentq` on :math:`[-1+\\delta, 1-\\delta]` (``1.0`` is returned if the
    root is within 1e-9 of 1, where the quadrature cannot resolve it).

    Examples
    --------
    >>> correlation_fixed_point("tanh", 1.5, 0.05)
    1.0
    >>> abs(correlation_fixed_point("tanh", 4.0, 0.0)) < 1e-12   # odd phi, no bias: c* = 0
    True
    """
    act = _act(activation)
    sw2, sb2 = _variances(sigma_w2, sigma_b2)
    qs = _finite_fixed_point(act, sw2, sb2, None)
    return _c_star(act, sw2, sb2, qs, _chi1(act, sw2, qs))


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
    activation: object, sigma_b2: float, *, bracket: tuple[float, float] = (0.05, 50.0)
) -> float:
    """The :math:`\\sigma_w^2` with :math:`\\chi_1(\\sigma_w^2, \\sigma_b^2) = 1`.

    Solved by :func:`scipy.optimize.brentq` on ``bracket`` (``xtol`` 1e-13). For ReLU
    :math:`\\chi_1 = \\sigma_w^2/2` whenever :math:`q^*` is finite, and :math:`q^*` is finite
    only for :math:`\\sigma_w^2 < 2` (or :math:`\\sigma_w^2 = 2, \\sigma_b^2 = 0`): the critical
    point is :math:`\\sigma_w^2 = 2` at :math:`\\sigma_b^2 = 0` and there is no critical line
    for :math:`\\sigma_b^2 > 0`; this case is answered directly (likewise leaky ReLU,
    :math:`2/(1+a^2)`, and linear, 1).

    Without bias and with :math:`\\phi(0) = 0`, the ordered phase has :math:`q^* = 0` and
    :math:`\\chi_1 = \\sigma_w^2\\phi'(0)^2`. If :math:`q^* = 0` still at
    :math:`\\sigma_w^2 = 1/\\phi'(0)^2` and :math:`\\chi_1 > 1` just above, that value is returned
    exactly (tanh: 1): on the chaotic side :math:`\\chi_1 - 1` grows only quadratically
    (about :math:`(\\sigma_w^2 - 1)^2/3` for tanh), which limits root finding to ~1e-8.

    Raises
    ------
    ValueError
        No sign change of :math:`\\chi_1 - 1` on ``bracket``, or ReLU-like activations with
        :math:`\\sigma_b^2 > 0`.

    Examples
    --------
    >>> round(critical_line("tanh", 0.0), 10)
    1.0
    >>> critical_line("relu", 0.0)
    2.0
    """
    from scipy.optimize import brentq

    act = _act(activation)
    sb2 = nonnegative_real(sigma_b2, "sigma_b2")
    if isinstance(bracket, (str, bytes)) or len(tuple(bracket)) != 2:
        raise ValueError(f"bracket must be a pair (lo, hi) of sigma_w2 values, got {bracket!r}")
    lo, hi = (positive_real(b, "bracket") for b in bracket)
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

    def f(sw2: float) -> float:
        return chi1(act, sw2, sb2) - 1.0

    if sb2 == 0 and float(act.numpy(np.array(0.0))) == 0:
        d0 = float(act.numpy_derivative(np.array(0.0)))
        if d0 != 0:
            s = 1.0 / d0**2
            if lo < s < hi and _fixed_point(act, s, 0.0) == 0.0 and f(s * (1 + 1e-3)) > 0:
                return s

    flo, fhi = f(lo), f(hi)
    if flo == 0:
        return lo
    if np.sign(flo) == np.sign(fhi):
        raise ValueError(
            f"chi1 - 1 does not change sign for sigma_w2 in {bracket!r} ({act.name}, "
            f"sigma_b2={sigma_b2!r}); pass another bracket="
        )
    return float(brentq(f, lo, hi, xtol=1e-13, maxiter=1000))


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
    :math:`c^* = 1` (the logarithms are of absolute values). Both are ``math.inf`` where the
    slope is 1 (or, by rounding, above): :math:`\\xi_c` on the
    critical line :math:`\\chi_1 = 1`, :math:`\\xi_q` where the length map is marginal (tanh at
    :math:`\\sigma_w^2 = 1, \\sigma_b^2 = 0`, ReLU at :math:`\\sigma_w^2 = 2`). Within about
    1e-9 of the critical line the quadrature decides whether :math:`c^* = 1`.

    Raises
    ------
    ValueError
        Bad arguments or no finite :math:`q^*`.

    Examples
    --------
    >>> xi_q, xi_c = depth_scales("relu", 1.0, 0.0)     # slopes 1/2 and 1/2
    >>> round(xi_q, 6), round(xi_c, 6)
    (1.442695, 1.442695)
    """
    act = _act(activation)
    sw2, sb2 = _variances(sigma_w2, sigma_b2)
    qs = _finite_fixed_point(act, sw2, sb2, None)
    slope_q = length_slope(act, qs, sw2, sb2)
    chi = _chi1(act, sw2, qs)
    cs = _c_star(act, sw2, sb2, qs, chi)
    chi_c = chi if cs == 1.0 else float(_cslope(act, np.asarray(cs), sw2, sb2, qs))

    def scale(slope: float) -> float:
        if abs(slope) >= 1.0:
            return math.inf
        return 0.0 if slope == 0 else -1.0 / math.log(abs(slope))

    return scale(slope_q), scale(chi_c)
