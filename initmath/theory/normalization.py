r"""Normalization layers at initialization: what LayerNorm and BatchNorm do to the second
moments, derived in SymPy.

A normalized layer computes :math:`\hat z = (u - \bar u)/\sqrt{\sigma^2 + \epsilon}` from
:math:`u = W x + b`, over the units of each input (LayerNorm) or over the inputs of a batch
for each unit (BatchNorm). Forward, :math:`\hat z` has second moment
:math:`\sigma^2/(\sigma^2 + \epsilon) \approx 1` whatever the weights' scale: a normalized
network's forward pass does not depend on it. Backward, the gradient with respect to
:math:`u` is divided by :math:`\sqrt{\sigma^2 + \epsilon}`, so it scales as the inverse of
the weights' scale (and the gradient with respect to the weights as its inverse as well).

BatchNorm's gradients grow going down a network, whatever the weights' scale
(Yang et al. 2019): per layer, the next layer's :math:`u` has batch variance
:math:`\sigma_w^2 \operatorname{Var}[\phi(\xi)]` (the batch mean is removed) while the
gradient gains :math:`\sigma_w^2 E[\phi'(\xi)^2]`, :math:`\xi \sim N(0, 1)`. For large
batches the gradient's second moment grows by :func:`batchnorm_gradient_rate` per layer;
smaller batches grow faster (the simulation measures by how much).
"""

from __future__ import annotations

import sympy as sp

from .moments import Q, derivative_moment, moment, symbolic_moment

__all__ = ["batchnorm_gradient_rate"]


def batchnorm_gradient_rate(act: object) -> sp.Expr:
    r"""The large-batch growth per layer of the gradient's second moment in a batch-normalized
    network,

    .. math:: \lambda = \frac{E[\phi'(\xi)^2]}{E[\phi(\xi)^2] - E[\phi(\xi)]^2},
              \qquad \xi \sim N(0, 1),

    independent of the weights' variance, which cancels between the forward batch variance
    and the backward gain. ReLU: :math:`\pi/(\pi - 1)`; the identity: 1.

    Valid in the limit of infinite width and batch size. Exact (a SymPy expression) for
    activations with closed-form Gaussian moments, otherwise a ``sympy.Float`` from the
    numeric moments (:func:`initmath.moment`, :func:`initmath.derivative_moment`).
    """
    moments = []
    for k, derivative in ((2, True), (2, False), (1, False)):
        m = symbolic_moment(act, k, derivative=derivative)
        if m is None:
            return sp.Float(_numeric_rate(act))
        moments.append(m.subs(Q, 1))
    d2, m2, m1 = moments
    return sp.simplify(d2 / (m2 - m1**2))


def _numeric_rate(act: object) -> float:
    d2 = derivative_moment(act, 1.0, 2).value
    m2, m1 = moment(act, 1.0, 2).value, moment(act, 1.0, 1).value
    return d2 / (m2 - m1 * m1)
