"""initmath.practice.drift: drift from q = 1 with a gain, and per-layer ratios with a jackknife.

The predictions are checked against an independent iteration of the forward map with a NumPy
Gauss-Hermite quadrature, the jackknife against a loop written out group by group, and the
grouped simulations against one run over all networks.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

import initmath
from initmath.practice.drift import (
    DriftRun,
    LayerRatios,
    drift,
    jackknife_ratios,
    layer_ratios,
    per_layer_ratios,
)

_X, _W = np.polynomial.hermite_e.hermegauss(160)
_W = _W / math.sqrt(2 * math.pi)


def _tanh_map(q, g):
    """q -> g^2 E[tanh(sqrt(q) z)^2], by quadrature."""
    return g * g * float(np.sum(_W * np.tanh(math.sqrt(q) * _X) ** 2))


# -- per_layer_ratios -------------------------------------------------------------------------


@pytest.mark.parametrize("last", [1, 2, 5])
def test_ratios_of_geometric_sequences_are_their_factors(last):
    layers = np.arange(8)
    q = 1.5 * 2.0**layers  # forward factor 2
    r = 0.7 * 3.0 ** (-layers)  # backward: r^(l-1) / r^l = 3
    fwd, bwd = per_layer_ratios(q, r, last)
    assert fwd == pytest.approx(2.0, rel=1e-14) and bwd == pytest.approx(3.0, rel=1e-14)


def test_ratios_use_only_the_last_layers():
    q = [100.0, 0.1, 1.0, 1.0, 2.0]
    r = [5.0, 7.0, 4.0, 2.0, 1.0]
    assert per_layer_ratios(q, r, 2) == (math.sqrt(2.0), 2.0)


def test_ratios_refuse_bad_lengths():
    with pytest.raises(ValueError, match="same length"):
        per_layer_ratios([1.0, 2.0], [1.0, 2.0], 2)
    with pytest.raises(ValueError, match="same length"):
        per_layer_ratios([1.0, 2.0, 3.0], [1.0, 2.0], 1)
    with pytest.raises(ValueError):
        per_layer_ratios([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], 0)


# -- jackknife_ratios -------------------------------------------------------------------------


def _fake(q, r, n=5):
    return SimpleNamespace(q=np.asarray(q, float), grad_q=np.asarray(r, float), n_networks=n)


def test_jackknife_of_identical_groups_has_no_error():
    q, r = [1.0, 2.0, 4.0, 8.0], [8.0, 4.0, 2.0, 1.0]
    fwd, fwd_se, bwd, bwd_se = jackknife_ratios([_fake(q, r)] * 4, 2)
    assert (fwd, bwd) == per_layer_ratios(q, r, 2)
    assert fwd_se == 0.0 and bwd_se == 0.0


def test_jackknife_agrees_with_a_loop_over_groups():
    rng = np.random.default_rng(3)
    qs = 1.0 + 0.1 * rng.standard_normal((6, 5))
    rs = 1.0 + 0.1 * rng.standard_normal((6, 5))
    groups = [_fake(q, r) for q, r in zip(qs, rs, strict=True)]
    fwd, fwd_se, bwd, bwd_se = jackknife_ratios(groups, 3)
    full = per_layer_ratios(qs.mean(axis=0), rs.mean(axis=0), 3)
    loo = []
    for i in range(6):
        keep = [j for j in range(6) if j != i]
        loo.append(per_layer_ratios(qs[keep].mean(axis=0), rs[keep].mean(axis=0), 3))
    loo = np.array(loo)
    se = [math.sqrt(5 / 6 * sum((v - loo[:, k].mean()) ** 2 for v in loo[:, k])) for k in (0, 1)]
    assert (fwd, bwd) == pytest.approx(full, rel=1e-14)
    assert (fwd_se, bwd_se) == pytest.approx(se, rel=1e-10)
    assert fwd_se > 0 and bwd_se > 0


def test_jackknife_refuses_what_it_cannot_use():
    g = _fake([1.0, 2.0, 3.0], [3.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="at least 2"):
        jackknife_ratios([g], 1)
    with pytest.raises(ValueError, match="backward"):
        jackknife_ratios([g, SimpleNamespace(q=g.q, grad_q=None, n_networks=5)], 1)
    with pytest.raises(ValueError, match="equal numbers"):
        jackknife_ratios([g, _fake(g.q, g.grad_q, n=6)], 1)


# -- layer_ratios -----------------------------------------------------------------------------

NET = initmath.Network([16] * 6, "tanh", scheme="he")


def test_grouped_runs_are_one_run_over_all_networks():
    res = layer_ratios(NET, last=2, n_networks=24, groups=4, seed=5)
    one = initmath.simulate(NET, n_networks=24, seed=5, backward=True)
    assert np.array_equal(res.result.q, one.q) and np.array_equal(res.result.grad_q, one.grad_q)
    q_pred, r_pred = initmath.predict(NET, backward=True)
    assert np.array_equal(res.q_pred, q_pred) and np.array_equal(res.r_pred, r_pred)
    assert (res.fwd_pred, res.bwd_pred) == per_layer_ratios(q_pred, r_pred, 2)
    # the pooled means of equal groups are the means over all networks
    assert (res.fwd, res.bwd) == pytest.approx(per_layer_ratios(one.q, one.grad_q, 2), rel=1e-12)
    assert res.z_fwd == (res.fwd - res.fwd_pred) / res.fwd_se
    assert res.z_bwd == (res.bwd - res.bwd_pred) / res.bwd_se
    assert isinstance(res, LayerRatios) and res.network is NET and res.last == 2


def test_layer_ratios_are_deterministic_for_a_seed_and_take_the_short_form():
    a = layer_ratios(NET, last=2, n_networks=20, groups=2, seed=1)
    b = layer_ratios([16] * 6, "tanh", scheme="he", last=2, n_networks=20, groups=2, seed=1)
    c = layer_ratios(NET, last=2, n_networks=20, groups=2, seed=2)
    assert (a.fwd, a.fwd_se, a.bwd, a.bwd_se) == (b.fwd, b.fwd_se, b.bwd, b.bwd_se)
    assert a.fwd != c.fwd


def test_critical_networks_have_predicted_ratios_one():
    for net in (
        initmath.Network([16] * 6, "relu", scheme="he"),
        initmath.Network([16] * 6, "linear", scheme="lecun"),
    ):
        res = layer_ratios(net, last=3, n_networks=20, groups=2)
        assert res.fwd_pred == pytest.approx(1.0, abs=1e-14)
        assert res.bwd_pred == pytest.approx(1.0, abs=1e-14)


def test_layer_ratios_refuse_bad_arguments():
    with pytest.raises(ValueError, match="multiple"):
        layer_ratios(NET, last=2, n_networks=25, groups=4)
    with pytest.raises(ValueError, match="depth"):
        layer_ratios(NET, last=5, n_networks=20, groups=2)
    with pytest.raises(ValueError):
        layer_ratios(NET, last=2, n_networks=20, groups=1)


# -- drift ------------------------------------------------------------------------------------


def test_drift_predicts_the_iterated_map_from_q_one():
    g = 5 / 3
    run = drift("tanh", g, width=32, depth=6, n_networks=40, seed=0)
    q = [1.0]
    for _ in range(5):
        q.append(_tanh_map(q[-1], g))
    assert run.predicted == pytest.approx(q, rel=1e-12)
    assert run.network.input_std == pytest.approx(1 / g) and run.network.sigma_w2[0] == (
        pytest.approx(g * g)
    )
    assert run.gain == g and run.activation == "tanh" and isinstance(run, DriftRun)


def test_drift_with_the_exact_gain_stays_at_one():
    g = initmath.gain("tanh", convention="exact")
    run = drift("tanh", g, width=32, depth=8, n_networks=40, seed=0)
    assert run.predicted == pytest.approx(np.ones(8), rel=1e-9)


def test_drift_run_properties_and_determinism():
    a = drift("relu", math.sqrt(2), width=32, depth=5, n_networks=60, seed=4)
    b = drift("relu", math.sqrt(2), width=32, depth=5, n_networks=60, seed=4)
    assert np.array_equal(a.result.q, b.result.q)
    res = a.result
    assert a.z == pytest.approx((res.q[-1] - a.predicted[-1]) / res.q_se[-1], rel=1e-12)
    assert a.relative == pytest.approx(res.q[-1] / a.predicted[-1] - 1, rel=1e-12)
    assert abs(a.z) < 5


def test_drift_refuses_a_non_positive_gain():
    with pytest.raises(ValueError, match="gain"):
        drift("tanh", 0.0, width=8, depth=2, n_networks=4)
