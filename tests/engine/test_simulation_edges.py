"""The engine at its edges (issue 11, items 1-7): explosions and NaNs in either pass are
reported, never averaged in; tiny moments keep honest standard errors or are reported as
underflows; sizes that cannot fit are refused up front; Ctrl-C acts within about a second;
predict and verify check their arguments as simulate does."""

from __future__ import annotations

import math
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
import sympy as sp

import initmath
from initmath.engine import simulation
from initmath.engine.kernel_source import TINY
from initmath.engine.reference import simulate_numpy
from initmath.practice.verification import compare, predict, verify

KINDS = ("overflow", "nan", "underflow", "after_overflow", "after_nan")


def _assert_honest(r: simulation.SimulationResult, quantity: str) -> None:
    """Every layer's estimate is finite exactly when no network's value is missing there."""
    est = {"q": r.q, "grad": r.grad_q}[quantity]
    se = {"q": r.q_se, "grad": r.grad_q_se}[quantity]
    f = r.failures(quantity)
    flagged = sum(f[k] for k in KINDS) > 0
    np.testing.assert_array_equal(~np.isfinite(est), flagged)
    np.testing.assert_array_equal(~np.isfinite(se), flagged)
    # overflow-related layers are inf, the others nan
    over = (f["overflow"] + f["after_overflow"]) > 0
    assert np.all(np.isinf(est[over]))
    assert np.all(np.isnan(est[flagged & ~over]))


# --- items 1 and 2: the backward pass reports its own explosions ------------------------------
def test_forward_explosion_leaves_no_backward_values():
    # std 10 at width 64: q grows 3200-fold per layer, past 1e150 around layer 43. Before
    # the fix the backward pass of the exploded networks added zeros: grad_q 0.0 +- 0.0.
    r = initmath.simulate(
        [64] * 51, "relu", scheme="fixed", std=10.0, n_networks=200, backward=True, seed=0
    )
    assert r.exploded_at is not None and 30 < r.exploded_at < 50
    assert int(r.exploded.sum()) == 200
    g = r.failures("grad")
    # every network exploded forward, so no layer has a single backward value
    np.testing.assert_array_equal(g["after_overflow"], 200)
    assert np.all(np.isinf(r.grad_q)) and not np.any(r.grad_q == 0)
    assert r.grad_exploded_at is None  # the backward pass itself never ran
    assert "backward not computed for 200 networks" in r.summary()
    _assert_honest(r, "q")
    _assert_honest(r, "grad")


def test_chaotic_tanh_backward_explosion_is_reported_not_a_crash():
    # Issue reproducer: tanh is bounded, so the forward pass stays finite, while in the
    # chaotic phase the gradient grows geometrically going back and overflows. Before the
    # fix: ValueError: ExactSum.add: values must be finite.
    r = initmath.simulate(
        [128] * 201,
        "tanh",
        scheme="fixed",
        std=30 / 128**0.5,
        n_networks=20,
        backward=True,
        seed=0,
    )
    assert r.exploded_at is None
    k = r.grad_exploded_at
    assert k is not None and 1 < k < 200
    assert 1 <= int(r.grad_exploded.sum()) <= 20  # each network explodes at most once
    assert np.all(np.isinf(r.grad_q[:k]))
    assert np.all(np.isfinite(r.grad_q[k:])) and np.all(r.grad_q_se[k:] > 0)
    # chaotic: going back, the surviving gradient's second moment grows
    assert r.grad_q[k] > 1e3 * r.grad_q[-1]
    assert f"backward exploded at layer {k}" in r.summary()
    _assert_honest(r, "grad")
    v = compare(
        "chaos",
        r,
        predict([128] * 201, "tanh", scheme="fixed", std=30 / 128**0.5, backward=True)[1],
        "grad",
    )
    assert not v.passed and f"backward exploded at layer {k}" in v.note


@pytest.mark.parametrize("activation", ["silu", "softplus", ("leaky_relu", 1e308)])
def test_issue_activations_never_give_replaced_values(activation):
    # silu: grad_q was [0, 0, 0, 0, 1] (NaN derivatives replaced by 0); softplus and a
    # leaky ReLU of slope 1e308 crashed. Whatever the activation's numerics, every layer is
    # either an honest estimate or flagged; a zero from replaced values never appears.
    r = initmath.simulate(
        [256] * 6, activation, scheme="fixed", std=1.0, n_networks=200, backward=True, seed=0
    )
    _assert_honest(r, "q")
    _assert_honest(r, "grad")
    finite = np.isfinite(r.grad_q)
    assert np.all(r.grad_q[finite] > 0) and np.all(r.grad_q_se[finite] > 0)


