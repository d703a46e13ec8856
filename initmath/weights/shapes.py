"""Weight shapes and their fans: the true ones, and the ones each framework computes.

A scheme divides by a *fan*: :math:`\\mathrm{fan_{in}}`, the number of terms summed into one
output (forward pass), or :math:`\\mathrm{fan_{out}}`, the number of outputs one input feeds
(backward pass). The frameworks read both off the weight's shape:

========  ======================  ==========================================
layout    ordinary weight shape   used by
========  ======================  ==========================================
torch     ``(out, in, *kernel)``  PyTorch ``nn.Linear`` / ``nn.ConvNd``
keras     ``(*kernel, in, out)``  Keras 3 (``compute_fans``)
jax       ``(*kernel, in, out)``  JAX (``in_axis=-2, out_axis=-1``, ``batch_axis=()``)
========  ======================  ==========================================

For an ordinary dense or convolutional layer, :math:`\\mathrm{fan_{in}} = n_{in} \\prod k` and
:math:`\\mathrm{fan_{out}} = n_{out} \\prod k`, and every framework gets them right. For four
kinds of layer the shape alone does not say, and the frameworks' fans differ from the true
ones (:class:`WeightShape` says which layer it is; :func:`fans` computes both):

* **grouped** (and depthwise) convolutions with :math:`G` groups: each output sees
  :math:`n_{in}/G` channels and each input feeds :math:`n_{out}/G`. The stored shape already
  holds :math:`n_{in}/G`, so fan_in is right everywhere; fan_out is :math:`G` times too
  large in PyTorch and Keras (PyTorch issue 23854). Keras's ``DepthwiseConv`` kernel
  ``(*kernel, in, multiplier)`` is the other way round: fan_in is :math:`n_{in}` times too
  large.
* **strided** layers with stride :math:`s` (product over the spatial axes): an input of an
  ordinary convolution feeds :math:`n_{out} \\prod k / s` outputs, not :math:`n_{out}\\prod k`.
* **transposed** convolutions: PyTorch stores ``(in, out/G, *kernel)`` and Keras
  ``(*kernel, out, in)``, which both frameworks read as ordinary weights, so their fan_in
  is :math:`n_{out}\\prod k/G` where the truth is :math:`n_{in}\\prod k/(G s)`, and their
  fan_out the other way round. JAX's ``lax.conv_transpose`` keeps ``(*kernel, in, out)``
  (``"HWIO"``, ``transpose_kernel=False``), so only the stride is missed.
* **packed** projections, :math:`P` matrices stacked along the output axis, such as
  ``nn.MultiheadAttention``'s ``in_proj_weight`` of shape :math:`(3E, E)`: PyTorch's fan_out
  is :math:`3E`, but the module's own branch for separate ``q/k/v_proj_weight`` (and Keras,
  JAX and Flax, which never pack) initialize each :math:`E\\times E` matrix by itself, with
  fan_out :math:`E` (PyTorch issue 166378).

The true fans count the terms for an output away from the borders (padding changes the count
only at the edges); with a stride that does not divide the kernel they are averages and may
be fractional.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ..core.checks import choice, integer, shape_tuple

__all__ = [
    "FAN_CONVENTIONS",
    "LAYOUTS",
    "FanConvention",
    "Layout",
    "WeightShape",
    "fans",
    "matrix_shape",
]

Layout = Literal["torch", "keras", "jax"]
FanConvention = Literal["true", "framework"]
#: Weight layouts understood by :func:`fans`.
LAYOUTS: tuple[str, ...] = ("torch", "keras", "jax")
#: ``"true"``: the fans of the layer the weight belongs to; ``"framework"``: what the layout's
#: framework computes from the shape alone.
FAN_CONVENTIONS: tuple[str, ...] = ("true", "framework")

Axes = int | tuple[int, ...]


def _axes(value: object, name: str, ndim: int) -> tuple[int, ...]:
    """Axes as a tuple of non-negative ints within ``ndim``, each named once."""
    items = (value,) if not isinstance(value, (tuple, list)) else tuple(value)
    out = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, int):
            raise TypeError(f"{name} must be an int or a tuple of ints, got {value!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"{name}={value!r} is out of range for a {ndim}-d shape")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}={value!r} names an axis twice")
    return tuple(out)


def _ratio(num: int, den: int) -> float:
    """``num/den`` as an int when it divides exactly, else a float."""
    return num // den if num % den == 0 else num / den


@dataclass(frozen=True)
class WeightShape:
    """A weight tensor's shape with what the shape alone does not say about its layer.

    Every function of :mod:`initmath.weights` that needs fans (:func:`initmath.std`,
    :func:`initmath.init`, :func:`initmath.bound`) takes one wherever it takes a shape.

    Parameters
    ----------
    dims : tuple of int
        The stored shape, in ``layout``.
    layout : {"torch", "keras", "jax"}
        See the module docstring.
    groups : int
        Convolution groups :math:`G` (``groups`` in PyTorch and Keras,
        ``feature_group_count`` in JAX); depthwise is ``groups=in_channels`` in PyTorch.
    transposed : bool
        A transposed convolution's weight, stored as its framework stores it.
    stride : int or tuple of int
        The convolution's stride, one per spatial axis or one for all.
    packed : int
        Number :math:`P` of independent matrices stacked along the output axis.
    depthwise : bool
        Keras's and JAX's ``DepthwiseConv`` kernel ``(*kernel, in, multiplier)``.
    in_axis, out_axis, batch_axis : int or tuple of int
        JAX's axes (layout ``"jax"`` only); axes in none of them are the kernel.
    """

    dims: tuple[int, ...]
    layout: str = "torch"
    groups: int = 1
    transposed: bool = False
    stride: Axes = 1
    packed: int = 1
    depthwise: bool = False
    in_axis: Axes | None = None
    out_axis: Axes | None = None
    batch_axis: Axes = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "layout", choice(self.layout, "layout", LAYOUTS))
        jax_axes = self.in_axis is not None or self.out_axis is not None or self.batch_axis != ()
        if jax_axes and self.layout != "jax":
            raise ValueError(
                f"in_axis, out_axis and batch_axis are JAX's; they need layout='jax', got "
                f"layout={self.layout!r}"
            )
        # PyTorch and JAX refuse weights of fewer than 2 dimensions; Keras gives a 0-d shape
        # fans of 1 and a 1-d shape (n,) fans of n.
        dims = shape_tuple(self.dims, "shape", min_ndim=0, allow_zero=True)
        if len(dims) < 2 and self.layout != "keras":
            raise ValueError(
                f"shape must have at least 2 dimensions to define fan_in and fan_out with "
                f"layout={self.layout!r} (as PyTorch and JAX), got {dims!r}; layout='keras' "
                "reads () as fans 1 and (n,) as fans n, and draws that need no fans take "
                "any shape"
            )
        object.__setattr__(self, "dims", dims)
        g = integer(self.groups, "groups", minimum=1)
        p = integer(self.packed, "packed", minimum=1)
        for flag in ("transposed", "depthwise"):
            if not isinstance(getattr(self, flag), bool):
                raise TypeError(f"{flag} must be True or False, got {getattr(self, flag)!r}")
        if self.depthwise and self.layout == "torch":
            raise ValueError(
                "depthwise=True describes Keras's and JAX's (*kernel, in, multiplier) kernel; "
                "a PyTorch depthwise convolution is groups=in_channels"
            )
        if self.depthwise and (self.transposed or g > 1):
            raise ValueError("depthwise=True excludes transposed=True and groups > 1")
        if self.transposed and p > 1:
            raise ValueError(f"packed={p} applies to dense projections, not transposed ones")
        if self.transposed and g > 1 and self.layout == "jax":
            raise ValueError("groups > 1 for a transposed JAX kernel is not supported")
        if len(dims) < 2 and (g > 1 or p > 1 or self.transposed or self.depthwise):
            raise ValueError(f"shape {dims!r} has no channel axes for groups, packed or flags")
        s = self.stride if isinstance(self.stride, (tuple, list)) else (self.stride,)
        strides = tuple(integer(x, "stride", minimum=1) for x in s)
        object.__setattr__(self, "stride", strides[0] if len(strides) == 1 else strides)
        if len(strides) > 1 and len(strides) != len(self.kernel):
            raise ValueError(
                f"stride={self.stride!r} has {len(strides)} entries for a kernel of "
                f"{len(self.kernel)} spatial axes"
            )
        slot_out, _ = self._channels()
        # the output slot holds n_out (ordinary) or n_in (a transposed torch/keras weight)
        what = "input" if self.transposed else "output"
        if slot_out % (g * p):
            raise ValueError(
                f"the {what} channels ({slot_out}) of shape {dims!r} are not divisible by "
                f"groups*packed={g * p}"
            )

    # -- the axes ----------------------------------------------------------------------
    def _jax_axes(self) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        nd = len(self.dims)
        ia = _axes(-2 if self.in_axis is None else self.in_axis, "in_axis", nd)
        oa = _axes(-1 if self.out_axis is None else self.out_axis, "out_axis", nd)
        ba = _axes(self.batch_axis, "batch_axis", nd)
        if set(ia) & set(oa) or set(ia) & set(ba) or set(oa) & set(ba):
            raise ValueError(
                f"in_axis={self.in_axis!r}, out_axis={self.out_axis!r} and "
                f"batch_axis={self.batch_axis!r} overlap"
            )
        return ia, oa, ba

    @property
    def kernel(self) -> tuple[int, ...]:
        """The spatial (receptive-field) dimensions."""
        d = self.dims
        if len(d) < 2:
            return ()
        if self.layout == "torch":
            return d[2:]
        if self.layout == "keras":
            return d[:-2]
        ia, oa, ba = self._jax_axes()
        return tuple(d[i] for i in range(len(d)) if i not in ia + oa + ba)

    def _channels(self) -> tuple[int, int]:
        """The two stored channel sizes, (the one in the output slot, the input slot)."""
        d = self.dims
        if len(d) == 0:
            return 1, 1
        if len(d) == 1:
            return d[0], d[0]
        if self.layout == "torch":
            return d[0], d[1]
        if self.layout == "keras":
            return d[-1], d[-2]
        ia, oa, _ = self._jax_axes()
        return math.prod(d[i] for i in oa), math.prod(d[i] for i in ia)

    def _stride(self) -> int:
        s = self.stride
        if isinstance(s, tuple):
            return math.prod(s)
        assert isinstance(s, int)
        return s ** len(self.kernel)

    # -- the fans ----------------------------------------------------------------------
    def framework_fans(self) -> tuple[float, float]:
        """The fans the layout's framework computes from ``dims`` alone.

        PyTorch ``_calculate_fan_in_and_fan_out``: ``(dims[1]·rf, dims[0]·rf)``; Keras
        ``compute_fans``: ``(dims[-2]·rf, dims[-1]·rf)``, and 1 and ``n`` for 0-d and 1-d
        shapes; JAX ``_compute_fans``: ``(in_size·rf, out_size·rf)`` with
        ``rf = prod(shape)/in_size/out_size/batch_size``. Whatever the layer.
        """
        stored_out, stored_in = self._channels()
        rf = math.prod(self.kernel)
        return stored_in * rf, stored_out * rf

    def true_fans(self) -> tuple[float, float]:
        """The number of terms summed into one output, and of outputs one input feeds."""
        stored_out, stored_in = self._channels()
        if len(self.dims) < 2:
            return stored_in, stored_out  # Keras's reading of a 0-d or 1-d shape
        rf = math.prod(self.kernel)
        g, s = self.groups, self._stride()
        if self.depthwise:  # (*k, in, multiplier): one input channel per output
            return rf, _ratio(stored_out * rf, s)
        if not self.transposed:
            return stored_in * rf, _ratio(stored_out * rf, g * self.packed * s)
        if self.layout == "jax":  # (*k, in, out) as lax.conv_transpose keeps it
            return _ratio(stored_in * rf, s), stored_out * rf
        # torch (in, out/G, *k) and keras (*k, out/G, in): the slots are swapped
        return _ratio(stored_out * rf, g * s), stored_in * rf

    def fans(self, convention: FanConvention = "true") -> tuple[float, float]:
        """``(fan_in, fan_out)`` in ``convention`` (``"true"`` or ``"framework"``)."""
        c = choice(convention, "convention", FAN_CONVENTIONS)
        return self.true_fans() if c == "true" else self.framework_fans()

    @property
    def size(self) -> int:
        """Number of entries."""
        return math.prod(self.dims)


def as_weight_shape(shape: Sequence[int] | WeightShape, layout: str = "torch") -> WeightShape:
    """``shape`` as a :class:`WeightShape` (a plain shape is an ordinary layer's)."""
    if isinstance(shape, WeightShape):
        if layout != "torch" and choice(layout, "layout", LAYOUTS) != shape.layout:
            raise ValueError(
                f"layout={layout!r} contradicts the WeightShape's layout {shape.layout!r}"
            )
        return shape
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence):
        raise TypeError(f"shape must be a sequence of integers or a WeightShape, got {shape!r}")
    return WeightShape(tuple(shape), layout)


