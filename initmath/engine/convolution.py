r"""Convolutional layers of a :class:`~initmath.engine.network.Network`: their description,
geometry and incidence.

A convolutional network is described from its input's shape, then one item per layer:

>>> import initmath
>>> from initmath import Conv
>>> net = initmath.Network([(3, 16, 16), Conv(32, 3), Conv(64, 3, stride=2), 10], "relu")
>>> [layer.out_shape for layer in net.layers[:2]], net.widths
([(32, 16, 16), (64, 8, 8)], (768, 8192, 4096, 10))

A :class:`Conv` is what the user writes (channels, kernel, stride, padding, groups,
transposed); the network turns it into a :class:`Convolution`, which knows its input and
output shapes, its weights' variance and distribution scale, and the positions each output
reads (:meth:`Convolution.incidence`). Activations are stored channel-major, as PyTorch
flattens them: unit :math:`(c\,H + y)\,W + x` holds channel :math:`c` at position
:math:`(y, x)`; a 1-D layer is a 2-D one of height 1.

An ordinary convolution (PyTorch ``nn.Conv1d``/``nn.Conv2d``, weight
``(C_out, C_in/G, *kernel)``) computes, for output channel :math:`o` in group :math:`g`,

.. math::

    z_{o,p} = b_o + \sum_{c \in g} \sum_{t} W_{o,c,t}\, x_{c,\, s p + t - \pi},

:math:`s` the stride, :math:`\pi` the padding: with ``padding_mode="zeros"`` the positions
outside the input are zeros (the terms are missing), with ``"circular"`` they wrap around.
A transposed convolution (``nn.ConvTranspose1d/2d``, weight ``(C_in, C_out/G, *kernel)``)
is the adjoint of the ordinary convolution from its output's shape to its input's: output
position :math:`s p + t - \pi` receives :math:`W_{c,o,t}\,x_{c,p}`.

Each output sums :math:`C_{in}/G \cdot \prod k` products of independent weights with inputs
(fewer at zero-padded borders), so its second moment is exactly
:math:`\operatorname{Var}(W)\,(C_{in}/G)\sum_{p'} A_{p p'}\,E[x_{p'}^2]`, with
:math:`A_{pp'}` the number of taps that connect input position :math:`p'` to output
position :math:`p` (:meth:`Convolution.incidence`): the per-position map that
:func:`initmath.predict` iterates. With circular padding every row of :math:`A` sums to
:math:`\prod k` and the map is the fully connected one at fan-in
:math:`C_{in}/G\cdot\prod k`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..core.checks import choice, integer
from .kernel_source import CONV, DENSE, GEOMETRY_SIZE, TRANSPOSED

__all__ = [
    "PADDING_MODES",
    "Conv",
    "Convolution",
    "conv_output_shape",
    "convolution",
    "layer_geometry",
]

#: The padding modes of a :class:`Conv`, PyTorch's ``padding_mode`` values.
PADDING_MODES: tuple[str, ...] = ("zeros", "circular")


def _pair(value: object, name: str, minimum: int) -> tuple[int, ...]:
    """An int, or a tuple of 1 or 2 ints, each >= minimum, as a tuple."""
    if isinstance(value, (tuple, list)):
        if len(value) not in (1, 2):
            raise ValueError(f"{name} must be an integer or a tuple of 1 or 2, got {value!r}")
        return tuple(integer(v, name, minimum) for v in value)
    return (integer(value, name, minimum),)


@dataclass(frozen=True, repr=False)
class Conv:
    """A convolutional layer, as written in a network's architecture.

    Parameters
    ----------
    channels : int
        Output channels :math:`C_{out}`.
    kernel : int or tuple of int
        Kernel size, one for every spatial axis or one per axis (1-D or 2-D).
    stride : int or tuple of int
        Stride :math:`s \\ge 1`.
    padding : int, tuple of int or None
        Positions added on each side, :math:`\\pi \\ge 0`; None (default):
        :math:`(k - 1)/2` rounded down, which keeps the size of an odd kernel's input at
        stride 1 (PyTorch's ``padding="same"``) and halves it at stride 2.
    padding_mode : {"zeros", "circular"}
        What lies beyond the border: zeros, or the other side of the input (a torus).
        Transposed layers take ``"zeros"`` only, as PyTorch's do.
    groups : int
        :math:`G`: input and output channels split into :math:`G` groups, each output
        reading only its group's inputs (depthwise: ``groups`` = input channels). Must
        divide both channel counts.
    transposed : bool
        A transposed convolution (PyTorch ``ConvTranspose``), the adjoint of the ordinary
        convolution with these parameters from the output's shape to the input's.
    output_padding : int or tuple of int
        Transposed only: extra positions at the end of the output, ``< stride``.
    """

    channels: int
    kernel: int | tuple[int, ...] = 3
    stride: int | tuple[int, ...] = 1
    padding: int | tuple[int, ...] | None = None
    padding_mode: str = "zeros"
    groups: int = 1
    transposed: bool = False
    output_padding: int | tuple[int, ...] = 0

    def __post_init__(self) -> None:
        integer(self.channels, "channels", 1)
        kernel = _pair(self.kernel, "kernel", 1)
        stride = _pair(self.stride, "stride", 1)
        padding = None if self.padding is None else _pair(self.padding, "padding", 0)
        out_pad = _pair(self.output_padding, "output_padding", 0)
        mode = choice(self.padding_mode, "padding_mode", PADDING_MODES)
        groups = integer(self.groups, "groups", 1)
        if not isinstance(self.transposed, (bool, np.bool_)):
            raise TypeError(f"transposed must be True or False, got {self.transposed!r}")
        if self.channels % groups:
            raise ValueError(
                f"groups={groups} must divide the output channels, got channels={self.channels}"
            )
        if self.transposed and mode != "zeros":
            raise ValueError(
                f"a transposed convolution pads with zeros only (as PyTorch's), got "
                f"padding_mode={self.padding_mode!r}"
            )
        if not self.transposed and any(out_pad):
            raise ValueError(
                f"output_padding applies to transposed convolutions only, got "
                f"output_padding={self.output_padding!r}"
            )
        for name, value in (
            ("kernel", kernel),
            ("stride", stride),
            ("padding", padding),
            ("output_padding", out_pad),
        ):
            if value is not None:
                object.__setattr__(self, name, value[0] if len(value) == 1 else value)
        object.__setattr__(self, "channels", int(self.channels))
        object.__setattr__(self, "padding_mode", mode)
        object.__setattr__(self, "groups", groups)
        object.__setattr__(self, "transposed", bool(self.transposed))

    def __repr__(self) -> str:
        """``Conv(32, 3, stride=2)``: the channels, the kernel, and the options not at their
        defaults."""
        parts = [repr(self.channels), repr(self.kernel)]
        for f in dataclasses.fields(self)[2:]:
            value = getattr(self, f.name)
            if value != f.default:
                parts.append(f"{f.name}={value!r}")
        return f"Conv({', '.join(parts)})"


def _per_axis(value: int | tuple[int, ...], name: str, dims: int) -> tuple[int, ...]:
    if isinstance(value, tuple):
        if len(value) != dims:
            raise ValueError(
                f"{name}={value!r} has {len(value)} entries for an input of {dims} spatial axes"
            )
        return value
    return (value,) * dims


def conv_output_shape(in_shape: tuple[int, ...], conv: Conv) -> tuple[int, ...]:
    """The output shape ``(C_out, *spatial)`` of ``conv`` on an input of ``in_shape``.

    Ordinary: :math:`\\lfloor (H + 2\\pi - k)/s \\rfloor + 1` per axis; transposed:
    :math:`(H - 1)s - 2\\pi + k + \\text{output\\_padding}` (PyTorch's formulas).

    Raises
    ------
    ValueError
        If the input's channels are not divisible by ``groups``, the kernel is larger than
        the padded input, a circular padding exceeds the input, or the output would be empty.
    """
    return _geometry(in_shape, conv)[0]


def _geometry(
    in_shape: tuple[int, ...], conv: Conv
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    """(out_shape, kernel, stride, padding, output_padding), checked, one entry per axis."""
    c_in, spatial = in_shape[0], in_shape[1:]
    d = len(spatial)
    if d not in (1, 2):
        raise ValueError(
            f"a convolution's input has 1 or 2 spatial axes, got the shape {in_shape!r}"
        )
    if c_in % conv.groups:
        raise ValueError(
            f"groups={conv.groups} must divide the input channels, got {c_in} channels "
            f"(input shape {in_shape!r})"
        )
    k = _per_axis(conv.kernel, "kernel", d)
    s = _per_axis(conv.stride, "stride", d)
    p = (
        tuple((kk - 1) // 2 for kk in k)
        if conv.padding is None
        else _per_axis(conv.padding, "padding", d)
    )
    op = _per_axis(conv.output_padding, "output_padding", d)
    out = []
    for axis in range(d):
        h, kk, ss, pp, oo = spatial[axis], k[axis], s[axis], p[axis], op[axis]
        if conv.transposed:
            if oo >= ss:
                raise ValueError(
                    f"output_padding={conv.output_padding!r} must be smaller than the stride "
                    f"{conv.stride!r}"
                )
            n = (h - 1) * ss - 2 * pp + kk + oo
            if n < 1:
                raise ValueError(
                    f"padding={pp} leaves no output of the transposed convolution on an "
                    f"input of shape {in_shape!r} (kernel {kk}, stride {ss})"
                )
        else:
            if conv.padding_mode == "circular" and pp > h:
                raise ValueError(
                    f"circular padding={pp} exceeds the input size {h} (shape {in_shape!r})"
                )
            if kk > h + 2 * pp:
                raise ValueError(
                    f"kernel={conv.kernel!r} is larger than the input of shape {in_shape!r} "
                    f"padded by {pp} (size {h + 2 * pp})"
                )
            n = (h + 2 * pp - kk) // ss + 1
        out.append(n)
    return (conv.channels, *out), k, s, p, op


def _incidence_1d(n_out: int, n_in: int, k: int, s: int, p: int, circular: bool) -> np.ndarray:
    """``A[y, i]``: the taps of an ordinary convolution by which output y reads input i."""
    a = np.zeros((n_out, n_in))
    for y in range(n_out):
        for t in range(k):
            i = y * s + t - p
            if circular:
                a[y, i % n_in] += 1.0
            elif 0 <= i < n_in:
                a[y, i] += 1.0
    return a


@dataclass(frozen=True)
class Convolution:
    """A convolutional layer of a network: shapes, weights and geometry.

    Made by :class:`~initmath.engine.network.Network` from a :class:`Conv`; it has the
    fields of :class:`~initmath.engine.network.Dense` (``n_in``, ``n_out`` are the
    flattened sizes :math:`C\\prod H`) and its geometry.

    Attributes
    ----------
    n_in, n_out : int
        The layer's input and output sizes, flattened.
    variance, scale : float
        The weights' variance and distribution scale (as for ``Dense``).
    skip, alpha, norm
        As for ``Dense``.
    in_shape, out_shape : tuple of int
        ``(C, H)`` or ``(C, H, W)``.
    kernel, stride, padding, output_padding : tuple of int
        One entry per spatial axis.
    padding_mode : {"zeros", "circular"}
    groups : int
    transposed : bool
    """

    n_in: int
    n_out: int
    variance: float
    scale: float
    skip: int | None = None
    alpha: float = 1.0
    norm: str | None = None
    in_shape: tuple[int, ...] = ()
    out_shape: tuple[int, ...] = ()
    kernel: tuple[int, ...] = ()
    stride: tuple[int, ...] = ()
    padding: tuple[int, ...] = ()
    output_padding: tuple[int, ...] = ()
    padding_mode: str = "zeros"
    groups: int = 1
    transposed: bool = False

    @property
    def shape(self) -> tuple[int, ...]:
        """The weight's shape in PyTorch's layout, ``(C_out, C_in/G, *kernel)``, and for a
        transposed layer ``(C_in, C_out/G, *kernel)``."""
        c_in, c_out, g = self.in_shape[0], self.out_shape[0], self.groups
        if self.transposed:
            return (c_in, c_out // g, *self.kernel)
        return (c_out, c_in // g, *self.kernel)

    @property
    def matrix(self) -> tuple[int, int]:
        """The weight as the engine draws it, the matrix ``(shape[0], prod(shape[1:]))``."""
        return self.shape[0], math.prod(self.shape[1:])

    @property
    def fan_in(self) -> float:
        """Terms summed into one output away from the borders, :math:`C_{in}/G\\prod k`
        (transposed: :math:`C_{in}/G\\prod k/s`, an average when the stride does not divide
        the kernel)."""
        g, taps = self.groups, math.prod(self.kernel)
        if self.transposed:
            return self.in_shape[0] / g * taps / math.prod(self.stride)
        return self.in_shape[0] // g * taps

    @property
    def sigma_w2(self) -> float:
        """The mean-field :math:`\\sigma_w^2 = \\mathrm{fan_{in}}\\operatorname{Var}(W)` of an
        output away from the borders."""
        return self.fan_in * self.variance

    @property
    def ordinary_shapes(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The input and output shapes of the ordinary convolution the layer computes or,
        transposed, whose adjoint it computes (then its output's and its input's)."""
        if self.transposed:
            return self.out_shape, self.in_shape
        return self.in_shape, self.out_shape

    def incidence(self) -> tuple[np.ndarray, int, int]:
        """``(A, c_fwd, c_bwd)``: the layer's second-moment maps per position.

        ``A[p, p']`` (``(P_out, P_in)``, :math:`P` the number of positions) counts the taps
        by which output position ``p`` reads input position ``p'``; an output channel reads
        ``c_fwd`` input channels at each of them, an input channel feeds ``c_bwd`` output
        channels. So, with :math:`m_{p'}` the second moment of the inputs at :math:`p'`
        and :math:`g_p` that of the gradient at :math:`p`,

        .. math::

            E[z_p^2] = \\operatorname{Var}(W)\\, c_{fwd} \\sum_{p'} A_{pp'}\\, m_{p'}
            + \\sigma_b^2, \\qquad
            E[(W^T\\delta)_{p'}^2] = \\operatorname{Var}(W)\\, c_{bwd} \\sum_p A_{pp'}\\, g_p .
        """
        src, dst = self.ordinary_shapes
        circular = self.padding_mode == "circular"
        a = np.ones((1, 1))
        for axis in range(len(self.kernel)):
            a = np.kron(
                a,
                _incidence_1d(
                    dst[axis + 1],
                    src[axis + 1],
                    self.kernel[axis],
                    self.stride[axis],
                    self.padding[axis],
                    circular,
                ),
            )
        g = self.groups
        c_dst, c_src = dst[0] // g, src[0] // g
        if self.transposed:  # the adjoint: its outputs are the ordinary one's inputs
            return a.T.copy(), c_dst, c_src
        return a, c_src, c_dst

    def geometry(self) -> np.ndarray:
        """The int64 row the kernels read: kind, then the ordinary convolution's
        ``c_in, h_in, w_in, c_out, h_out, w_out, kh, kw, sh, sw, ph, pw, groups, circular``
        (for a transposed layer, the one whose adjoint it is; 1-D layers have height 1)."""
        src, dst = self.ordinary_shapes

        def hw(shape: tuple[int, ...]) -> tuple[int, int]:
            return (1, shape[1]) if len(shape) == 2 else (shape[1], shape[2])

        def two(v: tuple[int, ...], fill: int) -> tuple[int, int]:
            return (fill, v[0]) if len(v) == 1 else (v[0], v[1])

        row = (
            TRANSPOSED if self.transposed else CONV,
            src[0],
            *hw(src),
            dst[0],
            *hw(dst),
            *two(self.kernel, 1),
            *two(self.stride, 1),
            *two(self.padding, 0),
            self.groups,
            int(self.padding_mode == "circular"),
        )
        return np.array(row, dtype=np.int64)


def convolution(
    in_shape: tuple[int, ...], conv: Conv, variance: float, scale: float
) -> Convolution:
    """The :class:`Convolution` of ``conv`` on ``in_shape`` with the weights' variance and
    scale (the network computes them from its scheme)."""
    out, k, s, p, op = _geometry(in_shape, conv)
    return Convolution(
        n_in=math.prod(in_shape),
        n_out=math.prod(out),
        variance=variance,
        scale=scale,
        in_shape=in_shape,
        out_shape=out,
        kernel=k,
        stride=s,
        padding=p,
        output_padding=op,
        padding_mode=conv.padding_mode,
        groups=conv.groups,
        transposed=conv.transposed,
    )


def layer_geometry(layer: Any) -> np.ndarray:
    """The geometry row of any layer: a :class:`Convolution`'s, or a dense layer's
    (kind :data:`~initmath.engine.kernel_source.DENSE`, the rest zero)."""
    if isinstance(layer, Convolution):
        return layer.geometry()
    row = np.zeros(GEOMETRY_SIZE, dtype=np.int64)
    row[0] = DENSE
    return row
