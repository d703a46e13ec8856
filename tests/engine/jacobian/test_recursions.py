"""The symbolic recursions and the exact linear Gaussian map
(initmath.engine.jacobian.recursions)."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from initmath.engine import jacobian as jm


def test_linear_gaussian_exact_one_layer_is_wishart():
    # E[tr((W W^T)^2)]/n = 2 + 1/n for an n x n matrix of N(0, 1/n) entries.
    for n in (1, 3, 50):
        assert jm.linear_gaussian_relative_variance([1], n)[0] == pytest.approx(1 + 1 / n)
    big = jm.linear_gaussian_relative_variance([10, 40], 10**7)
    np.testing.assert_allclose(big, [10, 40], rtol=1e-4)


def test_closed_forms():
    L = jm.L_SYM
    assert jm.relative_variance_closed_form("linear", "normal").rhs == L
    assert jm.relative_variance_closed_form("linear", "orthogonal").rhs == 0
    assert jm.relative_variance_closed_form("relu", "normal").rhs == 2 * L
    assert jm.relative_variance_closed_form("relu", "orthogonal").rhs == L
    assert jm.relative_variance_closed_form("tanh") is None
    step = jm.relative_variance_recursion("normal").rhs - jm.R_PREV
    assert sp.simplify(step - jm.MU2 / jm.MU1**2) == 0
    assert isinstance(jm.linear_gaussian_recursion(), sp.Eq)
