"""The description of a random network: one object every consumer takes.

A :class:`Network` says everything about a random network -- its layers, widths, activation,
weight scheme, distribution and gain, bias and input scales -- and derives what the consumers
need: each layer's weight variance and distribution scale, and the mean-field
:math:`\\sigma_w^2` and :math:`\\sigma_b^2`. :func:`initmath.simulate`,
:func:`initmath.predict`, :func:`initmath.verify`, the NumPy reference
(:func:`initmath.engine.reference.simulate_numpy`), :func:`initmath.practice.training.network`,
the Jacobian functions (:mod:`initmath.engine.jacobian`) and :func:`initmath.practice.lsuv.lsuv`
take it; each also keeps the short form ``f(widths, activation, scheme=..., ...)``, which
builds one with :func:`as_network`.

>>> import initmath
>>> net = initmath.Network([256] * 11, "relu", scheme="he")
>>> net.depth, round(net.sigma_w2[0], 12), net.sigma_b2
(10, 2.0, 0.0)
>>> net.replace(bias_std=0.5).sigma_b2
0.25

Layers are objects of a layer kind: :class:`Dense`, or
:class:`~initmath.engine.convolution.Convolution` for the items
:class:`~initmath.engine.convolution.Conv` of a convolutional architecture (see that
module). A new kind is added with its variance map, and the consumers dispatch on it.

Residual networks (:class:`Residual`, the ``residual`` option) are Dense layers with a skip:
the last layer of each residual branch adds the pre-activations of the layer before the
branch, :math:`z^{e} = z^{s} + \\alpha (W^{e} x^{e-1} + b^{e})`
(``Dense.skip``, ``Dense.alpha``).

>>> res = initmath.Network([64] * 8, "relu", residual=initmath.Residual(layers=2, alpha=0.5))
>>> [layer.skip for layer in res.layers], res.blocks
([None, None, 1, None, 3, None, 5], 3)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack, cast

import numpy as np

from ..core.checks import (
    choice,
    finite_real,
    integer,
    layer_widths,
    nonnegative_real,
    positive_real,
    shape_tuple,
)
from ..theory.activations import Activation, registered
from ..theory.activations import activation as get_activation
from ..weights.distributions import DISTRIBUTIONS, truncated_normal_std
from ..weights.schemes import SCHEME_ALIASES, SCHEMES, Distribution, Mode, Scheme, bound
from ..weights.schemes import std as scheme_std
from ..weights.shapes import FAN_CONVENTIONS, FanConvention, WeightShape
from .convolution import Conv, Convolution, convolution

__all__ = [
    "NORMS",
    "RESIDUAL_INITS",
    "RESIDUAL_ORDERINGS",
    "Dense",
    "Layer",
    "Network",
    "NetworkOptions",
    "Residual",
    "as_network",
]

#: The initializations of a residual network's branches (``Residual.init``).
RESIDUAL_INITS: tuple[str, ...] = ("plain", "fixup")


#: The normalizations of a layer's pre-activations (``Dense.norm``): LayerNorm over the
#: units of each input, BatchNorm over the inputs (the batch) of each unit.
NORMS: tuple[str, ...] = ("layer", "batch")

#: The orderings of a residual block (``Residual.ordering``).
RESIDUAL_ORDERINGS: tuple[str, ...] = ("pre", "post")


@dataclass(frozen=True)
class Residual:
    r"""Residual blocks over the layers of a :class:`Network`.

    Layer 1 is the stem; the layers after it form blocks of ``layers`` (:math:`m`) layers,
    each a branch :math:`F` of :math:`m` weight layers (biases included) and a skip. With
    ``B`` blocks the network has :math:`1 + B m` layers, and the widths at the block ends
    (the stream) equal ``widths[1]``. Two orderings:

    ``"pre"`` (He et al. 2016, "identity mappings"): the stream carries pre-activations,
    :math:`h_0 = z^1`, each branch starts with the nonlinearity and ends with a weight layer,

    .. math::

        h_k = h_{k-1} + \alpha\, F(h_{k-1}), \qquad
        F(h) = W_m\,\phi(\cdots W_1\,\phi(h)).

    ``"post"`` (He et al. 2016, the original ResNet): the stream carries activations,
    :math:`x_0 = \phi(z^1)`, and the nonlinearity follows the addition,

    .. math::

        x_k = \phi\big(x_{k-1} + \alpha\, F(x_{k-1})\big), \qquad
        F(x) = W_m\,\phi(\cdots W_1\, x);

    the block end's pre-activation :math:`z^e = x_{k-1} + \alpha F(x_{k-1})` is then not
    Gaussian at infinite width (it is a shifted rectified variable), so its maps need the
    law of the stream, not only its second moment.

    Parameters
    ----------
    layers : int
        :math:`m \ge 1`, the weight layers of each branch.
    alpha : float
        The branch multiplier :math:`\alpha` (finite): 1 for a plain ResNet,
        :math:`1/\sqrt{B}` for branch scaling, 0 for SkipInit (De and Smith 2020) and
        ReZero (Bachlechner et al. 2021), whose branches are multiplied by a learned scalar
        initialized at 0.
    init : {"plain", "fixup"}
        ``"plain"``: every layer from the network's scheme. ``"fixup"`` (Zhang et al. 2019,
        needs :math:`m \ge 2`): the branch layers from the scheme with their weights
        multiplied by :math:`B^{-1/(2m-2)}`, the last layer of each branch zero.
    ordering : {"pre", "post"}
        Where the nonlinearity sits, above.
    """

    layers: int = 2
    alpha: float = 1.0
    init: str = "plain"
    ordering: str = "pre"

    def __post_init__(self) -> None:
        m = integer(self.layers, "layers", 1)
        alpha = finite_real(self.alpha, "alpha")
        init = choice(self.init, "init", RESIDUAL_INITS)
        ordering = choice(self.ordering, "ordering", RESIDUAL_ORDERINGS)
        if init == "fixup" and m < 2:
            raise ValueError(
                f"Fixup needs branches of at least 2 layers (its scale is B^(-1/(2m-2))), "
                f"got layers={self.layers!r}"
            )
        object.__setattr__(self, "layers", m)
        object.__setattr__(self, "alpha", alpha)
        object.__setattr__(self, "init", init)
        object.__setattr__(self, "ordering", ordering)


class NetworkOptions(TypedDict, total=False):
    """The keyword arguments of :class:`Network` besides ``widths`` and ``activation``.

    The short forms of the consumers accept exactly these.
    """

    scheme: str
    distribution: str
    gain: float | None
    mode: str | None
    std: float | None
    bias_std: float
    input_std: float
    residual: Residual | None
    norm: str | None
    norm_eps: float
    fan_convention: FanConvention


#: The defaults of :class:`NetworkOptions`.
DEFAULTS: Mapping[str, Any] = {
    "scheme": "he",
    "distribution": "normal",
    "gain": None,
    "mode": None,
    "std": None,
    "bias_std": 0.0,
    "input_std": 1.0,
    "residual": None,
    "norm": None,
    "norm_eps": 1e-5,
    "fan_convention": "true",
}


@dataclass(frozen=True)
class Dense:
    """A fully connected layer: :math:`z = W x + b`, ``W`` of shape ``(n_out, n_in)``.

    Attributes
    ----------
    n_in, n_out : int
        Fan-in and fan-out.
    variance : float
        The weights' variance, :func:`initmath.std` squared (orthogonal weights: the mean
        square entry :math:`g^2/\\max(n_{in}, n_{out})`).
    scale : float
        The distribution's scale parameter: the std (normal), the half-width (uniform), the
        underlying normal's std (truncated normal) or the gain (orthogonal).
    skip : int or None
        In a residual network, the (1-based) layer whose pre-activations (ordering
        ``"pre"``) or activations (``"post"``) this layer adds:
        :math:`z = z^{\\text{skip}} + \\alpha (W x + b)` or
        :math:`z = \\phi(z^{\\text{skip}}) + \\alpha (W x + b)`; None: no skip.
    alpha : float
        The multiplier :math:`\\alpha` of :math:`W x + b` (1 without a skip).
    norm : {"layer", "batch"} or None
        The normalization of :math:`W x + b` (before :math:`\\alpha` and the skip):
        :math:`z = z^{\\text{skip}} + \\alpha\\,N(W x + b)`, :math:`N` LayerNorm or
        BatchNorm at initialization (scale 1, shift 0, ``eps`` of the network).
    """

    n_in: int
    n_out: int
    variance: float
    scale: float
    skip: int | None = None
    alpha: float = 1.0
    norm: str | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_out, n_in)``, PyTorch's layout."""
        return (self.n_out, self.n_in)

    @property
    def sigma_w2(self) -> float:
        """The mean-field :math:`\\sigma_w^2 = n_{in}\\,\\operatorname{Var}(W_{ij})`."""
        return self.n_in * self.variance


