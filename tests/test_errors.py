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
    [
        ((5,), ValueError),
        ((), ValueError),
        ((3, -1), ValueError),
        ((2.0, 3), TypeError),
        ((2, 3.5), TypeError),
        ((True, 3), TypeError),
        ("34", TypeError),
        (7, TypeError),
        ((None, 3), TypeError),
    ],
)
def test_bad_shapes(shape, exc):
    for call in (
        lambda: initmath.fans(shape),
        lambda: initmath.std(shape, "he"),
        lambda: initmath.bound(shape, "he"),
        lambda: initmath.init(shape, "he"),
    ):
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


# --- issue #11, item 7: the edges of the layer-1 functions, the trainer and the CLI -----------
def test_variance_that_overflows_is_refused_naming_the_arguments():
    # (sqrt(2) / sqrt(1e-320))**2 = 2e320 > max float64: was a raw OverflowError
    with raises(ValueError, "fan_in=1e-320", "overflows"):
        initmath.variance("he", 1e-320)
    with raises(ValueError, "gain=1e+200", "overflows"):
        initmath.variance("he", 10, gain=1e200)
    with raises(ValueError, "gain=1e+200", "std=1e+200"):
        initmath.std((3, 3), "normal", gain=1e200, std=1e200)
    # a positive std whose square underflows is refused too, never a silent 0
    with raises(ValueError, "gain=1e-200", "underflows"):
        initmath.variance("he", 10, gain=1e-200)
    # the edges that fit are exact: 2/fan
    assert initmath.variance("he", 1e-300) == pytest.approx(2e300, rel=1e-15)


@pytest.mark.parametrize("cut", [0, 0.0, -1.0, math.nan, math.inf, -math.inf])
def test_truncated_normal_std_refuses_a_bad_cut(cut):
    with raises(ValueError, "cut", repr(cut)):
        initmath.truncated_normal_std(cut)


@pytest.mark.parametrize("cut", ["2", None, True])
def test_truncated_normal_std_cut_must_be_a_number(cut):
    with raises(TypeError, "cut", repr(cut)):
        initmath.truncated_normal_std(cut)


@pytest.mark.parametrize("cut", [1e-300, 1e-8, 1e-3, 0.05, 0.0999, 0.1, 0.5, 2.0, 7.0])
def test_truncated_normal_std_is_accurate_at_small_cuts(cut):
    # Independent reference: the closed form in 60-digit arithmetic (mpmath), which the
    # float64 closed form matched only to ~1e-11 at cut 1e-3 (SciPy's truncnorm, to 2e-8);
    # at tiny cuts, the uniform's c/sqrt(3) (relative error c^2/15).
    import mpmath

    got = initmath.truncated_normal_std(cut)
    if cut < 1e-6:
        assert got == pytest.approx(cut / math.sqrt(3), rel=1e-12)
        return
    with mpmath.workdps(60):
        c = mpmath.mpf(cut)
        ref = mpmath.sqrt(1 - 2 * c * mpmath.npdf(c) / mpmath.erf(c / mpmath.sqrt(2)))
    assert got == pytest.approx(float(ref), rel=1e-14)


@pytest.mark.parametrize(
    ("dtype", "gain", "distribution"),
    [
        (np.float32, 1e200, "normal"),
        (np.float32, 1e100, "orthogonal"),
        (np.float16, 1e6, "uniform"),
        (np.float16, 1e-12, "normal"),
    ],
)
def test_init_refuses_weights_the_dtype_cannot_hold(dtype, gain, distribution):
    # was: an array of inf (or of zeros) with a RuntimeWarning
    with raises(ValueError, f"gain={gain!r}", np.dtype(dtype).name):
        initmath.init((3, 4), "he", gain=gain, distribution=distribution, dtype=dtype, rng=0)


def test_init_refuses_a_shape_that_cannot_fit_in_memory():
    with raises(ValueError, "shape", "GiB"):
        initmath.init((2**40, 2**40), "he", rng=0)


