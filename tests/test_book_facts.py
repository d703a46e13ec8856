"""Facts the theory chapters state about the mathematics and about the literature (issue 11,
items 15-19).

Each test reads the chapter source (MyST Markdown) or calls the package, and checks the
statement against an independent reference: SciPy quadrature for the Gaussian integrals, a
small Monte Carlo simulation, or the bibliography for who proved what.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate

import initmath
from initmath.engine import jacobian as jm
from initmath.theory import finite_width as fw
from initmath.theory import meanfield as mf

BOOK = Path(__file__).resolve().parents[1] / "book"
OWN_CHAPTERS = (
    "isometry",
    "gains",
    "modern",
    "finite_width",
    "random_init",
    "he",
    "introduction",
    "xavier",
)


def chapter(name: str) -> str:
    return (BOOK / f"{name}.md").read_text(encoding="utf-8")


def flat(text: str) -> str:
    """The text with every run of whitespace replaced by one space."""
    return re.sub(r"\s+", " ", text)


def bib_keys() -> set[str]:
    return set(re.findall(r"^@\w+\{([^,\s]+),", (BOOK / "references.bib").read_text(), re.M))


def bib_entry(key: str) -> str:
    text = (BOOK / "references.bib").read_text()
    start = text.index("{" + key + ",")
    return flat(text[start : text.find("\n}", start)])


def gauss(f) -> float:
    """E[f(z)], z ~ N(0, 1), by adaptive quadrature (independent of the package's rules)."""
    val, _ = integrate.quad(
        lambda z: f(z) * math.exp(-z * z / 2) / math.sqrt(2 * math.pi),
        -40,
        40,
        epsabs=1e-14,
        epsrel=1e-13,
        limit=200,
    )
    return val


# The tanh facts, from SciPy alone.
TANH_M = gauss(lambda z: math.tanh(z) ** 2)  # E[tanh(z)^2]
TANH_D = gauss(lambda z: 1.0 / math.cosh(z) ** 4)  # E[tanh'(z)^2]
SW2_EXACT = 1.0 / TANH_M  # exact gain squared: q* = 1


def chi1_at_q(sw2: float, q: float) -> float:
    return sw2 * gauss(lambda z: 1.0 / math.cosh(math.sqrt(q) * z) ** 4)


# -- item 15: the mean squared singular value is not the signal's second moment --------------
def test_isometry_no_longer_equates_second_moment_and_mean_lambda():
    text = flat(chapter("isometry"))
    old = (
        "The second moment of the signal, which the schemes of the previous chapters keep "
        "constant, is the mean of the squared singular values"
    )
    assert old not in text
    assert "x_L = J x_0" in text and "positively homogeneous" in text
    assert "E[\\lambda] = \\chi_1^L" in text and "pennington2017" in text
    # the numbers are glued from the package's chi_1, never typed
    src = chapter("isometry")
    assert re.search(r"chi1_t = mf\.chi1\(\"tanh\", SW2_T, 0\.0\)", src)
    assert 'glue("iso-tanh-exact-chi1", float(chi1_t)' in src
    assert 'glue("iso-tanh-exact-chiL", float(chi1_t**DEPTH)' in src
    assert "{glue:text}`iso-tanh-exact-chi1" in src and "{glue:text}`iso-tanh-exact-chiL" in src
    assert "1.178" not in src and "188" not in src and "190" not in src


def test_tanh_exact_gain_keeps_q_but_not_mean_lambda():
    g = initmath.gain("tanh", convention="exact")
    assert g**2 == pytest.approx(SW2_EXACT, rel=1e-10)
    assert mf.fixed_point("tanh", g**2, 0.0) == pytest.approx(1.0, abs=1e-9)
    chi = mf.chi1("tanh", g**2, 0.0)
    assert chi == pytest.approx(SW2_EXACT * TANH_D, rel=1e-9)
    assert chi == pytest.approx(1.1778, abs=5e-5)
    lam32 = jm.predicted_mean_lambda("tanh", [32], sigma_w2=g**2, input_q=1 / g**2)[0]
    assert lam32 == pytest.approx((SW2_EXACT * TANH_D) ** 32, rel=1e-7)
    assert 185 < lam32 < 192  # "E[lambda] ~ 190 at depth 32", while q stays 1
    q = initmath.predict([64] * 33, "tanh", scheme="lecun", gain=g, input_std=1 / g)[0]
    assert np.allclose(q, 1.0, atol=1e-9)


def test_predicted_mean_lambda_is_the_second_moment_ratio_only_for_homogeneous_nets():
    # bias-free ReLU: x_L = J x_0, the mean of lambda is the growth of q, (sigma_w^2/2)^L
    for sw2 in (1.0, 2.0, 3.0):
        lam = jm.predicted_mean_lambda("relu", [1, 5], sigma_w2=sw2)
        assert np.allclose(lam, (sw2 / 2) ** np.array([1, 5]), rtol=1e-12)
    # tanh at sigma_w^2 = 1 from q = 1: an explicit product of SciPy integrals along the map
    q, prod = 1.0, 1.0
    for _ in range(6):
        prod *= chi1_at_q(1.0, q)
        q = gauss(lambda z, q=q: math.tanh(math.sqrt(q) * z) ** 2)
    assert jm.predicted_mean_lambda("tanh", [6])[0] == pytest.approx(prod, rel=1e-8)


def test_simulated_mean_lambda_follows_chi1_power():
    # Monte Carlo: tanh at the exact gain, started at q* = 1; E[lambda_L] against chi_1^L.
    sw2, depth = SW2_EXACT, 8
    run = jm.jacobian_spectrum(
        "tanh", depth, 96, sigma_w2=sw2, n_networks=40, seed=3, spectrum_depths=(), input_q=1 / sw2
    )
    assert run.input_q == pytest.approx(1 / sw2)
    m, se = run.mean_lambda()
    pred = (sw2 * TANH_D) ** np.arange(1, depth + 1)
    assert np.all(np.abs(m - pred) < 4 * se), (m, pred, se)
    assert m[-1] - 4 * se[-1] > 1.5  # and it has grown, although q has not


def test_input_q_keeps_default_networks_and_is_validated():
    a = jm.sample_network(3, 5, rng=np.random.default_rng(1))
    b = jm.sample_network(3, 5, rng=np.random.default_rng(1), input_q=1.0)
    c = jm.sample_network(3, 5, rng=np.random.default_rng(1), input_q=4.0)
    assert np.array_equal(a[0], b[0]) and np.allclose(c[0], 2.0 * a[0], rtol=0, atol=0)
    for bad in (0.0, -1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="input_q"):
            jm.jacobian_spectrum("tanh", 2, 3, n_networks=2, input_q=bad)
        with pytest.raises(ValueError, match="input_q"):
            jm.predicted_mean_lambda("tanh", [2], input_q=bad)


# -- item 16: PyTorch's tanh gain ---------------------------------------------------------------
def test_both_tanh_gains_are_chaotic():
    chi_exact = mf.chi1("tanh", SW2_EXACT, 0.0)
    chi_torch = mf.chi1("tanh", (5 / 3) ** 2, 0.0)
    q_torch = mf.fixed_point("tanh", (5 / 3) ** 2, 0.0)
    assert chi_torch == pytest.approx(chi1_at_q((5 / 3) ** 2, q_torch), rel=1e-8)
    assert 1.0 < chi_exact < chi_torch
    assert chi_exact == pytest.approx(1.178, abs=5e-4)
    assert chi_torch == pytest.approx(1.210, abs=5e-4)
    for sw2 in (1.02, 1.3, 2.0, 4.0):  # any sigma_w^2 > 1 at sigma_b = 0
        assert mf.chi1("tanh", sw2, 0.0) > 1.0


def test_gain_docstring_no_longer_says_5_3_is_the_chaotic_one():
    doc = flat(initmath.gain.__doc__ or "")
    assert "mildly chaotic regime rather than exactly preserving" not in doc
    assert "(pytorch issue #24991)" not in doc
    assert "discuss.pytorch.org/t/calculate-gain-tanh/20854" in doc
    assert "#24991 asks to add SELU" in doc


def test_gains_chapter_cites_the_forum_and_the_issue_for_what_they_say():
    text = flat(chapter("gains"))
    assert "#24991 asks where it comes from" not in text
    assert "pytorchforum2018tanh" in text and "pytorch24991" in text
    assert "discuss.pytorch.org/t/calculate-gain-tanh/20854" in bib_entry("pytorchforum2018tanh")
    assert "selu" in bib_entry("pytorch24991").lower()
    src = chapter("gains")
    assert 'chi_t, chi_x = mf.chi1("tanh", g_t**2, 0.0), mf.chi1("tanh", g_x**2, 0.0)' in src
    assert "{glue:text}`gains-tanh-exact-chi" in src


# -- item 17: muP ------------------------------------------------------------------------------
def test_modern_chapter_states_mup_precisely():
    text = flat(chapter("modern"))
    old = (
        "In the standard and the NTK parametrizations the infinite-width limit does not "
        "learn features (it is a kernel method)"
    )
    assert old not in text
    assert "$1/n_{in}^2$ instead of $1/n_{in}$" in text
    assert "no stable infinite-width limit if the learning rate is held fixed" in text
    assert "limit of the NTK parametrization" in text
    assert "learning rate is set per layer" in text
    assert "yang2022" in text and "yang2021" in text
    entry = bib_entry("yang2022")
    assert "2203.03466" in entry and "Tensor Programs {V}" in entry


# -- item 18: who proved the finite-width laws -------------------------------------------------
def test_finite_width_laws_are_attributed_to_hanin_2018_and_hanin_rolnick():
    for key, eprint in (("hanin2018", "1801.03744"), ("hanin2018start", "1803.01719")):
        entry = bib_entry(key)
        assert eprint in entry and "2018" in entry and "Neural Information Processing" in entry
    assert "Rolnick" in bib_entry("hanin2018start")
    assert "How to Start Training" in bib_entry("hanin2018start")
    assert "Exploding and Vanishing Gradients" in bib_entry("hanin2018")
    fwt = flat(chapter("finite_width"))
    assert (
        "{cite:t}`hanin2020` showed that the logarithm of the squared norm of the signal" not in fwt
    )
    assert "hanin2018start" in fwt and "hanin2018`" in fwt
    for name in ("random_init", "he", "gains"):
        assert "hanin2018start" in chapter(name), name
    # hanin2020 is never cited alone for a depth-over-width law of the forward signal
    assert "grow with the ratio of depth to width {cite:p}`hanin2020`" not in flat(chapter("he"))
    doc = flat(fw.__doc__ or "")
    assert "Log-norm (Hanin & Nica)" not in doc
    assert "Hanin and Rolnick (2018" in doc and "Hanin (2018" in doc


def test_the_glued_product_law_is_the_package_derivation():
    src = chapter("finite_width")
    assert 'glue_math("eq-fw-product"' in src and "```{glue:math} eq-fw-product" in src
    er2 = fw.ratio_second_moment("relu")
    # independent: E[(2/n chi^2_K)^2] with K ~ Bin(n, 1/2), summed exactly for small n
    for n in (1, 2, 7, 30):
        k = np.arange(n + 1)
        pk = np.array([math.comb(n, int(i)) for i in k], dtype=float) / 2.0**n
        direct = float(np.sum(pk * k * (k + 2)) * (2.0 / n) ** 2)
        assert float(er2.subs(fw.N, n)) == pytest.approx(direct, rel=1e-13)
    assert float((er2 - 1).subs(fw.N, 1000) * 1000) == pytest.approx(5.0, rel=1e-12)


# -- item 19: one symbol for one quantity -------------------------------------------------------
CHI = re.compile(r"\\chi(?!_1|_\{1\}|\^2|\^\{2\})")


@pytest.mark.parametrize("name", OWN_CHAPTERS)
def test_chi_only_means_poole_chi1_or_chi_square(name):
    bad = [m.start() for m in CHI.finditer(chapter(name))]
    assert not bad, [chapter(name)[i - 40 : i + 40] for i in bad]


def test_introduction_uses_a_ratio_symbol():
    text = chapter("introduction")
    assert "\\chi_\\ell" not in text
    assert "\\rho_f^\\ell = q^\\ell / q^{\\ell-1}" in text
    assert "q^L = q^0 \\prod_{\\ell=1}^{L} \\rho_f^\\ell" in text


def test_chi_pattern_can_fail():
    assert CHI.search(r"$\chi_\ell = q^\ell$") and CHI.search(r"r\"\chi = \frac")
    assert not CHI.search(r"$\chi_1 = \sigma_w^2$ and $\chi^2_K$")


# -- every citation of these chapters is in the bibliography -------------------------------------
@pytest.mark.parametrize("name", OWN_CHAPTERS)
def test_cited_keys_exist(name):
    keys = bib_keys()
    for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", chapter(name)):
        for key in group.split(","):
            assert key.strip() in keys, (name, key)