#: A layer of a network, fully connected (Dense) or convolutional (Convolution).
Layer = Dense | Convolution


@dataclass(frozen=True, init=False)
class Network:
    """A random network: layers of i.i.d. weights, an activation after each, Gaussian inputs.

    Layer :math:`\\ell = 1..L` computes :math:`z^\\ell = W^\\ell x^{\\ell-1} + b^\\ell` and
    :math:`x^\\ell = \\phi(z^\\ell)`; :math:`x^0` has i.i.d. :math:`N(0, s_x^2)` entries
    (:math:`s_x` = ``input_std``), :math:`W^\\ell` has shape ``(widths[l], widths[l-1])``
    with i.i.d. entries from ``scheme`` and ``distribution`` and
    :math:`b^\\ell_i \\sim N(0, s_b^2)` (:math:`s_b` = ``bias_std``).

    Parameters
    ----------
    widths : sequence of int, or an architecture
        ``[n0, n1, ..., nL]``: input width, then each layer's width (all >= 1, L >= 1).
        Or a convolutional architecture: the input's shape ``(C, H)`` or ``(C, H, W)``
        first, then one item per layer, a :class:`~initmath.engine.convolution.Conv` or an
        int (a dense layer of that width on the flattened activations), for example
        ``[(3, 32, 32), Conv(16, 3), Conv(32, 3, stride=2), 10]``; the inputs are then
        i.i.d. over channels and positions, a layer's bias one per output channel, and
        ``widths`` the flattened sizes.
    activation : str, (str, float) or Activation
        The nonlinearity :math:`\\phi` (any registered activation).
    scheme, distribution, gain, mode
        As for :func:`initmath.std`; ``gain=None`` is the scheme's own (He:
        :math:`\\sqrt2`), independent of ``activation``.
    std : float, optional
        The fixed std of scheme ``"fixed"`` (alias ``"normal"``).
    bias_std, input_std : float
        Standard deviations of the biases (>= 0) and of the inputs (> 0).
    residual : Residual, optional
        Residual blocks over the layers (:class:`Residual`); None: a plain stack.
    norm : {"layer", "batch"}, optional
        Normalize every layer's :math:`W x + b` (LayerNorm over its units, or BatchNorm over
        the inputs of a network, which are its batch: ``n_inputs >= 2`` in
        :func:`initmath.simulate`), as PyTorch's ``LayerNorm`` and ``BatchNorm1d`` do in
        training mode at initialization; None: no normalization.
    norm_eps : float
        The :math:`\\epsilon` added to the variance (> 0; PyTorch's default 1e-5).
    fan_convention : {"true", "framework"}
        The fans a scheme divides by (:meth:`initmath.WeightShape.fans`): the layer's true
        ones, or those PyTorch reads off the weight's shape, which differ for the fan-out of
        grouped and strided convolutions and both fans of transposed ones (use it to
        reproduce PyTorch's ``kaiming_normal_``).

    Raises
    ------
    TypeError, ValueError
        Naming the argument and repeating its value, before anything is computed.

    Attributes
    ----------
    widths : tuple of int
    activation : Activation
    scheme, distribution, gain, mode, std, bias_std, input_std
        The canonical values (aliases resolved).
    layers : tuple of Dense or Convolution
        One per layer, with its weight variance and distribution scale (and, residual, its
        skip).
    architecture : tuple
        The first argument, canonical: the widths, or the input shape and the layer items.
    """

    widths: tuple[int, ...]
    activation: Activation
    scheme: Scheme
    distribution: Distribution
    gain: float | None
    mode: Mode | None
    std: float | None
    bias_std: float
    input_std: float
    residual: Residual | None
    norm: str | None
    norm_eps: float
    fan_convention: FanConvention
    layers: tuple[Layer, ...]
    architecture: tuple[Any, ...]

    def __init__(
        self, widths: Sequence[Any], activation: object, **options: Unpack[NetworkOptions]
    ) -> None:
        unknown = sorted(set(options) - set(DEFAULTS))
        if unknown:
            raise TypeError(
                f"unexpected option {unknown[0]!r} of a network; its options are "
                f"{', '.join(DEFAULTS)}"
            )
        opts = {**DEFAULTS, **options}
        arch = _architecture(widths)
        act = get_activation(activation)
        sch = cast(Scheme, choice(opts["scheme"], "scheme", SCHEMES, SCHEME_ALIASES))
        dist = cast(Distribution, choice(opts["distribution"], "distribution", DISTRIBUTIONS))
        gain = opts["gain"]
        mode = cast("Mode | None", opts["mode"])  # std() and bound() check gain and mode
        fixed = opts["std"]
        if fixed is not None:
            fixed = nonnegative_real(fixed, "std")
        bias = nonnegative_real(opts["bias_std"], "bias_std")
        inp = positive_real(opts["input_std"], "input_std")
        res = opts["residual"]
        if res is not None and not isinstance(res, Residual):
            raise TypeError(f"residual must be None or a Residual, got {res!r}")
        fan_conv = cast(
            FanConvention, choice(opts["fan_convention"], "fan_convention", FAN_CONVENTIONS)
        )
        layers = _layers(arch, sch, dist, gain, mode, fixed, fan_conv)
        ws = (layers[0].n_in, *(k.n_out for k in layers))
        if res is not None:
            layers = _residual_layers(ws, layers, res)
        norm = opts["norm"]
        if norm is not None:
            norm = choice(norm, "norm", NORMS)
            if norm == "batch" and any(isinstance(k, Convolution) for k in layers):
                raise ValueError(
                    "norm='batch' normalizes each unit over the batch (BatchNorm1d); a "
                    "convolutional layer's BatchNorm2d pools each channel's positions too, "
                    "which the engine does not simulate yet: use norm='layer' or None"
                )
            layers = tuple(dataclasses.replace(k, norm=norm) for k in layers)
        eps = positive_real(opts["norm_eps"], "norm_eps")
        for name, value in (
            ("widths", ws),
            ("activation", act),
            ("scheme", sch),
            ("distribution", dist),
            ("gain", gain),
            ("mode", mode),
            ("std", fixed),
            ("bias_std", bias),
            ("input_std", inp),
            ("residual", res),
            ("norm", norm),
            ("norm_eps", eps),
            ("fan_convention", fan_conv),
            ("layers", layers),
            ("architecture", arch),
        ):
            object.__setattr__(self, name, value)

    @property
    def depth(self) -> int:
        """:math:`L`, the number of layers."""
        return len(self.layers)

    @property
    def blocks(self) -> int:
        """:math:`B`, the number of residual blocks (0 for a plain stack)."""
        return 0 if self.residual is None else (self.depth - 1) // self.residual.layers

    def require_plain(self, what: str) -> None:
        """Refuse a residual or convolutional network where ``what`` (a consumer) handles
        only plain fully connected stacks.

        Raises
        ------
        ValueError
            If ``residual`` is set or a layer is a convolution.
        """
        if self.residual is not None:
            raise ValueError(
                f"{what} takes plain stacks only, got a network with residual={self.residual!r}"
            )
        if self.convolutional:
            raise ValueError(
                f"{what} takes fully connected stacks only, got the convolutional "
                f"architecture {list(self.architecture)!r}"
            )

    @property
    def convolutional(self) -> bool:
        """Whether any layer is a convolution."""
        return any(isinstance(k, Convolution) for k in self.layers)

    @property
    def shapes(self) -> tuple[tuple[int, ...], ...]:
        """The input's shape, then each layer's output shape (``(n,)`` for dense layers)."""
        return (
            getattr(self.layers[0], "in_shape", None) or (self.widths[0],),
            *(getattr(k, "out_shape", None) or (k.n_out,) for k in self.layers),
        )

    @property
    def variances(self) -> tuple[float, ...]:
        """Each layer's weight variance."""
        return tuple(layer.variance for layer in self.layers)

    @property
    def scales(self) -> tuple[float, ...]:
        """Each layer's distribution scale (``Dense.scale``)."""
        return tuple(layer.scale for layer in self.layers)

    @property
    def sigma_w2(self) -> tuple[float, ...]:
        """Each layer's mean-field :math:`\\sigma_w^2 = n_{in}\\operatorname{Var}(W)`."""
        return tuple(layer.sigma_w2 for layer in self.layers)

    @property
    def sigma_b2(self) -> float:
        """The mean-field :math:`\\sigma_b^2`, ``bias_std**2``."""
        return self.bias_std**2

    @property
    def input_q(self) -> float:
        """The inputs' second moment :math:`q_0`, ``input_std**2``."""
        return self.input_std**2

    def options(self) -> NetworkOptions:
        """The options that rebuild this network: ``Network(widths, activation, **options)``."""
        return NetworkOptions(
            scheme=self.scheme,
            distribution=self.distribution,
            gain=self.gain,
            mode=self.mode,
            std=self.std,
            bias_std=self.bias_std,
            input_std=self.input_std,
            residual=self.residual,
            norm=self.norm,
            norm_eps=self.norm_eps,
            fan_convention=self.fan_convention,
        )

    def replace(self, **changes: Any) -> Network:
        """A copy with some of ``widths``, ``activation`` and the options changed.

        The new values are checked as the constructor checks them.
        """
        fields: dict[str, Any] = {
            "widths": self.architecture,
            "activation": self.activation,
            **self.options(),
        }
        unknown = sorted(set(changes) - set(fields))
        if unknown:
            raise TypeError(f"replace() got an unexpected field {unknown[0]!r}")
        fields.update(changes)
        return Network(fields.pop("widths"), fields.pop("activation"), **fields)

    def __hash__(self) -> int:
        return hash((self.architecture, repr(self.activation), *self.options().values()))

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options().items() if v != DEFAULTS[k])
        act = self.activation
        label = repr(act.name) if repr(act) == repr(registered(act.name)) else repr(act)
        first = (
            _widths_repr(self.widths)
            if self.architecture == self.widths
            else repr(list(self.architecture))
        )
        return f"Network({first}, {label}" + (f", {opts})" if opts else ")")


