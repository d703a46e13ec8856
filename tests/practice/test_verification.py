"""The verifier: predictions, calibration of its z-scores, power, the registry hooks, the CLI."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from statistics import NormalDist

import numpy as np
import pytest
from scipy import stats

import initmath
from initmath.practice.verification import (
    CHECKS,
    DEFAULT_NETWORKS,
    LEVEL,
    predict,
    verify,
    verify_all,
)


def test_predict_matches_closed_forms():
    # He/ReLU on unit inputs: q = 2 at every layer; gradients preserved.
    q, g = predict([100] * 6, "relu", scheme="he", backward=True)
    np.testing.assert_allclose(q, 2.0, rtol=1e-13)
    np.testing.assert_allclose(g, 1.0, rtol=1e-13)
    # LeCun/linear with a bias: q_l = 1 + l * sigma_b^2
    q, _ = predict([50] * 5, "linear", scheme="lecun", bias_std=0.5)
    np.testing.assert_allclose(q, 1 + 0.25 * np.arange(1, 5), rtol=1e-13)
    # Xavier on alternating widths: forward factor 2 n_in / (n_in + n_out) per layer
    q, _ = predict([64, 256, 64], "linear", scheme="xavier")
    np.testing.assert_allclose(q, [2 * 64 / 320, 2 * 64 / 320 * 2 * 256 / 320], rtol=1e-13)


def test_z_scores_are_calibrated():
    # A true formula (LeCun, linear: exact at any width) over 200 seeds: |z| > 1.96 must
    # happen about 5% of the time. The binomial(200, 0.05) central 99.9% range is the bound.
    zs = np.array([verify("lecun", widths=[32] * 4, n_networks=200, seed=s).z for s in range(200)])
    exceed = int(np.sum(np.abs(zs) > 1.96))
    lo, hi = stats.binom.ppf([0.0005, 0.9995], 200, 0.05)
    assert lo <= exceed <= hi, exceed
    # and the z-scores look standard normal
    assert stats.kstest(zs, "norm").pvalue > 1e-3


def test_wrong_formula_is_rejected_with_power():
    # The check with the largest relative standard error (He through 10 layers) at the
    # default sample size: a 5% error must be > z_crit + 1.645 standard errors away,
    # i.e. power >= 0.95 under the normal approximation; and it is rejected in practice.
    z_crit = NormalDist().inv_cdf(1 - LEVEL / 2)
    right = verify("he.variance", seed=1)
    wrong = verify("he.variance", seed=1, scale=1.05)
    assert right.passed
    assert not wrong.passed
    shift = 0.05 * right.predicted / right.se
    assert shift >= z_crit + NormalDist().inv_cdf(0.95), shift
    assert DEFAULT_NETWORKS == 2000


def test_verify_scheme_and_errors():
    v = verify("kaiming", widths=[32] * 5, n_networks=100)
    assert v.name == "kaiming" and v.layer == 4 and v.quantity == "q"
    with pytest.raises(ValueError, match="unknown target"):
        verify("nonsense")
    with pytest.raises(ValueError, match="level"):
        verify("he", level=1.5)
    with pytest.raises(ValueError, match="fixed check"):
        verify("he.variance", widths=[8, 8])


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "initmath", "verify", *args], capture_output=True, text=True
    )


def test_cli_table_and_exit_status():
    ok = _cli("relu.second_moment", "lecun.variance", "--networks", "200")
    assert ok.returncode == 0, ok.stderr
    assert "relu.second_moment" in ok.stdout and "2 passed, 0 failed" in ok.stdout
    assert "\r" not in ok.stderr  # piped: no progress bar
    # at level 0.999 the critical value is 0.0013: the check fails, and so does the exit
    bad = _cli("lecun.variance", "--networks", "200", "--level", "0.999")
    assert bad.returncode == 1 and "FAIL" in bad.stdout
    unknown = _cli("no.such.formula")
    assert unknown.returncode == 2


def test_cli_json_rows_are_the_verifications():
    out = _cli("--select", "relu.*", "--json", "--networks", "200", "--seed", "3")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    # the wildcard matches whole names: relu.* and not leaky_relu.*
    assert [r["name"] for r in rows] == [n for n in CHECKS if n.startswith("relu.")]
    for row in rows:
        assert {"name", "prediction", "estimate", "se", "z", "passed"} <= set(row)
        v = verify(row["name"], n_networks=200, seed=3)
        assert (row["prediction"], row["estimate"], row["se"], row["z"], row["passed"]) == (
            v.predicted,
            v.estimate,
            v.se,
            v.z,
            v.passed,
        )
        assert row["z"] == pytest.approx((row["estimate"] - row["prediction"]) / row["se"])
    # a plain pattern is a substring; a failing check fails the exit status in JSON too
    bad = _cli("--select", "lecun", "--json", "--networks", "200", "--level", "0.999")
    assert bad.returncode == 1
    assert [(r["name"], r["passed"]) for r in json.loads(bad.stdout)] == [("lecun.variance", False)]


def test_cli_json_writes_null_for_values_that_are_not_numbers(monkeypatch, capsys):
    # an exploded check has no finite estimate: JSON says null (NaN is not JSON)
    from initmath.__main__ import main
    from initmath.practice import verification

    def exploded(name, **kwargs):
        nan = math.nan
        return verification.Verification(name, "q", 3, 2.0, nan, nan, nan, False, 0.001, "exploded")

    monkeypatch.setattr(verification, "verify", exploded)
    assert main(["verify", "he.variance", "--json", "--no-progress"]) == 1
    (row,) = json.loads(capsys.readouterr().out)
    assert row["estimate"] is None and row["se"] is None and row["z"] is None
    assert row["prediction"] == 2.0 and row["passed"] is False and row["note"] == "exploded"


@pytest.mark.parametrize("progress", ["x", 3])
def test_verify_all_refuses_a_progress_that_is_not_callable(progress):
    # before: "'str' object is not callable", after the first check had been set up
    with pytest.raises(TypeError, match=f"progress must be None or a callable.*{progress!r}"):
        verify_all(progress=progress)


@pytest.mark.parametrize("key", [3, None, ["he.variance"]])
def test_registry_lookup_names_the_argument(key):
    with pytest.raises(TypeError, match="name must be a formula name"):
        initmath.formulas[key]


def test_every_formula_verifies_without_import_time_hooks():
    # the registry sits above verification: a formula's check is looked up, not attached
    assert not hasattr(initmath.formulas, "set_verifier")
    for name, f in initmath.formulas.items():
        assert f.check is CHECKS[name]
    assert set(CHECKS) == set(initmath.formulas)


def test_formula_verify_is_the_verify_of_its_name():
    f = initmath.formulas["relu.mean"]
    a, b = f.verify(n_networks=50, seed=4), initmath.verify("relu.mean", n_networks=50, seed=4)
    assert (a.name, a.estimate, a.se, a.z) == (b.name, b.estimate, b.se, b.z)
    with pytest.raises(TypeError):
        f.verify(widths=[8, 8])  # a formula's check is fixed


@pytest.mark.parametrize("f", [initmath.simulate, predict])
@pytest.mark.parametrize("value", ["1.0", True, -1.0, float("nan")])
def test_std_is_checked_under_its_own_name(f, value):
    with pytest.raises((TypeError, ValueError), match=f"std must .*{value!r}"):
        f([4, 4], "relu", scheme="fixed", std=value)


@pytest.mark.parametrize("seed", ["1", 1.0, 1j, -1, True, [2]])
def test_reference_seed_is_checked_like_simulate_seed(seed):
    from initmath.engine.reference import simulate_numpy

    with pytest.raises((TypeError, ValueError), match="seed"):
        simulate_numpy([2, 2], "relu", n_networks=2, seed=seed)
    with pytest.raises((TypeError, ValueError), match="seed"):
        initmath.simulate([2, 2], "relu", n_networks=2, seed=seed)
