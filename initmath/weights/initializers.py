"""The initializers of ``torch.nn.init``, Keras and JAX that need no fan.

Constant tensors (:func:`zeros`, :func:`ones`, :func:`constant`), identities (:func:`eye`,
:func:`dirac`, :func:`delta_orthogonal`), :func:`sparse`, :func:`orthogonal` for any shape,
and the non-centred :func:`uniform`, :func:`normal` and the two truncated normals, which
are *not* the same function:

* :func:`trunc_normal` is PyTorch's ``trunc_normal_``: absolute bounds ``a``, ``b``
  (default :math:`\\pm2`, whatever ``std`` is), ``std`` the untruncated normal's.
* :func:`truncated_normal` is Keras's ``TruncatedNormal`` and JAX's ``truncated_normal``:
  bounds at :math:`\\pm2` *standard deviations* around the mean.

Neither corrects the variance: only the variance-scaling initializers do
(:func:`initmath.init` with ``distribution="truncated_normal"``).

Every function returns a new array of ``shape`` and ``dtype`` (float16, float32 or float64,
default float64). The random ones take ``rng`` (``None``, an int seed or a
:class:`numpy.random.Generator`), draw in float64 and round once, so a seed gives the same
weights in every dtype up to that rounding. NumPy's generator is not PyTorch's, JAX's or
Keras's: the *laws* agree with the frameworks, not the draws. Shapes may be 0-d, 1-d or
have zero-size dimensions (an empty array comes back) except where the framework's own
function refuses the dimensionality. Bad arguments raise ``TypeError`` (wrong type) or
``ValueError`` (bad value, including values the dtype cannot hold) before any randomness is
consumed or memory allocated.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ..core.checks import (
    choice,
    fits_in_memory,
    float_dtype,
    integer,
    nonnegative_real,
    positive_real,
    shape_tuple,
)
from .distributions import orthogonalize
from .samplers import RNGLike, as_generator
from .shapes import Layout, matrix_shape

__all__ = [
    "constant",
    "delta_orthogonal",
    "dirac",
    "eye",
    "normal",
    "ones",
    "orthogonal",
    "sparse",
    "trunc_normal",
    "truncated_normal",
    "uniform",
    "zeros",
]

_LAYOUTS = ("torch", "keras")
_LAYOUT_ALIASES = {"jax": "keras"}
# The largest |draw| of a normal, in standard deviations (probability below 1e-340 per
# draw), as in initmath.weights.samplers.
_NORMAL_REACH = 40.0
# Above this probability mass of the truncation interval, draws come from the untruncated
# normal with the out-of-range ones redrawn (PyTorch 2.13's threshold); below it, from the
# inverse CDF.
_REJECTION_MASS = 0.3


# --- argument checks ----------------------------------------------------------------------


def _shape(shape: object, ndims: Sequence[int] | None = None, who: str = "") -> tuple[int, ...]:
    """``shape`` as ints >= 0; ``ndims``, if given, the dimensionalities ``who`` accepts."""
    dims = shape_tuple(shape, "shape", min_ndim=0, allow_zero=True)
    if ndims is not None and len(dims) not in ndims:
        allowed = ", ".join(map(str, ndims))
        raise ValueError(
            f"{who} takes a shape of {allowed} dimensions, got shape={dims!r} "
            f"({len(dims)} dimensions)"
        )
    return dims


def _layout(layout: object) -> str:
    return choice(layout, "layout", _LAYOUTS, _LAYOUT_ALIASES)


def _finite(value: object, name: str) -> float:
    """A finite real number (any sign)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    try:
        x = float(value)
    except OverflowError:
        raise ValueError(f"{name} must be finite, got {value!r}") from None
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return x


def _fits(reach: float, dt: np.dtype, what: str) -> None:
    """Refuse values up to ``reach`` in magnitude that ``dt`` cannot hold."""
    top = float(np.finfo(dt).max)
    if not math.isfinite(reach) or reach > top:
        raise ValueError(
            f"{what}: values up to {reach:.3g} overflow {dt.name}, whose largest is {top:.3g}"
        )


def _nonzero_in(x: float, dt: np.dtype, what: str) -> None:
    """Refuse a nonzero scale that rounds to 0 in ``dt`` (every weight would be 0)."""
    if x != 0 and dt.type(x) == 0:
        tiny = float(np.finfo(dt).smallest_subnormal)
        raise ValueError(
            f"{what} underflows to 0 in {dt.name}, whose smallest positive value is {tiny:.3g}"
        )


def _memory(dims: tuple[int, ...], dt: np.dtype, random: bool) -> None:
    # random arrays are drawn in float64 before the one rounding to dt
    per = dt.itemsize + (8 if random and dt != np.float64 else 0)
    fits_in_memory(math.prod(dims) * per, f"shape={dims!r} with dtype={dt.name}")


def _round(values: np.ndarray, dims: tuple[int, ...], dt: np.dtype, what: str) -> np.ndarray:
    with np.errstate(over="ignore"):
        out = np.asarray(values, dtype=np.float64).reshape(dims).astype(dt)
    if not np.all(np.isfinite(out)):  # only a normal's far tail can get here
        raise ValueError(f"{what}: a draw overflows {dt.name}; use a wider dtype")
    return out