def _widths_repr(ws: tuple[int, ...]) -> str:
    """``[64] * 9`` or ``[32] + [64] * 8`` for long runs of equal widths, else the list
    (either evaluates to the widths)."""
    if len(ws) > 3 and len(set(ws)) == 1:
        return f"[{ws[0]}] * {len(ws)}"
    if len(ws) > 4 and len(set(ws[1:])) == 1:
        return f"[{ws[0]}] + [{ws[1]}] * {len(ws) - 1}"
    return repr(list(ws))


def _architecture(spec: object) -> tuple[Any, ...]:
    """The canonical architecture: the widths as ints, or the input shape and the items."""
    if isinstance(spec, np.ndarray):
        spec = spec.tolist()
    if isinstance(spec, (str, bytes)) or not isinstance(spec, Sequence) or not spec:
        return tuple(layer_widths(spec))
    first = spec[0]
    if not isinstance(first, (tuple, list)):
        return tuple(layer_widths(spec))
    shape = shape_tuple(first, "the input shape", min_ndim=1)
    if len(shape) not in (2, 3):
        raise ValueError(
            f"a convolutional architecture starts with the input's shape (C, H) or (C, H, W), "
            f"got {first!r}"
        )
    items = list(spec[1:])
    if not items:
        raise ValueError(f"the architecture {list(spec)!r} has no layer after its input shape")
    out: list[Any] = [shape]
    for i, item in enumerate(items, start=1):
        if isinstance(item, Conv):
            out.append(item)
        elif isinstance(item, (int, np.integer)) and not isinstance(item, (bool, np.bool_)):
            out.append(integer(item, f"the width of layer {i}", 1))
        else:
            raise TypeError(
                f"layer {i} of a convolutional architecture must be a Conv or an int (a dense "
                f"width), got {item!r}"
            )
    return tuple(out)


