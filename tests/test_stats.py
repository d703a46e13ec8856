"""Exact, mergeable sufficient statistics."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from initmath.stats import ExactSum, Moments

finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)


@given(st.lists(finite, max_size=200))
def test_exact_sum_is_exact(values):
    exact = sum((Fraction(v) for v in values), Fraction(0))
    s = ExactSum().add(np.array(values, dtype=np.float64))
    assert s.fraction() == exact
    assert s.value() == float(exact)
    assert s.value() == math.fsum(values) or not values  # fsum is correctly rounded too


@given(st.lists(finite, min_size=1, max_size=100), st.data())
def test_exact_sum_merge_is_order_free(values, data):
    cut = data.draw(st.integers(0, len(values)))
    perm = data.draw(st.permutations(values))
    a = ExactSum().add(np.array(values[:cut])).merge(ExactSum().add(np.array(values[cut:])))
    b = ExactSum().add(np.array(perm))
    assert a.fraction() == b.fraction()


def test_moments_estimates_match_numpy():
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, size=(1000, 4))
    m = Moments(4).add(x[:300]).merge(Moments(4).add(x[300:]))
    est = m.estimates()
    np.testing.assert_allclose([e.mean for e in est], x.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose([e.se for e in est], x.std(axis=0, ddof=1) / np.sqrt(1000),
                               rtol=1e-12)
    assert all(e.n == 1000 for e in est)


def test_exact_sum_refuses_non_finite():
    import pytest

    with pytest.raises(ValueError, match="finite"):
        ExactSum().add(np.array([1.0, np.inf]))
