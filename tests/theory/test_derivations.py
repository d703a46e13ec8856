"""The symbolic engine: activations, Gaussian moments, derivations, exact gains, registry.

Numeric references are written here independently of the package: activations by hand in
NumPy/SciPy, moments by scipy.integrate.quad, the truncated normal by scipy.stats.
"""

from __future__ import annotations

import math
import subprocess
import sys

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special, stats

import initmath
from initmath.theory import derivations as d
from initmath.theory.activations import _REGISTRY, X, _builtin, selu_constants
from initmath.theory.moments import Q, symbolic_moment

# SELU's constants as printed in Klambauer et al. (2017), to 32 digits.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_LAMBDA = 1.0507009873554804934193349852946
SLOPE = 0.01


def _selu(x):
    return SELU_LAMBDA * np.where(x < 0, SELU_ALPHA * np.expm1(np.minimum(x, 0)), x)


def _selu_d(x):
    return SELU_LAMBDA * np.where(x < 0, SELU_ALPHA * np.exp(np.minimum(x, 0)), 1.0)


def _sech2(s):
    # sech(s)^2 = 4 e^{-2s} / (1 + e^{-2s})^2 for s >= 0, without cosh's overflow
    e = np.exp(-2 * s)
    return 4 * e / (1 + e) ** 2