# --- constants --------------------------------------------------------------------------


def zeros(shape: Sequence[int], *, dtype: npt.DTypeLike = np.float64) -> np.ndarray:
    """An array of zeros: PyTorch ``zeros_``, Keras ``Zeros``, JAX ``zeros``.

    Parameters
    ----------
    shape : sequence of int
        Any number of dimensions (0-d included), each >= 0.
    dtype : float16, float32 or float64

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    TypeError
        A shape that is not a sequence of integers, a non-float dtype.
    ValueError
        A negative dimension; an array too large for memory.

    Examples
    --------
    >>> zeros((2, 3))
    array([[0., 0., 0.],
           [0., 0., 0.]])
    """
    dims = _shape(shape)
    dt = float_dtype(dtype)
    _memory(dims, dt, random=False)
    return np.zeros(dims, dtype=dt)


def ones(shape: Sequence[int], *, dtype: npt.DTypeLike = np.float64) -> np.ndarray:
    """An array of ones: PyTorch ``ones_``, Keras ``Ones``, JAX ``ones``.

    Parameters, return value and errors as for :func:`zeros`.

    Examples
    --------
    >>> ones((3,), dtype="float32")
    array([1., 1., 1.], dtype=float32)
    """
    dims = _shape(shape)
    dt = float_dtype(dtype)
    _memory(dims, dt, random=False)
    return np.ones(dims, dtype=dt)


def constant(
    shape: Sequence[int], value: npt.ArrayLike, *, dtype: npt.DTypeLike = np.float64
) -> np.ndarray:
    """``value`` broadcast to ``shape``: :math:`W_{i} = v` (or :math:`v_i` for an array).

    PyTorch's ``constant_(tensor, val)`` takes a scalar (``tensor.fill_(val)``), Keras's
    ``Constant(value)`` a scalar ("Only scalar values are allowed"), JAX's
    ``constant(value)`` an array-like (``jnp.full(shape, value)``, which broadcasts). This
    function takes either.

    Parameters
    ----------
    shape : sequence of int
        Any number of dimensions, each >= 0.
    value : float or array_like
        A finite real scalar, or a finite real array that broadcasts to ``shape`` (without
        enlarging it).
    dtype : float16, float32 or float64

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    TypeError
        A value that is not real (bool, complex, str, None, object arrays), a bad shape or
        dtype.
    ValueError
        A non-finite value, one that does not broadcast to ``shape``, one that overflows
        ``dtype`` (``constant((2,), 1e300, dtype=np.float32)``) or a nonzero one that rounds
        to 0 in it.

    Examples
    --------
    >>> constant((2, 2), 0.5)
    array([[0.5, 0.5],
           [0.5, 0.5]])
    >>> constant((2, 3), [1.0, 2.0, 3.0])
    array([[1., 2., 3.],
           [1., 2., 3.]])
    """
    dims = _shape(shape)
    dt = float_dtype(dtype)
    if value is None or isinstance(value, (str, bytes, bool, np.bool_)):
        raise TypeError(f"value must be a real number or array, got {value!r}")
    if isinstance(value, (numbers.Real, np.floating)):
        _finite(value, "value")  # 10**400 would become an object array
    try:
        v = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested sequences
        raise TypeError(f"value must be a real number or array, got {value!r}") from exc
    if v.dtype.kind not in "fiu":
        raise TypeError(f"value must be a real number or array, got dtype {v.dtype} ({value!r})")
    try:
        v = v.astype(np.float64)
    except OverflowError:
        raise ValueError(f"value must be finite, got {value!r}") from None
    if not np.all(np.isfinite(v)):
        raise ValueError(f"value must be finite (no NaN or inf), got {value!r}")
    try:
        target = np.broadcast_shapes(v.shape, dims)
    except ValueError:
        target = None
    if target != dims:
        raise ValueError(f"value of shape {v.shape} does not broadcast to shape={dims!r}")
    with np.errstate(over="ignore", under="ignore"):
        vd = v.astype(dt)
    if not np.all(np.isfinite(vd)):
        _fits(float(np.abs(v).max()), dt, f"constant value={value!r}")
    if np.any((vd == 0) & (v != 0)):
        _nonzero_in(float(v[(vd == 0) & (v != 0)].flat[0]), dt, f"constant value={value!r}")
    _memory(dims, dt, random=False)
    out = np.empty(dims, dtype=dt)
    out[...] = vd
    return out


# --- identities -------------------------------------------------------------------------


