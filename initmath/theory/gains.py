"""Activation gains in three conventions: PyTorch's table, the exact second-moment gain, and
the variance-normalizing gain of normalizer-free networks.

The exact forward gain of :math:`\\phi` is the :math:`g` that makes :math:`q = 1` a fixed
point of the forward map of a bias-free layer with weight variance :math:`g^2/\\mathrm{fan_{in}}`:

.. math::
    q' = g^2\\, E[\\phi(\\sqrt q\\, z)^2] \\quad\\Rightarrow\\quad
    g = \\frac{1}{\\sqrt{E[\\phi(z)^2]}} .

The exact backward gain does the same for gradients: :math:`g = 1/\\sqrt{E[\\phi'(z)^2]}`.
For ReLU both are :math:`\\sqrt2`; for smooth activations they differ.

The normalizer-free (``"nf"``) gain of Brock, De and Smith (2021, arXiv:2101.08692) and
Brock et al. (2021, NFNets, arXiv:2102.06171) makes the activation's *output variance* one:

.. math::
    \\gamma = \\frac{1}{\\sqrt{\\operatorname{Var}[\\phi(z)]}}
    = \\frac{1}{\\sqrt{E[\\phi(z)^2] - E[\\phi(z)]^2}}, \\qquad z \\sim N(0, 1).

In their networks the weights are standardized per output unit (Scaled Weight
Standardization: zero mean, variance :math:`1/\\mathrm{fan_{in}}`), so a constant mean of the
inputs is removed by the weights and only the variance of :math:`\\gamma\\,\\phi(z)` reaches
the next layer. For ReLU, :math:`\\operatorname{Var} = 1/2 - 1/(2\\pi)` and
:math:`\\gamma = \\sqrt{2\\pi/(\\pi - 1)} \\approx 1.7139`; for odd activations (tanh,
identity) it is the exact gain.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from ..core.checks import choice
from ..weights.torch_gain import torch_gain

__all__ = ["CONVENTIONS", "backward_gain", "gain"]

#: The gain conventions of :func:`gain`: PyTorch's table, the exact second-moment gain, and
#: the variance-normalizing gain of normalizer-free networks.
CONVENTIONS: tuple[str, ...] = ("torch", "exact", "nf")


def gain(
    activation: object,
    param: float | None = None,
    *,
    convention: Literal["torch", "exact", "nf"] = "torch",
) -> float:
    """Recommended gain of an activation.

    Parameters
    ----------
    activation : str, (str, float) or Activation
        ``"relu"``, ``("leaky_relu", 0.2)``, ... For ``convention="exact"`` or ``"nf"`` any
        registered activation (:func:`initmath.activation_names`) or an
        :class:`initmath.Activation`.
    param : float, optional
        The activation's parameter (the slope of leaky ReLU: 0.01 by default, as PyTorch).
    convention : {"torch", "exact", "nf"}
        ``"torch"``: the values of ``torch.nn.init.calculate_gain`` (linear, conv*, sigmoid
        1; tanh 5/3; relu :math:`\\sqrt2`; leaky_relu :math:`\\sqrt{2/(1+a^2)}`; selu 3/4).
        ``"exact"``: :math:`1/\\sqrt{E[\\phi(z)^2]}`, :math:`z\\sim N(0,1)`, from
        :func:`initmath.moment`.
        ``"nf"``: :math:`1/\\sqrt{\\operatorname{Var}[\\phi(z)]}`, the normalizer-free
        networks' :math:`\\gamma` (Brock, De, Smith 2021): a closed form where
        :math:`E[\\phi(z)]` and :math:`E[\\phi(z)^2]` have one (ReLU
        :math:`\\sqrt{2\\pi/(\\pi-1)}`), else the quadrature of
        :math:`E[(\\phi(z) - E[\\phi(z)])^2]` (no cancellation between the two moments).
        DeepMind's sampled values are in
        :data:`initmath.theory.gain_table.DEEPMIND_NF_GAINS`.

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
    * **gelu, silu, mish, elu, softplus**: PyTorch has no value (``calculate_gain`` raises
      ``ValueError: Unsupported nonlinearity mish``); the exact convention gives one.

    The ``"nf"`` gain is larger than the exact one wherever :math:`E[\\phi(z)] \\ne 0`:
    ReLU 1.7139 against :math:`\\sqrt2`, sigmoid 4.80 against 1.85. It suits layers whose
    weights have zero mean per output unit *exactly* (weight standardization), which removes
    the mean; with ordinary i.i.d. weights the mean is not removed but turned into variance of
    the next pre-activations, and the ``"nf"`` gain then multiplies :math:`q = 1` by
    :math:`E[\\phi^2]/\\operatorname{Var}[\\phi]` per layer
    (:func:`initmath.theory.gain_table.mean_split`).

    Examples
    --------
    >>> gain("relu") == gain("relu", convention="exact") == 2 ** 0.5
    True
    >>> round(gain("tanh", convention="exact"), 4)
    1.5925
    >>> gain("selu", convention="exact")
    1.0
    >>> gain("relu", convention="nf") == (2 * 3.141592653589793 / (3.141592653589793 - 1)) ** 0.5
    True
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

    act = _spec(activation, param)
    if conv == "nf":
        return _inverse_sqrt_variance(act)
    return _inverse_sqrt(moment(act, 1.0, 2))


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


def _inverse_sqrt_variance(act: Any) -> float:
    # 1/sqrt(Var[phi(z)]), z ~ N(0, 1). With closed forms for E[phi] and E[phi^2], the
    # variance is the exact difference, evaluated at 30 digits. Otherwise the variance is the
    # quadrature of E[(phi - m)^2] with m = E[phi] to double precision: the error (m - m~)^2 is
    # below 1e-30, while E[phi^2] - m^2 in doubles would lose the digits of m^2 (sigmoid's
    # m^2 = 1/4 is 85% of its E[phi^2]).
    import sympy as sp

    from .activations import Activation
    from .moments import Q, moment

    first, second = moment(act, 1.0, 1), moment(act, 1.0, 2)
    if first.expr is not None and second.expr is not None:
        var = (second.expr - first.expr**2).subs(Q, 1)
        value = sp.N(var, 30)
        if value.is_positive:
            return float(sp.N(1 / sp.sqrt(var), 30))
    centered = Activation(f"{act.name}_centered", act.expr - sp.Float(first.value, 30))
    variance = moment(centered, 1.0, 2).value
    if not variance > 0:
        raise ValueError(
            f"activation {act.name!r} has zero variance at z ~ N(0, 1) (a constant); "
            "no gain normalizes it"
        )
    return 1.0 / math.sqrt(variance)


def _spec(activation: object, param: float | None) -> object:
    from .activations import activation as lookup

    return lookup(activation, param)
