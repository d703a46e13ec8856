r"""Convolutions: the fan-in of a convolutional layer and the border effect of zero padding,
derived in SymPy.

An output of a convolution with :math:`C` input channels in :math:`G` groups and a kernel
of :math:`k^d` taps sums :math:`(C/G) k^d` products of independent zero-mean weights with
its inputs. Its second moment is that sum of variances, so He's derivation carries over
with :math:`n_{in} = (C/G) k^d` (:func:`conv_forward_map`): He et al. 2015 wrote it for
convolutions, :math:`\tfrac12 k^2 c\,\operatorname{Var}(w) = 1`.

With zero padding, the taps that fall outside the input are missing: along an axis of
:math:`H` positions, a "same" kernel of :math:`k = 2r + 1` taps and padding :math:`r`, the
position :math:`y` sees :math:`\#\{t \in [-r, r] : 0 \le y + t < H\}` of them. Summing
over positions, tap :math:`t` is inside for :math:`H - |t|` of them, so

.. math::

    \sum_{y} \#\text{taps}(y) = \sum_{t=-r}^{r} (H - |t|) = kH - r(r + 1),

and from inputs of uniform second moment :math:`q_0` the first layer's mean second moment is
:math:`\sigma_w^2 q_0` times :math:`(1 - r(r+1)/(kH))^d` (:func:`zero_padding_factor`):
for a :math:`3\times 3` kernel on :math:`16\times 16` images, :math:`(1 - 1/24)^2`, 8%
below the fully connected map. Deeper layers see the border further in; the position-wise
map that predicts them is :mod:`initmath.practice.positional`.
"""

from __future__ import annotations

import sympy as sp

from .derivations import N_IN, forward_map

__all__ = [
    "CHANNELS",
    "DIMS",
    "GROUPS",
    "KERNEL",
    "Q0",
    "RADIUS",
    "SIGMA_W2",
    "SIZE",
    "conv_fan_in",
    "conv_forward_map",
    "tap_total",
    "zero_padding_factor",
    "zero_padding_first_layer",
]

#: Input channels :math:`C`, groups :math:`G`, kernel size :math:`k` (per axis), spatial
#: axes :math:`d`.
CHANNELS, GROUPS, KERNEL = sp.symbols("C G k", positive=True, integer=True)
DIMS = sp.Symbol("d", positive=True, integer=True)
#: An axis's size :math:`H` and a "same" kernel's radius :math:`r` (:math:`k = 2r + 1`).
SIZE = sp.Symbol("H", positive=True, integer=True)
RADIUS = sp.Symbol("r", nonnegative=True, integer=True)
_T = sp.Symbol("t", integer=True)
#: The first layer's input second moment and :math:`\sigma_w^2`.
Q0 = sp.Symbol("q_0", positive=True)
SIGMA_W2 = sp.Symbol("sigma_w^2", positive=True)


def conv_fan_in() -> sp.Expr:
    """:math:`n_{in} = (C/G)\\,k^d`: the terms summed into one output of a convolution."""
    return CHANNELS / GROUPS * KERNEL**DIMS


def conv_forward_map(act: object | None = None) -> sp.Expr:
    """The fully connected map :func:`initmath.theory.derivations.forward_map` at the
    convolution's fan-in: exact for circular padding (every output sees every tap)."""
    return forward_map(act).subs(N_IN, conv_fan_in())


def tap_total() -> sp.Expr:
    """:math:`\\sum_y \\#\\text{taps}(y) = \\sum_{t=-r}^{r}(H - |t|)`, summed by SymPy
    (the :math:`t = 0` term and twice the :math:`t = 1..r` ones), for :math:`H \\ge r`."""
    one_side = sp.summation(SIZE - _T, (_T, 1, RADIUS))
    return sp.factor(sp.expand(SIZE + 2 * one_side))


def zero_padding_factor(dims: int | sp.Expr = DIMS) -> sp.Expr:
    """The mean fraction of a "same" zero-padded kernel's taps inside the input, over the
    positions of ``dims`` axes of size :math:`H`:
    :math:`\\big(\\sum_y \\#\\text{taps}(y) / (kH)\\big)^d` with :math:`k = 2r + 1`."""
    per_axis = sp.simplify(tap_total() / ((2 * RADIUS + 1) * SIZE))
    return per_axis**dims


def zero_padding_first_layer(dims: int | sp.Expr = DIMS) -> sp.Expr:
    """The first layer's mean second moment from inputs of second moment :math:`q_0`, no
    biases: :math:`\\sigma_w^2 q_0` times :func:`zero_padding_factor` (the layer is linear
    in its inputs, so this holds at any width)."""
    return SIGMA_W2 * Q0 * zero_padding_factor(dims)
