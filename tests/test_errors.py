"""Every bad input fails loudly, before any work, with the argument and value named."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import initmath


def raises(exc, *fragments):
    """pytest.raises that also checks the message names every fragment."""
    pattern = "".join(f"(?=.*{re.escape(f)})" for f in fragments)
    return pytest.raises(exc, match=pattern)


@pytest.mark.parametrize(
    ("shape", "exc"),
    [((5,), ValueError), ((), ValueError), ((0, 3), ValueError), ((3, 0), ValueError),
     ((3, -1), ValueError), ((4, 3, 0), ValueError), ((2.0, 3), TypeError),
     ((2, 3.5), TypeError), ((True, 3), TypeError), ("34", TypeError), (7, TypeError),
     ((None, 3), TypeError)],
)
def test_bad_shapes(shape, exc):
    for call in (lambda: initmath.fans(shape), lambda: initmath.std(shape, "he"),
                 lambda: initmath.bound(shape, "he"), lambda: initmath.init(shape, "he")):
        with raises(exc, "shape", repr(shape)):
            call()


def test_numpy_integer_shapes_are_fine():
    assert initmath.fans((np.int64(4), np.int32(3))) == (3, 4)


@pytest.mark.parametrize("bad", ["xaviar", "HE_normal", "", "orthogonal"])
def test_unknown_scheme(bad):
    with raises(ValueError, "scheme", repr(bad)):
        initmath.variance(bad, 10)
    with raises(ValueError, "scheme", repr(bad)):
        initmath.init((3, 3), bad)


def test_scheme_must_be_a_string():
    with raises(TypeError, "scheme", "None"):
        initmath.std((3, 3), None)


def test_aliases_and_case():
    assert initmath.variance("Glorot", 10, 30) == initmath.variance("xavier", 10, 30)
    assert initmath.variance("KAIMING", 10) == initmath.variance("he", 10)


@pytest.mark.parametrize("bad", ["fan", "fan_inn", "avg"])
def test_unknown_mode(bad):
    with raises(ValueError, "mode", repr(bad)):
        initmath.variance("he", 10, 20, mode=bad)
    with raises(ValueError, "mode", repr(bad)):
        initmath.init((3, 3), "he", mode=bad)


@pytest.mark.parametrize("bad", ["gaussian", "trunc_normal", "Orthogonall"])
def test_unknown_distribution(bad):
    with raises(ValueError, "distribution", repr(bad)):
        initmath.init((3, 3), "he", distribution=bad)
    with raises(ValueError, "distribution", repr(bad)):
        initmath.std((3, 3), "he", distribution=bad)


@pytest.mark.parametrize("distribution", ["normal", "orthogonal"])
def test_bound_needs_a_bounded_distribution(distribution):
    with raises(ValueError, "bound", repr(distribution)):
        initmath.bound((3, 3), "he", distribution=distribution)


@pytest.mark.parametrize("bad", ["swish_plus", "gelu", "softmax", "Leaky-ReLU"])
def test_unknown_activation(bad):
    with raises(ValueError, "activation", repr(bad)):
        initmath.gain(bad)
    with raises(ValueError, "activation", repr(bad)):
        initmath.init((3, 3), "he", activation=bad)


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf, -math.inf])
def test_bad_slope(bad):
    with raises(ValueError, "slope", repr(bad)):
        initmath.gain("leaky_relu", bad)
    with raises(ValueError, "slope", repr(bad)):
        initmath.std((3, 3), "he", activation=("leaky_relu", bad))


def test_parameter_for_parameterless_activation():
    with raises(ValueError, "tanh", "0.5"):
        initmath.gain("tanh", 0.5)
    with raises(ValueError, "param"):
        initmath.gain(("leaky_relu", 0.1), 0.2)


@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf])
def test_bad_gain(bad):
    with raises(ValueError, "gain", repr(bad)):
        initmath.variance("he", 10, gain=bad)
    with raises(ValueError, "gain", repr(bad)):
        initmath.init((3, 3), "xavier", gain=bad)


@pytest.mark.parametrize("bad", ["2", True, None, [1.0]])
def test_gain_type(bad):
    if bad is None:
        return  # None means "the scheme's own"
    with raises(TypeError, "gain", repr(bad)):
        initmath.variance("he", 10, gain=bad)


def test_gain_and_activation_together():
    with raises(ValueError, "gain", "activation"):
        initmath.std((3, 3), "he", gain=1.0, activation="relu")


@pytest.mark.parametrize("bad", [0, -3, 0.0, math.nan, math.inf])
def test_bad_fans(bad):
    with raises(ValueError, "fan_in", repr(bad)):
        initmath.variance("lecun", bad)
    with raises(ValueError, "fan_out", repr(bad)):
        initmath.variance("xavier", 10, bad)


def test_fan_type():
    with raises(TypeError, "fan_in", "'10'"):
        initmath.variance("lecun", "10")


def test_fan_out_needed():
    with raises(ValueError, "fan_out"):
        initmath.variance("xavier", 10)
    with raises(ValueError, "fan_out"):
        initmath.variance("he", 10, mode="fan_out")


def test_normal_scheme_arguments():
    with raises(ValueError, "mode", "'fan_in'"):
        initmath.variance("normal", 10, mode="fan_in")
    with raises(ValueError, "std", "'he'"):
        initmath.variance("he", 10, std=0.1)
    with raises(ValueError, "std", "-0.1"):
        initmath.variance("normal", 10, std=-0.1)


def test_orthogonal_takes_no_mode():
    with raises(ValueError, "mode", "'fan_out'"):
        initmath.init((3, 3), "he", distribution="orthogonal", mode="fan_out")


@pytest.mark.parametrize("bad", ["layoutx", "tf", "TORCH_"])
def test_unknown_layout(bad):
    with raises(ValueError, "layout", repr(bad)):
        initmath.fans((3, 3), bad)


@pytest.mark.parametrize("bad", [np.int32, np.complex128, "int8", object, "nonsense"])
def test_bad_dtype(bad):
    with raises(TypeError, "dtype"):
        initmath.init((3, 3), "he", dtype=bad)


@pytest.mark.parametrize("bad", [-1, 1.5, "seed", np.random.RandomState(0), True])
def test_bad_rng(bad):
    with pytest.raises((TypeError, ValueError), match="rng"):
        initmath.init((3, 3), "he", rng=bad)


def test_errors_come_before_randomness():
    # A refused call must not consume the caller's generator.
    gen = np.random.default_rng(0)
    state = gen.bit_generator.state
    with pytest.raises(ValueError):
        initmath.init((3, 3), "he", distribution="orthogonal", mode="fan_in", rng=gen)
    assert gen.bit_generator.state == state


@given(st.text(min_size=1, max_size=12))
def test_no_string_is_evaluated(name):
    # Arbitrary text is looked up in a table, never evaluated: it either names a known
    # activation or is refused with a ValueError.
    try:
        initmath.gain(name)
    except ValueError as exc:
        assert "activation" in str(exc)
