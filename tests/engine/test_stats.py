"""Exact, mergeable sufficient statistics."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from initmath.engine.stats import ExactSum, Moments

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
    np.testing.assert_allclose(
        [e.se for e in est], x.std(axis=0, ddof=1) / np.sqrt(1000), rtol=1e-12
    )
    assert all(e.n == 1000 for e in est)


def test_exact_sum_refuses_non_finite():
    import pytest

    with pytest.raises(ValueError, match="finite"):
        ExactSum().add(np.array([1.0, np.inf]))


@given(st.lists(finite, max_size=200))
def test_exact_squares_are_exact(values):
    # x * x in floats under- or overflows for |x| < 1e-154 or > 1e154; the exact squares do not
    exact = sum((Fraction(v) ** 2 for v in values), Fraction(0))
    assert ExactSum().add_squares(np.array(values, dtype=np.float64)).fraction() == exact


def test_tiny_values_keep_their_standard_error():
    # 1e-200 times values with a known spread: the squares (1e-400) are below the doubles,
    # yet the standard error is the scaled one, not 0 (issue 11, item 3)
    rng = np.random.default_rng(1)
    x = rng.normal(3.0, 2.0, size=(500, 1))
    scale = 2.0**-700
    big = Moments(1).add(x).estimates()[0]
    tiny = Moments(1).add(x * scale).estimates()[0]
    assert tiny.mean == big.mean * scale
    assert tiny.se > 0
    assert math.isclose(tiny.se, big.se * scale, rel_tol=1e-15)
    expected = x.std(ddof=1) / math.sqrt(500) * scale
    assert math.isclose(tiny.se, expected, rel_tol=1e-12)
    assert math.isfinite(tiny.z(big.mean * scale * 1.01))


def test_moments_leave_out_invalid_values():
    x = np.array([[1.0, np.inf], [3.0, np.nan], [2.0, 5.0]])
    valid = np.isfinite(x)
    m = Moments(2).add(x, valid)
    est = m.estimates()
    assert m.counts == [3, 1] and m.count == 3
    assert est[0].mean == 2.0 and est[1].mean == 5.0 and est[1].n == 1
    merged = Moments(2).merge(m).merge(Moments(2).add(np.array([[4.0, 7.0]])))
    assert merged.counts == [4, 2] and merged.estimates()[1].mean == 6.0


@pytest.mark.parametrize(
    ("n", "exc"),
    [
        (0, ValueError),
        (-1, ValueError),
        (True, TypeError),
        ("2", TypeError),
        (2.0, TypeError),
        ([2], TypeError),
        (10**30, ValueError),
    ],
)
def test_moments_refuses_bad_layer_counts_up_front(n, exc):
    # 0, -1 and True were accepted; "2", 2.0, [2] gave raw messages; 10**30 hung allocating
    with pytest.raises(exc, match="n_layers") as info:
        Moments(n)
    assert repr(n) in str(info.value)


def test_moments_add_names_values():
    with pytest.raises(TypeError, match="values must be an array of numbers.*'ab'"):
        Moments(2).add("ab")
    m = Moments(np.int64(2)).add(np.ones((3, 2)))
    assert type(m.n_layers) is int and m.counts == [3, 3]
