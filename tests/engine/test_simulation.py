"""The Monte Carlo engine: determinism, merging, memory, explosions, bad arguments, and
agreement with the infinite-width maps where they hold exactly."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import initmath
from initmath.engine import simulation
from initmath.practice.verification import predict

Z = 4.0


def _z(result, pred, quantity="q"):
    est = {"q": result.q, "grad": result.grad_q}[quantity]
    se = {"q": result.q_se, "grad": result.grad_q_se}[quantity]
    return (est - pred) / se


# --- exact maps through depth (they hold at any width for these) ---------------------------
@pytest.mark.parametrize(
    ("activation", "scheme", "gain"),
    [
        ("relu", "he", None),
        ("linear", "lecun", None),
        (("leaky_relu", 0.2), "he", initmath.gain("leaky_relu", 0.2)),
    ],
)
def test_forward_and_backward_maps_through_20_layers(activation, scheme, gain):
    widths = [64] * 21
    r = initmath.simulate(
        widths,
        activation,
        scheme=scheme,
        gain=gain,
        n_networks=400,
        n_inputs=4,
        seed=11,
        backward=True,
    )
    q, g = predict(widths, activation, scheme=scheme, gain=gain, backward=True)
    assert np.all(np.abs(_z(r, q)) < Z), _z(r, q)
    assert np.all(np.abs(_z(r, g, "grad")) < Z), _z(r, g, "grad")


def test_he_fan_out_preserves_gradients_when_widths_change():
    widths = [96, 32, 96, 32, 96, 32, 96]
    r = initmath.simulate(
        widths,
        "relu",
        scheme="he",
        mode="fan_out",
        n_networks=600,
        n_inputs=4,
        seed=5,
        backward=True,
    )
    _, g = predict(widths, "relu", scheme="he", mode="fan_out", backward=True)
    assert np.allclose(g, 1.0)
    assert np.all(np.abs(_z(r, g, "grad")) < Z)
    # while the forward second moment swings by fan_in/fan_out each layer, as predicted
    q, _ = predict(widths, "relu", scheme="he", mode="fan_out")
    assert not np.allclose(q, q[0])
    assert np.all(np.abs(_z(r, q)) < Z)


@pytest.mark.parametrize("distribution", ["uniform", "truncated_normal", "orthogonal"])
def test_distributions_follow_the_same_map(distribution):
    widths = [48, 96, 64, 96, 48]
    r = initmath.simulate(
        widths,
        "relu",
        scheme="he",
        distribution=distribution,
        n_networks=600,
        n_inputs=4,
        seed=3,
        backward=True,
    )
    q, g = predict(widths, "relu", scheme="he", distribution=distribution, backward=True)
    assert np.all(np.abs(_z(r, q)) < Z), _z(r, q)
    assert np.all(np.abs(_z(r, g, "grad")) < Z), _z(r, g, "grad")


# --- tanh: the finite-width correction, and the width where it is below the error -----------
def test_xavier_tanh_verifies_at_width_512():
    # 3 tanh layers of 512: the O(depth/width) shortfall of the second moment (about 0.1%)
    # is below the standard error (~0.25%) of 300 networks x 8 inputs.
    widths = [512] * 4
    r = initmath.simulate(
        widths, "tanh", scheme="xavier", n_networks=300, n_inputs=8, seed=2, backward=True
    )
    q, g = predict(widths, "tanh", scheme="xavier", backward=True)
    assert np.all(np.abs(_z(r, q)) < Z), _z(r, q)
    assert np.all(np.abs(_z(r, g, "grad")) < Z), _z(r, g, "grad")


def test_tanh_finite_width_shortfall_is_visible_at_small_width():
    # Not a failure of the formula but its limit: at width 16 the deep layers' second moment
    # sits clearly below the infinite-width map (the book's finite-width finding).
    widths = [16] * 9
    g = initmath.gain("tanh", convention="exact")
    r = initmath.simulate(
        widths, "tanh", scheme="lecun", gain=g, n_networks=4000, n_inputs=8, seed=4
    )
    q, _ = predict(widths, "tanh", scheme="lecun", gain=g)
    assert _z(r, q)[-1] < -Z


# --- reproducibility -----------------------------------------------------------------------
def test_thread_count_does_not_change_results():
    kw = dict(
        n_networks=300,
        n_inputs=3,
        seed=9,
        backward=True,
        record=("mean", "histograms"),
        distribution="truncated_normal",
    )
    a = initmath.simulate([40, 50, 30, 20], "tanh", threads=1, **kw)
    b = initmath.simulate([40, 50, 30, 20], "tanh", threads=2, **kw)
    for x, y in [(a.q, b.q), (a.q_se, b.q_se), (a.grad_q, b.grad_q), (a.mean, b.mean)]:
        np.testing.assert_array_equal(x, y)
    for k in ("pre", "act", "grad"):
        np.testing.assert_array_equal(a.histograms[k], b.histograms[k])


def test_chunks_merge_to_the_single_run_bit_for_bit():
    kw = dict(n_inputs=2, seed=21, backward=True, record=("mean", "histograms"))
    whole = initmath.simulate([30, 30, 30], "relu", n_networks=2500, **kw)  # spans 3 chunks
    a = initmath.simulate([30, 30, 30], "relu", n_networks=700, **kw)
    b = initmath.simulate([30, 30, 30], "relu", n_networks=1800, first_network=700, **kw)
    merged = a.merge(b)
    for x, y in [
        (whole.q, merged.q),
        (whole.q_se, merged.q_se),
        (whole.grad_q, merged.grad_q),
        (whole.mean_se, merged.mean_se),
    ]:
        np.testing.assert_array_equal(x, y)
    np.testing.assert_array_equal(whole.histograms["act"], merged.histograms["act"])
    with pytest.raises(ValueError, match="contiguous"):
        a.merge(a)


def test_seed_changes_results_and_same_seed_repeats():
    a = initmath.simulate([20, 20], "relu", n_networks=50, seed=1)
    b = initmath.simulate([20, 20], "relu", n_networks=50, seed=1)
    c = initmath.simulate([20, 20], "relu", n_networks=50, seed=2)
    np.testing.assert_array_equal(a.q, b.q)
    assert not np.array_equal(a.q, c.q)


# --- statistics ---------------------------------------------------------------------------
def test_standard_error_is_over_networks():
    # q_se must be the spread of per-network means over sqrt(N), not of units: check it
    # against the empirical spread of independent runs' estimates.
    runs = [
        initmath.simulate([32, 32, 32], "relu", n_networks=100, n_inputs=2, seed=s)
        for s in range(40)
    ]
    means = np.array([r.q[-1] for r in runs])
    ses = np.array([r.q_se[-1] for r in runs])
    ratio = means.std(ddof=1) / np.sqrt(np.mean(ses**2))
    # for 40 runs the sampling spread of this ratio is about 1/sqrt(80) = 11%
    assert 0.7 < ratio < 1.3, ratio


def test_histograms_count_every_value_in_range():
    r = initmath.simulate(
        [10, 12, 8],
        "tanh",
        n_networks=20,
        n_inputs=3,
        seed=0,
        record=("histograms",),
        hist_range={"act": (-1.0, 1.0)},
        bins=7,
        backward=True,
    )
    h = r.histograms
    assert h["act"].shape == (2, 7)
    # tanh lies in (-1, 1): every activation is counted
    np.testing.assert_array_equal(h["act"].sum(axis=1), [20 * 12 * 3, 20 * 8 * 3])
    assert h["pre"].sum() <= 20 * 3 * (12 + 8)
    assert h["grad"].sum() > 0
    assert len(r.hist_edges["act"]) == 8


def test_activation_mean_recorded():
    r = initmath.simulate(
        [200, 200], "relu", scheme="lecun", n_networks=200, n_inputs=4, seed=1, record=("mean",)
    )
    pred = initmath.moment("relu", 1.0, 1).value  # q1 = 1 for LeCun on unit inputs
    assert abs((r.mean[0] - pred) / r.mean_se[0]) < Z


# --- explosions -----------------------------------------------------------------------------
def test_explosion_is_reported_not_nan():
    r = initmath.simulate([64] * 80, "relu", scheme="fixed", std=3.0, n_networks=10, seed=0)
    assert r.exploded_at is not None and 1 < r.exploded_at <= 80
    k = r.exploded_at
    assert np.all(np.isfinite(r.q[: k - 1]))
    assert np.all(np.isinf(r.q[k - 1 :]))
    assert not np.any(np.isnan(r.q)) and not np.any(np.isnan(r.q_se))
    assert f"exploded at layer {k}" in r.summary()
    v = initmath.practice.verification.compare(
        "x", r, predict([64] * 80, "relu", scheme="fixed", std=3.0)[0]
    )
    assert not v.passed and v.note == f"exploded at layer {k}"


# --- bad arguments fail before any kernel runs ------------------------------------------------
@pytest.fixture
def no_kernel(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a kernel was requested for invalid arguments")

    monkeypatch.setattr(simulation, "kernel_module", refuse)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"widths": []}, ValueError, "widths"),
        ({"widths": [10]}, ValueError, "widths"),
        ({"widths": [10, 0, 5]}, ValueError, "widths"),
        ({"widths": [10, 2.5]}, TypeError, "widths"),
        ({"widths": "10,10"}, TypeError, "widths"),
        ({"n_networks": -5}, ValueError, "n_networks"),
        ({"n_networks": 1}, ValueError, "n_networks"),
        ({"n_inputs": 0}, ValueError, "n_inputs"),
        ({"distribution": "cauchy"}, ValueError, "distribution"),
        ({"scheme": "xavierr"}, ValueError, "scheme"),
        ({"activation": "swish2"}, ValueError, "activation"),
        ({"bias_std": -1.0}, ValueError, "bias_std"),
        ({"input_std": 0.0}, ValueError, "input_std"),
        ({"input_std": float("nan")}, ValueError, "input_std"),
        ({"gain": float("nan")}, ValueError, "gain"),
        ({"threads": 0}, ValueError, "threads"),
        ({"threads": 10_000}, ValueError, "threads"),
        ({"seed": -1}, ValueError, "seed"),
        ({"record": ("weights",)}, ValueError, "record"),
        ({"first_network": -1}, ValueError, "first_network"),
        ({"distribution": "orthogonal", "scheme": "standard"}, ValueError, "orthogonal"),
        ({"hist_range": {"pre": (1.0, -1.0)}}, ValueError, "hist_range"),
    ],
)
def test_bad_arguments(no_kernel, kwargs, exc, match):
    args = {"widths": [8, 8], "activation": "relu", **kwargs}
    widths = args.pop("widths")
    act = args.pop("activation")
    with pytest.raises(exc, match=match):
        initmath.simulate(widths, act, **args)


# --- memory -------------------------------------------------------------------------------------
def _peak_rss_mb(n_networks: int) -> float:
    code = textwrap.dedent(f"""
        import json, resource, initmath
        initmath.simulate([256] * 4, "relu", n_networks=64, seed=0)  # compile/load first
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        initmath.simulate([256] * 4, "relu", n_networks={n_networks}, n_inputs=4, seed=0)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps([base / 1024, peak / 1024]))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    base, peak = json.loads(out.stdout.strip().splitlines()[-1])
    return peak - base


def test_memory_does_not_grow_with_networks():
    small = _peak_rss_mb(500)
    large = _peak_rss_mb(4000)
    # weights live per network and per layer only (one network's are 1.5 MB); results are
    # accumulated per chunk: 3500 more networks cost less than 6 kB each
    assert large < small + 20, (small, large)
