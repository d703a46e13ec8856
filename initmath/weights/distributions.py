"""Zero-mean weight distributions, parametrized by their standard deviation.

Every sampler here takes the standard deviation the weights must have and works out its own
parameters from it:

* ``normal``: :math:`N(0, \\sigma^2)`.
* ``uniform``: :math:`U(-a, a)` has variance :math:`a^2/3`, so :math:`a = \\sqrt{3}\\,\\sigma`.
* ``truncated_normal``: a normal of standard deviation :math:`s` cut at :math:`\\pm 2s` has
  standard deviation :math:`\\beta s` with :math:`\\beta = \\sqrt{1 - 4\\varphi(2)/(2\\Phi(2)-1)}
  \\approx 0.8796`, so :math:`s = \\sigma/\\beta` (Keras and JAX do the same; PyTorch's
  ``trunc_normal_`` does not correct).
* ``orthogonal``: the matrix :math:`gQ` with orthonormal rows or columns; it is set by a
  gain, not a standard deviation (see :func:`orthogonal`).
"""

from __future__ import annotations

import math

import numpy as np

from ..core.checks import integer, nonnegative_real, positive_real

__all__ = [
    "DISTRIBUTIONS",
    "TRUNCATION",
    "orthogonal",
    "orthogonalize",
    "sample",
    "truncated_normal_std",
    "uniform_half_width",
]

#: Distributions understood by :func:`initmath.init`.
DISTRIBUTIONS: tuple[str, ...] = ("normal", "uniform", "truncated_normal", "orthogonal")
#: Where the truncated normal is cut, in units of the underlying normal's std.
TRUNCATION = 2.0
# U(-a, a) has variance a^2/3 (the integral of x^2/(2a) over (-a, a)), so the uniform of
# unit variance has half-width sqrt(3). Multiplying by it (rather than dividing by sqrt(1/3))
# is also PyTorch's and Keras's arithmetic, so bounds agree to the last bit.
_UNIT_UNIFORM_HALF_WIDTH = math.sqrt(3.0)
# Below this cut truncated_normal_std uses its Taylor series: the closed form loses about
# log10(3/c^2) digits to cancellation; the series' first omitted term is 46c^10/212837625,
# 2e-15 relative at c = 0.1, where the closed form has lost 2.5 digits.
_SMALL_CUT = 0.1


def uniform_half_width(std: float) -> float:
    """Half-width :math:`a = \\sqrt3\\,\\sigma` of the :math:`U(-a, a)` with std ``std`` (>= 0)."""
    return _UNIT_UNIFORM_HALF_WIDTH * nonnegative_real(std, "std")