def _layers(
    arch: tuple[Any, ...],
    scheme: Scheme,
    dist: Distribution,
    gain: float | None,
    mode: Mode | None,
    fixed: float | None,
    fan_convention: FanConvention,
) -> tuple[Layer, ...]:
    """One layer object per item of the architecture, with its weights' variance and scale."""
    if not isinstance(arch[0], tuple):  # plain widths
        return tuple(
            _dense(n_in, n_out, scheme, dist, gain, mode, fixed)
            for n_in, n_out in zip(arch[:-1], arch[1:], strict=True)
        )
    shape: tuple[int, ...] = arch[0]
    layers: list[Layer] = []
    for i, item in enumerate(arch[1:], start=1):
        if isinstance(item, Conv):
            if len(shape) == 1:
                raise ValueError(
                    f"layer {i} is a Conv after a dense layer: a convolution needs an input "
                    f"with positions, got the flat shape {shape!r}"
                )
            try:
                layer = convolution(shape, item, 0.0, 0.0)
            except ValueError as exc:
                raise ValueError(f"layer {i} ({item!r}): {exc}") from None
            ws = WeightShape(
                layer.shape, groups=item.groups, transposed=item.transposed, stride=layer.stride
            )
            variance, scale = _weights(
                ws, layer.matrix, scheme, dist, gain, mode, fixed, fan_convention
            )
            layers.append(dataclasses.replace(layer, variance=variance, scale=scale))
            shape = layer.out_shape
        else:
            layers.append(_dense(math.prod(shape), item, scheme, dist, gain, mode, fixed))
            shape = (item,)
    return tuple(layers)


