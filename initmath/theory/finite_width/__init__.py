r"""Finite width: the fluctuations that the infinite-width maps average away.

The infinite-width maps of :mod:`initmath.theory.derivations` describe the second moment :math:`q`
of a pre-activation averaged over the random weights. In a network of finite width :math:`n`
every network has its own :math:`q`, and the distribution of a single unit is not Gaussian.
For the positively homogeneous activations (linear, ReLU, leaky ReLU) with i.i.d. zero-mean
weights and zero biases these fluctuations are exactly computable at any width; this package
derives them (SymPy for the formulas, SciPy for the numbers).

Setting
-------
Layers :math:`z^\ell = W^\ell h^{\ell-1}`, :math:`h^\ell = \phi(z^\ell)`, :math:`h^0 = x`,
weights i.i.d. of variance :math:`s^2 = c/n_{\ell-1}` (:math:`c = 2` He, :math:`c = 1`
LeCun) and excess kurtosis :math:`\kappa` (0 normal, :math:`-6/5` uniform), constant width
:math:`n` (the input has :math:`n` entries too). Write :math:`N_\ell = \lVert h^\ell\rVert^2`.

**The per-layer ratio (Gaussian weights).** Given :math:`h^{\ell-1}`, the :math:`z^\ell_i`
are i.i.d. :math:`N(0, s^2 N_{\ell-1})`. For the ReLU the number :math:`K` of positive units is
:math:`\mathrm{Binomial}(n, 1/2)` and the positive ones are half-normal, so

.. math:: R_\ell = \frac{N_\ell}{N_{\ell-1}} = s^2 n_{\ell-1}\,\frac{\chi^2_K}{n_{\ell-1}}
          \;\overset{d}{=}\; \frac{c}{n}\,\chi^2_K ,\qquad K \sim \mathrm{Bin}(n, \tfrac12),

whose law does not depend on :math:`h^{\ell-1}`: the :math:`R_\ell` are i.i.d. and
independent of the input. With the generating functions :math:`E[t^K]`,
:math:`E[(\chi^2_k)^2] = k(k+2)` SymPy gives (:func:`ratio_second_moment`)
:math:`E[R] = 1`, :math:`E[R^2] = 1 + 5/n` for He-ReLU and :math:`R = \chi^2_n/n`,
:math:`E[R^2] = 1 + 2/n` for LeCun-linear networks. With widths :math:`n_j` the relative
second moment of :math:`N_L` is a product of factors :math:`1 + 5/n_j`, at most
:math:`\exp(5\sum_j 1/n_j)`: the growth exponential in the sum of reciprocal widths that
Hanin and Rolnick (2018, "How to start training: the effect of initialization and
architecture", NeurIPS) proved for the length of ReLU activations, and Hanin (2018, "Which
neural net architectures give rise to exploding and vanishing gradients?", NeurIPS) for the
squared entries of the input-output Jacobian.

The code is split by topic, each module using only the ones before it; every name is
importable from here:

* :mod:`~initmath.theory.finite_width.setting`: the symbols :data:`N`, :data:`L`,
  :data:`KAPPA`, :data:`EPS`, the depth limit and the activations covered;
* :mod:`~initmath.theory.finite_width.log_norm`: :math:`E[R^2]` and the mean and variance of
  the log-norm;
* :mod:`~initmath.theory.finite_width.fourth_moments`: the kurtosis, exact for any symmetric
  weight law;
* :mod:`~initmath.theory.finite_width.second_moment`: the :math:`1/n` correction of the
  average second moment, for any activation.
"""

from __future__ import annotations

from .fourth_moments import (
    MAX_N_CHECK,
    MAX_SYMBOLIC_DEPTH,
    conditional_fourth_moment,
    kurtosis,
    kurtosis_closed_form,
    kurtosis_expr,
    kurtosis_first_order,
    moment_recursion,
    weight_excess_kurtosis,
)
from .log_norm import (
    LogNormMoments,
    log_norm_moments,
    log_ratio_exprs,
    ratio_second_moment,
    to_latex,
)
from .second_moment import mean_second_moment
from .setting import EPS, KAPPA, MAX_DEPTH, L, N

__all__ = [
    "EPS",
    "KAPPA",
    "L",
    "MAX_DEPTH",
    "MAX_N_CHECK",
    "MAX_SYMBOLIC_DEPTH",
    "N",
    "LogNormMoments",
    "conditional_fourth_moment",
    "kurtosis",
    "kurtosis_closed_form",
    "kurtosis_expr",
    "kurtosis_first_order",
    "log_norm_moments",
    "log_ratio_exprs",
    "mean_second_moment",
    "moment_recursion",
    "ratio_second_moment",
    "to_latex",
    "weight_excess_kurtosis",
]