REFERENCE = {  # name: (phi, phi')
    "linear": (lambda x: x, lambda x: np.ones_like(x)),
    "relu": (lambda x: np.maximum(x, 0.0), lambda x: (x > 0) * 1.0),
    "leaky_relu": (lambda x: np.where(x < 0, SLOPE * x, x), lambda x: np.where(x < 0, SLOPE, 1.0)),
    "tanh": (np.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "sigmoid": (special.expit, lambda x: special.expit(x) * (1 - special.expit(x))),
    "softplus": (lambda x: np.logaddexp(0.0, x), special.expit),
    "elu": (
        lambda x: np.where(x < 0, np.expm1(np.minimum(x, 0)), x),
        lambda x: np.where(x < 0, np.exp(np.minimum(x, 0)), 1.0),
    ),
    "selu": (_selu, _selu_d),
    "gelu": (lambda x: x * special.ndtr(x), lambda x: special.ndtr(x) + x * stats.norm.pdf(x)),
    "silu": (
        lambda x: x * special.expit(x),
        lambda x: special.expit(x) * (1 + x * (1 - special.expit(x))),
    ),
    "mish": (  # x tanh(s), s = softplus(x) >= 0; phi' = tanh(s) + x sigmoid(x) sech(s)^2
        lambda x: x * np.tanh(np.logaddexp(0.0, x)),
        lambda x: (
            np.tanh(np.logaddexp(0.0, x)) + x * special.expit(x) * _sech2(np.logaddexp(0.0, x))
        ),
    ),
    "lecun_tanh": (
        lambda x: 1.7159 * np.tanh(2 * x / 3),
        lambda x: 1.7159 * 2 / 3 * (1 - np.tanh(2 * x / 3) ** 2),
    ),
}


def quad_moment(f, q, k):
    """E[f(sqrt(q) z)^k] by adaptive quadrature, split at 0 where the kinks are."""

    def integrand(z):
        return (
            float(f(np.array(math.sqrt(q) * z))) ** k
            * math.exp(-z * z / 2)
            / math.sqrt(2 * math.pi)
        )

    opts = {"epsabs": 1e-15, "epsrel": 1e-13, "limit": 200}
    left, _ = integrate.quad(integrand, -np.inf, 0, **opts)
    right, _ = integrate.quad(integrand, 0, np.inf, **opts)
    return left + right


def test_every_builtin_has_a_reference():
    assert set(REFERENCE) == set(_builtin())


@pytest.fixture
def scratch_registry():
    """Let a test register activations without leaking them into other tests."""
    saved = dict(_REGISTRY)
    yield
    _REGISTRY.clear()
    _REGISTRY.update(saved)


# --- activations -------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_generated_forms_match_reference(name):
    act = initmath.activation(name)
    phi, dphi = REFERENCE[name]
    x = np.linspace(-6, 6, 1201)
    x = x[np.abs(x) > 1e-9]  # skip the kink of the piecewise ones
    np.testing.assert_allclose(act.numpy(x), phi(x), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(act.numpy_derivative(x), dphi(x), rtol=1e-12, atol=1e-15)
    scalar = np.array([act.scalar(float(v)) for v in x[::37]])
    np.testing.assert_allclose(scalar, phi(x[::37]), rtol=1e-13, atol=1e-15)
    dscalar = np.array([act.scalar_derivative(float(v)) for v in x[::37]])
    np.testing.assert_allclose(dscalar, dphi(x[::37]), rtol=1e-12, atol=1e-15)


def test_scalar_forms_compile_with_numba():
    numba = pytest.importorskip("numba")
    for name in REFERENCE:
        act = initmath.activation(name)
        f = numba.njit(act.scalar)
        df = numba.njit(act.scalar_derivative)
        for v in (-1.5, 0.3, 2.0):
            assert f(v) == pytest.approx(float(REFERENCE[name][0](np.array(v))), rel=1e-13)
            assert df(v) == pytest.approx(float(REFERENCE[name][1](np.array(v))), rel=1e-12)


def test_selu_constants_are_klambauers():
    alpha, lam = selu_constants()
    assert float(sp.N(alpha, 30)) == SELU_ALPHA
    assert float(sp.N(lam, 30)) == SELU_LAMBDA
    assert abs(sp.N(alpha, 32) - sp.Float("1.6732632423543772848170429916717", 32)) < 1e-30
    assert abs(sp.N(lam, 32) - sp.Float("1.0507009873554804934193349852946", 32)) < 1e-30


def test_lecun_tanh_maps_one_to_one():
    f = initmath.activation("lecun_tanh").scalar
    assert f(1.0) == pytest.approx(1.0, abs=2e-4)  # LeCun et al. chose 1.7159 for f(1) = 1


def test_parameters_bind():
    act = initmath.activation(("leaky_relu", 0.2))
    assert act.numpy(np.array([-1.0]))[0] == pytest.approx(-0.2, rel=1e-15)
    assert initmath.activation("elu", 2).numpy(np.array([-50.0]))[0] == pytest.approx(-2.0)
    assert initmath.activation("prelu", 0.3).expr == initmath.activation("leaky_relu", 0.3).expr


# --- exact moments -----------------------------------------------------------------------
def _is_zero(expr) -> bool:
    return sp.simplify(expr) == 0


def test_exact_closed_forms():
    a = sp.Symbol("a", nonnegative=True)
    assert _is_zero(symbolic_moment("linear") - Q)
    assert _is_zero(symbolic_moment("relu") - Q / 2)
    assert _is_zero(symbolic_moment(_REGISTRY["leaky_relu"]) - (1 + a**2) * Q / 2)
    assert _is_zero(symbolic_moment("relu", 1) - sp.sqrt(Q / (2 * sp.pi)))
    assert _is_zero(symbolic_moment("relu", derivative=True) - sp.Rational(1, 2))
    assert _is_zero(symbolic_moment(_REGISTRY["leaky_relu"], derivative=True) - (1 + a**2) / 2)
    assert _is_zero(symbolic_moment("linear", 4) - 3 * Q**2)


@pytest.mark.parametrize("name", ["linear", "relu", "leaky_relu", "elu", "selu"])
def test_piecewise_exponential_activations_are_exact(name):
    assert initmath.moment(name).exact
    assert initmath.derivative_moment(name).exact


@pytest.mark.parametrize(
    "name", ["tanh", "sigmoid", "softplus", "gelu", "silu", "mish", "lecun_tanh"]
)
def test_smooth_activations_are_numeric(name):
    m = initmath.moment(name)
    assert not m.exact and m.expr is None and m.method == "numeric"
    assert m.error < 1e-16 * max(1.0, abs(m.value))


_MP_REFERENCE = {  # written directly in mpmath, independent of the SymPy definitions
    "tanh": (mpmath.tanh, lambda x: 1 / mpmath.cosh(x) ** 2),
    "gelu": (
        lambda x: x * (1 + mpmath.erf(x / mpmath.sqrt(2))) / 2,
        lambda x: (
            (1 + mpmath.erf(x / mpmath.sqrt(2))) / 2
            + x * mpmath.exp(-x * x / 2) / mpmath.sqrt(2 * mpmath.pi)
        ),
    ),
    "softplus": (lambda x: mpmath.log1p(mpmath.exp(x)), lambda x: 1 / (1 + mpmath.exp(-x))),
}


@pytest.mark.parametrize("name", sorted(_MP_REFERENCE))
@pytest.mark.parametrize("q", [0.01, 1.0, 30.0])
def test_numeric_moments_are_correct_to_a_few_ulp(name, q):
    # against 40-digit tanh-sinh quadrature of the functions written by hand
    with mpmath.workdps(40):
        got_both = (initmath.moment(name, q).value, initmath.derivative_moment(name, q).value)
        for f, got in zip(_MP_REFERENCE[name], got_both, strict=True):
            s = mpmath.sqrt(q)
            ref = mpmath.quad(
                lambda z, f=f, s=s: f(s * z) ** 2 * mpmath.exp(-z * z / 2),
                [-mpmath.inf, 0, mpmath.inf],
            ) / mpmath.sqrt(2 * mpmath.pi)
            assert abs(got - float(ref)) <= 4 * math.ulp(float(ref)), (name, q, got, ref)


def test_selu_fixed_point_is_exact():
    # Klambauer et al.: mean 0 and second moment 1 at q = 1, proved symbolically.
    assert _is_zero(symbolic_moment("selu", 2).subs(Q, 1) - 1)
    assert _is_zero(symbolic_moment("selu", 1).subs(Q, 1))


@pytest.mark.parametrize("name", sorted(REFERENCE))
@pytest.mark.parametrize("q", [0.25, 1.0, 4.0])
@pytest.mark.parametrize("k", [1, 2])
def test_moments_match_quadrature(name, q, k):
    phi, dphi = REFERENCE[name]
    ref = quad_moment(phi, q, k)
    got = initmath.moment(name, q=q, k=k).value
    assert got == pytest.approx(ref, rel=1e-10, abs=1e-12)
    dref = quad_moment(dphi, q, k)
    dgot = initmath.derivative_moment(name, q=q, k=k).value
    assert dgot == pytest.approx(dref, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_exact_gains_match_quadrature(name):
    phi, dphi = REFERENCE[name]
    assert initmath.gain(name, convention="exact") == pytest.approx(
        1 / math.sqrt(quad_moment(phi, 1.0, 2)), rel=1e-10
    )
    assert initmath.backward_gain(name) == pytest.approx(
        1 / math.sqrt(quad_moment(dphi, 1.0, 2)), rel=1e-10
    )


def test_exact_gain_is_the_fixed_point_gain():
    # With v = g^2/fan_in, q = 1 maps to g^2 * E[phi(z)^2] = 1.
    for name in REFERENCE:
        g = initmath.gain(name, convention="exact")
        assert g * g * initmath.moment(name).value == pytest.approx(1.0, rel=1e-13)


def test_exact_and_torch_conventions_agree_where_torch_derives():
    for spec in ("relu", "linear", ("leaky_relu", 0.2)):
        assert initmath.gain(spec, convention="exact") == pytest.approx(
            initmath.gain(spec), rel=1e-15
        )
    assert initmath.gain("selu", convention="exact") == 1.0
    assert initmath.gain("selu") == 0.75


# --- derivations -------------------------------------------------------------------------
def test_scheme_conditions_solve_to_the_papers():
    n_in, n_out, a = d.N_IN, d.N_OUT, d.SLOPE
    f = initmath.formulas
    assert _is_zero(f["lecun.variance"].rhs - 1 / n_in)
    assert _is_zero(f["he.variance"].rhs - 2 / n_in)
    assert _is_zero(f["he.variance_fan_out"].rhs - 2 / n_out)
    assert _is_zero(f["xavier.variance"].rhs - 2 / (n_in + n_out))
    assert _is_zero(f["xavier.forward"].rhs - 1 / n_in)
    assert _is_zero(f["xavier.backward"].rhs - 1 / n_out)
    assert _is_zero(f["prelu.variance"].rhs - 2 / ((1 + a**2) * n_in))
    assert _is_zero(f["standard.variance"].rhs - 1 / (3 * n_in))
    assert _is_zero(f["uniform.variance"].rhs - d.A**2 / 3)
    assert _is_zero(f["uniform.bound"].rhs - sp.sqrt(3 * d.V))


def test_forward_and_backward_maps():
    assert _is_zero(d.forward_map("relu") - (d.N_IN * d.V * Q / 2 + d.SIGMA_B2))
    assert _is_zero(d.backward_map("relu") - d.N_OUT * d.V * d.Q_GRAD / 2)
    assert _is_zero(d.forward_map() - (d.N_IN * d.V * d.M(Q) + d.SIGMA_B2))


def test_xavier_needs_unit_slope_at_zero():
    with pytest.raises(ValueError, match="phi'\\(0\\) = 1"):
        d.xavier_conditions("sigmoid")
    with pytest.raises(ValueError, match="lecun_tanh"):
        d.xavier_conditions("lecun_tanh")  # slope 1.7159 * 2/3 at 0
    forward, backward, v = d.xavier_conditions("tanh")
    assert _is_zero(v - 2 / (d.N_IN + d.N_OUT))
    assert _is_zero(forward.lhs - d.N_IN * d.V) and _is_zero(backward.lhs - d.N_OUT * d.V)


def test_linearized_tanh_moment():
    # tanh(x)^2 = x^2 - 2x^4/3 + ...; E[z^4] = 3, so E[tanh(sqrt q z)^2] = q - 2 q^2 + O(q^3)
    lin = d.linearized_moment("tanh", 2)
    assert _is_zero(lin - (Q - 2 * Q**2))
    small = 1e-3
    assert initmath.moment("tanh", q=small).value == pytest.approx(
        float(lin.subs(Q, small)), rel=1e-5
    )


def test_truncated_normal_constant():
    beta = initmath.formulas["truncated_normal.factor"].rhs
    assert float(sp.N(beta, 30)) == pytest.approx(stats.truncnorm(-2, 2).std(), rel=1e-15)
    assert float(sp.N(beta, 30)) == initmath.truncated_normal_std()


def test_orthogonal_mean_square():
    expr = initmath.formulas["orthogonal.mean_square"].rhs
    r, c = sorted(expr.free_symbols, key=str)[::-1]
    for rows, cols in ((3, 5), (5, 3), (4, 4)):
        assert expr.subs({r: rows, c: cols}) == sp.Rational(1, max(rows, cols))


# --- the fast NumPy functions equal their derivations ---------------------------------------
_SCHEME_MODES = [
    (s, m)
    for s in ("lecun", "xavier", "he", "standard")
    for m in (None, "fan_in", "fan_out", "fan_avg")
] + [("fixed", None)]
_NUMERIC = (
    d.N_IN,
    d.N_OUT,
    d.GAIN,
    sp.Symbol("s", positive=True),
    sp.Symbol("r", positive=True, integer=True),
    sp.Symbol("c", positive=True, integer=True),
)


def _derived(scheme, mode, distribution, with_gain):
    expr = d.weight_std(scheme, mode, distribution, d.GAIN if with_gain else None)
    return sp.lambdify(_NUMERIC, expr, modules="math")


@pytest.mark.parametrize(("scheme", "mode"), _SCHEME_MODES)
@pytest.mark.parametrize("distribution", initmath.DISTRIBUTIONS)
@pytest.mark.parametrize("with_gain", [False, True])
@settings(max_examples=25)
@given(
    out_=st.integers(1, 5000),
    in_=st.integers(1, 5000),
    g=st.floats(0.05, 5.0),
    s=st.floats(1e-4, 1.0),
)
def test_std_equals_derivation(scheme, mode, distribution, with_gain, out_, in_, g, s):
    if distribution == "orthogonal" and (scheme in ("standard", "fixed") or mode):
        return  # refused combinations, tested in test_errors
    kwargs = {"mode": mode, "distribution": distribution}
    if with_gain:
        kwargs["gain"] = g
    if scheme == "fixed":
        kwargs["std"] = s
    fast = initmath.std((out_, in_), scheme, **kwargs)
    derived = _derived(scheme, mode, distribution, with_gain)(in_, out_, g, s, out_, in_)
    assert fast == pytest.approx(derived, rel=1e-13)
    if distribution in ("uniform", "truncated_normal"):
        b = initmath.bound((out_, in_), scheme, **kwargs)
        if distribution == "uniform":
            ref = float(initmath.formulas["uniform.bound"].rhs.subs(d.V, derived**2))
        else:
            beta = float(sp.N(initmath.formulas["truncated_normal.factor"].rhs, 30))
            ref = 2 * derived / beta
        assert b == pytest.approx(ref, rel=1e-13)


@settings(max_examples=50)
@given(fan_in=st.integers(1, 10**5), fan_out=st.integers(1, 10**5), slope=st.floats(0, 3))
def test_variance_equals_registry(fan_in, fan_out, slope):
    f = initmath.formulas
    subs = {d.N_IN: fan_in, d.N_OUT: fan_out, d.SLOPE: slope}
    for name, fast in (
        ("lecun.variance", initmath.variance("lecun", fan_in)),
        ("xavier.variance", initmath.variance("xavier", fan_in, fan_out)),
        ("he.variance", initmath.variance("he", fan_in)),
        ("he.variance_fan_out", initmath.variance("he", fan_in, fan_out, mode="fan_out")),
        (
            "prelu.variance",
            initmath.variance("he", fan_in, gain=initmath.gain("leaky_relu", slope)),
        ),
        ("standard.variance", initmath.variance("standard", fan_in)),
    ):
        assert fast == pytest.approx(float(f[name].rhs.subs(subs)), rel=1e-13), name


# --- the registry --------------------------------------------------------------------------
def test_registry_entries_are_complete():
    bib = pytest.importorskip("pathlib").Path(__file__).parents[2] / "book" / "references.bib"
    keys = set(__import__("re").findall(r"@\w+\{(\w+),", bib.read_text()))
    for name, f in initmath.formulas.items():
        assert f.name == name
        assert isinstance(f.rhs, sp.Basic)
        assert f.latex.startswith(sp.latex(f.lhs))
        assert f.assumptions and all(isinstance(s, str) and s for s in f.assumptions)
        assert f.cite is None or f.cite in keys, (name, f.cite)
        assert f.check is not None and callable(f.verify)


def test_registry_is_read_only_and_named():
    with pytest.raises(KeyError, match="unknown formula"):
        initmath.formulas["he.varience"]
    with pytest.raises(TypeError):
        initmath.formulas["x"] = None  # type: ignore[index]


# --- custom activations ---------------------------------------------------------------------
def test_custom_activation_gets_moments_and_gains(scratch_registry):
    t = sp.Symbol("t", real=True)
    act = initmath.register_activation("softsign_test", t / (1 + sp.Abs(t)), replace=True)
    ref = quad_moment(lambda x: x / (1 + np.abs(x)), 1.0, 2)
    assert initmath.moment("softsign_test").value == pytest.approx(ref, rel=1e-10)
    assert initmath.gain(act, convention="exact") == pytest.approx(1 / math.sqrt(ref), rel=1e-10)
    # a piecewise-polynomial one is exact
    sq = initmath.register_activation(
        "relu2_test", sp.Piecewise((0, t < 0), (t**2, True)), replace=True
    )
    assert initmath.moment(sq).exact
    assert _is_zero(initmath.moment(sq).expr - sp.Rational(3, 2) * Q**2)
    # with a parameter
    b = sp.Symbol("b", positive=True)
    scaled = initmath.register_activation("scaled_test", b * t, params={b: 2.0}, replace=True)
    assert initmath.moment(scaled).value == pytest.approx(4.0)
    assert initmath.moment(initmath.activation("scaled_test", 3.0)).value == pytest.approx(9.0)


def test_string_activation_is_refused(scratch_registry):
    with pytest.raises(TypeError, match="string"):
        initmath.register_activation("evil", "__import__('os').system('true')")
    with pytest.raises(TypeError, match="SymPy"):
        initmath.register_activation("evil", lambda x: x)
    with pytest.raises(ValueError, match="already registered"):
        initmath.register_activation("relu", X)
    y = sp.Symbol("y")
    with pytest.raises(ValueError, match="one variable"):
        initmath.register_activation("two_vars", X * y)


# --- bad inputs ------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["reLU2", "softmax", ""])
def test_unknown_activation(bad):
    with pytest.raises(ValueError, match="activation"):
        initmath.moment(bad)
    with pytest.raises(ValueError, match="activation"):
        initmath.gain(bad, convention="exact")


@pytest.mark.parametrize("q", [0, -1.0, math.nan, math.inf])
def test_bad_q(q):
    with pytest.raises(ValueError, match="q"):
        initmath.moment("relu", q=q)


@pytest.mark.parametrize("k", [0, -2, 1.5, True])
def test_bad_k(k):
    with pytest.raises((TypeError, ValueError), match="k"):
        initmath.moment("relu", k=k)


@pytest.mark.parametrize("bad", [-0.5, math.nan])
def test_bad_parameter(bad):
    with pytest.raises(ValueError, match="slope|a"):
        initmath.activation("leaky_relu", bad)
    with pytest.raises(ValueError):
        initmath.gain("leaky_relu", bad, convention="exact")


def test_unknown_convention():
    with pytest.raises(ValueError, match="convention"):
        initmath.gain("relu", convention="keras")


def test_tanh_has_no_closed_form_torch_gain_for_gelu():
    with pytest.raises(ValueError, match="torch"):
        initmath.gain("gelu")
    assert initmath.gain("gelu", convention="exact") > 1


# --- import cost -------------------------------------------------------------------------------
def test_core_import_does_not_load_heavy_modules():
    code = (
        "import sys, initmath; initmath.std((256, 128), 'he'); initmath.init((4, 4), 'he', rng=0);"
        "print(sorted(m for m in ('sympy', 'scipy', 'numba', 'mpmath', 'matplotlib')"
        " if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("q", [1e-10, 1e-24, 1e-60, 1e-200])
def test_numeric_moment_is_relatively_accurate_at_tiny_q(q):
    # E[tanh(sqrt(q) z)^2] = q - 2 q^2 + O(q^3) (tanh^2 x = x^2 - 2x^4/3 + ..., E z^4 = 3);
    # unscaled, mpmath's absolute tolerance gave 1.046 q at q = 1e-24
    assert initmath.moment("tanh", q).value == pytest.approx(q - 2 * q * q, rel=1e-14)
    # E[tanh'(sqrt(q) z)^2] = 1 - 2q + O(q^2), and GELU's E[phi^2] = q/4 + O(q^2)
    assert initmath.derivative_moment("tanh", q).value == pytest.approx(1 - 2 * q, rel=1e-14)
    assert initmath.moment("gelu", q).value == pytest.approx(q / 4, rel=1e-9)
