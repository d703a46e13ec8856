"""Input-output Jacobians of deep random networks and the spread of their singular values.

A fully connected network of constant width :math:`n` and depth :math:`L` maps
:math:`x_0` to :math:`x_L` by :math:`z_\\ell = W_\\ell x_{\\ell-1} + b_\\ell`,
:math:`x_\\ell = \\phi(z_\\ell)`. Its input-output Jacobian is the product

.. math:: J = D_L W_L \\cdots D_1 W_1, \\qquad D_\\ell = \\operatorname{diag}\\phi'(z_\\ell).

The network is *dynamically isometric* (Saxe et al. 2014; Pennington, Schoenholz and Ganguli
2017) when every squared singular value :math:`\\lambda` of :math:`J` is close to 1. This
package draws networks with Gaussian or orthogonal weights of mean square
:math:`\\sigma_w^2/n` (through :func:`initmath.init`), computes :math:`J` one network at a
time with NumPy's matrix products (BLAS), and records per network the moments
:math:`m_1 = \\operatorname{tr}(J^\\top J)/n` and :math:`m_2 = \\operatorname{tr}((J^\\top J)^2)/n`
of its spectrum, and the spectrum itself at chosen depths.

It also predicts the relative variance
:math:`r_L = \\operatorname{Var}[\\lambda]/E[\\lambda]^2` in two ways:

* **large width, mean field** (:func:`predicted_relative_variance`): treating each
  :math:`D_\\ell^2` as independent of the weights (asymptotically free of them), with
  :math:`A_\\ell = \\sigma_w^2 D_\\ell^2` of normalized moments :math:`\\mu_1, \\mu_2`, the
  standard free-probability rule for a product of free variables,
  :math:`\\varphi(ABAB) = \\varphi(A^2)\\varphi(B)^2 + \\varphi(A)^2\\varphi(B^2) -
  \\varphi(A)^2\\varphi(B)^2`, gives for Haar-orthogonal weights
  :math:`r_\\ell = r_{\\ell-1} + \\mu_2/\\mu_1^2 - 1`; a Gaussian :math:`W^\\top A W` spreads
  one unit more per layer, :math:`r_\\ell = r_{\\ell-1} + \\mu_2/\\mu_1^2`
  (see :func:`relative_variance_recursion`);
* **exactly at finite width** for linear networks with Gaussian weights
  (:func:`linear_gaussian_relative_variance`), from the Wick (Isserlis) moments of one
  Gaussian layer.

Every name is importable from here; the code is split by topic, each module using only the
ones before it:

* :mod:`~initmath.engine.jacobian.arguments`: the checks of the arguments (depths up to
  :data:`MAX_DEPTH`, the distributions, the mean-field parameters);
* :mod:`~initmath.engine.jacobian.recursions`: the SymPy recursions of the relative variance,
  their closed forms and the exact linear Gaussian map;
* :mod:`~initmath.engine.jacobian.predictions`: the mean-field predictions along the forward
  map, for a square :class:`~initmath.engine.network.Network` (:func:`mean_field`) or its
  parameters;
* :mod:`~initmath.engine.jacobian.networks`: sampling a network, its output and its
  Jacobian;
* :mod:`~initmath.engine.jacobian.spectrum`: the simulation of many networks' spectra and
  :class:`JacobianSpectrum`, its result.
"""

from __future__ import annotations

from .arguments import JACOBIAN_DISTRIBUTIONS, MAX_DEPTH
from .networks import forward, input_output_jacobian, sample_network
from .predictions import MeanField, mean_field, predicted_mean_lambda, predicted_relative_variance
from .recursions import (
    L_SYM,
    MU1,
    MU2,
    N_SYM,
    R_PREV,
    R_SYM,
    derivative_moment_ratio,
    linear_gaussian_recursion,
    linear_gaussian_relative_variance,
    relative_variance_closed_form,
    relative_variance_recursion,
)
from .spectrum import JacobianSpectrum, jacobian_spectrum

__all__ = [
    "JACOBIAN_DISTRIBUTIONS",
    "JacobianSpectrum",
    "MeanField",
    "L_SYM",
    "MAX_DEPTH",
    "MU1",
    "MU2",
    "N_SYM",
    "R_PREV",
    "R_SYM",
    "derivative_moment_ratio",
    "forward",
    "input_output_jacobian",
    "mean_field",
    "jacobian_spectrum",
    "linear_gaussian_recursion",
    "linear_gaussian_relative_variance",
    "predicted_mean_lambda",
    "predicted_relative_variance",
    "relative_variance_closed_form",
    "relative_variance_recursion",
    "sample_network",
]