def test_user_activation_exp_t_squared_explodes_in_its_activations():
    t = sp.Symbol("t", real=True)
    initmath.register_activation("edge_exp_sq", sp.exp(t**2), replace=True)
    r = initmath.simulate(
        [64] * 4,
        "edge_exp_sq",
        scheme="fixed",
        std=1.0,
        n_networks=50,
        backward=True,
        record=("mean",),
        seed=0,
    )
    assert r.exploded_at is not None
    k = r.exploded_at
    assert int(r.exploded.sum()) == 50
    assert np.all(~np.isfinite(r.q[k:]))
    assert np.all(~np.isfinite(r.mean[k - 1 :]))
    assert np.all(~np.isfinite(r.grad_q))
    _assert_honest(r, "q")
    _assert_honest(r, "grad")


def test_nan_is_told_apart_from_overflow():
    # weights of std 1e308 are partly +-inf: sums of +inf and -inf are NaN at layer 1
    r = initmath.simulate([16, 16, 16], "linear", scheme="fixed", std=1e308, n_networks=20, seed=0)
    f = r.failures("q")
    assert r.exploded_at == 1 and f["nan"][0] > 0
    assert f["nan"][0] + f["overflow"][0] == 20
    assert np.isnan(r.q[0]) or np.isinf(r.q[0])
    _assert_honest(r, "q")


def test_merge_keeps_failures_and_chunking_keeps_bits():
    kw = dict(scheme="fixed", std=30 / 128**0.5, backward=True, seed=3)
    whole = initmath.simulate([128] * 120, "tanh", n_networks=12, **kw)
    a = initmath.simulate([128] * 120, "tanh", n_networks=5, **kw)
    b = initmath.simulate([128] * 120, "tanh", n_networks=7, first_network=5, **kw)
    m = a.merge(b)
    for x, y in [(whole.q, m.q), (whole.grad_q, m.grad_q), (whole.grad_q_se, m.grad_q_se)]:
        np.testing.assert_array_equal(x, y)
    for kind in KINDS:
        np.testing.assert_array_equal(whole.failures("grad")[kind], m.failures("grad")[kind])
    assert whole.grad_exploded_at == m.grad_exploded_at


# --- item 3: tiny moments keep their standard errors ------------------------------------------
def test_tiny_moments_scale_exactly():
    # ReLU is positively homogeneous: weights 2**-9 times smaller scale every
    # pre-activation of layer l by exactly 2**(-9 l), so q by 2**(-18 l), and the gradient
    # at layer l (0-based) by 2**(-18 (L-1-l)). Before the fix the squares of values below
    # 1e-154 underflowed: q_se = 0 and z = -inf from layer 30 on.
    widths, L = [64] * 61, 60
    s = 2.0**-2.5
    kw = dict(scheme="fixed", n_networks=50, n_inputs=2, backward=True, seed=1)
    big = initmath.simulate(widths, "relu", std=s, **kw)
    tiny = initmath.simulate(widths, "relu", std=s * 2.0**-9, **kw)
    assert big.underflow_at is None and big.grad_underflow_at is None
    ls = np.arange(L)
    q_ok = np.isfinite(tiny.q)
    assert q_ok[:50].all()
    np.testing.assert_array_equal(tiny.q[q_ok], np.ldexp(big.q, -18 * (ls + 1))[q_ok])
    np.testing.assert_allclose(
        tiny.q_se[q_ok], np.ldexp(big.q_se, -18 * (ls + 1))[q_ok], rtol=1e-14, atol=0
    )
    assert np.all(tiny.q_se[q_ok] > 0)
    g_ok = np.isfinite(tiny.grad_q)
    assert g_ok[10:].all()
    np.testing.assert_array_equal(tiny.grad_q[g_ok], np.ldexp(big.grad_q, -18 * (L - 1 - ls))[g_ok])
    np.testing.assert_allclose(
        tiny.grad_q_se[g_ok], np.ldexp(big.grad_q_se, -18 * (L - 1 - ls))[g_ok], rtol=1e-14, atol=0
    )
    # what cannot be represented is reported as an underflow, never as a number
    k = tiny.underflow_at
    assert k is not None and 50 < k <= 60
    assert np.all(np.isnan(tiny.q[~q_ok])) and np.all(tiny.failures("q")["underflow"][~q_ok])
    assert np.ldexp(big.q[k - 1], -18 * k) < 1e-295  # it really is near TINY there
    assert tiny.grad_underflow_at is not None and tiny.grad_underflow_at <= 10
    assert f"underflow at layer {k}" in tiny.summary()


