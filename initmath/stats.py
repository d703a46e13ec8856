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

__all__ = ["Estimate", "ExactSum", "Moments"]

# frexp mantissas scaled to integers of 53 bits; groups of at most 2**9 of them fit in int64.
_MANT_BITS = 53
_GROUP = 1 << 9


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
        v = np.asarray(values, dtype=np.float64).ravel()
        if v.size == 0:
            return self
        if not np.all(np.isfinite(v)):
            raise ValueError("ExactSum.add: values must be finite")
        mant, exp = np.frexp(v)
        ints = np.ldexp(mant, _MANT_BITS).astype(np.int64)  # exact: |mant| < 1
        exp = exp.astype(np.int64) - _MANT_BITS
        for e in np.unique(exp):
            sel = ints[exp == e]
            total = 0
            for start in range(0, sel.size, _GROUP):
                total += int(sel[start : start + _GROUP].sum())
            if total:
                self._parts[int(e)] = self._parts.get(int(e), 0) + total
        return self

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


@dataclass
class Moments:
    """Mergeable sufficient statistics of one quantity per layer: count, sum, sum of squares.

    ``sums[l]`` and ``squares[l]`` are exact sums over networks of the per-network value at
    layer ``l`` and of its square.
    """

    n_layers: int
    count: int = 0
    sums: list[ExactSum] = field(default_factory=list)
    squares: list[ExactSum] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.sums:
            self.sums = [ExactSum() for _ in range(self.n_layers)]
            self.squares = [ExactSum() for _ in range(self.n_layers)]

    def add(self, values: np.ndarray) -> Moments:
        """Add per-network values, shape ``(n_networks, n_layers)``; returns self."""
        v = np.asarray(values, dtype=np.float64)
        if v.ndim != 2 or v.shape[1] != self.n_layers:
            raise ValueError(f"values must have shape (n, {self.n_layers}), got {v.shape}")
        for layer in range(self.n_layers):
            self.sums[layer].add(v[:, layer])
            self.squares[layer].add(v[:, layer] * v[:, layer])
        self.count += v.shape[0]
        return self

    def merge(self, other: Moments) -> Moments:
        """Combine with statistics of other networks (another chunk, process or machine)."""
        if other.n_layers != self.n_layers:
            raise ValueError(f"cannot merge {other.n_layers} layers into {self.n_layers}")
        for mine, theirs in zip(self.sums + self.squares, other.sums + other.squares):
            mine.merge(theirs)
        self.count += other.count
        return self

    def estimates(self) -> list[Estimate]:
        """Mean and standard error per layer (the unbiased sample variance over networks)."""
        out = []
        n = self.count
        for s, ss in zip(self.sums, self.squares):
            if n == 0:
                out.append(Estimate(math.nan, math.nan, 0))
                continue
            total, total_sq = s.fraction(), ss.fraction()
            mean = total / n
            var = (total_sq - total * mean) / (n - 1) if n > 1 else Fraction(0)
            out.append(Estimate(float(mean), math.sqrt(max(float(var), 0.0) / n), n))
        return out

    def mean(self) -> np.ndarray:
        return np.array([e.mean for e in self.estimates()])

    def se(self) -> np.ndarray:
        return np.array([e.se for e in self.estimates()])