def _generator(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {rng!r}")
    return rng


def truncated_normal_std(cut: float = TRUNCATION) -> float:
    """Standard deviation of a unit normal truncated to ``(-cut, cut)``.

    .. math:: \\beta(c)^2 = 1 - \\frac{2 c\\, \\varphi(c)}{2\\Phi(c) - 1}
              = 1 - \\frac{2c\\, e^{-c^2/2}/\\sqrt{2\\pi}}{\\operatorname{erf}(c/\\sqrt2)}

    For ``cut=2`` this is Keras's and JAX's constant ``0.87962566103423978``.

    Parameters
    ----------
    cut : float
        Finite and > 0.

    Returns
    -------
    float
        In :math:`(0, 1]`. For small cuts the formula cancels catastrophically, so below
        0.1 the Taylor series :math:`\\beta(c)^2 = \\tfrac{c^2}{3}\\bigl(1 - \\tfrac{2c^2}{15}
        + \\tfrac{2c^4}{315} + \\tfrac{2c^6}{4725} - \\tfrac{2c^8}{31185}\\bigr) + O(c^{12})`
        is used: :math:`\\beta(c) \\to c/\\sqrt3`, the standard deviation of :math:`U(-c, c)`.

    Raises
    ------
    TypeError, ValueError
        A cut that is not a real number, or not finite and > 0 (at 0 the distribution is a
        point mass and its standard deviation would be divided by zero).
    """
    c = positive_real(cut, "cut")
    if c < _SMALL_CUT:
        c2 = c * c
        series = 1.0 - c2 * (2 / 15 - c2 * (2 / 315 + c2 * (2 / 4725 - c2 * (2 / 31185))))
        return c * math.sqrt(series / 3.0)
    phi = math.exp(-0.5 * c * c) / math.sqrt(2.0 * math.pi)
    mass = math.erf(c / math.sqrt(2.0))
    return math.sqrt(1.0 - 2.0 * c * phi / mass)


def _truncated_normal(rng: np.random.Generator, size: int, scale: float, cut: float) -> np.ndarray:
    # Rejection from the untruncated normal: at cut=2 about 95.4% of draws are kept, so a
    # few rounds fill the array; the stream consumed depends only on the seed and size.
    out = np.empty(size)
    filled = 0
    while filled < size:
        need = size - filled
        z = rng.standard_normal(need + need // 16 + 16)
        z = z[np.abs(z) <= cut][:need]
        out[filled : filled + z.size] = z
        filled += z.size
    return out * scale


def sample(rng: np.random.Generator, size: int, distribution: str, std: float) -> np.ndarray:
    """``size`` float64 draws with mean 0 and standard deviation ``std``.

    ``distribution`` is ``"normal"``, ``"uniform"`` or ``"truncated_normal"``; ``orthogonal``
    has its own function because it needs the matrix shape. ``size`` is an integer >= 0 and
    ``std`` a finite number >= 0.
    """
    rng = _generator(rng)
    size = integer(size, "size", minimum=0)
    std = nonnegative_real(std, "std")
    if not isinstance(distribution, str):
        raise TypeError(f"distribution must be a string, got {distribution!r}")
    if distribution == "normal":
        return rng.standard_normal(size) * std
    if distribution == "uniform":
        a = uniform_half_width(std)
        return rng.uniform(-a, a, size) if a > 0 else np.zeros(size)
    if distribution == "truncated_normal":
        return _truncated_normal(rng, size, std / truncated_normal_std(TRUNCATION), TRUNCATION)
    raise ValueError(f"unknown distribution {distribution!r} for sample()")


def orthogonalize(a: np.ndarray, gain: float = 1.0) -> np.ndarray:
    """:math:`gQ` from a Gaussian matrix ``a``: orthonormal rows if ``a`` is wide, else columns.

    The algorithm of Saxe et al. (2014) as PyTorch's ``orthogonal_`` and Keras's
    ``Orthogonal`` implement it: the QR decomposition of ``a`` (transposed when it is
    wide), with the columns of :math:`Q` multiplied by the signs of
    :math:`\\mathrm{diag}(R)`, which makes :math:`Q` Haar-distributed rather than biased by
    the QR routine's sign convention. For a standard Gaussian ``a`` every entry of the result
    has mean square :math:`g^2/\\max(\\text{rows}, \\text{cols})`.

    ``a`` must be a finite real 2-D array with at least one row and one column, ``gain`` a
    finite number >= 0.
    """
    gain = nonnegative_real(gain, "gain")
    if isinstance(a, (str, bytes)) or a is None:
        raise TypeError(f"a must be a real 2-D array, got {a!r}")
    a = np.asarray(a)
    if a.dtype.kind not in "fiu":
        raise TypeError(f"a must be a real 2-D array, got dtype {a.dtype}")
    if a.ndim != 2 or 0 in a.shape:
        raise ValueError(
            f"a must be a 2-D array with at least one row and column, got shape {a.shape}"
        )
    if not np.all(np.isfinite(a)):
        raise ValueError("a must be finite (no NaN or inf)")
    rows, cols = a.shape
    wide = rows < cols
    if wide:
        a = a.T
    q, r = np.linalg.qr(a)
    d = np.sign(np.diag(r))
    d[d == 0] = 1.0  # a zero pivot has probability 0, but never let it zero a column
    q = q * d
    if wide:
        q = q.T
    return gain * q


def orthogonal(rng: np.random.Generator, rows: int, cols: int, gain: float) -> np.ndarray:
    """A ``rows x cols`` matrix :math:`gQ` with orthonormal rows or columns, drawn from ``rng``.

    See :func:`orthogonalize`.
    """
    rng = _generator(rng)
    rows = integer(rows, "rows", minimum=1)
    cols = integer(cols, "cols", minimum=1)
    gain = nonnegative_real(gain, "gain")
    return orthogonalize(rng.standard_normal((rows, cols)), gain)
