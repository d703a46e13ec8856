"""The normalizer-free convention of initmath.gain (gamma = 1/sqrt(Var[phi(z)])) and
DeepMind's table of those gains (initmath.theory.gain_table).

The exact values are checked against an independent computation: Var[phi(z)], z ~ N(0, 1), by
scipy.integrate.quad with the activations written out by hand in ``math``. DeepMind's values
(deepmind/deepmind-research, nfnets/base.py, dict ``nonlinearities``, commit
abc9ba0635da9a9e5c57b124fe004151cd5cbd38) are sampling estimates; they are checked against the
spread of such an estimate, which is itself checked by simulation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

import initmath
from initmath.theory.gain_table import (
    DEEPMIND_NF_GAINS,
    NF_SAMPLE_ROW,
    NF_SAMPLE_ROWS,
    NFGainRow,
    nf_gain_table,
)
from initmath.theory.gains import CONVENTIONS


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def _softplus(x: float) -> float:
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


_L, _A = 1.0507009873554804934, 1.6732632423543772848  # SELU, Klambauer et al. 2017

#: activation -> phi, written independently of the package's SymPy definitions
PHI = {
    "linear": lambda x: x,
    "relu": lambda x: max(x, 0.0),
    "leaky_relu": lambda x: x if x >= 0 else 0.01 * x,
    "tanh": math.tanh,
    "sigmoid": _sigmoid,
    "softplus": _softplus,
    "elu": lambda x: x if x >= 0 else math.expm1(x),
    "selu": lambda x: _L * (x if x >= 0 else _A * math.expm1(x)),
    "gelu": lambda x: x * (1 + math.erf(x / math.sqrt(2))) / 2,
    "silu": lambda x: x * _sigmoid(x),
    "mish": lambda x: x * math.tanh(_softplus(x)),
    "lecun_tanh": lambda x: 1.7159 * math.tanh(2 * x / 3),
}
#: DeepMind's names of functions initmath does not register, as jax.nn computes them
JAX_PHI = {
    "gelu": lambda x: x / 2 * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
    "relu6": lambda x: min(max(x, 0.0), 6.0),
    "log_sigmoid": lambda x: -_softplus(-x),
    "soft_sign": lambda x: x / (1 + abs(x)),
}


def _expect(f) -> float:
    def integrand(z: float) -> float:
        return f(z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)

    total = 0.0
    for lo, hi in ((-40.0, -6.0), (-6.0, 0.0), (0.0, 6.0), (6.0, 40.0)):
        val, _ = integrate.quad(integrand, lo, hi, epsabs=1e-16, epsrel=1e-12, limit=200)
        total += val
    return total


def _variance(phi) -> float:
    m = _expect(phi)
    return _expect(lambda z: (phi(z) - m) ** 2)


def test_the_convention_is_listed_and_checked():
    assert CONVENTIONS == ("torch", "exact", "nf")
    assert initmath.gain("relu", convention="NF") == initmath.gain("relu", convention="nf")
    with pytest.raises(ValueError, match="'nf'"):
        initmath.gain("relu", convention="brock")
    with pytest.raises(TypeError, match="convention"):
        initmath.gain("relu", convention=None)
    with pytest.raises(ValueError, match="unknown activation"):
        initmath.gain("no_such_activation", convention="nf")


@pytest.mark.parametrize("name", sorted(PHI))
def test_nf_gain_against_scipy_quad(name):
    assert set(PHI) == set(initmath.activation_names())
    want = 1 / math.sqrt(_variance(PHI[name]))
    assert initmath.gain(name, convention="nf") == pytest.approx(want, rel=1e-10)


def test_nf_gain_of_mish_and_the_exact_gain_against_scipy_quad():
    # mish's moments reach the exact convention too: E[phi^2] and E[phi'^2]
    phi = PHI["mish"]

    def dphi(x: float) -> float:
        s = _softplus(x)
        return math.tanh(s) + x * _sigmoid(x) / math.cosh(s) ** 2

    assert initmath.gain("mish", convention="exact") == pytest.approx(
        1 / math.sqrt(_expect(lambda z: phi(z) ** 2)), rel=1e-10
    )
    assert initmath.backward_gain("mish") == pytest.approx(
        1 / math.sqrt(_expect(lambda z: dphi(z) ** 2)), rel=1e-10
    )


def test_closed_forms():
    # relu: E = 1/sqrt(2 pi), E[phi^2] = 1/2, so Var = 1/2 - 1/(2 pi): gamma = sqrt(2 pi/(pi-1))
    assert initmath.gain("relu", convention="nf") == math.sqrt(2 * math.pi / (math.pi - 1))
    # leaky relu, slope a: E = (1 - a)/sqrt(2 pi), E[phi^2] = (1 + a^2)/2
    a = 0.2
    var = (1 + a * a) / 2 - (1 - a) ** 2 / (2 * math.pi)
    assert initmath.gain(("leaky_relu", a), convention="nf") == pytest.approx(
        1 / math.sqrt(var), rel=1e-15
    )
    assert initmath.gain("selu", convention="nf") == 1.0  # mean 0, variance 1 exactly
    for odd in ("linear", "tanh", "lecun_tanh"):  # mean 0: the exact gain
        assert initmath.gain(odd, convention="nf") == pytest.approx(
            initmath.gain(odd, convention="exact"), rel=1e-14
        )


def test_nf_gain_of_a_user_activation():
    from initmath.theory.activations import X

    act = initmath.Activation("square_t", X**2)
    # z^2: mean 1, E[z^4] = 3, Var = 2
    assert initmath.gain(act, convention="nf") == pytest.approx(1 / math.sqrt(2), rel=1e-15)


# -- DeepMind's table ------------------------------------------------------------------------
def test_deepmind_table_is_float32_and_complete():
    assert len(DEEPMIND_NF_GAINS) == 16
    assert DEEPMIND_NF_GAINS["tanh"] == 1.5939117670059204
    assert DEEPMIND_NF_GAINS["relu"] == 1.7139588594436646
    for name, value in DEEPMIND_NF_GAINS.items():
        assert float(np.float32(value)) == value, name  # JAX's float32 results, as printed
    rows = nf_gain_table()
    assert [r.name for r in rows] == list(DEEPMIND_NF_GAINS)
    assert all(isinstance(r, NFGainRow) for r in rows)


@pytest.fixture(scope="module")
def table():
    return {r.name: r for r in nf_gain_table()}


def test_exact_column_against_scipy_quad(table):
    for name, phi in PHI.items():
        if name in ("linear", "mish", "lecun_tanh", "gelu", "leaky_relu"):
            continue
        assert table[name].exact == pytest.approx(1 / math.sqrt(_variance(phi)), rel=1e-10)
    for name, phi in JAX_PHI.items():  # gelu in jax.nn's default tanh form
        assert table[name].exact == pytest.approx(1 / math.sqrt(_variance(phi)), rel=1e-10)
    assert table["leaky_relu"].exact == initmath.gain(("leaky_relu", 0.01), convention="nf")
    assert table["identity"].exact == 1.0 and table["identity"].relative_difference == 0.0
    # glu = a sigmoid(b), a, b independent N(0, 1): mean 0, Var = E[sigmoid(z)^2]
    assert table["glu"].exact == pytest.approx(
        1 / math.sqrt(_expect(lambda z: _sigmoid(z) ** 2)), rel=1e-10
    )
    # one function under two names
    assert table["celu"].exact == table["elu"].exact
    assert table["log_sigmoid"].exact == pytest.approx(table["softplus"].exact, rel=1e-13)
    lsm = table["log_softmax"]
    assert lsm.exact is None and lsm.relative_difference is None and lsm.sampling_sd is None
    for r in table.values():
        if r.exact is not None:
            assert r.relative_difference == pytest.approx(r.deepmind / r.exact - 1, abs=1e-16)


def test_deepmind_values_agree_within_sampling_precision(table):
    # The DeepMind file does not say how the constants were estimated; the estimate judged here
    # is gamma_hat = mean(var(phi(x), axis=1))**-0.5 for x of shape (1024, 256), whose
    # expectation is gamma * sqrt(256/255) (the biased row variance) to first order. Each
    # DeepMind value must lie within that bias plus 4 standard deviations of the exact value.
    bias = math.sqrt(NF_SAMPLE_ROW / (NF_SAMPLE_ROW - 1)) - 1
    worst = 0.0
    for r in table.values():
        if r.exact is None or r.name == "identity":
            continue
        assert 0 < r.sampling_sd < 0.005, r
        assert abs(r.relative_difference) <= bias + 4 * r.sampling_sd, r
        worst = max(worst, abs(r.relative_difference))
    # the largest is glu's, 0.119%; every one is positive (a shared sample, presumably)
    assert worst == pytest.approx(table["glu"].relative_difference)
    assert 1.1e-3 < worst < 1.3e-3
    assert all(r.relative_difference >= 0 for r in table.values() if r.exact is not None)


@pytest.mark.parametrize("name", ["relu", "tanh", "sigmoid"])
def test_sampling_sd_by_simulation(name, table):
    # 64 replicate estimates from 1024 x 256 normal samples each (fixed seed). Their mean must be
    # gamma * sqrt(256/255) within 4 standard errors, and their standard deviation the
    # delta-method value within 35% (the sd of a 64-sample sd is 9% of it: 4 of those).
    rng = np.random.default_rng(20210211)
    phi = {
        "relu": lambda x: np.maximum(x, 0.0),
        "tanh": np.tanh,
        "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    }[name]
    r = table[name]
    est = np.array(
        [
            np.mean(np.var(phi(rng.standard_normal((NF_SAMPLE_ROWS, NF_SAMPLE_ROW))), axis=1))
            ** -0.5
            for _ in range(64)
        ]
    )
    rel = est / r.exact - 1
    bias = math.sqrt(NF_SAMPLE_ROW / (NF_SAMPLE_ROW - 1)) - 1
    assert abs(rel.mean() - bias) < 4 * r.sampling_sd / 8
    assert rel.std(ddof=1) == pytest.approx(r.sampling_sd, rel=0.35)
