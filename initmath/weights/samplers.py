"""Drawing weight tensors: a NumPy counterpart of ``torch.nn.init``."""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ..core.checks import choice, float_dtype, nonnegative_real, shape_tuple
from . import distributions as dist
from .schemes import Distribution, Layout, Mode, Scheme, resolve_gain, weight_std
from .shapes import FanConvention, WeightShape, matrix_shape
from .torch_gain import ActivationSpec

__all__ = ["BIAS_FRAMEWORKS", "RNGLike", "as_generator", "bias", "init"]

#: What ``rng`` accepts: ``None`` (fresh OS entropy), an integer seed, or a Generator.
RNGLike = None | int | np.random.Generator


def as_generator(rng: RNGLike) -> np.random.Generator:
    """A :class:`numpy.random.Generator` from ``None``, a non-negative int seed or a Generator."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, (numbers.Integral, np.integer)) and not isinstance(rng, (bool, np.bool_)):
        if int(rng) < 0:
            raise ValueError(f"rng seed must be >= 0, got {rng!r}")
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be None, an int seed or a numpy.random.Generator, got {rng!r}")


def init(
    shape: Sequence[int] | WeightShape,
    scheme: Scheme,
    *,
    distribution: Distribution = "normal",
    activation: ActivationSpec | None = None,
    layout: Layout = "torch",
    mode: Mode | None = None,
    gain: float | None = None,
    std: float | None = None,
    rng: RNGLike = None,
    dtype: npt.DTypeLike = np.float64,
    fan_convention: FanConvention = "true",
) -> np.ndarray:
    """Draw a weight tensor.

    Parameters
    ----------
    shape : sequence of int or WeightShape
        Weight shape, in ``layout`` (see :func:`initmath.fans`); a
        :class:`~initmath.WeightShape` also names the layer (groups, stride, transposed,
        packed) whose true fans are used. A shape with a zero-size dimension gives an empty
        array of that shape, after every argument is checked (PyTorch leaves such a tensor
        alone with a warning, JAX returns it). Scheme ``"fixed"`` takes any shape, 0-d and
        1-d included; fan-based schemes follow the layout's framework (PyTorch and JAX
        refuse fewer than 2 dimensions, Keras reads ``(n,)`` as fans ``n``).
    scheme : {"lecun", "xavier", "glorot", "he", "kaiming", "standard", "fixed"}
        See :func:`initmath.variance`.
    distribution : {"normal", "uniform", "truncated_normal", "orthogonal"}
        ``"normal"``: :math:`N(0,\\sigma^2)`; ``"uniform"``: :math:`U(\\pm\\sqrt3\\sigma)`;
        ``"truncated_normal"``: a normal of std :math:`\\sigma/\\beta` cut at
        :math:`\\pm 2\\sigma/\\beta`, :math:`\\beta\\approx0.8796`, so the weights have std
        exactly :math:`\\sigma` (as Keras and JAX); ``"orthogonal"``: :math:`gQ` with
        orthonormal rows or columns of the ``matrix_shape`` view (as PyTorch's
        ``orthogonal_`` for ``layout="torch"``, Keras's ``Orthogonal`` for ``"keras"``).
        :math:`\\sigma` is :func:`initmath.std` of the same arguments.
    activation, mode, gain, std
        As for :func:`initmath.std`.
    layout : {"torch", "keras", "jax"}
        Weight layout.
    rng : None, int or numpy.random.Generator
        Source of randomness. An int seed makes the result reproducible; ``None`` draws
        fresh entropy from the OS.
    dtype : float16, float32 or float64
        The values are drawn in float64 and rounded once, so a seed gives the same weights
        (up to that rounding) in every dtype.
    fan_convention : {"true", "framework"}
        As for :func:`initmath.std`.

    Returns
    -------
    numpy.ndarray
        Array of ``shape`` and ``dtype``.

    Raises
    ------
    TypeError
        Non-integer shape, non-float dtype, an ``rng`` of another type.
    ValueError
        Any invalid scheme, distribution, mode, activation, gain or shape (see :func:`std`);
        weights that ``dtype`` cannot hold: values that could exceed its largest finite
        number (the bound of a uniform or truncated normal, the gain of an orthogonal matrix,
        40 standard deviations of a normal) or a nonzero std that rounds to 0 in it
        (``init(shape, "he", gain=1e200, dtype=np.float32)``); a shape whose float64 draws
        need more memory than the machine has. All before any randomness is consumed.

    Examples
    --------
    >>> import initmath
    >>> w = initmath.init((256, 128), "he", rng=0)
    >>> w.shape, w.dtype
    ((256, 128), dtype('float64'))
    >>> bool(abs(w.std() / initmath.std((256, 128), "he") - 1) < 0.02)
    True
    """
    raw = shape.dims if isinstance(shape, WeightShape) else shape
    dims = shape_tuple(raw, "shape", min_ndim=0, allow_zero=True)
    dt = float_dtype(dtype)
    empty = math.prod(dims) == 0
    # Validate everything before consuming any randomness or allocating.
    sigma = weight_std(
        shape,
        scheme,
        layout,
        activation,
        mode,
        distribution,
        gain,
        std,
        fan_convention,
        empty=empty,
    )
    if empty:
        return np.empty(dims, dtype=dt)
    kind = choice(distribution, "distribution", dist.DISTRIBUTIONS)
    _check_memory(dims, dt)
    g = resolve_gain(scheme, activation, gain) if kind == "orthogonal" else None
    _check_representable(kind, sigma, g, dt, gain)
    gen = as_generator(rng)
    if kind == "orthogonal":
        rows, cols = matrix_shape(shape, layout)
        assert g is not None
        values = dist.orthogonal(gen, rows, cols, g)
    else:
        values = dist.sample(gen, math.prod(dims), kind, sigma)
    with np.errstate(over="ignore"):
        out = values.reshape(dims).astype(dt, copy=False)
    if not np.all(np.isfinite(out)):
        # Only a normal's far tail can get here (the bounded supports were checked above).
        raise ValueError(
            f"weights of std {sigma!r} overflow {dt.name} (gain={gain!r}, dtype={dt.name}): "
            "use a smaller gain or a wider dtype"
        )
    return out


#: Frameworks whose default bias :func:`bias` draws.
BIAS_FRAMEWORKS: tuple[str, ...] = ("torch", "keras", "jax")


def bias(
    shape: int | Sequence[int],
    fan_in: float | None = None,
    *,
    framework: str = "torch",
    rng: RNGLike = None,
    dtype: npt.DTypeLike = np.float64,
) -> np.ndarray:
    """A layer's default bias, as each framework draws it.

    ``"torch"``: :math:`U(-1/\\sqrt{\\mathrm{fan_{in}}}, 1/\\sqrt{\\mathrm{fan_{in}}})` with the
    weight's fan-in, variance :math:`1/(3\\,\\mathrm{fan_{in}})` (``nn.Linear`` and
    ``nn.ConvNd``'s ``reset_parameters``: ``bound = 1 / math.sqrt(fan_in) if fan_in > 0 else
    0``; ``init.uniform_(self.bias, -bound, bound)``, PyTorch 2.13); ``"keras"``: zeros
    (``Dense``/``Conv`` ``bias_initializer="zeros"``); ``"jax"``: zeros (Flax's
    ``bias_init=initializers.zeros_init()``; JAX itself has no layers).

    Parameters
    ----------
    shape : int or sequence of int
        The bias's shape, usually ``(out_channels,)``; 0-d and zero-size allowed.
    fan_in : float, optional
        The weight's fan-in, needed (> 0; 0 gives PyTorch's zero bound) for ``"torch"``.
    framework : {"torch", "keras", "jax"}
    rng, dtype
        As for :func:`init`.

    Examples
    --------
    >>> b = bias(128, 256, rng=0)
    >>> bool(abs(b).max() <= 1 / 16)
    True
    >>> bias(3, framework="keras")
    array([0., 0., 0.])
    """
    dims = shape_tuple(
        (shape,) if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool) else shape,
        "shape",
        min_ndim=0,
        allow_zero=True,
    )
    fw = choice(framework, "framework", BIAS_FRAMEWORKS)
    dt = float_dtype(dtype)
    if fw != "torch":
        if fan_in is not None:
            raise ValueError(f"framework {fw!r} draws zero biases and takes no fan_in")
        return np.zeros(dims, dtype=dt)
    if fan_in is None:
        raise ValueError("framework 'torch' needs the weight's fan_in, got fan_in=None")
    fi = nonnegative_real(fan_in, "fan_in")
    bound = 1.0 / math.sqrt(fi) if fi > 0 else 0.0
    gen = as_generator(rng)
    return gen.uniform(-bound, bound, dims).astype(dt, copy=False)


def _physical_memory() -> int:
    """Bytes of physical memory (a large default where the OS does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, OSError, ValueError):
        return 2**40