def _weights(
    shape: WeightShape | tuple[int, int],
    matrix: tuple[int, int],
    scheme: Scheme,
    dist: Distribution,
    gain: float | None,
    mode: Mode | None,
    fixed: float | None,
    fan_convention: FanConvention = "true",
) -> tuple[float, float]:
    """The weights' variance and distribution scale (see ``Dense.scale``)."""
    s = float(
        scheme_std(
            shape,
            scheme,
            distribution=dist,
            mode=mode,
            gain=gain,
            std=fixed,
            fan_convention=fan_convention,
        )
    )
    if dist == "uniform":
        scale = float(
            bound(
                shape,
                scheme,
                distribution="uniform",
                mode=mode,
                gain=gain,
                std=fixed,
                fan_convention=fan_convention,
            )
        )
    elif dist == "truncated_normal":
        scale = s / truncated_normal_std()
    elif dist == "orthogonal":
        scale = s * math.sqrt(max(matrix))  # the gain
    else:
        scale = s
    return s * s, scale


def _dense(
    n_in: int,
    n_out: int,
    scheme: Scheme,
    dist: Distribution,
    gain: float | None,
    mode: Mode | None,
    fixed: float | None,
) -> Dense:
    variance, scale = _weights((n_out, n_in), (n_out, n_in), scheme, dist, gain, mode, fixed)
    return Dense(n_in, n_out, variance, scale)


