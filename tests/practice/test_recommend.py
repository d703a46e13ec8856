"""The recommendation criterion: one function for the table's marks and the guide's advice."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

import initmath
from initmath.practice.recommend import (
    BAND,
    DEPTH,
    candidates,
    default_activations,
    depth_ratios,
    reach,
    recommend,
    recommendations,
)


@pytest.fixture(scope="module")
def recs():
    return recommendations(depth=DEPTH)


def _gauss(f, q):
    """E[f(sqrt(q) z)], z ~ N(0, 1), by scipy's adaptive quadrature (independent reference)."""
    s = math.sqrt(q)
    val, _ = integrate.quad(
        lambda z: f(s * z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi), -40, 40, limit=200
    )
    return val


def _reference_ratios(phi, dphi, sw2, depth):
    q, b = sw2, 1.0
    F, B = [1.0], [1.0]
    for _ in range(depth - 1):
        b *= sw2 * _gauss(lambda x: dphi(x) ** 2, q)
        q = sw2 * _gauss(lambda x: phi(x) ** 2, q)
        F.append(q / sw2)
        B.append(b)
    return np.array(F), np.array(B)


def test_table_marks_and_guide_agree_for_every_activation(recs):
    names = [r.activation for r in recs]
    assert set(initmath.activation_names()) <= set(names)
    for r in recs:
        chosen = [c for c in r.candidates if c.chosen]
        assert len(chosen) == 1, r.activation  # one mark per activation
        c = chosen[0].setting
        # the guide's setting is the marked one, field for field
        assert (r.scheme, r.mode, r.distribution, r.gain) == (
            c.scheme,
            c.mode,
            c.distribution,
            c.gain,
        )
        assert r.reach == chosen[0].reach and r.passes == (r.reach >= r.depth)
        assert c.label in r.reason and "avoid" not in r.reason.lower()
        # a concrete setting: a finite positive gain, a variance scheme
        assert r.scheme in ("lecun", "he", "standard") and 0 < r.gain < math.inf
        # the mark goes to the best passing usual setting, else to the tuned gain
        usual = [x for x in r.candidates if x.setting.label != "tuned gain"]
        passing = [x for x in usual if x.reach >= r.depth]
        if passing:
            assert chosen[0].worst == min(x.worst for x in passing)
        else:
            assert c.label == "tuned gain"
            assert chosen[0].worst <= min(x.worst for x in usual)


def test_relu_he_is_critical_at_every_depth():
    F, B = depth_ratios("relu", 2.0, 200)
    np.testing.assert_allclose(F, 1.0, rtol=1e-12)
    np.testing.assert_allclose(B, 1.0, rtol=1e-12)
    r = recommend("relu", depth=100, horizon=300)
    assert (r.scheme, r.reach, r.passes) == ("he", 300, True)
    assert math.isclose(r.gain, math.sqrt(2.0))
    # LeCun halves q per layer: F(l) = 2^-(l-1), out of a band of 10 after depth 4
    F, B = depth_ratios("relu", 1.0, 6)
    np.testing.assert_allclose(F, 0.5 ** np.arange(6), rtol=1e-12)
    np.testing.assert_allclose(B, 0.5 ** np.arange(6), rtol=1e-12)
    assert reach("relu", 1.0, band=10) == 4 and reach("relu", 1.0, band=2) == 2


def test_tanh_lecun_loses_the_forward_moment_slowly():
    tanh = math.tanh

    def dtanh(x):
        return 1.0 - math.tanh(x) ** 2

    depth = 12
    F_ref, B_ref = _reference_ratios(tanh, dtanh, 1.0, depth)
    F, B = depth_ratios("tanh", 1.0, depth)
    np.testing.assert_allclose(F, F_ref, rtol=1e-10)
    np.testing.assert_allclose(B, B_ref, rtol=1e-10)
    assert np.all(np.diff(F) < 0) and np.all(np.diff(B) < 0)
    # slowly: q decays like 1/l, not geometrically (q^{l+1} = q - 2q^2 + ... near 0)
    F_long, _ = depth_ratios("tanh", 1.0, 400)
    assert 0.5 < F_long[399] * 2 * 400 / F_long[199] / (2 * 200) < 2
    # the reach is the first depth whose ratio leaves the band, from the reference
    bad = np.flatnonzero(np.maximum(abs(np.log(F_ref)), abs(np.log(B_ref))) > math.log(2.0))
    assert reach("tanh", 1.0, band=2.0, horizon=depth) == bad[0]


def test_he_tanh_against_reference():
    F_ref, B_ref = _reference_ratios(math.tanh, lambda x: 1.0 - math.tanh(x) ** 2, 2.0, 30)
    F, B = depth_ratios("tanh", 2.0, 30)
    np.testing.assert_allclose(F, F_ref, rtol=1e-10)
    np.testing.assert_allclose(B, B_ref, rtol=1e-10)
    # chaotic: past the first layers' transient the gradients grow geometrically
    growth = B[20:] / B[19:-1]
    assert np.all(growth > 1.05) and np.ptp(growth) < 1e-3


def test_recommendation_depends_on_depth():
    shallow, deep = recommend("tanh", depth=10), recommend("tanh", depth=60)
    assert shallow.chosen.setting.label != "tuned gain"
    assert deep.chosen.setting.label == "tuned gain"
    assert deep.reach >= 60 and deep.reach > max(
        c.reach for c in deep.candidates if c.setting.label != "tuned gain"
    )


def test_candidates_are_distinct_and_include_the_exact_gains():
    labels = [s.label for s in candidates("tanh")]
    assert labels == [
        "LeCun",
        "He",
        "PyTorch default",
        "PyTorch gain",
        "exact gain",
        "exact backward gain",
    ]
    by = {s.label: s for s in candidates("tanh")}
    assert math.isclose(by["exact gain"].gain, initmath.gain("tanh", convention="exact"))
    assert math.isclose(by["exact backward gain"].gain, initmath.backward_gain("tanh"))
    assert math.isclose(by["PyTorch gain"].gain, 5 / 3)
    assert [s.label for s in candidates("linear")] == ["LeCun", "He", "PyTorch default"]
    assert "PyTorch gain" not in [s.label for s in candidates("gelu")]


def test_defaults_and_every_registered_activation():
    r = recommend("relu")
    assert (r.depth, r.band) == (DEPTH, BAND)
    assert (r.scheme, r.mode, r.distribution) == ("he", "fan_in", "normal")
    assert len(default_activations()) == len(initmath.activation_names()) + 1


@pytest.mark.parametrize(
    ("kwargs", "error", "word"),
    [
        ({"depth": 0}, ValueError, "depth"),
        ({"depth": 2.5}, TypeError, "depth"),
        ({"band": 1.0}, ValueError, "band"),
        ({"band": -3}, ValueError, "band"),
        ({"band": math.inf}, ValueError, "band"),
        ({"band": "10"}, TypeError, "band"),
        ({"depth": 30, "horizon": 10}, ValueError, "horizon"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, word):
    with pytest.raises(error, match=word):
        recommend("relu", **kwargs)


def test_bad_activation_and_sigma():
    with pytest.raises(ValueError, match="nope"):
        recommend("nope")
    with pytest.raises(TypeError):
        recommend(3.0)
    with pytest.raises(ValueError, match="sigma_w2"):
        depth_ratios("relu", 0.0, 3)
    with pytest.raises(ValueError, match="horizon"):
        reach("relu", 2.0, horizon=0)
