"""The description of a random network (``initmath.engine.network``): what it derives, that
every consumer takes it and gives the same result as its short form, and its checks."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import initmath
from initmath import Network
from initmath.engine import jacobian
from initmath.engine.network import Dense, as_network
from initmath.engine.reference import simulate_numpy
from initmath.practice import lsuv, training

ALT = [64, 256, 32, 128]


@pytest.mark.parametrize("distribution", ["normal", "uniform", "truncated_normal", "orthogonal"])
@pytest.mark.parametrize(
    ("scheme", "mode"), [("he", None), ("xavier", None), ("he", "fan_out"), ("lecun", None)]
)
def test_layers_carry_the_schemes_variance_and_scale(scheme, mode, distribution):
    if distribution == "orthogonal" and mode is not None:
        with pytest.raises(ValueError, match="mode"):  # its scale is the gain alone
            Network(ALT, "relu", scheme=scheme, distribution=distribution, mode=mode)
        return
    net = Network(ALT, "relu", scheme=scheme, distribution=distribution, mode=mode, gain=1.3)
    assert net.depth == 3 and [layer.shape for layer in net.layers] == [
        (256, 64),
        (32, 256),
        (128, 32),
    ]
    for layer in net.layers:
        s = initmath.std(layer.shape, scheme, distribution=distribution, mode=mode, gain=1.3)
        assert layer.variance == s * s
        assert layer.sigma_w2 == layer.n_in * s * s
        if distribution == "uniform":
            assert layer.scale == initmath.bound(
                layer.shape, scheme, distribution="uniform", mode=mode, gain=1.3
            )
        elif distribution == "truncated_normal":
            assert layer.scale == s / initmath.truncated_normal_std()
        elif distribution == "orthogonal":  # the gain: a drawn matrix's mean square
            w = initmath.init(
                layer.shape, scheme, distribution="orthogonal", mode=mode, gain=1.3, rng=0
            )
            assert np.mean(w**2) == pytest.approx(layer.variance, rel=1e-12)
            assert layer.scale**2 / max(layer.shape) == pytest.approx(layer.variance, rel=1e-12)
        else:
            assert layer.scale == s


def test_mean_field_quantities():
    net = Network([100] * 4, "tanh", scheme="lecun", gain=1.5, bias_std=0.3, input_std=2.0)
    assert net.sigma_w2 == pytest.approx((2.25,) * 3, rel=1e-15)
    assert net.sigma_b2 == pytest.approx(0.09) and net.input_q == 4.0
    he = Network([256] * 11, "relu")  # the defaults: He, normal
    assert he.scheme == "he" and he.distribution == "normal" and he.depth == 10
    assert he.sigma_w2 == pytest.approx((2.0,) * 10, rel=1e-15)


def test_aliases_are_resolved_and_the_object_is_frozen():
    net = Network([8, 8], "relu", scheme="kaiming", distribution="normal")
    assert net.scheme == "he"
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.scheme = "xavier"  # type: ignore[misc]
    assert Network([8, 8], "relu") == Network((8, 8), "relu")
    assert hash(Network([8, 8], "relu")) == hash(Network((8, 8), "relu"))
    assert Network([8, 8], "relu") != Network([8, 8], "relu", bias_std=0.1)
    assert isinstance(net.layers[0], Dense)


def test_replace_checks_like_the_constructor():
    net = Network([8, 8, 8], "tanh")
    assert net.replace(bias_std=0.5).bias_std == 0.5 and net.bias_std == 0.0
    assert net.replace(widths=[8, 4]).layers[-1].shape == (4, 8)
    with pytest.raises(ValueError, match="bias_std"):
        net.replace(bias_std=-1.0)
    with pytest.raises(TypeError, match="colour"):
        net.replace(colour="red")
    assert Network(net.widths, net.activation, **net.options()) == net


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        (([4], "relu"), {}, ValueError, "widths"),
        (([4, 2.5], "relu"), {}, TypeError, "widths"),
        (([4, 4], "no_such"), {}, ValueError, "no_such"),
        (([4, 4], "relu"), {"scheme": "nope"}, ValueError, "scheme"),
        (([4, 4], "relu"), {"distribution": "cauchy"}, ValueError, "distribution"),
        (([4, 4], "relu"), {"bias_std": math.nan}, ValueError, "bias_std"),
        (([4, 4], "relu"), {"input_std": 0.0}, ValueError, "input_std"),
        (([4, 4], "relu"), {"scheme": "fixed", "std": "1"}, TypeError, "std"),
        (([4, 4], "relu"), {"mode": "fan_middle"}, ValueError, "mode"),
        (([4, 4], "relu"), {"n_inputs": 3}, TypeError, "n_inputs"),
    ],
)
def test_bad_descriptions_name_the_argument(args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        Network(*args, **kwargs)


def test_a_network_and_options_together_are_refused():
    net = Network([4, 4], "relu")
    assert as_network(net) is net
    with pytest.raises(ValueError, match="bias_std"):
        initmath.simulate(net, bias_std=0.5)
    with pytest.raises(ValueError, match="activation"):
        initmath.predict(net, "tanh")
    with pytest.raises(TypeError, match="activation"):
        initmath.simulate([4, 4])


NET = Network(
    [16, 32, 32, 8], "tanh", scheme="xavier", distribution="uniform", bias_std=0.2, input_std=0.7
)
SHORT = ([16, 32, 32, 8], "tanh")
OPTIONS = {"scheme": "xavier", "distribution": "uniform", "bias_std": 0.2, "input_std": 0.7}


def test_every_consumer_gives_the_short_forms_result_bit_for_bit():
    a = initmath.simulate(NET, n_networks=40, seed=5, backward=True, record=("mean",))
    b = initmath.simulate(*SHORT, n_networks=40, seed=5, backward=True, record=("mean",), **OPTIONS)
    for key in ("q", "q_se", "grad_q", "mean"):
        assert np.array_equal(getattr(a, key), getattr(b, key))
    assert a.network == NET and a.config == b.config
    pa, pb = (
        initmath.predict(NET, backward=True),
        initmath.predict(*SHORT, backward=True, **OPTIONS),
    )
    assert np.array_equal(pa[0], pb[0]) and np.array_equal(pa[1], pb[1])
    ra = simulate_numpy(NET, n_networks=20, seed=2)
    rb = simulate_numpy(*SHORT, n_networks=20, seed=2, **OPTIONS)
    assert all(np.array_equal(ra[k], rb[k]) for k in ra)
    ma, mb = training.network(NET, seed=3), training.network(*SHORT, seed=3, **OPTIONS)
    assert all(np.array_equal(x, y) for x, y in zip(ma.weights, mb.weights, strict=True))
    assert all(np.array_equal(x, y) for x, y in zip(ma.biases, mb.biases, strict=True))


def test_training_draws_the_descriptions_weights_and_biases():
    model = training.network(NET, seed=3)
    for ell, (w, b) in enumerate(zip(model.weights, model.biases, strict=True)):
        layer = NET.layers[ell]
        expected = initmath.init(
            layer.shape, "xavier", distribution="uniform", rng=np.random.default_rng([3, ell])
        )
        assert np.array_equal(w, expected)
        assert np.array_equal(b, np.random.default_rng([3, ell, 1]).normal(0.0, 0.2, layer.n_out))
    # no bias scale: zero biases, nothing drawn for them
    plain = training.network(NET.replace(bias_std=0.0), seed=3)
    assert all(not b.any() for b in plain.biases)


def test_predict_follows_the_layers_variance_map():
    net = Network([50, 200, 100], "relu", scheme="he", bias_std=0.1, input_std=2.0)
    q, g = initmath.predict(net, backward=True)
    q1 = 50 * net.layers[0].variance * 4.0 + 0.01
    assert q[0] == pytest.approx(q1, rel=1e-15)
    assert q[1] == pytest.approx(200 * net.layers[1].variance * q1 / 2 + 0.01, rel=1e-12)
    assert g[1] == 1.0
    assert g[0] == pytest.approx(100 * net.layers[1].variance * 0.5, rel=1e-12)


def test_lsuv_takes_a_network_or_the_papers_short_form():
    x = np.random.default_rng(0).standard_normal((64, 16))
    paper = Network([16, 32, 8], "tanh", scheme="lecun", distribution="orthogonal")
    a = lsuv.lsuv(paper, x, seed=1)
    b = lsuv.lsuv([16, 32, 8], "tanh", x, seed=1)
    assert all(np.array_equal(u, v) for u, v in zip(a.weights, b.weights, strict=True))
    with pytest.raises(TypeError, match="batch"):
        lsuv.lsuv([16, 32, 8], "tanh")
    with pytest.raises(TypeError, match="third"):
        lsuv.lsuv(paper, x, x)


def test_jacobian_functions_take_a_square_network():
    net = Network([32] * 5, "tanh", scheme="lecun", gain=1.2, bias_std=0.1)
    mf = jacobian.mean_field(net)
    assert (mf.depth, mf.width, mf.distribution) == (4, 32, "normal")
    assert mf.sigma_w2 == net.sigma_w2[0] and mf.sigma_b2 == net.sigma_b2
    kw = {"sigma_w2": mf.sigma_w2, "sigma_b2": mf.sigma_b2}
    assert np.array_equal(
        jacobian.predicted_relative_variance(net),
        jacobian.predicted_relative_variance("tanh", [1, 2, 3, 4], **kw),
    )
    assert np.array_equal(
        jacobian.predicted_mean_lambda(net, [2, 4]),
        jacobian.predicted_mean_lambda("tanh", [2, 4], **kw),
    )
    a = jacobian.jacobian_spectrum(net, n_networks=3, seed=2)
    b = jacobian.jacobian_spectrum("tanh", 4, 32, n_networks=3, seed=2, **kw)
    assert np.array_equal(a.m1, b.m1) and np.array_equal(a.spectra[4], b.spectra[4])
    with pytest.raises(ValueError, match="square"):
        jacobian.mean_field(Network([32, 16], "tanh"))
    with pytest.raises(ValueError, match="sigma_w2"):
        jacobian.jacobian_spectrum(net, sigma_w2=2.0)
    with pytest.raises(ValueError, match="distribution"):
        jacobian.mean_field(net.replace(distribution="uniform"))


def test_verify_takes_a_network_of_the_schemes_kind():
    net = Network([32] * 5, "relu", scheme="he")
    v = initmath.verify("he", network=net, n_networks=100)
    w = initmath.verify("he", widths=[32] * 5, activation="relu", n_networks=100)
    assert (v.estimate, v.se, v.z, v.predicted) == (w.estimate, w.se, w.z, w.predicted)
    with pytest.raises(ValueError, match="scheme"):
        initmath.verify("xavier", network=net)


@pytest.mark.parametrize(
    "widths", [[64] * 9, [8] + [64] * 9, [8, 4, 4], [3, 5], [4] * 3, [1, 2, 2, 3, 3]]
)
def test_repr_rebuilds_the_network_and_stays_short(widths):
    for net in (
        Network(widths, "relu"),
        Network(widths, "tanh", scheme="lecun", bias_std=0.25),
    ):
        text = repr(net)
        assert eval(text, {"Network": Network, "Residual": initmath.Residual}) == net  # noqa: S307
        assert len(text) < 80
    res = Network([8] + [64] * 1041, "relu", residual=initmath.Residual(layers=2))
    assert repr(res).startswith("Network([8] + [64] * 1041, 'relu', residual=Residual(")
