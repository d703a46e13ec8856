"""initmath.theory.gain_table: the gains of an activation side by side, and the mean split.

The moments are checked against an independent Gauss-Hermite quadrature in NumPy
(``numpy.polynomial.hermite_e``), with the activations written out by hand, and against the
closed forms of ReLU and the identity.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from initmath.theory.gain_table import (
    ActivationGains,
    MeanSplit,
    activation_gains,
    mean_split,
    torch_gain_or_none,
)

_X, _W = np.polynomial.hermite_e.hermegauss(160)
_W = _W / math.sqrt(2 * math.pi)  # E[f(z)] = sum w f(x), z ~ N(0, 1)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# activation: (phi, phi'), smooth, so that the quadrature is accurate to rounding
SMOOTH = {
    "tanh": (np.tanh, lambda x: 1.0 - np.tanh(x) ** 2),
    "sigmoid": (_sigmoid, lambda x: _sigmoid(x) * (1.0 - _sigmoid(x))),
    "silu": (lambda x: x * _sigmoid(x), lambda x: _sigmoid(x) * (1.0 + x * (1.0 - _sigmoid(x)))),
    "softplus": (lambda x: np.logaddexp(0.0, x), _sigmoid),
}


def _expect(f):
    return float(np.sum(_W * f(_X)))


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_gains_agree_with_an_independent_quadrature(name):
    phi, dphi = SMOOTH[name]
    g = activation_gains(name)
    assert g.forward == pytest.approx(1 / math.sqrt(_expect(lambda x: phi(x) ** 2)), rel=1e-12)
    assert g.backward == pytest.approx(1 / math.sqrt(_expect(lambda x: dphi(x) ** 2)), rel=1e-12)


@pytest.mark.parametrize("name", sorted(SMOOTH))
def test_mean_split_agrees_with_an_independent_quadrature(name):
    phi, _ = SMOOTH[name]
    s = mean_split(name)
    mean, second = _expect(phi), _expect(lambda x: phi(x) ** 2)
    assert s.mean == pytest.approx(mean, rel=1e-12, abs=1e-15)
    assert s.second == pytest.approx(second, rel=1e-12)
    assert s.variance == pytest.approx(_expect(lambda x: (phi(x) - mean) ** 2), rel=1e-10)


def test_exact_values_of_the_relu_family_and_the_identity():
    relu = activation_gains("relu")
    assert relu.forward == relu.backward == relu.torch == math.sqrt(2)
    assert relu.forward_exact and relu.backward_exact
    assert relu.torch_factor == pytest.approx(1.0, abs=1e-15)
    a = 0.2
    leaky = activation_gains(("leaky_relu", a))
    assert leaky.forward == pytest.approx(math.sqrt(2 / (1 + a * a)), rel=1e-15)
    assert leaky.torch == pytest.approx(leaky.forward, rel=1e-15)
    assert leaky.activation == ("leaky_relu", a)
    linear = activation_gains("linear")
    assert (linear.forward, linear.backward, linear.torch) == (1.0, 1.0, 1.0)


def test_pytorch_gain_and_its_factor():
    tanh = activation_gains("tanh")
    assert tanh.torch == 5 / 3
    m = 1 / tanh.forward**2  # E[tanh(z)^2]
    assert tanh.torch_factor == pytest.approx((5 / 3) ** 2 * m, rel=1e-12)
    selu = activation_gains("selu")
    assert selu.torch == 0.75
    assert selu.forward == pytest.approx(1.0, abs=1e-3)  # Klambauer et al.'s constants


@pytest.mark.parametrize("name", ["gelu", "silu", "elu", "softplus", "lecun_tanh"])
def test_activations_pytorch_does_not_know_have_no_torch_gain(name):
    assert torch_gain_or_none(name) is None
    g = activation_gains(name)
    assert g.torch is None and g.torch_factor is None
    assert isinstance(g, ActivationGains) and g.forward > 0 and g.backward > 0


def test_mean_split_closed_forms():
    relu = mean_split("relu")  # E[relu] = 1/sqrt(2 pi), E[relu^2] = 1/2
    assert relu.mean == pytest.approx(1 / math.sqrt(2 * math.pi), rel=1e-15)
    assert relu.second == pytest.approx(0.5, rel=1e-15)
    assert relu.mean_share == pytest.approx(1 / math.pi, rel=1e-14)
    assert relu.variance_gain == pytest.approx(1 / math.sqrt(0.5 - 1 / (2 * math.pi)), rel=1e-14)
    assert relu.variance_gain_factor == pytest.approx(relu.variance_gain**2 * relu.second)
    assert relu.forward == pytest.approx(math.sqrt(2), rel=1e-15)
    sig = mean_split("sigmoid")  # symmetric about 1/2
    assert sig.mean == pytest.approx(0.5, abs=1e-14)
    lin = mean_split("linear")
    assert lin.mean == pytest.approx(0.0, abs=1e-15) and lin.mean_share == pytest.approx(0.0)
    assert lin.variance_gain == pytest.approx(lin.forward)
    assert isinstance(lin, MeanSplit)


def test_an_unknown_activation_is_refused():
    with pytest.raises(ValueError):
        activation_gains("no_such_activation")
    with pytest.raises(ValueError):
        mean_split("no_such_activation")