def test_issue_underflow_reproducer():
    # simulate([64]*201, "relu", normal, std 0.01): layers 66 on had q_se = 0, z = -inf.
    r = initmath.simulate([64] * 201, "relu", scheme="fixed", std=0.01, n_networks=200, seed=0)
    k = r.underflow_at
    assert k is not None and 110 < k < 130  # q falls 300-fold per layer: 1e-301 near 120
    assert np.all(np.isfinite(r.q[: k - 1])) and np.all(r.q_se[: k - 1] > 0)
    assert np.all(r.q[: k - 1] > TINY)
    assert np.all(np.isnan(r.q[k - 1 :]))  # ReLU keeps shrinking: nothing representable
    pred, _ = predict([64] * 201, "relu", scheme="fixed", std=0.01)
    for layer in (66, 80, k - 1):
        z = r.estimate("q", layer).z(pred[layer - 1])
        assert math.isfinite(z)
    v = compare("tiny", r, pred, "q", layer=70)
    assert not v.passed and f"underflow at layer {k}" in v.note


# --- item 4: sizes are checked before anything is allocated ---------------------------------
@pytest.fixture
def no_kernel(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a kernel was requested for invalid arguments")

    monkeypatch.setattr(simulation, "kernel_module", refuse)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"widths": [2**40] * 2}, r"widths=\[1099511627776, 1099511627776\] needs \d+ bytes"),
        ({"widths": [2**31] * 2}, r"widths=.* GiB"),
        ({"widths": [2**20] * 3, "backward": True}, "widths"),
        ({"widths": [2**40] * 2}, r"widths=\[1099511627776, 1099511627776\] needs \d+ "),
        ({"n_inputs": 2**40}, "n_inputs=1099511627776"),
        ({"first_network": 2**63, "n_networks": 2**63 + 1}, "first_network"),
        ({"first_network": 2**64}, "2\\*\\*64"),
    ],
)
def test_sizes_that_cannot_fit_are_refused(no_kernel, kwargs, match):
    args = {"widths": [8, 8], "n_networks": 2, **kwargs}
    with pytest.raises(ValueError, match=match):
        initmath.simulate(args.pop("widths"), "relu", **args)


def test_last_streams_are_usable():
    # first_network = 2**63 gave OverflowError: the streams run to 2**64 - 1
    top = initmath.simulate([8, 8], "relu", n_networks=2, first_network=2**64 - 2, seed=1)
    assert np.all(np.isfinite(top.q))
    a = initmath.simulate([8, 8], "relu", n_networks=2, first_network=2**63, seed=1)
    b = initmath.simulate([8, 8], "relu", n_networks=2, first_network=2**63 + 2, seed=1)
    assert not np.array_equal(a.q, b.q)


# --- item 5: Ctrl-C -------------------------------------------------------------------------
_INTERRUPT = textwrap.dedent("""
    import signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started ignoring it
    import initmath
    initmath.simulate([256] * 8, "relu", n_networks=4, seed=0)  # load the kernel
    print("ready", flush=True)
    try:
        initmath.simulate([256] * 8, "relu", n_networks=10**7, backward=True, seed=0)
        print("finished", flush=True)
    except KeyboardInterrupt:
        print("interrupted", time.time(), flush=True)
    r = initmath.simulate([256] * 8, "relu", n_networks=200, seed=0)
    print("usable", r.q[-1], flush=True)
""")


def test_ctrl_c_acts_within_about_a_second_and_the_process_stays_usable():
    proc = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(1.5)  # well into the long run
        sent = time.time()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=300)
    finally:
        proc.kill()
    lines = out.split("\n")
    got = [line for line in lines if line.startswith("interrupted")]
    assert got, (out, err)
    latency = float(got[0].split()[1]) - sent
    # the kernel calls last about 0.2 s; allow for a machine busy with other work
    assert latency < 1.5, latency
    assert any(line.startswith("usable") for line in lines), (out, err)


