"""The mean-field functions refuse bad arguments by name (initmath.theory.meanfield.arguments):
non-numbers, NaN, values out of the domain, huge and subnormal values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq

from initmath.theory import meanfield as mf
from tests.theory.meanfield.references import (
    ref_chi1_tanh,
)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: mf.length_map("tanh", 1.0, 0.0, 0.0), "sigma_w2 must be > 0"),
        (lambda: mf.length_map("tanh", 1.0, -1.0, 0.0), "sigma_w2 must be > 0"),
        (lambda: mf.length_map("tanh", 1.0, 1.0, -0.1), "sigma_b2 must be >= 0"),
        (lambda: mf.length_map("tanh", -1.0, 1.0, 0.0), "q must be >= 0"),
        (lambda: mf.length_map("tanh", float("nan"), 1.0, 0.0), "q must be finite"),
        (lambda: mf.length_map("tanh", 1.0, float("nan"), 0.0), "sigma_w2 must be finite"),
        (lambda: mf.length_map("nope", 1.0, 1.0, 0.0), "unknown activation"),
        (lambda: mf.fixed_point("tanh", 1.0, 0.0, q0=0.0), "q0 must be > 0"),
        (lambda: mf.correlation_map("tanh", 1.5, 1.0, 0.1), r"c must lie in \[-1, 1\]"),
        (lambda: mf.correlation_map("tanh", 0.5, 0.5, 0.0), "q > 0"),
        (lambda: mf.correlation_map("tanh", 0.5, 1.0, 0.0, q=0.0), "q > 0"),
        (lambda: mf.critical_line("tanh", 0.1, bracket=(3.0, 5.0)), "does not change sign"),
        (lambda: mf.chi1("relu", 3.0, 0.0), "no finite fixed point"),
        (lambda: mf.critical_line("tanh", 0.1, bracket=(5.0, 3.0)), "lo < hi"),
        (lambda: mf.correlation_map("tanh", float("nan"), 1.5, 0.1), "c must be finite"),
    ],
)
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_type_errors():
    with pytest.raises(TypeError, match="sigma_w2"):
        mf.chi1("tanh", "1.0", 0.0)
    with pytest.raises(TypeError, match="q must be a real number"):
        mf.length_map("tanh", "abc", 1.0, 0.0)
    with pytest.raises(TypeError, match="activation"):
        mf.chi1(3, 1.0, 0.0)


@pytest.mark.parametrize(
    ("call", "name", "shown"),
    [
        (lambda: mf.length_map("relu", "1.0", 2.0, 0.0), "q", "'1.0'"),
        (lambda: mf.length_map("relu", ["1.0", "2"], 2.0, 0.0), "q", "['1.0', '2']"),
        (lambda: mf.length_map("relu", [1.0, True], 2.0, 0.0), "q", "[1.0, True]"),
        (lambda: mf.length_map("relu", np.array(True), 2.0, 0.0), "q", "array(True)"),
        (lambda: mf.length_map("relu", [1.0, None], 2.0, 0.0), "q", "[1.0, None]"),
        (lambda: mf.length_map("relu", np.array([1j]), 2.0, 0.0), "q", "array([0.+1.j])"),
        (lambda: mf.length_slope("relu", [1.0], 2.0, 0.0), "q", "[1.0]"),
        (lambda: mf.length_slope("relu", "1.0", 2.0, 0.0), "q", "'1.0'"),
        (lambda: mf.correlation_map("tanh", "0.5", 1.0, 0.1), "c", "'0.5'"),
        (lambda: mf.correlation_map("tanh", ["0.5"], 1.0, 0.1), "c", "['0.5']"),
        (lambda: mf.correlation_map("tanh", 0.5, 1.0, 0.1, q="1.0"), "q", "'1.0'"),
        (lambda: mf.correlation_map("tanh", 0.5, 1.0, 0.1, q=[1.0]), "q", "[1.0]"),
        (lambda: mf.correlation_slope("tanh", [0.5], 1.0, 0.1), "c", "[0.5]"),
        (lambda: mf.correlation_slope("tanh", "0.5", 1.0, 0.1), "c", "'0.5'"),
        (
            lambda: mf.correlation_slope("tanh", 0.5, 1.0, 0.1, q=np.array([1.0])),
            "q",
            "array([1.])",
        ),
        (lambda: mf.critical_line("tanh", 0.1, bracket=2.0), "bracket", "2.0"),
        (lambda: mf.critical_line("tanh", 0.1, bracket={0.5, 2.0}), "bracket", "{0.5, 2.0}"),
        (lambda: mf.critical_line("tanh", 0.1, bracket=iter([0.5, 2.0])), "bracket", "iterator"),
    ],
)
def test_non_numbers_are_refused_by_name(call, name, shown):
    with pytest.raises(TypeError) as info:
        call()
    assert str(info.value).startswith(f"{name} must be") and shown in str(info.value)


def test_arrays_of_numbers_and_bracket_sequences_are_still_accepted():
    # bias-free ReLU at sigma_w2 = 2 maps every q to itself (exactly, up to quadrature rounding)
    got = mf.length_map("relu", np.array([1, 3], dtype=np.int32), 2.0, 0.0)
    assert got == pytest.approx([1.0, 3.0], rel=1e-13)
    # arc-cosine kernel of ReLU at c = 0: 1/pi (sigma_w2 = 2, no bias)
    assert mf.correlation_map("relu", [0.0], 2.0, 0.0, q=np.float32(1.0)) == pytest.approx(
        [1 / math.pi], rel=1e-12
    )
    expected = brentq(lambda w: ref_chi1_tanh(w, 0.1) - 1, 1.0, 3.0, xtol=1e-12)
    for bracket in ([0.5, 3.0], np.array([0.5, 3.0]), (0.5, 3.0)):
        assert mf.critical_line("tanh", 0.1, bracket=bracket) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: mf.length_map("relu", 1e308, 2.0, 0.0), "not finite in float64 at q=1e+308"),
        (lambda: mf.length_map("relu", [1.0, 1e308], 2.0, 0.0), "at q=1e+308"),
        (lambda: mf.length_map("relu", 1.0, 1e101, 0.0), "sigma_w2 must be <= 1e+100, got 1e+101"),
        (lambda: mf.length_map("relu", 1.0, 2.0, 1e200), "sigma_b2 must be <= 1e+100"),
        (lambda: mf.fixed_point("relu", 1.0, 0.0, q0=1e308), "q0 must be <= 1e+100"),
        (lambda: mf.chi1("tanh", 1e300, 0.1), "sigma_w2 must be <= 1e+100"),
        (lambda: mf.depth_scales("tanh", 1.0, 1e308), "sigma_b2 must be <= 1e+100"),
        (lambda: mf.critical_line("tanh", 0.1, bracket=(0.5, 1e308)), "bracket must be <= 1e+100"),
        (lambda: mf.critical_line("tanh", 0.1, q0=1e200), "q0 must be <= 1e+100"),
        (lambda: mf.correlation_map("relu", 0.5, 1.0, 0.0, q=1e308), "q must be <= 1e+100"),
        (lambda: mf.correlation_slope("tanh", 0.5, 1.0, 0.1, q=1e308), "q must be <= 1e+100"),
        (lambda: mf.correlation_map("relu", 0.5, 1.0, 0.0, q=1e-320), "q must be 0 or >= 1e-280"),
        (lambda: mf.correlation_map("tanh", 0.5, 1.0, 0.0, q=5e-324), "got 5e-324"),
        # an int beyond float64: OverflowError from float() before
        (lambda: mf.chi1("tanh", 10**400, 0.0), "sigma_w2 must be finite"),  # beyond the doubles
        (lambda: mf.length_map("relu", 10**400, 2.0, 0.0), "q must be finite"),
    ],
)
def test_huge_and_subnormal_values_are_refused_not_answered_wrongly(call, fragment):
    # before: inf (length_map), 'divergent' q* = inf (relu from q0 = 1e308), 0.0 for a slope
    # that is not 0, 0.573 for ReLU's C(0.5; 1e-320) = 0.609, NaN from 0/0 (q = 5e-324)
    with pytest.raises(ValueError) as info:
        call()
    assert fragment in str(info.value).replace(" (the domain of the mean-field maps)", "")
