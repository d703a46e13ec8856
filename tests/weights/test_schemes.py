"""Scheme variances against independent re-implementations of PyTorch and Keras/JAX.

The reference functions below transcribe ``torch/nn/init.py`` (PyTorch 2.x) and
``keras/src/initializers/random_initializers.py`` (Keras 3), which JAX's
``jax.nn.initializers.variance_scaling`` matches. They are written out here, separately from
the package, so that a slip in one is caught by the other.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import initmath
from tests.strategies import (
    fan_schemes,
    gains,
    layer_shapes,
    modes,
    positive_fans,
    sampled_distributions,
    slopes,
    torch_to_keras,
)

REL = 1e-14  # a few ulps: the formulas are the same, the order of the arithmetic may differ


# --- PyTorch, transcribed ------------------------------------------------------------------
def torch_fans(shape):
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def torch_calculate_gain(nonlinearity, param=None):
    if nonlinearity in (
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
    ):
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(nonlinearity)


def torch_kaiming_std(shape, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    fan_in, fan_out = torch_fans(shape)
    fan = fan_in if mode == "fan_in" else fan_out
    return torch_calculate_gain(nonlinearity, a) / math.sqrt(fan)


def torch_xavier_std(shape, gain=1.0):
    fan_in, fan_out = torch_fans(shape)
    return gain * math.sqrt(2.0 / float(fan_in + fan_out))


# --- Keras 3 / JAX, transcribed -----------------------------------------------------------
def keras_variance_scaling(shape, scale, mode, distribution):
    """(kind, parameter) of what VarianceScaling draws: the normal's stddev or the limit."""
    receptive = math.prod(shape[:-2])
    fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
    if mode == "fan_in":
        scale /= max(1.0, fan_in)
    elif mode == "fan_out":
        scale /= max(1.0, fan_out)
    else:
        scale /= max(1.0, (fan_in + fan_out) / 2.0)
    if distribution == "truncated_normal":
        return "truncated_normal", math.sqrt(scale) / 0.87962566103423978
    if distribution == "untruncated_normal":
        return "normal", math.sqrt(scale)
    return "uniform", math.sqrt(3.0 * scale)