_INTERRUPT_COMPILE = textwrap.dedent("""
    import signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import initmath
    print("start", flush=True)
    try:
        initmath.simulate([8, 8, 8], "relu", n_networks=20, seed=3)
        print("finished", flush=True)
    except KeyboardInterrupt:
        print("interrupted", time.time(), flush=True)
    r = initmath.simulate([8, 8, 8], "relu", n_networks=20, seed=3)
    print("usable", *[float(v).hex() for v in r.q], flush=True)
""")


@pytest.mark.slow
def test_ctrl_c_during_the_first_compile_leaves_the_process_usable(tmp_path):
    # An empty cache: the first simulate compiles the kernel. Before the fix a Ctrl-C then
    # hit Numba inside this process (its interrupt swallowed: "no compiled object yet", and
    # its shared typing state half set up: the next simulate failed with a TypingError).
    clean = initmath.simulate([8, 8, 8], "relu", n_networks=20, seed=3)
    env = {k: v for k, v in __import__("os").environ.items() if k != "NUMBA_CACHE_DIR"}
    env["INITMATH_CACHE_DIR"] = str(tmp_path / "cache")
    proc = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPT_COMPILE],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "start"
        time.sleep(3.0)  # compiling (10-60 s)
        sent = time.time()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=600)
    finally:
        proc.kill()
    assert proc.returncode == 0, err[-3000:]
    lines = out.split("\n")
    got = [line for line in lines if line.startswith("interrupted")]
    assert got, (out, err)
    assert float(got[0].split()[1]) - sent < 2.0  # the compiling child was killed at once
    (usable,) = [line.split()[1:] for line in lines if line.startswith("usable")]
    assert usable == [float(v).hex() for v in clean.q]  # bit for bit
    assert not [p.name for p in (tmp_path / "cache").rglob("*") if ".tmp" in p.name]


def test_chunks_last_a_fraction_of_a_second(monkeypatch):
    # the chunk follows the measured speed: one call never takes ~25 s as a fixed 1024 did
    calls: list[tuple[int, float]] = []
    real = simulation.kernel_module

    def timed(act):
        module = real(act)

        class Wrapped:
            @staticmethod
            def run(*args):
                t = time.perf_counter()
                module.run(*args)
                calls.append((int(args[3]), time.perf_counter() - t))

        return Wrapped

    monkeypatch.setattr(simulation, "kernel_module", timed)
    initmath.simulate([512] * 6, "relu", n_networks=300, backward=True, seed=0)
    assert sum(c for c, _ in calls) == 300 and len(calls) > 1
    assert max(t for _, t in calls[1:]) < 1.0, calls


