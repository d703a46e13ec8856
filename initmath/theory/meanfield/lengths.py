"""The length map :math:`\\mathcal V(q)`, its slope and :math:`\\chi_1(q)`, by 1-D quadrature.

All expectations are quadrature sums of the activation's NumPy forms (:attr:`Activation.numpy`,
:attr:`Activation.numpy_derivative`) in float64, with fixed nodes
(:mod:`initmath.theory.quadrature`,
the package's one Gaussian rule), so a whole phase diagram is cheap. One-dimensional
expectations :math:`E[f(\\sqrt q z)]` are :func:`~initmath.theory.quadrature.gaussian_expectation`:
Gauss–Legendre on :math:`[-9, 0]` and :math:`[0, 9]`, which puts the kink of ReLU-like
activations on an interval end and agrees with :func:`scipy.integrate.quad` to about 1e-15
relative for :math:`q \\le 25` (Gauss–Hermite, which spends its nodes in the tails, is off
by 8e-4 for tanh at :math:`q = 25`). Arrays ``q`` of any length are evaluated in chunks of
about ``2**20`` node values, so memory does not grow with the number of nodes times the length.
"""

from __future__ import annotations

import numpy as np

from ..activations import Activation
from ..quadrature import gaussian_expectation, half_line_nodes
from .arguments import as_output, checked_activation, checked_variances, finite_result, real_array

__all__ = [
    "Q_TINY",
    "chi1_at",
    "length_map",
    "length_slope",
    "length_slope_at",
    "length_slopes_at",
]


#: Where a derivative moment is wanted at :math:`q = 0`, it is the limit :math:`q \\to 0^+`,
#: evaluated at this :math:`q` (so ReLU gives :math:`E[\\phi'^2] = 1/2`, not :math:`\\phi'(0)^2`).
Q_TINY = 1e-200


def length_map(
    activation: object, q: float | np.ndarray, sigma_w2: float, sigma_b2: float
) -> float | np.ndarray:
    """The length map :math:`\\mathcal V(q) = \\sigma_w^2 E[\\phi(\\sqrt q z)^2] + \\sigma_b^2`.

    Parameters
    ----------
    activation : str, (str, float) or Activation
        :math:`\\phi`, as for :func:`initmath.activation <initmath.theory.activations.activation>`.
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
    act = checked_activation(activation)
    sw2, sb2 = checked_variances(sigma_w2, sigma_b2)
    qq = real_array(q)
    with np.errstate(over="ignore", invalid="ignore"):
        v = sw2 * gaussian_expectation(lambda x: act.numpy(x) ** 2, qq) + sb2
    return as_output(finite_result(v, "the length map", act, qq, sw2, sb2))


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
    act = checked_activation(activation)
    sw2, sb2 = checked_variances(sigma_w2, sigma_b2)
    qq = float(real_array(q, scalar=True))
    with np.errstate(over="ignore", invalid="ignore"):
        v = length_slope_at(act, qq, sw2)
    return float(finite_result(np.asarray(v), "the slope of the length map", act, qq, sw2, sb2))


def length_slope_at(act: Activation, q: float, sw2: float) -> float:
    """:math:`\\mathcal V'(q)` at a checked float ``q``.

    This is :func:`length_slope` without the checks.
    """
    return float(length_slopes_at(act, np.asarray(q, dtype=np.float64), sw2))


def length_slopes_at(act: Activation, q: np.ndarray, sw2: float) -> np.ndarray:
    """:math:`\\mathcal V'(q)` for an array of lengths, floating-point warnings silenced.

    At :math:`q = 0` it is the limit :math:`q \\to 0^+`.
    """
    qq = np.sqrt(np.maximum(q, Q_TINY))
    z, w = half_line_nodes()
    x = qq[..., None] * z
    with np.errstate(over="ignore", invalid="ignore"):
        return sw2 * (act.numpy(x) * act.numpy_derivative(x) * z) @ w / qq


def chi1_at(act: Activation, sw2: float, qs: float) -> float:
    """:math:`\\chi_1(q) = \\sigma_w^2 E[\\phi'(\\sqrt q z)^2]` at the length ``qs``.

    Below :data:`Q_TINY` it is the limit :math:`q \\to 0^+`.
    """
    qs = max(qs, Q_TINY)
    return float(sw2 * gaussian_expectation(lambda x: act.numpy_derivative(x) ** 2, np.asarray(qs)))