# --- PyTorch ----------------------------------------------------------------------------------
SHAPES = [(100, 300), (300, 100), (32, 16, 3), (64, 3, 5, 5), (2, 4, 3, 3, 3)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("mode", ["fan_in", "fan_out"])
@pytest.mark.parametrize(
    ("activation", "a", "nonlinearity"),
    [
        (None, 0.0, "leaky_relu"),
        ("relu", 0.0, "relu"),
        (("leaky_relu", 0.2), 0.2, "leaky_relu"),
        ("tanh", 0.0, "tanh"),
        ("selu", 0.0, "selu"),
        ("sigmoid", 0.0, "sigmoid"),
        ("linear", 0.0, "linear"),
    ],
)
def test_he_matches_torch_kaiming(shape, mode, activation, a, nonlinearity):
    ref = torch_kaiming_std(shape, a=a, mode=mode, nonlinearity=nonlinearity)
    ours = initmath.std(shape, "he", activation=activation, mode=mode)
    assert ours == pytest.approx(ref, rel=REL)
    # kaiming_uniform_: bound = sqrt(3) * std
    ours_b = initmath.bound(shape, "kaiming", activation=activation, mode=mode)
    assert ours_b == pytest.approx(math.sqrt(3.0) * ref, rel=REL)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("activation", [None, "relu", "tanh", ("leaky_relu", 0.1)])
def test_xavier_matches_torch(shape, activation):
    g = 1.0 if activation is None else initmath.gain(activation)
    ref = torch_xavier_std(shape, gain=g)
    assert initmath.std(shape, "xavier", activation=activation) == pytest.approx(ref, rel=REL)
    assert initmath.std(shape, "glorot", gain=g) == pytest.approx(ref, rel=REL)
    assert initmath.bound(shape, "xavier", activation=activation) == pytest.approx(
        math.sqrt(3.0) * ref, rel=REL
    )


@pytest.mark.parametrize("shape", SHAPES)
def test_standard_is_torch_default_linear_init(shape):
    # nn.Linear/ConvNd.reset_parameters: kaiming_uniform_(w, a=sqrt(5)).
    ref_bound = math.sqrt(3.0) * torch_kaiming_std(shape, a=math.sqrt(5))
    fan_in, _ = torch_fans(shape)
    assert ref_bound == pytest.approx(1 / math.sqrt(fan_in), rel=REL)  # the classic U(+-1/sqrt n)
    assert initmath.bound(shape, "standard") == pytest.approx(ref_bound, rel=REL)
    assert initmath.variance("standard", fan_in) == pytest.approx(1 / (3 * fan_in), rel=REL)


def test_torch_gain_table():
    for name in (
        "linear",
        "conv1d",
        "conv2d",
        "conv3d",
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "sigmoid",
        "tanh",
        "relu",
        "leaky_relu",
        "selu",
    ):
        assert initmath.gain(name) == torch_calculate_gain(name)
    assert initmath.gain("leaky_relu", 0.2) == torch_calculate_gain("leaky_relu", 0.2)
    assert initmath.gain(("leaky_relu", 0.0)) == math.sqrt(2.0)


@given(slopes)
def test_leaky_relu_gain_property(slope):
    g = initmath.gain("leaky_relu", slope)
    # the gain that makes (1 + a^2)/2 * g^2 = 1
    assert g * g * (1 + slope * slope) / 2 == pytest.approx(1.0, rel=1e-12)


# --- Keras / JAX ----------------------------------------------------------------------------
KERAS_PRESETS = {  # name: (scale, mode, initmath scheme)
    "lecun": (1.0, "fan_in", "lecun"),
    "glorot": (1.0, "fan_avg", "xavier"),
    "he": (2.0, "fan_in", "he"),
}


@pytest.mark.parametrize("shape", [torch_to_keras(s) for s in SHAPES])
@pytest.mark.parametrize("preset", sorted(KERAS_PRESETS))
@pytest.mark.parametrize("mode", [None, "fan_in", "fan_out", "fan_avg"])
def test_matches_keras_variance_scaling(shape, preset, mode):
    scale, own_mode, scheme = KERAS_PRESETS[preset]
    m = own_mode if mode is None else mode
    _, tn_std = keras_variance_scaling(shape, scale, m, "truncated_normal")
    _, n_std = keras_variance_scaling(shape, scale, m, "untruncated_normal")
    _, limit = keras_variance_scaling(shape, scale, m, "uniform")
    kw = {"layout": "keras", "mode": mode}
    assert initmath.std(shape, scheme, **kw) == pytest.approx(n_std, rel=REL)
    got = initmath.bound(shape, scheme, distribution="uniform", **kw)
    assert got == pytest.approx(limit, rel=REL)
    # Keras draws N(0, tn_std) cut at +-2 tn_std: the same cut, and after truncation the same std.
    cut = initmath.bound(shape, scheme, distribution="truncated_normal", **kw)
    assert cut == pytest.approx(2 * tn_std, rel=REL)
    assert initmath.std(shape, scheme, distribution="truncated_normal", **kw) == pytest.approx(
        tn_std * initmath.truncated_normal_std(), rel=REL
    )


def test_truncated_normal_constant():
    from scipy.stats import truncnorm

    assert initmath.truncated_normal_std() == pytest.approx(truncnorm(-2, 2).std(), rel=1e-15)
    assert initmath.truncated_normal_std() == pytest.approx(0.87962566103423978, rel=1e-15)
    assert initmath.truncated_normal_std(1.0) == pytest.approx(truncnorm(-1, 1).std(), rel=1e-14)


# --- the formulas themselves ------------------------------------------------------------------
@given(positive_fans, positive_fans)
def test_scheme_formulas(fan_in, fan_out):
    assert initmath.variance("lecun", fan_in) == pytest.approx(1 / fan_in, rel=REL)
    assert initmath.variance("he", fan_in) == pytest.approx(2 / fan_in, rel=REL)
    assert initmath.variance("he", fan_in, fan_out, mode="fan_out") == pytest.approx(
        2 / fan_out, rel=REL
    )
    assert initmath.variance("xavier", fan_in, fan_out) == pytest.approx(
        2 / (fan_in + fan_out), rel=REL
    )
    assert initmath.variance("standard", fan_in) == pytest.approx(1 / (3 * fan_in), rel=REL)
    assert initmath.variance("normal", fan_in) == pytest.approx(1e-4, rel=REL)
    assert initmath.variance("normal", fan_in, std=0.1) == pytest.approx(1e-2, rel=REL)


@given(fan_schemes, positive_fans, positive_fans, gains, modes)
def test_gain_scales_variance_quadratically(scheme, fan_in, fan_out, g, mode):
    base = initmath.variance(scheme, fan_in, fan_out, gain=1.0, mode=mode)
    if g > 0 and g * g * base < 1e-300:
        # at the bottom of float64 the result may underflow; then it is refused, never 0
        try:
            v = initmath.variance(scheme, fan_in, fan_out, gain=g, mode=mode)
        except ValueError as exc:
            assert "underflows to 0" in str(exc) and f"gain={g!r}" in str(exc)
            return
        assert v > 0
    assert initmath.variance(scheme, fan_in, fan_out, gain=g, mode=mode) == pytest.approx(
        g * g * base, rel=1e-12, abs=1e-300
    )


@given(
    fan_schemes, layer_shapes(), st.sampled_from(["torch", "keras"]), modes, sampled_distributions
)
def test_std_is_sqrt_variance_of_fans(scheme, shape, layout, mode, distribution):
    if layout == "keras":
        shape = torch_to_keras(shape)
    fi, fo = initmath.fans(shape, layout)
    s = initmath.std(shape, scheme, layout=layout, mode=mode, distribution=distribution)
    assert s * s == pytest.approx(initmath.variance(scheme, fi, fo, mode=mode), rel=1e-13)


@given(fan_schemes, layer_shapes(), gains)
def test_uniform_bound_gives_std(scheme, shape, g):
    # U(-a, a) has variance a^2 / 3.
    a = initmath.bound(shape, scheme, gain=g)
    assert a * a / 3 == pytest.approx(initmath.std(shape, scheme, gain=g) ** 2, rel=1e-13, abs=0)


def test_returns_python_floats():
    # numpy scalars break {glue:text} in the book.
    assert type(initmath.variance("he", 10)) is float
    assert type(initmath.std((3, 4), "he")) is float
    assert type(initmath.bound((3, 4), "he")) is float
    assert type(initmath.gain("tanh")) is float


def test_one_table_of_each_schemes_own_activation():
    from pathlib import Path

    from initmath.practice.verification import CHECKED_WITH
    from initmath.weights.schemes import DEFAULT_MODE, SCHEME_ACTIVATION

    assert dict(SCHEME_ACTIVATION) == {
        "lecun": "linear",
        "xavier": "linear",
        "he": "relu",
        "standard": "linear",
    }
    assert dict(DEFAULT_MODE) == {
        "lecun": "fan_in",
        "xavier": "fan_avg",
        "he": "fan_in",
        "standard": "fan_in",
    }
    # the default gain is the own activation's; verification differs only where it says so
    for scheme, act in SCHEME_ACTIVATION.items():
        assert initmath.std((64, 32), scheme) == initmath.std((64, 32), scheme, activation=act)
    assert {s: a for s, a in CHECKED_WITH.items() if SCHEME_ACTIVATION.get(s) != a} == {
        "xavier": "tanh",
        "standard": "tanh",
        "fixed": "tanh",
    }
    package = Path(initmath.__file__).parent
    owners = sorted(p.name for p in package.rglob("*.py") if '"he": "relu"' in p.read_text())
    assert owners == ["schemes.py"], owners


def test_fixed_scheme_keeps_its_old_name_normal():
    """``"normal"`` was the fixed-std scheme's name until it was renamed ``"fixed"`` (it clashed
    with the distribution ``"normal"``); the old name still gives the same numbers."""
    for std in (None, 0.1, 2.5):
        kw = {} if std is None else {"std": std}
        assert initmath.variance("normal", 7, **kw) == initmath.variance("fixed", 7, **kw)
        assert initmath.std((3, 7), "normal", **kw) == (0.01 if std is None else std)
    assert initmath.Network((4, 4), "tanh", scheme="normal", std=0.5).scheme == "fixed"
    with pytest.raises(ValueError, match="scheme 'fixed' has a fixed std and takes no mode"):
        initmath.variance("normal", 7, mode="fan_in")
