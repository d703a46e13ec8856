"""Turning per-network samples into estimates with standard errors, mergeably and exactly.

Units of one network share its weights, so they are correlated; the independent replicates
are the networks. Each network contributes one value per quantity and layer (for example the
mean of :math:`z^2` over its units and inputs), and the estimate is the mean of those values
over networks, with standard error :math:`s/\\sqrt{N}` from their spread.

The sufficient statistics are the count, :math:`\\sum x_i` and :math:`\\sum x_i^2`, kept as
**exact** sums (:class:`ExactSum`): adding floats in a different order rounds differently, so
ordinary sums of chunks run in different processes would not combine to the bits of a single
run. Exact sums do, whatever the chunking and the order of merging.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ..core.checks import integer

__all__ = ["MAX_LAYERS", "Estimate", "ExactSum", "Moments"]

#: The most layers a :class:`Moments` accepts (far beyond any simulated depth).
MAX_LAYERS = 10**7

# frexp mantissas scaled to integers of 53 bits, and the three parts of their squares (each
# below 2**54): groups of at most 2**8 of them sum within int64.
_MANT_BITS = 53
_HALF = 27
_GROUP = 1 << 8


def _mantissas(values: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray] | None:
    """Every element of ``values`` (finite float64) as :math:`m\\,2^{e}`, :math:`|m| < 2^{53}`.

    Returns the int64 arrays ``(m, e)``, or None when there are no values. ``method`` names
    the :class:`ExactSum` method in the error for a value that is not finite.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0:
        return None
    if not np.all(np.isfinite(v)):
        raise ValueError(f"ExactSum.{method}: values must be finite")
    mant, exp = np.frexp(v)
    ints = np.ldexp(mant, _MANT_BITS).astype(np.int64)  # exact: |mant| < 1
    return ints, exp.astype(np.int64) - _MANT_BITS


class ExactSum:
    """The exact sum of float64 values, as a map exponent -> integer of mantissas.

    Every finite double is :math:`m\\,2^{e}` with an integer :math:`|m| < 2^{53}`; summing
    the :math:`m` of equal :math:`e` in Python integers loses nothing. :meth:`value` rounds
    the exact total once, so the result does not depend on how values were split or ordered.
    """

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: dict[int, int] = {}

    def add(self, values: np.ndarray) -> ExactSum:
        """Add every element of ``values`` (finite float64) exactly; returns self."""
        split = _mantissas(values, "add")
        if split is not None:
            self._accumulate(*split)
        return self

    def add_squares(self, values: np.ndarray) -> ExactSum:
        """Add the exact square of every element of ``values`` (finite float64); returns self.

        With :math:`x = m\\,2^{e}` (:math:`|m| < 2^{53}`), :math:`x^2 = m^2\\,2^{2e}` exactly;
        :math:`m = h\\,2^{27} + l` splits :math:`m^2 = h^2 2^{54} + 2hl\\,2^{27} + l^2` into
        three integers below :math:`2^{54}`. Nothing underflows or overflows, as the float
        product ``x * x`` would for :math:`|x| < 10^{-154}` or :math:`|x| > 10^{154}`.
        """
        split = _mantissas(values, "add_squares")
        if split is None:
            return self
        m, e2 = np.abs(split[0]), 2 * split[1]
        h, lo = m >> _HALF, m & ((1 << _HALF) - 1)
        self._accumulate(h * h, e2 + 2 * _HALF)
        self._accumulate(2 * h * lo, e2 + _HALF)
        self._accumulate(lo * lo, e2)
        return self

    def _accumulate(self, ints: np.ndarray, exps: np.ndarray) -> None:
        # ints: int64 below 2**54 in magnitude; groups of _GROUP of them sum within int64
        for e in np.unique(exps):
            sel = ints[exps == e]
            total = 0
            for start in range(0, sel.size, _GROUP):
                total += int(sel[start : start + _GROUP].sum())
            if total:
                self._parts[int(e)] = self._parts.get(int(e), 0) + total

    def merge(self, other: ExactSum) -> ExactSum:
        """Add another exact sum into this one; returns self."""
        for e, m in other._parts.items():
            self._parts[e] = self._parts.get(e, 0) + m
        return self

    def fraction(self) -> Fraction:
        """The exact sum as a rational number."""
        total = Fraction(0)
        for e, m in self._parts.items():
            total += Fraction(m) * (Fraction(2) ** e)
        return total

    def value(self) -> float:
        """The exact sum rounded once to the nearest double."""
        return float(self.fraction())

    def copy(self) -> ExactSum:
        out = ExactSum()
        out._parts = dict(self._parts)
        return out


@dataclass(frozen=True)
class Estimate:
    """A mean over independent networks with its standard error."""

    mean: float
    se: float
    n: int

    def z(self, predicted: float) -> float:
        """z-score of ``predicted`` against this estimate."""
        if self.se == 0:
            return 0.0 if self.mean == predicted else math.copysign(math.inf, self.mean - predicted)
        return (self.mean - predicted) / self.se


