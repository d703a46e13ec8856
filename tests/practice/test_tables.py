"""The book's number formats: three significant figures, errors deciding the precision."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from initmath.practice.tables import estimate, markdown_table, number


@pytest.mark.parametrize(
    ("x", "text"),
    [
        (1, "1"),
        (1024, "1024"),
        (np.int64(7), "7"),
        (0.020134, "0.0201"),
        (2**0.5, "1.41"),
        (32.0, "32.0"),
        (1234.5, "1230"),
        (9.996, "10.0"),  # rounding adds a digit: still three figures
        (0.0009996, "0.00100"),  # rounds into the plain range
        (99999.0, r"$1.00 \times 10^{5}$"),  # rounds out of it
        (1.6943e-05, r"$1.69 \times 10^{-5}$"),
        (-0.00012, r"$-1.20 \times 10^{-4}$"),
        (0.0, "0"),
        (math.inf, "inf"),
        (-math.inf, "-inf"),
        (math.nan, "nan"),
        (np.float64(0.5), "0.500"),
    ],
)
def test_number(x, text):
    assert number(x) == text


def test_number_keeps_the_value_to_its_figures():
    rng = np.random.default_rng(3)
    for x in rng.lognormal(0.0, 6.0, 300) * rng.choice([-1, 1], 300):
        text = number(float(x))
        m = re.fullmatch(r"\$(-?[\d.]+) \\times 10\^\{(-?\d+)\}\$", text)
        value = float(m.group(1)) * 10.0 ** int(m.group(2)) if m else float(text)
        assert math.isclose(value, x, rel_tol=5e-3), (x, text)
        digits = (m.group(1) if m else text).lstrip("-").replace(".", "").lstrip("0")
        assert len(digits) == 3 or (not m and abs(x) >= 1000), (x, text)


@pytest.mark.parametrize(
    ("value", "se", "text"),
    [
        (0.020134, 0.000312, "0.0201 ± 0.0003"),
        (0.020134, 0.0000012, "0.0201340 ± 0.0000012"),
        (1.0, 0.0123, "1.000 ± 0.012"),
        (1.0, 0.0096, "1.00 ± 0.01"),  # 0.0096 rounds up to one figure, 0.01
        (31.2345, 1.7, "31.2 ± 1.7"),
        (1234.5, 345.0, "1200 ± 300"),
        (0.5, 0.0, "0.500 ± 0"),
        (1.6943e-05, 3.1e-07, r"$(1.69 \pm 0.03) \times 10^{-5}$"),
        (math.inf, 0.1, "inf"),
        (math.nan, 0.1, "nan"),
        (2.0, math.nan, "2.00 ± nan"),
        (2.0, math.inf, "2.00 ± inf"),
    ],
)
def test_estimate(value, se, text):
    assert estimate(value, se) == text


def test_estimate_never_rounds_a_positive_error_to_zero():
    rng = np.random.default_rng(4)
    for v, s in zip(rng.normal(0, 1, 200), rng.lognormal(-8, 3, 200), strict=True):
        text = estimate(float(v), float(s))
        err = re.search(r"(?:±|\\pm) ([\d.]+)", text).group(1)
        assert float(err) > 0 and math.isclose(float(err), s * 10 ** -_power(text), rel_tol=0.2)
        # the value has exactly as many decimals as the error
        val = re.search(r"(-?[\d.]+) (?:±|\\pm)", text).group(1)
        assert len(val.partition(".")[2]) == len(err.partition(".")[2])


def _power(text):
    m = re.search(r"10\^\{(-?\d+)\}", text)
    return int(m.group(1)) if m else 0


def test_bad_arguments():
    with pytest.raises(TypeError, match="x"):
        number("1.0")
    with pytest.raises(TypeError, match="x"):
        number(True)
    with pytest.raises(ValueError, match="digits"):
        number(1.0, digits=0)
    with pytest.raises(ValueError, match="se"):
        estimate(1.0, -0.1)
    with pytest.raises(TypeError, match="value"):
        estimate(None, 0.1)


def test_markdown_table():
    text = markdown_table(["setting", "$q^L/q^1$"], [["a|b", "1.00"], ["He", "2.00"]], "lc")
    assert text.splitlines() == [
        "| setting | $q^L/q^1$ |",
        "| :-- | :-: |",
        r"| a\|b | 1.00 |",
        "| He | 2.00 |",
    ]
    with pytest.raises(ValueError, match="row 0"):
        markdown_table(["a", "b"], [["1"]])
    with pytest.raises(ValueError, match="align"):
        markdown_table(["a", "b"], [], "lx")
    with pytest.raises(TypeError, match="row 0 cell 1"):
        markdown_table(["a", "b"], [["1", 2.0]])
    with pytest.raises(ValueError, match="headers"):
        markdown_table([], [])
