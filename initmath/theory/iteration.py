"""The mean-field maps iterated over depth: per-layer lengths, correlations, depth-scale grids.

:mod:`initmath.theory.meanfield` gives one step of the length map :math:`\\mathcal V` and of
the correlation map :math:`\\mathcal C`; this module follows them through ``depth`` layers of a
wide network with :math:`W_{ij} \\sim N(0, \\sigma_w^2/n)` and :math:`b_i \\sim N(0,
\\sigma_b^2)`:

.. math::
    q^{\\ell+1} = \\mathcal V(q^\\ell), \\qquad c^{\\ell+1} = \\mathcal C(c^\\ell; q^\\ell),

from the first layer's :math:`q^1` and :math:`c^1` (layers are numbered from 1, the first
entry of every result is layer 1). :func:`iterate_length` follows the length alone,
:func:`iterate_correlation` the correlation of inputs that sit at the fixed length
:math:`q^*`, :func:`iterate_pair` both together, and :func:`correlation_depth_grid` evaluates
the depth scale :math:`\\xi_c` of :func:`~initmath.theory.meanfield.depth_scales` on a grid of
:math:`(\\sigma_w^2, \\sigma_b^2)`, the colour of a phase diagram.

Everything is deterministic (the quadrature of :mod:`initmath.theory.meanfield`), so the
iterates are what :func:`initmath.predict` computes for the length, and what a simulation of
wide networks approaches.

>>> iterate_length("relu", 1.0, 2.0, 0.0, 4)  # He: sigma_w^2 M(q) = q
array([1., 1., 1., 1.])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..core.checks import integer, positive_real
from .meanfield import correlation_map, depth_scales, length_map

__all__ = [
    "correlation_depth_grid",
    "iterate_correlation",
    "iterate_length",
    "iterate_pair",
]


def iterate_length(
    activation: object, q1: float, sigma_w2: float, sigma_b2: float, depth: int
) -> np.ndarray:
    """The length map iterated: :math:`q^1, \\ldots, q^L`.

    Each step is :math:`q^{\\ell+1} =
    \\mathcal V(q^\\ell) = \\sigma_w^2 E[\\phi(\\sqrt{q^\\ell} z)^2] + \\sigma_b^2`.

    Parameters
    ----------
    activation : str, (str, float) or Activation
        :math:`\\phi`, as for :func:`initmath.activation`.
    q1 : float
        The first layer's second moment (> 0); for an input of standard deviation :math:`s`
        it is :math:`\\sigma_w^2 s^2 + \\sigma_b^2`.
    sigma_w2, sigma_b2 : float
        As for :func:`~initmath.theory.meanfield.length_map`.
    depth : int
        The number of layers :math:`L` (>= 1).

    Returns
    -------
    numpy.ndarray
        Shape ``(depth,)``; entry ``l - 1`` is :math:`q^\\ell`.

    Raises
    ------
    TypeError, ValueError
        For an invalid argument, naming it (those of
        :func:`~initmath.theory.meanfield.length_map` included).

    Examples
    --------
    >>> iterate_length("relu", 1.0, 1.0, 0.5, 4)  # q -> q/2 + 1/2: towards q* = 1
    array([1., 1., 1., 1.])
    >>> iterate_length("linear", 1.0, 2.0, 0.0, 4)
    array([1., 2., 4., 8.])
    """
    qs = [positive_real(q1, "q1")]
    for _ in range(integer(depth, "depth", 1) - 1):
        qs.append(float(length_map(activation, qs[-1], sigma_w2, sigma_b2)))
    return np.array(qs)


def iterate_correlation(
    activation: object,
    c1: float | Sequence[float] | np.ndarray,
    sigma_w2: float,
    sigma_b2: float,
    depth: int,
) -> np.ndarray:
    """The correlation map iterated at the fixed length, from :math:`c^1`.

    Each step is :math:`c^{\\ell+1} = \\mathcal C(c^\\ell; q^*)`. Both inputs of each pair
    are taken at the fixed point :math:`q^*` of the length map
    (:func:`~initmath.theory.meanfield.fixed_point`), where :math:`\\mathcal V(q^*) = q^*` and

    .. math::
        \\mathcal C(c; q^*) = \\frac{\\sigma_w^2 E[\\phi(u_1)\\phi(u_2)] + \\sigma_b^2}{q^*},
        \\qquad u_1 = \\sqrt{q^*} z_1, \\; u_2 = \\sqrt{q^*}(c z_1 + \\sqrt{1 - c^2} z_2).

    Parameters
    ----------
    activation, sigma_w2, sigma_b2
        As for :func:`iterate_length`.
    c1 : float or array_like
        The first layer's correlation(s), in :math:`[-1, 1]`: one trajectory each.
    depth : int
        The number of layers (>= 1).

    Returns
    -------
    numpy.ndarray
        Shape ``(depth, *numpy.shape(c1))``; row ``l - 1`` is :math:`c^\\ell`.

    Raises
    ------
    TypeError, ValueError
        For an invalid argument, or where :math:`q^*` is not a positive length (see
        :func:`~initmath.theory.meanfield.correlation_map`).

    Examples
    --------
    >>> iterate_correlation("relu", [1.0, 0.0], 1.0, 0.5, 3).round(4)  # q* = 1
    array([[1.    , 0.    ],
           [1.    , 0.6592],
           [1.    , 0.86  ]])
    """
    cs = [np.asarray(c1, dtype=np.float64)]
    for _ in range(integer(depth, "depth", 1) - 1):
        cs.append(np.asarray(correlation_map(activation, cs[-1], sigma_w2, sigma_b2)))
    return np.array(cs)


def iterate_pair(
    activation: object,
    q1: float,
    c1: float | Sequence[float] | np.ndarray,
    sigma_w2: float,
    sigma_b2: float,
    depth: int,
) -> tuple[np.ndarray, np.ndarray]:
    """The length and the correlation iterated together.

    Each step is :math:`q^{\\ell+1} =
    \\mathcal V(q^\\ell)`, :math:`c^{\\ell+1} = \\mathcal C(c^\\ell; q^\\ell)`.

    Unlike :func:`iterate_correlation` the two inputs need not start at :math:`q^*`: each
    step of the correlation uses the current length. This is the iteration to use where
    :math:`q^\\ell` never settles at a positive length (:math:`q^* = 0`, e.g. tanh without
    bias below criticality, where the correlations are preserved).

    Parameters
    ----------
    activation, q1, sigma_w2, sigma_b2, depth
        As for :func:`iterate_length`.
    c1 : float or array_like
        As for :func:`iterate_correlation`.

    Returns
    -------
    q : numpy.ndarray
        Shape ``(depth,)``, :func:`iterate_length`'s.
    c : numpy.ndarray
        Shape ``(depth, *numpy.shape(c1))``.

    Examples
    --------
    >>> q, c = iterate_pair("tanh", 1.0, 0.9, 0.8, 0.0, 40)  # q* = 0: c is nearly kept
    >>> bool(q[-1] < 1e-4), round(float(c[-1]), 3)
    (True, 0.878)
    """
    qs = iterate_length(activation, q1, sigma_w2, sigma_b2, depth)
    cs = [np.asarray(c1, dtype=np.float64)]
    for q in qs[:-1]:
        cs.append(np.asarray(correlation_map(activation, cs[-1], sigma_w2, sigma_b2, q=float(q))))
    return qs, np.array(cs)


def correlation_depth_grid(
    activation: object,
    sigma_w2: Sequence[float] | np.ndarray,
    sigma_b2: Sequence[float] | np.ndarray,
) -> np.ndarray:
    """The correlation depth scale :math:`\\xi_c` on a grid of weight and bias variances.

    Entry ``[i, j]`` is :math:`\\xi_c` of :func:`~initmath.theory.meanfield.depth_scales` at
    :math:`(\\sigma_w^2, \\sigma_b^2)` = ``(sigma_w2[j], sigma_b2[i])``, so that the array is
    what :func:`matplotlib.pyplot.pcolormesh` draws with ``sigma_w2`` on the x axis:
    :math:`\\xi_c^{-1} = -\\log \\chi_c`, :math:`\\chi_c = \\sigma_w^2
    E[\\phi'(u_1^*)\\phi'(u_2^*)]` at :math:`q^*, c^*`.

    Parameters
    ----------
    activation : str, (str, float) or Activation
        :math:`\\phi`.
    sigma_w2, sigma_b2 : array_like
        The grid's axes.

    Returns
    -------
    numpy.ndarray
        Shape ``(len(sigma_b2), len(sigma_w2))``. ``inf`` on the critical line and wherever
        :func:`~initmath.theory.meanfield.correlation_limit` finds no geometric approach
        (``"power_law"`` or ``"preserved"``: for tanh the edge :math:`\\sigma_b^2 = 0,
        \\sigma_w^2 < 1`, where :math:`q^* = 0` and the input correlation is kept); ``nan``
        where :func:`~initmath.theory.meanfield.depth_scales` raises ``ValueError`` (outside
        its domain).

    Examples
    --------
    >>> correlation_depth_grid("tanh", [0.5, 2.0], [0.0, 0.1]).round(2)  # inf: c preserved
    array([[   inf,  21.72],
           [  1.07, 335.96]])
    """
    sw2 = np.asarray(sigma_w2, dtype=np.float64)
    sb2 = np.asarray(sigma_b2, dtype=np.float64)
    if sw2.ndim != 1 or sb2.ndim != 1:
        raise ValueError("sigma_w2 and sigma_b2 must be one-dimensional")
    out = np.empty((len(sb2), len(sw2)))
    for i, b in enumerate(sb2):
        for j, w in enumerate(sw2):
            try:
                out[i, j] = depth_scales(activation, float(w), float(b))[1]
            except ValueError:
                out[i, j] = np.nan
    return out
