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

Every name is importable from here; the code is split by topic, each module using only the
ones before it:

* :mod:`~initmath.theory.meanfield.arguments`: the checks of the arguments, run before any
  quadrature, and the float64 bounds of the domain;
* :mod:`~initmath.theory.meanfield.lengths`: the length map :math:`\\mathcal V`, its slope and
  :math:`\\chi_1(q)`, by one-dimensional quadrature;
* :mod:`~initmath.theory.meanfield.fixed_points`: the fixed point :math:`q^*` that iterating
  :math:`\\mathcal V` reaches, with its stability;
* :mod:`~initmath.theory.meanfield.correlations`: the correlation map :math:`\\mathcal C` and
  its slope, by two-dimensional quadrature;
* :mod:`~initmath.theory.meanfield.correlation_limits`: what the correlation does with depth
  in every phase, and its stable fixed point :math:`c^*`;
* :mod:`~initmath.theory.meanfield.criticality`: :math:`\\chi_1` at :math:`q^*`, the critical
  line and the depth scales.
"""

from __future__ import annotations

from .correlation_limits import CorrelationLimit, correlation_fixed_point, correlation_limit
from .correlations import correlation_map, correlation_slope
from .criticality import chi1, critical_line, depth_scales
from .fixed_points import TANGENCY_TOL, FixedPoint, find_fixed_point, fixed_point
from .lengths import Q_TINY, length_map, length_slope

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