def eye(
    shape: Sequence[int], *, gain: float = 1.0, dtype: npt.DTypeLike = np.float64
) -> np.ndarray:
    """:math:`g I`: :math:`W_{ij} = g\\,\\delta_{ij}` for an ``(n, m)`` matrix.

    For a non-square shape the ones run down the main diagonal, :math:`\\min(n, m)` of
    them, and the other rows or columns are zero: PyTorch's ``eye_`` is
    ``torch.eye(*tensor.shape)`` and Keras's ``Identity(gain)`` is
    ``gain * ops.eye(*shape)``, both that. ``eye_`` has no gain (it is ``gain=1``); JAX's
    ``jax.nn.initializers`` has no identity.

    Parameters
    ----------
    shape : (int, int)
        Exactly two dimensions (both frameworks refuse others), each >= 0.
    gain : float
        Any finite real.
    dtype : float16, float32 or float64

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    TypeError
        A gain that is not a real number, a bad shape or dtype.
    ValueError
        A shape that is not 2-d; a gain that is not finite, overflows ``dtype`` or (nonzero)
        rounds to 0 in it.

    Examples
    --------
    >>> eye((2, 3), gain=2.0)
    array([[2., 0., 0.],
           [0., 2., 0.]])
    """
    dims = _shape(shape, (2,), "eye")
    g = _finite(gain, "gain")
    dt = float_dtype(dtype)
    _fits(abs(g), dt, f"eye with gain={gain!r}")
    _nonzero_in(g, dt, f"gain={gain!r}")
    _memory(dims, dt, random=False)
    out = np.eye(dims[0], dims[1], dtype=dt)
    out *= dt.type(g)
    return out


