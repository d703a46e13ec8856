"""Activation gains in two conventions: PyTorch's table, and the exact derived values.

The exact forward gain of :math:`\\phi` is the :math:`g` that makes :math:`q = 1` a fixed
point of the forward map of a bias-free layer with weight variance :math:`g^2/\\mathrm{fan_{in}}`:

.. math::
    q' = g^2\\, E[\\phi(\\sqrt q\\, z)^2] \\quad\\Rightarrow\\quad
    g = \\frac{1}{\\sqrt{E[\\phi(z)^2]}} .

The exact backward gain does the same for gradients: :math:`g = 1/\\sqrt{E[\\phi'(z)^2]}`.
For ReLU both are :math:`\\sqrt2`; for smooth activations they differ.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from ..core.checks import choice
from ..weights.torch_gain import torch_gain

__all__ = ["CONVENTIONS", "backward_gain", "gain"]

CONVENTIONS: tuple[str, ...] = ("torch", "exact")


def gain(
    activation: object,
    param: float | None = None,
    *,
    convention: Literal["torch", "exact"] = "torch",
) -> float:
    """Recommended gain of an activation.

    Parameters
    ----------
    activation : str, (str, float) or Activation
        ``"relu"``, ``("leaky_relu", 0.2)``, ... For ``convention="exact"`` any registered
        activation (:func:`initmath.activation_names`) or an :class:`initmath.Activation`.
    param : float, optional
        The activation's parameter (the slope of leaky ReLU: 0.01 by default, as PyTorch).
    convention : {"torch", "exact"}
        ``"torch"``: the values of ``torch.nn.init.calculate_gain`` (linear, conv*, sigmoid
        1; tanh 5/3; relu :math:`\\sqrt2`; leaky_relu :math:`\\sqrt{2/(1+a^2)}`; selu 3/4).
        ``"exact"``: :math:`1/\\sqrt{E[\\phi(z)^2]}`, :math:`z\\sim N(0,1)`, from
        :func:`initmath.moment`.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        An activation that is not a name, ``(name, parameter)`` or :class:`Activation`.
    ValueError
        Unknown activation or convention, a negative or NaN parameter; in the torch
        convention, an activation PyTorch has no value for, or an :class:`Activation`.

    Notes
    -----
    Where the two conventions differ (exact values from :func:`initmath.moment`):

    * **tanh**: PyTorch 5/3 = 1.667, exact 1.5925. PyTorch's gain is 4.7% larger, so each
      layer multiplies the pre-activation second moment by about 1.095 near :math:`q = 1`,
      and the second moment settles at :math:`q^* \\approx 1.178` instead of 1. Both gains
      are on the chaotic side of Poole et al.'s (2016) order-to-chaos transition:
      :math:`\\chi_1 = \\sigma_w^2 E[\\phi'(\\sqrt{q^*} z)^2]` is 1.178 for the exact gain
      (at :math:`q^* = 1`) and 1.210 for 5/3 (:func:`initmath.theory.meanfield.chi1`); without
      biases every :math:`\\sigma_w^2 > 1` is chaotic for tanh, and :math:`\\sigma_w^2 > 1` is
      needed for any non-zero :math:`q^*`. The 5/3 has no derivation behind it: the PyTorch
      forum thread "calculate_gain('tanh')"
      (https://discuss.pytorch.org/t/calculate-gain-tanh/20854) justifies it empirically, by
      the activations of a deep tanh network keeping a stable standard deviation in a trial.
      PyTorch issue #24991 asks to add SELU to ``calculate_gain``; one comment there asks how
      the table's values were computed.
    * **sigmoid**: PyTorch 1, exact 1.846. The exact gain is large because it must undo the
      sigmoid's mean of 1/2; PyTorch's 1 makes the second moment of the next layer's input
      shrink by :math:`E[\\sigma(z)^2] \\approx 0.29` per layer at first (it then settles at a
      fixed point, since a nonzero mean feeds it).
    * **selu**: PyTorch 3/4, exact 1, so PyTorch's value shrinks the second moment by
      :math:`(3/4)^2 = 0.5625` per layer near :math:`q = 1`. SELU's constants are chosen so that
      :math:`E[\\mathrm{selu}(z)^2] = 1` exactly (Klambauer et al. 2017), so LeCun's
      variance :math:`1/\\mathrm{fan_{in}}` (gain 1) is the self-normalizing choice; PyTorch's
      3/4 was picked empirically and PyTorch's docs recommend ``nonlinearity="linear"`` for
      self-normalizing networks.
    * **relu, leaky_relu, linear**: identical (these are derived in PyTorch too).
    * **gelu, silu, elu, softplus**: PyTorch has no value (``calculate_gain`` raises); the
      exact convention gives one.

    Examples
    --------
    >>> gain("relu") == gain("relu", convention="exact") == 2 ** 0.5
    True
    >>> round(gain("tanh", convention="exact"), 4)
    1.5925
    >>> gain("selu", convention="exact")
    1.0
    """
    conv = choice(convention, "convention", CONVENTIONS)
    if conv == "torch":
        from .activations import Activation

        if isinstance(activation, Activation):
            raise ValueError(
                f"activation must be one of PyTorch's named nonlinearities for convention "
                f"'torch', got the Activation {activation!r}; use convention='exact'"
            )
        # torch_gain refuses, naming the activation, anything that is not a name or
        # (name, parameter) (TypeError) and names PyTorch has no value for (ValueError).
        return torch_gain(activation, param)  # type: ignore[arg-type]
    from .moments import moment

    return _inverse_sqrt(moment(_spec(activation, param), 1.0, 2))


def backward_gain(activation: object, param: float | None = None) -> float:
    """Exact backward gain :math:`1/\\sqrt{E[\\phi'(z)^2]}`, :math:`z\\sim N(0,1)`.

    With weight variance :math:`g^2/\\mathrm{fan_{out}}` it keeps the second moment of the
    back-propagated gradient constant through a layer whose pre-activations have unit second
    moment.

    Examples
    --------
    >>> backward_gain("relu") == 2 ** 0.5
    True
    >>> backward_gain("linear")
    1.0
    """
    from .moments import derivative_moment

    return _inverse_sqrt(derivative_moment(_spec(activation, param), 1.0, 2))


def _inverse_sqrt(m: Any) -> float:
    # From a closed form, evaluate 1/sqrt(M(1)) at 30 digits so that e.g. ReLU's gain is
    # exactly the double nearest sqrt(2); a numeric moment has no more digits to give.
    if m.exact:
        import sympy as sp

        from .moments import Q

        return float(sp.N(1 / sp.sqrt(m.expr.subs(Q, 1)), 30))
    return 1.0 / math.sqrt(m.value)


def _spec(activation: object, param: float | None) -> object:
    from .activations import activation as lookup

    return lookup(activation, param)
