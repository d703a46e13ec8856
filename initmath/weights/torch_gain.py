"""PyTorch's activation gains (``torch.nn.init.calculate_gain``), and activation specs.

A *gain* :math:`g` multiplies the standard deviation of a scheme so that a layer followed by
the activation :math:`\\phi` keeps the scale of its input: the weight variance becomes
:math:`g^2/\\mathrm{fan}`.

This layer-1 module holds PyTorch's convention only: a table of values, some derived and some
chosen by hand. The public :func:`initmath.gain` adds the derived ``"exact"`` convention,
:math:`g = 1/\\sqrt{E[\\phi(z)^2]}`, from the symbolic engine.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from types import MappingProxyType
from typing import TypeAlias

from ..core.checks import nonnegative_real

__all__ = [
    "ACTIVATION_ALIASES",
    "TORCH_NONLINEARITIES",
    "ActivationSpec",
    "canonical_name",
    "parse_activation",
    "spec_label",
    "split_spec",
    "torch_gain",
]

#: The type of an ``activation`` argument, a name or ``(name, parameter)`` such as
#: ``("leaky_relu", 0.2)``.
ActivationSpec: TypeAlias = str | tuple[str, float]

_LINEAR_LIKE = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
)
#: The nonlinearities ``torch.nn.init.calculate_gain`` knows (PyTorch 2.x).
TORCH_NONLINEARITIES: tuple[str, ...] = (
    *_LINEAR_LIKE,
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "selu",
)
_PARAMETRIC = {"leaky_relu": 0.01}  # name -> PyTorch's default parameter
#: Other names of activations, in the package's one (read-only) table of them. Every lookup
#: of an activation by name goes through :func:`canonical_name`, in
#: :func:`initmath.activation`, the finite-width moments and this module's PyTorch convention.
ACTIVATION_ALIASES: Mapping[str, str] = MappingProxyType(
    {"identity": "linear", "swish": "silu", "prelu": "leaky_relu"}
)


def canonical_name(name: str) -> str:
    """The canonical activation name of ``name``: lower case, aliases resolved.

    >>> canonical_name("Swish"), canonical_name("relu")
    ('silu', 'relu')
    """
    key = name.lower()
    return ACTIVATION_ALIASES.get(key, key)


# PyTorch's hand-set values (torch/nn/init.py). They are a convention, not a derivation:
# tanh's 5/3 and selu's 3/4 were chosen empirically (pytorch#24991, pytorch#50664).
_TORCH_CONSTANT_GAINS = {
    **{name: 1.0 for name in _LINEAR_LIKE},
    "sigmoid": 1.0,
    "tanh": 5.0 / 3,
    "selu": 3.0 / 4,
}


def split_spec(activation: object, param: object = None) -> tuple[str, object]:
    """Split ``"name"`` or ``("name", parameter)`` (plus an optional ``param``) into its parts."""
    if isinstance(activation, tuple):
        if len(activation) != 2:
            raise ValueError(f"activation must be a name or (name, parameter), got {activation!r}")
        if param is not None:
            raise ValueError(
                f"give the parameter once: either in activation={activation!r} "
                f"or as param={param!r}"
            )
        activation, param = activation
    if not isinstance(activation, str):
        raise TypeError(f"activation must be a string or (name, parameter), got {activation!r}")
    return activation, param


def spec_label(activation: object) -> str:
    """A short label of an activation spec: ``"tanh"``, ``"leaky_relu(0.2)"``.

    >>> spec_label(("leaky_relu", 0.2)), spec_label("gelu")
    ('leaky_relu(0.2)', 'gelu')
    """
    if isinstance(activation, tuple) and len(activation) == 2:
        return f"{activation[0]}({activation[1]:g})"
    return str(activation)


def parse_activation(activation: object, param: object = None) -> tuple[str, float | None]:
    """Split an activation spec into ``(name, parameter)`` and validate both.

    ``"leaky_relu"`` gets PyTorch's default slope 0.01; a slope must be finite and >= 0.
    A slope that is not a real number (``"0.2"``, ``True``) raises ``ValueError``, as
    ``torch.nn.init.calculate_gain`` does, not ``TypeError``.
    """
    activation, param = split_spec(activation, param)
    name = canonical_name(activation)
    if name in _PARAMETRIC:
        if param is None:
            return name, _PARAMETRIC[name]
        try:
            return name, nonnegative_real(param, f"{name} slope")
        except TypeError as exc:
            # PyTorch's calculate_gain raises ValueError for a slope that is not a number
            # ("negative_slope ... not a valid number"); so does every initmath function.
            raise ValueError(str(exc)) from None
    if param is not None:
        raise ValueError(f"activation {activation!r} takes no parameter, got param={param!r}")
    return name, None


def torch_gain(activation: ActivationSpec, param: float | None = None) -> float:
    """Gain of an activation in PyTorch's convention (``torch.nn.init.calculate_gain``).

    Parameters
    ----------
    activation : str or (str, float)
        ``"linear"``, ``"conv1d"`` ... ``"conv_transpose3d"``, ``"sigmoid"``, ``"tanh"``,
        ``"relu"``, ``"leaky_relu"``, ``"selu"``, or ``("leaky_relu", slope)``; or one of
        their :data:`ACTIVATION_ALIASES` (``"identity"``, ``"prelu"``).
    param : float, optional
        The negative slope of ``"leaky_relu"`` (default 0.01, as in PyTorch).

    Notes
    -----
    Exactly the values of ``torch.nn.init.calculate_gain``:

        ==============  =====================================
        linear, conv*   :math:`1`
        sigmoid         :math:`1`
        tanh            :math:`5/3`
        relu            :math:`\\sqrt{2}`
        leaky_relu      :math:`\\sqrt{2/(1+a^2)}`, :math:`a` the slope
        selu            :math:`3/4`
        ==============  =====================================

    Only the ReLU-family values follow from a calculation
    (:math:`E[\\mathrm{relu}(z)^2] = 1/2` for :math:`z\\sim N(0,1)`, so :math:`g=\\sqrt2`).
    PyTorch's tanh 5/3 and selu 3/4 were set by hand, and sigmoid 1 ignores the activation's
    non-zero mean. PyTorch has no value for gelu, silu, elu, softplus or mish, and neither does
    this convention. Unlike PyTorch, a negative slope is refused here.

    Raises
    ------
    ValueError
        An unknown activation; a slope that is negative, not finite or not a real number
        (PyTorch's error type for ``calculate_gain("leaky_relu", "0.2")``).
    TypeError
        An activation that is neither a string nor a ``(name, parameter)`` pair.
    """
    name, slope = parse_activation(activation, param)
    if name in _TORCH_CONSTANT_GAINS:
        return _TORCH_CONSTANT_GAINS[name]
    if name == "relu":
        return math.sqrt(2.0)
    if name == "leaky_relu":
        assert slope is not None
        return math.sqrt(2.0 / (1 + slope**2))
    raise ValueError(
        f"unknown activation {activation!r} for convention 'torch'; "
        f"expected one of {', '.join(map(repr, TORCH_NONLINEARITIES))}"
    )