def _residual_layers(
    ws: tuple[int, ...], layers: tuple[Layer, ...], res: Residual
) -> tuple[Layer, ...]:
    """The layers of a residual network: skips, multipliers and (Fixup) scaled weights."""
    m, depth = res.layers, len(layers)
    if depth < 1 + m or (depth - 1) % m:
        raise ValueError(
            f"a residual network has a stem layer and blocks of residual.layers={m} layers, "
            f"so 1 + B*{m} layers; got widths={list(ws)!r} ({depth} layers)"
        )
    ends = range(1 + m, depth + 1, m)  # 1-based block ends
    wrong = [e for e in ends if ws[e] != ws[1]]
    if wrong:
        raise ValueError(
            f"the widths at the ends of residual blocks must equal the stream's width "
            f"widths[1]={ws[1]}, got widths[{wrong[0]}]={ws[wrong[0]]} (widths={list(ws)!r})"
        )
    shapes = [getattr(k, "out_shape", (k.n_out,)) for k in layers]
    wrong = [e for e in ends if shapes[e - 1] != shapes[0]]
    if wrong:
        raise ValueError(
            f"the shapes at the ends of residual blocks must equal the stream's "
            f"{shapes[0]!r}, got {shapes[wrong[0] - 1]!r} at layer {wrong[0]}"
        )
    blocks = (depth - 1) // m
    # Fixup: weights times B**(-1/(2m-2)), so variances times B**(-1/(m-1))
    factor = blocks ** (-1.0 / (2 * m - 2)) if res.init == "fixup" else 1.0
    out = [layers[0]]
    for k in range(2, depth + 1):  # 1-based layer k, in the branch of its block
        layer = layers[k - 1]
        end = (k - 1) % m == 0
        f = 0.0 if (end and res.init == "fixup") else factor
        out.append(
            dataclasses.replace(
                layer,
                variance=layer.variance * f * f,
                scale=layer.scale * f,
                skip=k - m if end else None,
                alpha=res.alpha if end else 1.0,
            )
        )
    return tuple(out)


def as_network(
    network: object, activation: object = None, **options: Unpack[NetworkOptions]
) -> Network:
    """The :class:`Network` a consumer was given, or one built from the short form.

    That is ``network`` itself, or one built from widths, an activation and options (the
    short form).

    Raises
    ------
    TypeError, ValueError
        A :class:`Network` together with an activation or options (ambiguous), no
        activation with widths, or any invalid option.
    """
    if isinstance(network, Network):
        given = sorted(options)
        if activation is not None or given:
            what = "activation" if activation is not None else f"option {given[0]!r}"
            raise ValueError(
                f"got a Network and an {what}: give the network's description once "
                f"(use network.replace(...) to change it)"
            )
        return network
    if activation is None:
        raise TypeError(
            f"give a Network, or widths and an activation; got {network!r} and no activation"
        )
    if isinstance(network, np.ndarray):
        network = network.tolist()
    return Network(cast(Sequence[int], network), activation, **options)