# --- item 6: predict and verify validate as simulate does -----------------------------------
@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"bias_std": -1.0}, ValueError, "bias_std"),
        ({"input_std": float("nan")}, ValueError, "input_std"),
        ({"widths": [16, 16.5]}, TypeError, "widths"),
        ({"widths": [True, 16]}, TypeError, "widths"),
        ({"widths": [16]}, ValueError, "widths"),
        ({"scheme": "hee"}, ValueError, "scheme"),
        ({"distribution": "cauchy"}, ValueError, "distribution"),
        ({"backward": 1}, TypeError, "backward"),
        ({"activation": "nope"}, ValueError, "activation"),
        ({"gain": float("inf")}, ValueError, "gain"),
    ],
)
def test_predict_and_simulate_refuse_alike(no_kernel, kwargs, exc, match):
    args = {"widths": [16, 16], "activation": "relu", **kwargs}
    widths, act = args.pop("widths"), args.pop("activation")
    with pytest.raises(exc, match=match) as p:
        predict(widths, act, **args)
    with pytest.raises(exc, match=match) as s:
        initmath.simulate(widths, act, **args)
    assert str(p.value) == str(s.value)


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        (["he"], {"widths": [16]}, ValueError, "widths"),
        (["he"], {"widths": [16, 16.5]}, TypeError, "widths"),
        (["he"], {"bias_std": -1.0}, ValueError, "bias_std"),
        (["he"], {"quantity": "gradient"}, ValueError, "quantity"),
        (["he"], {"quantity": "grad", "backward": False}, ValueError, "backward"),
        (["he"], {"layer": 0}, ValueError, "layer"),
        (["he"], {"widths": [8, 8], "layer": 2}, ValueError, "layer"),
        (["he"], {"n_inputs": 4}, TypeError, "n_inputs"),
        (["he"], {"colour": "red"}, TypeError, "colour"),
        (["he"], {"level": "0.01"}, TypeError, "level"),
        (["he"], {"level": 1.0}, ValueError, "level"),
        (["he"], {"scale": -1.0}, ValueError, "scale"),
        (["he"], {"n_networks": 1}, ValueError, "n_networks"),
        ([["he"]], {}, TypeError, "target"),
        ([None], {}, TypeError, "target"),
    ],
)
def test_verify_refuses_bad_arguments(no_kernel, args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        verify(*args, **kwargs)


def test_verify_grad_of_a_scheme_simulates_the_backward_pass():
    # quantity="grad" was a bare AssertionError; it now implies backward=True
    v = verify("he", widths=[32] * 4, quantity="grad", n_networks=200)
    assert v.quantity == "grad" and v.layer == 1 and math.isfinite(v.z)
    assert v.passed


# --- item 7: messages name the argument ------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"record": None}, TypeError, "record"),
        ({"record": 5}, TypeError, "record"),
        ({"hist_range": {"pre": 5}}, TypeError, r"hist_range\['pre'\]"),
        ({"hist_range": {"pre": ("a", "b")}}, TypeError, r"hist_range\['pre'\]"),
        ({"hist_range": {"pre": (0.0, 1.0, 2.0)}}, TypeError, r"hist_range\['pre'\]"),
        ({"hist_range": {"pre": (0.0, float("inf"))}}, ValueError, r"hist_range\['pre'\]"),
        ({"hist_range": [(0, 1)]}, TypeError, "hist_range"),
        ({"hist_range": {"weights": (0, 1)}}, ValueError, "hist_range"),
    ],
)
def test_bad_record_and_hist_range_are_named(no_kernel, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        initmath.simulate([8, 8], "relu", n_networks=2, **kwargs)


# --- the NumPy reference reports the same events the same way --------------------------------
@pytest.mark.parametrize(
    ("widths", "activation", "std"),
    [([64] * 51, "relu", 10.0), ([128] * 201, "tanh", 30 / 128**0.5)],
)
def test_reference_reports_the_same_explosions(widths, activation, std):
    kw = dict(scheme="fixed", std=std, n_networks=20, backward=True)
    a = initmath.simulate(widths, activation, seed=0, **kw)
    b = simulate_numpy(widths, activation, seed=1, **kw)
    # the same kind of event, at nearby layers (different random streams)
    assert (a.exploded_at is None) == (not b["exploded"].any())
    assert (a.grad_exploded_at is None) == (not b["grad_exploded"].any())
    # in both, the missing layers are those past the explosion (forward: the deep end,
    # backward: the shallow end), inf after an overflow, and no value is a replaced zero
    for est, deep in ((a.q, True), (b["q"], True), (a.grad_q, False), (b["grad_q"], False)):
        bad = np.isinf(est)
        assert np.array_equal(bad, np.sort(bad) if deep else np.sort(bad)[::-1])
        assert not np.any(np.isnan(est)) and not np.any(est == 0)
    if a.exploded_at is not None:
        assert abs(a.exploded_at - (int(np.nonzero(b["exploded"])[0][0]) + 1)) <= 3
        assert np.all(np.isinf(b["grad_q"]))  # no backward values after a forward explosion
    if a.grad_exploded_at is not None:
        kb = int(np.nonzero(b["grad_exploded"])[0][-1]) + 1
        assert abs(a.grad_exploded_at - kb) <= 15, (a.grad_exploded_at, kb)


def test_reference_reports_underflow_and_keeps_tiny_standard_errors():
    widths = [64] * 50
    kw = dict(scheme="fixed", n_networks=30, seed=2)
    big = simulate_numpy(widths, "relu", std=2.0**-2.5, **kw)
    tiny = simulate_numpy(widths, "relu", std=2.0**-2.5 * 2.0**-12, **kw)
    ls = np.arange(49)
    ok = np.isfinite(tiny["q"])
    assert ok[:38].all() and not ok.all()  # 2**-24 per layer: underflow from layer ~41
    assert tiny["underflow"][~ok].all()
    np.testing.assert_allclose(tiny["q"][ok], np.ldexp(big["q"], -24 * (ls + 1))[ok], rtol=1e-12)
    np.testing.assert_allclose(
        tiny["q_se"][ok], np.ldexp(big["q_se"], -24 * (ls + 1))[ok], rtol=1e-12
    )