def _sqrt(x: Fraction) -> float:
    """:math:`\\sqrt{x}` of a non-negative fraction, rounded from the exact value without
    under- or overflow: with :math:`x = y\\,4^{k}`, :math:`y \\in [1/4, 4]`,
    :math:`\\sqrt{x} = \\sqrt{y}\\,2^{k}`."""
    if x <= 0:
        return 0.0
    k = (x.numerator.bit_length() - x.denominator.bit_length()) // 2
    y = x / (Fraction(4) ** k) if k >= 0 else x * (Fraction(4) ** -k)
    try:
        return math.ldexp(math.sqrt(float(y)), k)
    except OverflowError:  # beyond the largest double
        return math.inf


@dataclass
class Moments:
    """Mergeable sufficient statistics of one quantity per layer: counts, sums, sums of squares.

    ``counts[l]``, ``sums[l]`` and ``squares[l]`` are the number of networks with a value at
    layer ``l``, the exact sum of those values and the exact sum of their squares (squared
    exactly, :meth:`ExactSum.add_squares`: values from :math:`10^{-300}` to :math:`10^{300}`
    keep their standard errors). ``count`` is the number of networks added.
    """

    n_layers: int
    count: int = 0
    sums: list[ExactSum] = field(default_factory=list)
    squares: list[ExactSum] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.n_layers = integer(self.n_layers, "n_layers", 1)
        if self.n_layers > MAX_LAYERS:  # refused before allocating a list per layer
            raise ValueError(
                f"n_layers must be <= {MAX_LAYERS} (about 1 kB of exact sums per layer), got "
                f"{self.n_layers!r}"
            )
        if not self.sums:
            self.sums = [ExactSum() for _ in range(self.n_layers)]
            self.squares = [ExactSum() for _ in range(self.n_layers)]
        if not self.counts:
            self.counts = [self.count] * self.n_layers

    def add(self, values: np.ndarray, valid: np.ndarray | None = None) -> Moments:
        """Add per-network values, shape ``(n_networks, n_layers)``; returns self.

        ``valid`` (same shape, bool) selects the values to add; the others (an exploded
        network's layers, say) are left out, never replaced by a number. Every added value
        must be finite.
        """
        try:
            v = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"values must be an array of numbers, shape (n, {self.n_layers}), got "
                f"{values!r} ({exc})"
            ) from None
        if v.ndim != 2 or v.shape[1] != self.n_layers:
            raise ValueError(f"values must have shape (n, {self.n_layers}), got {v.shape}")
        if valid is not None:
            valid = np.asarray(valid, dtype=bool)
            if valid.shape != v.shape:
                raise ValueError(f"valid must have shape {v.shape}, got {valid.shape}")
        for layer in range(self.n_layers):
            col = v[:, layer] if valid is None else v[valid[:, layer], layer]
            self.sums[layer].add(col)
            self.squares[layer].add_squares(col)
            self.counts[layer] += col.size
        self.count += v.shape[0]
        return self

    def merge(self, other: Moments) -> Moments:
        """Combine with statistics of other networks (another chunk, process or machine)."""
        if not isinstance(other, Moments):
            raise TypeError(f"other must be a Moments, got {other!r}")
        if other.n_layers != self.n_layers:
            raise ValueError(f"cannot merge {other.n_layers} layers into {self.n_layers}")
        for mine, theirs in zip(self.sums + self.squares, other.sums + other.squares, strict=True):
            mine.merge(theirs)
        self.count += other.count
        self.counts = [a + b for a, b in zip(self.counts, other.counts, strict=True)]
        return self

    def estimates(self) -> list[Estimate]:
        """Mean and standard error per layer (the unbiased sample variance over networks).

        The variance :math:`(\\sum x^2 - (\\sum x)^2/n)/(n-1)` is exact (a fraction); its
        square root is taken without underflow (scaled by powers of four), so a layer of tiny values
        gets a tiny, not a zero, standard error.
        """
        out = []
        for n, s, ss in zip(self.counts, self.sums, self.squares, strict=True):
            if n == 0:
                out.append(Estimate(math.nan, math.nan, 0))
                continue
            total, total_sq = s.fraction(), ss.fraction()
            mean = total / n
            var = (total_sq - total * mean) / (n - 1) if n > 1 else Fraction(0)
            try:
                fvar = float(var) / n
            except OverflowError:  # values near the largest doubles
                fvar = math.inf
            # the float formula where it is exact to rounding (unchanged results), else exact
            se = math.sqrt(fvar) if 1e-300 < fvar < 1e300 else _sqrt(var / n)
            out.append(Estimate(float(mean), se, n))
        return out

    def mean(self) -> np.ndarray:
        return np.array([e.mean for e in self.estimates()])

    def se(self) -> np.ndarray:
        return np.array([e.se for e in self.estimates()])