def dirac(
    shape: Sequence[int],
    *,
    groups: int = 1,
    layout: Layout = "torch",
    dtype: npt.DTypeLike = np.float64,
) -> np.ndarray:
    """The convolution kernel that passes its input through: PyTorch ``dirac_``.

    For a ``(out, in, *k)`` weight with :math:`g` groups, :math:`o = \\mathrm{out}/g` output
    channels per group and :math:`m = \\min(o, \\mathrm{in})`,

    .. math:: W[j\\,o + d,\\ d,\\ \\lfloor k_1/2\\rfloor, \\dots] = 1
              \\quad (0 \\le j < g,\\ 0 \\le d < m),

    every other entry 0: each group's first :math:`m` output channels copy its input
    channels from the kernel's centre tap (the upper one, index ``k // 2``, for an even
    kernel). JAX's :func:`delta_orthogonal` puts its matrix at ``(k - 1) // 2`` instead,
    the lower centre, and Keras and JAX have no Dirac initializer.

    Parameters
    ----------
    shape : sequence of int
        3, 4 or 5 dimensions (1-, 2-, 3-d convolutions), as ``dirac_`` requires.
        ``layout="torch"``: ``(out, in, *k)``. ``"keras"`` or ``"jax"``: ``(*k, in, out)``,
        and the result is then the same kernel transposed,
        ``np.moveaxis``-ed to ``W[*k, i, o] = W_torch[o, i, *k]``, which computes the same
        convolution in those frameworks.
    groups : int
        >= 1, dividing ``out``.
    layout : {"torch", "keras", "jax"}
    dtype : float16, float32 or float64

    Returns
    -------
    numpy.ndarray
        Zeros and ones. A shape with a zero-size dimension gives an empty array (where
        PyTorch raises ``IndexError`` for a zero-size kernel dimension).

    Raises
    ------
    TypeError
        A non-integer ``groups`` (also PyTorch), a bad shape, layout or dtype.
    ValueError
        A shape of other than 3-5 dimensions ("Only tensors with 3, 4, or 5 dimensions are
        supported"), ``groups < 1`` (PyTorch: ``ZeroDivisionError`` for 0, a silent
        all-zero tensor for negative groups), ``out`` not divisible by ``groups`` ("dim 0
        must be divisible by groups"), an unknown layout.

    Examples
    --------
    >>> w = dirac((4, 2, 3), groups=2)
    >>> w[:, :, 1]
    array([[1., 0.],
           [0., 1.],
           [1., 0.],
           [0., 1.]])
    >>> float(w.sum())
    4.0
    """
    dims = _shape(shape, (3, 4, 5), "dirac")
    g = integer(groups, "groups", minimum=1)
    lay = _layout(layout)
    dt = float_dtype(dtype)
    torch_dims = dims if lay == "torch" else (dims[-1], dims[-2], *dims[:-2])
    out_ch, in_ch, kernel = torch_dims[0], torch_dims[1], torch_dims[2:]
    if out_ch % g != 0:
        raise ValueError(
            f"the output channels ({out_ch}, of shape={dims!r}, layout={layout!r}) must be "
            f"divisible by groups={groups!r}"
        )
    _memory(dims, dt, random=False)
    w = np.zeros(torch_dims, dtype=dt)
    if w.size:
        per_group = out_ch // g
        d = np.arange(min(per_group, in_ch))
        centre = tuple(k // 2 for k in kernel)
        for j in range(g):
            index: tuple[np.ndarray | int, ...] = (j * per_group + d, d, *centre)
            w[index] = 1
    if lay == "torch":
        return w
    return np.ascontiguousarray(np.transpose(w, (*range(2, len(dims)), 1, 0)))


def delta_orthogonal(
    shape: Sequence[int],
    *,
    scale: float = 1.0,
    column_axis: int = -1,
    layout: Layout = "jax",
    rng: RNGLike = None,
    dtype: npt.DTypeLike = np.float64,
) -> np.ndarray:
    """Delta-orthogonal kernel (Xiao et al. 2018): JAX ``delta_orthogonal``.

    Zero everywhere except the centre tap, which holds a Haar-random :math:`\\mathrm{in}
    \\times \\mathrm{out}` matrix :math:`M = sQ` with orthonormal rows,
    :math:`MM^\\top = s^2 I_{\\mathrm{in}}` (square: also :math:`M^\\top M = s^2 I`):

    .. math:: W[c_1, \\dots, c_n, :, :] = M, \\qquad c_j = \\lfloor (k_j - 1)/2 \\rfloor,

    the *lower* centre for even :math:`k_j` (PyTorch's :func:`dirac` uses :math:`\\lfloor
    k_j/2 \\rfloor`). As in JAX (``jax/_src/nn/initializers.py``): 3-5 dimensions
    ``(*k, in, out)``, ``in <= out`` ("`fan_in` must be less or equal than `fan_out`"),
    and :math:`M` is ``orthogonal(scale, column_axis)`` of shape ``(in, out)``. Neither
    PyTorch nor Keras has it.

    Parameters
    ----------
    shape : sequence of int
        3, 4 or 5 dimensions. ``layout="jax"`` (the default, JAX's) or ``"keras"``:
        ``(*k, in, out)``; ``"torch"``: ``(out, in, *k)``, and the result is the same kernel
        transposed, :math:`W[:, :, c] = M^\\top`.
    scale : float
        :math:`s`, finite and >= 0 (JAX's docstring calls it "the upper bound of the uniform
        distribution"; it multiplies the orthogonal matrix).
    column_axis : {-1, 1, -2, 0}
        The axis of the ``(in, out)`` matrix that JAX's ``orthogonal`` treats as columns:
        -1 or 1 draws an ``(in, out)`` Gaussian and orthogonalizes it, -2 or 0 an
        ``(out, in)`` one and transposes. Both give the same law (Haar); only the use of
        the random stream differs.
    layout : {"jax", "keras", "torch"}
    rng : None, int or numpy.random.Generator
    dtype : float16, float32 or float64

    Returns
    -------
    numpy.ndarray
        A zero-size shape gives an empty array.

    Raises
    ------
    TypeError
        Non-real ``scale``, non-integer ``column_axis``, bad shape, layout, rng or dtype.
    ValueError
        Not 3-5 dimensions, ``in > out``, ``column_axis`` outside {-2, -1, 0, 1}, a scale
        that is negative, not finite, overflows ``dtype`` or (nonzero) rounds to 0 in it.

    Examples
    --------
    >>> w = delta_orthogonal((3, 3, 4, 8), scale=2.0, rng=0)
    >>> m = w[1, 1]
    >>> bool(np.allclose(m @ m.T, 4.0 * np.eye(4)))
    True
    >>> int(np.count_nonzero(w)), int(np.count_nonzero(m))
    (32, 32)
    """
    dims = _shape(shape, (3, 4, 5), "delta_orthogonal")
    s = nonnegative_real(scale, "scale")
    if isinstance(column_axis, (bool, np.bool_)) or not isinstance(
        column_axis, (numbers.Integral, np.integer)
    ):
        raise TypeError(f"column_axis must be an integer, got {column_axis!r}")
    if int(column_axis) not in (-2, -1, 0, 1):
        raise ValueError(
            f"column_axis must be an axis of the (in, out) matrix, -2, -1, 0 or 1, "
            f"got {column_axis!r}"
        )
    lay = _layout(layout)
    dt = float_dtype(dtype)
    if lay == "keras":
        kernel, in_ch, out_ch = dims[:-2], dims[-2], dims[-1]
    else:
        out_ch, in_ch, kernel = dims[0], dims[1], dims[2:]
    if in_ch > out_ch:
        raise ValueError(
            f"delta_orthogonal needs in <= out channels, got in={in_ch}, out={out_ch} "
            f"(shape={dims!r}, layout={layout!r})"
        )
    _fits(s, dt, f"delta_orthogonal with scale={scale!r}")
    _nonzero_in(s, dt, f"scale={scale!r}")
    _memory(dims, dt, random=True)
    gen = as_generator(rng)
    if math.prod(dims) == 0:
        return np.zeros(dims, dtype=dt)
    if int(column_axis) in (-1, 1):
        m = orthogonalize(gen.standard_normal((in_ch, out_ch)), s)
    else:
        m = orthogonalize(gen.standard_normal((out_ch, in_ch)), s).T
    centre = tuple((k - 1) // 2 for k in kernel)
    w = np.zeros(dims, dtype=np.float64)
    if lay == "keras":
        w[centre] = m
    else:
        w[(slice(None), slice(None), *centre)] = m.T
    return _round(w, dims, dt, "delta_orthogonal")


def orthogonal(
    shape: Sequence[int],
    *,
    gain: float = 1.0,
    layout: Layout = "torch",
    rng: RNGLike = None,
    dtype: npt.DTypeLike = np.float64,
) -> np.ndarray:
    """:math:`gQ` with orthonormal rows or columns of the matrix view (Saxe et al. 2014).

    The tensor is viewed as a ``(rows, cols)`` matrix
    (:func:`initmath.weights.shapes.matrix_shape`), filled with
    :func:`~initmath.weights.distributions.orthogonalize` of a standard Gaussian of that
    shape and reshaped: :math:`QQ^\\top = I` if rows <= cols,
    else :math:`Q^\\top Q = I`, times the gain.

    * ``layout="torch"``: PyTorch ``orthogonal_`` flattens to ``(shape[0],
      prod(shape[1:]))`` (``rows = tensor.size(0); cols = tensor.numel() // rows``), so the
      output channels' flattened filters are orthonormal (when out <= in * prod(k)).
    * ``"keras"``/``"jax"``: Keras ``Orthogonal`` flattens to ``(prod(shape[:-1]),
      shape[-1])`` ("a matrix of shape (shape[0] * ... * shape[n - 2], shape[n - 1])"),
      JAX ``orthogonal(column_axis=-1)`` likewise.

    Parameters
    ----------
    shape : sequence of int
        At least 2 dimensions (all three frameworks refuse fewer), each >= 0.
    gain : float
        Finite and >= 0 (``orthogonal_``'s ``gain``, Keras's ``gain``, JAX's ``scale``).
    layout : {"torch", "keras", "jax"}
    rng : None, int or numpy.random.Generator
    dtype : float16, float32 or float64

    Returns
    -------
    numpy.ndarray
        A zero-size shape gives an empty array (PyTorch returns the tensor untouched,
        without a warning: ``if tensor.numel() == 0 ...: # no-op``).

    Raises
    ------
    TypeError
        A non-real gain, bad shape, layout, rng or dtype.
    ValueError
        Fewer than 2 dimensions; a gain that is negative, not finite, overflows ``dtype``
        or (nonzero) rounds to 0 in it.

    Examples
    --------
    >>> w = orthogonal((8, 16, 3), rng=0)
    >>> m = w.reshape(8, 48)
    >>> bool(np.allclose(m @ m.T, np.eye(8)))
    True
    """
    dims = _shape(shape)
    if len(dims) < 2:
        raise ValueError(f"orthogonal takes a shape of at least 2 dimensions, got shape={dims!r}")
    g = nonnegative_real(gain, "gain")
    lay = _layout(layout)
    dt = float_dtype(dtype)
    _fits(g, dt, f"orthogonal with gain={gain!r}")
    _nonzero_in(g, dt, f"gain={gain!r}")
    _memory(dims, dt, random=True)
    gen = as_generator(rng)
    if math.prod(dims) == 0:
        return np.zeros(dims, dtype=dt)
    rows, cols = matrix_shape(dims, "torch" if lay == "torch" else "keras")
    q = orthogonalize(gen.standard_normal((rows, cols)), g)
    return _round(q, dims, dt, "orthogonal")


def sparse(
    shape: Sequence[int],
    sparsity: float,
    *,
    std: float = 0.01,
    rng: RNGLike = None,
    dtype: npt.DTypeLike = np.float64,
) -> np.ndarray:
    """Sparse Gaussian matrix (Martens 2010): PyTorch ``sparse_``.

    Every entry is drawn from :math:`N(0, \\sigma^2)`, then in each column exactly
    :math:`z = \\lceil \\text{sparsity} \\cdot \\text{rows} \\rceil` entries, at rows chosen
    uniformly at random without replacement, are set to 0. :math:`z` is computed in floating
    point as PyTorch does (``math.ceil(sparsity * rows)``), so ``sparsity=0.28`` with
    25 rows zeroes 8 per column, not 7 (``0.28 * 25 == 7.000000000000001``). Keras and JAX have no
    counterpart.

    Parameters
    ----------
    shape : (int, int)
        ``(rows, cols)``, exactly two dimensions (as ``sparse_``), each >= 0.
    sparsity : float
        The fraction of each column set to zero, in [0, 1] (PyTorch does not check it).
    std : float
        :math:`\\sigma` of the nonzero entries, finite and >= 0 (PyTorch's default 0.01).
    rng : None, int or numpy.random.Generator
    dtype : float16, float32 or float64

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    TypeError
        Non-real sparsity or std, bad shape, rng or dtype.
    ValueError
        A shape that is not 2-d, a sparsity outside [0, 1], a std that is negative, not
        finite, could overflow ``dtype`` (40 std) or (nonzero) rounds to 0 in it.

    Examples
    --------
    >>> w = sparse((10, 4), 0.5, rng=0)
    >>> (w == 0).sum(axis=0)
    array([5, 5, 5, 5])
    """
    dims = _shape(shape, (2,), "sparse")
    p = _finite(sparsity, "sparsity")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"sparsity must be in [0, 1], got {sparsity!r}")
    sigma = nonnegative_real(std, "std")
    dt = float_dtype(dtype)
    _fits(_NORMAL_REACH * sigma, dt, f"sparse with std={std!r}")
    _nonzero_in(sigma, dt, f"std={std!r}")
    _memory(dims, dt, random=True)
    gen = as_generator(rng)
    rows, cols = dims
    num_zeros = math.ceil(p * rows)
    w = gen.standard_normal(dims) * sigma
    if num_zeros and cols:
        # an independent uniform permutation of the rows for each column
        perm = gen.permuted(np.tile(np.arange(rows)[:, None], (1, cols)), axis=0)
        w[perm[:num_zeros], np.arange(cols)] = 0.0
    return _round(w, dims, dt, "sparse")


# --- non-centred uniform and normal -------------------------------------------------------


def uniform(
    shape: Sequence[int],
    a: float = 0.0,
    b: float = 1.0,
    *,
    rng: RNGLike = None,
    dtype: npt.DTypeLike = np.float64,
) -> np.ndarray:
    """:math:`U[a, b)`: mean :math:`(a+b)/2`, std :math:`(b-a)/\\sqrt{12}`.

    The defaults are PyTorch ``uniform_``'s, :math:`U(0, 1)`. The others differ: Keras
    ``RandomUniform(minval=-0.05, maxval=0.05)``; JAX ``uniform(scale=1e-2)`` draws
    :math:`U[0, \\text{scale})`, i.e. ``uniform(shape, 0, scale)`` here.

    Parameters
    ----------
    shape : sequence of int
        Any number of dimensions, each >= 0.
    a, b : float
        Finite, ``a <= b`` (``a == b`` gives the constant ``a``, as in PyTorch), ``b - a``
        finite, both within ``dtype``'s range.
    rng : None, int or numpy.random.Generator
    dtype : float16, float32 or float64

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    TypeError
        Non-real bounds, bad shape, rng or dtype.
    ValueError
        ``a > b`` (PyTorch: ``uniform_ expects to return a [from, to) range``), non-finite
        bounds or width, bounds that overflow ``dtype``.

    Examples
    --------
    >>> w = uniform((1000,), -1.0, 3.0, rng=0)
    >>> bool(w.min() >= -1.0 and w.max() < 3.0)
    True
    """
    dims = _shape(shape)
    lo = _finite(a, "a")
    hi = _finite(b, "b")
    if lo > hi:
        raise ValueError(f"uniform needs a <= b, got a={a!r}, b={b!r}")
    if not math.isfinite(hi - lo):
        raise ValueError(f"uniform's width b - a overflows float64 (a={a!r}, b={b!r})")
    dt = float_dtype(dtype)
    _fits(max(abs(lo), abs(hi)), dt, f"uniform with a={a!r}, b={b!r}")
    _memory(dims, dt, random=True)
    gen = as_generator(rng)
    values = gen.uniform(lo, hi, math.prod(dims)) if hi > lo else np.full(math.prod(dims), lo)
    return _round(values, dims, dt, "uniform")


def normal(
    shape: Sequence[int],
    mean: float = 0.0,
    std: float = 1.0,
    *,
    rng: RNGLike = None,
    dtype: npt.DTypeLike = np.float64,
) -> np.ndarray:
    """:math:`N(\\mu, \\sigma^2)`.

    The defaults are PyTorch ``normal_``'s, :math:`N(0, 1)`. The others differ: Keras
    ``RandomNormal(mean=0.0, stddev=0.05)``; JAX ``normal(stddev=1e-2)`` (mean 0, no mean
    argument).

    Parameters
    ----------
    shape : sequence of int
        Any number of dimensions, each >= 0.
    mean : float
        Finite.
    std : float
        Finite and >= 0 (PyTorch: "normal expects std >= 0.0").
    rng : None, int or numpy.random.Generator
    dtype : float16, float32 or float64

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    TypeError
        Non-real mean or std, bad shape, rng or dtype.
    ValueError
        Non-finite mean or std, a negative std, :math:`|\\mu| + 40\\sigma` beyond
        ``dtype``'s range, a nonzero std that rounds to 0 in ``dtype``.

    Examples
    --------
    >>> w = normal((100_000,), 3.0, 0.5, rng=0)
    >>> bool(abs(w.mean() - 3.0) < 0.01 and abs(w.std() - 0.5) < 0.01)
    True
    """
    dims = _shape(shape)
    mu = _finite(mean, "mean")
    sigma = nonnegative_real(std, "std")
    dt = float_dtype(dtype)
    _fits(abs(mu) + _NORMAL_REACH * sigma, dt, f"normal with mean={mean!r}, std={std!r}")
    _nonzero_in(sigma, dt, f"std={std!r}")
    _memory(dims, dt, random=True)
    gen = as_generator(rng)
    values = mu + sigma * gen.standard_normal(math.prod(dims))
    return _round(values, dims, dt, "normal")


# --- the two truncated normals ------------------------------------------------------------


def _norm_cdf(x: float) -> float:
    return 0.5 * (1.0 + math.erf(x / math.sqrt(2.0)))


def _truncated_standard(gen: np.random.Generator, size: int, lo: float, hi: float) -> np.ndarray:
    """``size`` draws of :math:`Z \\sim N(0, 1)` conditioned on :math:`lo \\le Z \\le hi`."""
    mass = _norm_cdf(hi) - _norm_cdf(lo)
    if mass > _REJECTION_MASS:
        # PyTorch's first branch: draw the normal, redraw what falls outside.
        out = np.empty(size)
        filled = 0
        while filled < size:
            need = size - filled
            z = gen.standard_normal(int(need / mass) + 16)
            z = z[(z >= lo) & (z <= hi)][:need]
            out[filled : filled + z.size] = z
            filled += z.size
        return out
    # A small mass (an interval narrow or far in a tail): the inverse CDF, which SciPy
    # evaluates in log space in the tails, so it neither loops nor loses the tail.
    from scipy import stats

    z = stats.truncnorm.ppf(gen.random(size), lo, hi)
    nearest = lo if lo > 0 else hi if hi < 0 else 0.0
    z = np.where(np.isfinite(z), z, nearest)
    return np.clip(z, lo, hi)


def trunc_normal(
    shape: Sequence[int],
    mean: float = 0.0,
    std: float = 1.0,
    a: float = -2.0,
    b: float = 2.0,
    *,
    rng: RNGLike = None,
    dtype: npt.DTypeLike = np.float64,
) -> np.ndarray:
    """PyTorch's ``trunc_normal_``: :math:`N(\\mu, \\sigma^2)` conditioned on :math:`[a, b]`.

    ``a`` and ``b`` are *absolute* bounds, not multiples of ``std``, and ``std`` is the
    untruncated normal's: nothing corrects the variance. The weights have density
    :math:`\\varphi((x-\\mu)/\\sigma) / (\\sigma[\\Phi(\\beta) - \\Phi(\\alpha)])` on
    :math:`[a, b]`, :math:`\\alpha = (a-\\mu)/\\sigma`, :math:`\\beta = (b-\\mu)/\\sigma`, and
    standard deviation (``scipy.stats.truncnorm(alpha, beta, mu, sigma).std()``)

    =========================================================  ==============================
    call                                                       std of the weights
    =========================================================  ==============================
    ``trunc_normal(std=1)``: bounds :math:`\\pm2 = \\pm2\\sigma`  0.8796 (:math:`\\beta(2)`)
    ``trunc_normal(std=0.02)``: bounds :math:`\\pm100\\sigma`    0.0200 (barely truncated)
    ``trunc_normal(std=s, a=-2*s, b=2*s)``                     :math:`0.8796\\,s`
    Keras ``TruncatedNormal(stddev=1)``                        0.8796 (uncorrected too)
    JAX ``truncated_normal(stddev=1)``                         0.8796 (uncorrected too)
    Keras/JAX ``VarianceScaling``, truncated normal            exactly :math:`\\sqrt{scale/n}`
    ``initmath.init(distribution="truncated_normal")``         exactly :func:`initmath.std`
    =========================================================  ==============================

    :math:`\\beta(2) = 0.87962566103423978` is Keras's and JAX's correction constant
    (:func:`~initmath.weights.distributions.truncated_normal_std`).

    Algorithm. PyTorch 2.13 (``torch/nn/init.py``, ``_no_grad_trunc_normal_``) computes
    ``p = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)``; if ``p > 0.3`` it draws
    ``normal_(mean, std)`` and redraws the entries outside ``[a, b]``, as done here. Below,
    it rejects from a uniform proposal on ``[a, b]``; here the inverse CDF is used instead
    (SciPy's ``truncnorm.ppf``, then clipped to ``[a, b]``): the same law, without a
    rejection rate that can be arbitrarily small. Earlier PyTorch releases used the inverse
    CDF everywhere (``uniform_(2l - 1, 2u - 1)``, ``erfinv_``, scale, ``clamp_(a, b)``);
    pytorch/pytorch#174997 (``trunc_normal_ low precision fix``) describes why it was
    replaced: in float32 ``erfinv`` near :math:`\\pm1` produced values clamped to the bounds,
    1000 std from the mean for ``std=0.002``.

    Parameters
    ----------
    shape : sequence of int
        Any number of dimensions, each >= 0.
    mean : float
        :math:`\\mu`, finite.
    std : float
        :math:`\\sigma` of the untruncated normal, finite and > 0 (PyTorch divides by it).
    a, b : float
        Finite, ``a <= b`` (``a == b`` gives the constant ``a``, as in PyTorch; PyTorch
        raises for ``a > b``), within ``dtype``'s range.
    rng : None, int or numpy.random.Generator
    dtype : float16, float32 or float64
        The draws are rounded to it, then clipped to ``[a, b]`` as rounded to it.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    TypeError
        Non-real arguments, bad shape, rng or dtype.
    ValueError
        Non-finite arguments, ``std <= 0``, ``a > b``, bounds beyond ``dtype``'s range.

    Notes
    -----
    PyTorch warns when the mean is more than 2 std outside ``[a, b]`` ("The distribution of
    values may be incorrect"); the inverse CDF is exact there, so no warning is given.

    Examples
    --------
    >>> w = trunc_normal((100_000,), std=1.0, rng=0)
    >>> bool(abs(w).max() <= 2.0), round(float(w.std()), 2)
    (True, 0.88)
    """
    dims = _shape(shape)
    mu = _finite(mean, "mean")
    sigma = positive_real(std, "std")
    lo = _finite(a, "a")
    hi = _finite(b, "b")
    if lo > hi:
        raise ValueError(f"trunc_normal needs a <= b, got a={a!r}, b={b!r}")
    dt = float_dtype(dtype)
    _fits(max(abs(lo), abs(hi)), dt, f"trunc_normal with a={a!r}, b={b!r}")
    _memory(dims, dt, random=True)
    gen = as_generator(rng)
    size = math.prod(dims)
    if lo == hi:
        values = np.full(size, lo)
    else:
        with np.errstate(over="ignore"):
            alpha = (lo - mu) / sigma
            beta = (hi - mu) / sigma
        values = mu + sigma * _truncated_standard(gen, size, alpha, beta)
    out = _round(np.clip(values, lo, hi), dims, dt, "trunc_normal")
    return np.clip(out, dt.type(lo), dt.type(hi), out=out)


def truncated_normal(
    shape: Sequence[int],
    *,
    mean: float = 0.0,
    stddev: float = 1.0,
    lower: float = -2.0,
    upper: float = 2.0,
    rng: RNGLike = None,
    dtype: npt.DTypeLike = np.float64,
) -> np.ndarray:
    """Keras ``TruncatedNormal`` / JAX ``truncated_normal``: :math:`\\mu + sZ`, :math:`Z`
    a standard normal conditioned on :math:`[\\text{lower}, \\text{upper}]`.

    The bounds are in units of ``stddev`` around the mean, :math:`\\mu \\pm 2s` by default:
    Keras's backends call ``jax.random.truncated_normal(seed, shape, lower=-2.0,
    upper=2.0) * stddev + mean`` (``keras/src/backend/jax/random.py``), JAX's initializer
    ``random.truncated_normal(key, lower, upper, shape, dtype) * stddev`` (no mean).
    Neither corrects the variance: ``keras/src/initializers/random_initializers.py`` divides
    by ``0.87962566103423978`` only in ``VarianceScaling.__call__`` (``stddev =
    math.sqrt(scale) / 0.87962566103423978``), never in ``TruncatedNormal.__call__``; JAX's
    docstring: "stddev: ... the standard deviation of the untruncated distribution. Note
    that this function does not apply the stddev correction as is done in the
    variancescaling initializers". So the weights have standard deviation

    ===================================================  =======================================
    call                                                 std of the weights
    ===================================================  =======================================
    ``truncated_normal(stddev=s)``, bounds :math:`\\pm2`  :math:`0.8796\\,s` (:math:`\\beta(2)\\,s`)
    Keras ``TruncatedNormal(stddev=s)``                  :math:`0.8796\\,s`
    JAX ``truncated_normal(stddev=s)``                   :math:`0.8796\\,s`
    ``trunc_normal(std=1)`` (:func:`trunc_normal`)       0.8796 (the same law at ``s=1``)
    Keras/JAX ``VarianceScaling``, truncated normal      exactly :math:`\\sqrt{scale/n}`
    ``initmath.init(distribution="truncated_normal")``   exactly :func:`initmath.std`
    ===================================================  =======================================

    Defaults differ: Keras ``TruncatedNormal(mean=0.0, stddev=0.05)``, JAX
    ``truncated_normal(stddev=1e-2, lower=-2.0, upper=2.0)``; here ``stddev=1``, so pass
    the framework's value. Keras's PyTorch backend approximates the law (four normal draws,
    the first inside :math:`(-2, 2)` kept, the first kept even when none is, probability
    :math:`0.0455^4 \\approx 4\\times10^{-6}` per weight); this function draws it exactly.

    Parameters
    ----------
    shape : sequence of int
        Any number of dimensions, each >= 0.
    mean : float
        :math:`\\mu`, finite (Keras's ``mean``; JAX has none, i.e. 0).
    stddev : float
        :math:`s`, the untruncated normal's standard deviation, finite and >= 0 (0 gives
        the constant ``mean``).
    lower, upper : float
        The cut in units of ``stddev`` (JAX's arguments; Keras fixes them at -2, 2);
        finite, ``lower < upper``.
    rng : None, int or numpy.random.Generator
    dtype : float16, float32 or float64

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    TypeError
        Non-real arguments, bad shape, rng or dtype.
    ValueError
        Non-finite arguments, a negative stddev, ``lower >= upper``, bounds
        :math:`\\mu + s\\cdot` lower/upper beyond ``dtype``'s range, a nonzero stddev that
        rounds to 0 in ``dtype``.

    Examples
    --------
    >>> w = truncated_normal((100_000,), mean=1.0, stddev=0.5, rng=0)
    >>> bool(w.min() >= 0.0 and w.max() <= 2.0), round(float(w.std() / 0.5), 2)
    (True, 0.88)
    """
    dims = _shape(shape)
    mu = _finite(mean, "mean")
    s = nonnegative_real(stddev, "stddev")
    lo = _finite(lower, "lower")
    hi = _finite(upper, "upper")
    if lo >= hi:
        raise ValueError(
            f"truncated_normal needs lower < upper, got lower={lower!r}, upper={upper!r}"
        )
    dt = float_dtype(dtype)
    reach = max(abs(mu + s * lo), abs(mu + s * hi))
    _fits(reach, dt, f"truncated_normal with mean={mean!r}, stddev={stddev!r}")
    _nonzero_in(s, dt, f"stddev={stddev!r}")
    _memory(dims, dt, random=True)
    gen = as_generator(rng)
    values = mu + s * _truncated_standard(gen, math.prod(dims), lo, hi)
    return _round(values, dims, dt, "truncated_normal")
