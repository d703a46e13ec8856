"""The correlation map :math:`\\mathcal C(c; q)` and its slope, by two-dimensional quadrature.

The two-dimensional expectations of the correlation map use polar coordinates, Gauss–Legendre
in the radius (:data:`~initmath.theory.quadrature.RADIAL_NODES`) and in the angle on each of
the four
arcs between the angles where :math:`u_1` or :math:`u_2` changes sign
(:data:`~initmath.theory.quadrature.ANGLE_NODES` each): the kink of ReLU-like activations then lies
on an arc boundary, and ReLU's correlation map agrees with the arc-cosine kernel to 1e-14.
For tanh it agrees with :func:`scipy.integrate.dblquad` to about 1e-12 at :math:`q = 2` and
1e-9 at :math:`q = 20`. Gauss–Hermite in two dimensions (the product rule, 80 nodes per axis)
is off by up to 2e-3 for ReLU, whose kink it does not resolve. Arrays ``c`` of any length are
evaluated in chunks of about ``2**20`` node values, so memory does not grow with the number of
nodes times the length.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..activations import Activation
from ..quadrature import (
    ANGLE_NODES,
    CHUNK,
    RADIAL_NODES,
    gaussian_expectation,
    legendre,
    radial_nodes,
)
from .arguments import (
    as_output,
    checked_activation,
    checked_variances,
    finite_result,
    real_array,
    shown,
)
from .fixed_points import finite_length

__all__ = [
    "correlation_map",
    "correlation_map_at",
    "correlation_slope",
    "correlation_slope_at",
]


def _length(act: Activation, q: float, sw2: float, sb2: float) -> float:
    return sw2 * float(gaussian_expectation(lambda x: act.numpy(x) ** 2, np.asarray(q))) + sb2


def _check_c(c: object, scalar: bool = False) -> np.ndarray:
    cc = real_array(c, "c", nonnegative=False, scalar=scalar)
    if np.any(np.abs(cc) > 1):
        raise ValueError(f"c must lie in [-1, 1], got {shown(c)}")
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
    act = checked_activation(activation)
    sw2, sb2 = checked_variances(sigma_w2, sigma_b2)
    cc = _check_c(c)
    qq = _positive_length(act, sw2, sb2, q)
    with np.errstate(over="ignore", invalid="ignore"):
        v = correlation_map_at(act, cc, sw2, sb2, qq)
    return as_output(finite_result(v, "the correlation map", act, qq, sw2, sb2))


def _positive_length(act: Activation, sw2: float, sb2: float, q: object) -> float:
    qq = finite_length(act, sw2, sb2, q)
    if qq <= 0:
        raise ValueError(
            f"the correlation map needs a length q > 0, got q={qq!r}"
            + (" (the fixed point q* of the length map is 0)" if q is None else "")
        )
    return qq


def correlation_map_at(
    act: Activation, c: np.ndarray, sw2: float, sb2: float, q: float
) -> np.ndarray:
    """:math:`\\mathcal C(c; q)` for checked arguments.

    This is :func:`correlation_map` without the checks.
    """
    return (sw2 * _pair_mean(act.numpy, c, q) + sb2) / _length(act, q, sw2, sb2)


def correlation_slope(
    activation: object, c: float, sigma_w2: float, sigma_b2: float, q: float | None = None
) -> float:
    """The slope :math:`\\partial \\mathcal C/\\partial c` of the correlation map.

    It is :math:`\\partial \\mathcal C/\\partial c = \\sigma_w^2\\, q\\, E[\\phi'(u_1)\\phi'(u_2)]
    / \\mathcal V(q)`.

    From :math:`\\partial_c E[\\phi(u_1)\\phi(u_2)] = q\\,E[\\phi'(u_1)\\phi'(u_2)]` (Gaussian
    integration by parts). At :math:`q = q^*` this is
    :math:`\\chi_c = \\sigma_w^2 E[\\phi'(u_1)\\phi'(u_2)]` (Schoenholz et al. 2017), and at
    :math:`c = 1` it is :math:`\\chi_1`.

    Examples
    --------
    >>> from initmath.theory.meanfield import chi1
    >>> abs(correlation_slope("tanh", 1.0, 1.5, 0.05) - chi1("tanh", 1.5, 0.05)) < 1e-9
    True
    """
    act = checked_activation(activation)
    sw2, sb2 = checked_variances(sigma_w2, sigma_b2)
    cc = _check_c(c, scalar=True)
    qq = _positive_length(act, sw2, sb2, q)
    with np.errstate(over="ignore", invalid="ignore"):
        v = correlation_slope_at(act, cc, sw2, sb2, qq)
    return float(finite_result(v, "the slope of the correlation map", act, qq, sw2, sb2))


def correlation_slope_at(
    act: Activation, c: np.ndarray, sw2: float, sb2: float, q: float
) -> np.ndarray:
    """:math:`\\partial \\mathcal C/\\partial c` for checked arguments.

    This is :func:`correlation_slope` without the checks.
    """
    return sw2 * q * _pair_mean(act.numpy_derivative, c, q) / _length(act, q, sw2, sb2)
