"""The mean-field predictions (initmath.engine.jacobian.predictions) against the package's
independent moments."""

from __future__ import annotations

import numpy as np
import pytest

import initmath
from initmath.engine import jacobian as jm


def test_predictions_against_independent_moments():
    # First-layer increment of tanh from the package's mpmath quadrature.
    sw2, sb2 = 1.2, 0.05
    q1 = sw2 + sb2
    d2 = initmath.derivative_moment("tanh", q1, 2).value
    d4 = initmath.derivative_moment("tanh", q1, 4).value
    # Second layer: q2 from the package's forward prediction machinery (moment of tanh).
    q2 = sw2 * initmath.moment("tanh", q1, 2).value + sb2
    e2 = initmath.derivative_moment("tanh", q2, 2).value
    e4 = initmath.derivative_moment("tanh", q2, 4).value
    for dist, s1 in (("normal", -1), ("orthogonal", 0)):
        pred = jm.predicted_relative_variance(
            "tanh", [1, 2], distribution=dist, sigma_w2=sw2, sigma_b2=sb2
        )
        first = d4 / d2**2 - 1 - s1
        assert pred[0] == pytest.approx(first, rel=1e-7)
        assert pred[1] == pytest.approx(first + e4 / e2**2 - 1 - s1, rel=1e-7)
    np.testing.assert_allclose(
        jm.predicted_relative_variance("relu", [1, 5], sigma_w2=2.0), [2.0, 10.0]
    )