def fans(
    shape: Sequence[int] | WeightShape,
    layout: Layout = "torch",
    *,
    groups: int = 1,
    transposed: bool = False,
    stride: Axes = 1,
    packed: int = 1,
    depthwise: bool = False,
    in_axis: Axes | None = None,
    out_axis: Axes | None = None,
    batch_axis: Axes = (),
    convention: FanConvention = "true",
) -> tuple[float, float]:
    """Fan-in and fan-out of a weight tensor.

    Parameters
    ----------
    shape : sequence of int or WeightShape
        The weight's shape as stored in ``layout``; zero-size dimensions are allowed (the
        fans may then be 0). PyTorch and JAX need at least two dimensions; Keras reads a
        0-d shape as fans ``(1, 1)`` and ``(n,)`` as ``(n, n)``.
    layout : {"torch", "keras", "jax"}
        ``"torch"``: ``(out, in, *kernel)``; ``"keras"`` and ``"jax"``: ``(*kernel, in, out)``
        (or JAX's explicit axes).
    groups, transposed, stride, packed, depthwise, in_axis, out_axis, batch_axis
        The layer the weight belongs to: see :class:`WeightShape`.
    convention : {"true", "framework"}
        ``"true"``: the number of terms summed into one output and of outputs one input
        feeds; ``"framework"``: what the layout's framework computes from the shape.

    Returns
    -------
    fan_in, fan_out : int or float
        Ints, except a true fan of a layer whose stride does not divide the kernel
        (an average over output positions).

    Raises
    ------
    TypeError
        A shape that is not a sequence of integers, a non-integer group count, stride or
        ``packed``, a non-bool flag.
    ValueError
        A shape PyTorch or JAX cannot compute fans for (fewer than 2 dimensions), a
        negative dimension, output channels not divisible by ``groups·packed``, axes out of
        range or overlapping, JAX axes with another layout, contradictory flags.

    Notes
    -----
    The frameworks' fans differ from the true ones by these factors (a scheme's variance is
    inversely proportional to its fan, so the variance is off by the same factor):

    ==============================  ================================  ========================
    layer                           fan_in: framework / true          fan_out: framework / true
    ==============================  ================================  ========================
    grouped, :math:`G` groups       1                                 :math:`G`
    strided, stride :math:`s`       1                                 :math:`s`
    transposed (torch, keras)       :math:`s\\,n_{out}/n_{in}`          :math:`G\\,n_{in}/n_{out}`
    transposed (jax)                :math:`s`                         1
    packed, :math:`P` matrices      1                                 :math:`P`
    Keras depthwise, :math:`C` in   :math:`C`                         :math:`s`
    ==============================  ================================  ========================

    (:math:`s` is the product of the strides over the spatial axes, :math:`n_{in}` and
    :math:`n_{out}` the layer's input and output channels.)

    Examples
    --------
    >>> fans((64, 3, 5, 5))                        # torch Conv2d(3, 64, 5)
    (75, 1600)
    >>> fans((5, 5, 3, 64), "keras")               # the same layer in Keras
    (75, 1600)
    >>> fans((64, 8, 3, 3), groups=4)              # Conv2d(32, 64, 3, groups=4)
    (72, 144)
    >>> fans((64, 8, 3, 3), groups=4, convention="framework")
    (72, 576)
    >>> fans((96, 32), packed=3)                   # MultiheadAttention(32, ...).in_proj_weight
    (32, 32)
    >>> fans((16, 16, 4), transposed=True, stride=2)   # ConvTranspose1d(16, 16, 4, stride=2)
    (32, 64)
    """
    ws = (
        as_weight_shape(shape, layout)
        if isinstance(shape, WeightShape)
        else WeightShape(
            tuple(shape_tuple(shape, "shape", min_ndim=0, allow_zero=True)),
            layout,
            groups=groups,
            transposed=transposed,
            stride=stride,
            packed=packed,
            depthwise=depthwise,
            in_axis=in_axis,
            out_axis=out_axis,
            batch_axis=batch_axis,
        )
    )
    return ws.fans(convention)


def matrix_shape(shape: Sequence[int] | WeightShape, layout: Layout = "torch") -> tuple[int, int]:
    """The 2-D ``(rows, cols)`` view that orthogonal initialization orthogonalizes.

    PyTorch flattens to ``(shape[0], prod(shape[1:]))``; Keras and JAX to
    ``(prod(shape[:-1]), shape[-1])``. In both, the rows (or columns) that come out
    orthonormal are those of the smaller dimension.
    """
    ws = as_weight_shape(shape, layout)
    dims = shape_tuple(ws.dims)
    if ws.layout == "torch":
        return dims[0], math.prod(dims[1:])
    return math.prod(dims[:-1]), dims[-1]