def _check_memory(dims: tuple[int, ...], dt: np.dtype) -> None:
    """Refuse a tensor whose float64 draws plus the result cannot fit in physical memory."""
    need = math.prod(dims) * (8 + (dt.itemsize if dt != np.float64 else 0))
    have = _physical_memory()
    if need > have:
        raise ValueError(
            f"shape {dims!r} needs {need / 2**30:.4g} GiB, more than the "
            f"{have / 2**30:.4g} GiB of memory"
        )


# The largest |value| each distribution can draw, in units of its std: the bounded supports
# exactly; for the normal, 40 standard deviations (probability below 1e-340 per draw).
_REACH = {
    "normal": 40.0,
    "uniform": dist.uniform_half_width(1.0),
    "truncated_normal": dist.TRUNCATION / dist.truncated_normal_std(dist.TRUNCATION),
}


def _check_representable(
    kind: str, sigma: float, g: float | None, dt: np.dtype, gain: object
) -> None:
    """Refuse weights that would overflow ``dt`` or round to all zeros in it."""
    info = np.finfo(dt)
    # orthogonal entries are bounded by the gain (rows or columns of unit norm)
    reach = g if kind == "orthogonal" else _REACH[kind] * sigma
    assert reach is not None
    if reach > float(info.max):
        raise ValueError(
            f"weights of std {sigma!r} overflow {dt.name}: values up to {reach:.3g} exceed its "
            f"largest {float(info.max):.3g} (gain={gain!r}, dtype={dt.name})"
        )
    if sigma > 0 and dt.type(sigma) == 0:
        raise ValueError(
            f"weights of std {sigma!r} underflow to 0 in {dt.name}, whose smallest positive "
            f"value is {float(info.smallest_subnormal):.3g} (gain={gain!r}, dtype={dt.name})"
        )