def _tiny_training():
    from initmath.practice.training import network

    net = network([2, 3, 2], "relu", seed=0)
    x = np.array([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]])
    return net, x, np.array([0, 1, 1])


def test_train_refuses_empty_data():
    from initmath.practice.training import train

    net, x, y = _tiny_training()
    with raises(ValueError, "x", "at least one example"):  # was: NaN losses
        train(net, np.empty((0, 2)), np.empty(0, dtype=int), epochs=1)
    with raises(ValueError, "x_test", "at least one example"):
        train(net, x, y, x_test=np.empty((0, 2)), y_test=np.empty(0, dtype=int), epochs=1)


@pytest.mark.parametrize("momentum", ["0.9", None, True, [0.9]])
def test_train_momentum_must_be_a_number(momentum):
    from initmath.practice.training import train

    net, x, y = _tiny_training()
    with raises(TypeError, "momentum", repr(momentum)):  # "0.9" was accepted
        train(net, x, y, epochs=1, momentum=momentum)


def test_train_needs_both_halves_of_a_test_set():
    from initmath.practice.training import train

    net, x, y = _tiny_training()
    with raises(ValueError, "y_test", "x_test"):  # y_test alone was ignored
        train(net, x, y, y_test=y, epochs=1)
    with raises(ValueError, "x_test", "y_test"):
        train(net, x, y, x_test=x, epochs=1)


def _cli(*args, **kwargs):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "initmath", *args], text=True, **kwargs)


@pytest.mark.parametrize(
    "args",
    [
        ["verify", "no.such.formula"],
        ["verify", "--networks", "x"],
        ["verify", "--networks", "1"],
        ["verify", "--level", "2"],
        ["verify", "--seed", "-1"],
        ["verify", "--bogus"],
        [],
    ],
)
def test_cli_errors_are_one_line_and_exit_2(args):
    out = _cli(*args, capture_output=True)
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("initmath: error: "), out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_cli_with_closed_stdout_fails():
    # stdout closed before start: Python sets sys.stdout to None and print() writes nothing;
    # the run used to exit 0 having printed nothing. Refused up front (no simulation).
    import os

    out = _cli("verify", "relu.mean", "--networks", "20", stderr=-1, preexec_fn=lambda: os.close(1))
    assert out.returncode == 2
    assert "initmath: error: standard output is closed" in out.stderr


def test_cli_with_a_broken_pipe_fails():
    # `python -m initmath verify ... | head -c0`: the reader is gone before the table is
    # written. One cheap check (2 networks' worth of the relu.mean check).
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-m", "initmath", "verify", "relu.mean", "--networks", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.close()  # the reader exits at once
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=300) == 2, err
    assert "initmath: error: cannot write the results to standard output" in err
    assert "Traceback" not in err and "Exception ignored" not in err


def test_an_integer_beyond_the_doubles_is_a_value_error_naming_the_argument():
    # float(10**400) raises OverflowError; the shared check turns it into a clear ValueError.
    from initmath.core.checks import nonnegative_real, positive_real

    for check in (positive_real, nonnegative_real):
        with pytest.raises(ValueError, match="bias_std must be finite"):
            check(10**400, "bias_std")


def test_plot_moments_takes_any_per_layer_estimates():
    # The finite-width chapter plots its own fitted curves (objects with q and q_se).
    import types

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from initmath.practice.plotting import plot_moments

    fig, ax = plt.subplots()
    curve = types.SimpleNamespace(q=np.array([1.0, 2.0]), q_se=np.array([0.1, 0.1]))
    plot_moments(ax, curve, [1.0, 2.0])
    assert len(ax.lines) >= 1
    with pytest.raises(TypeError, match="result must have per-layer arrays 'q' and 'q_se'"):
        plot_moments(ax, types.SimpleNamespace(q=[1.0]), [1.0])
    plt.close(fig)
