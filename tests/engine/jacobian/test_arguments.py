"""The argument checks of initmath.engine.jacobian (initmath.engine.jacobian.arguments), as the
simulation and the predictions apply them."""

from __future__ import annotations

import math

import pytest

from initmath.engine import jacobian as jm


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(depth=0), ValueError, "depth"),
        (dict(width=-2), ValueError, "width"),
        (dict(width=2.5), TypeError, "width"),
        (dict(distribution="uniform"), ValueError, "distribution"),
        (dict(distribution=3), TypeError, "distribution"),
        (dict(sigma_w2=math.nan), ValueError, "sigma_w2"),
        (dict(sigma_w2=0.0), ValueError, "sigma_w2"),
        (dict(sigma_b2=-1.0), ValueError, "sigma_b2"),
        (dict(n_networks=1), ValueError, "n_networks"),
        (dict(seed=-1), ValueError, "seed"),
        (dict(seed=1.5), TypeError, "seed"),
        (dict(depths=[0, 1]), ValueError, "depths"),
        (dict(depths=[5]), ValueError, "depths"),
        (dict(depths="12"), TypeError, "depths"),
        (dict(spectrum_depths=[4]), ValueError, "spectrum_depths"),
        (dict(activation="nope"), ValueError, "activation"),
    ],
)
def test_bad_arguments(kwargs, exc, match):
    args = dict(activation="tanh", depth=3, width=4, n_networks=2)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        jm.jacobian_spectrum(**args)


def test_bad_arguments_predictions():
    with pytest.raises(ValueError, match="width"):
        jm.linear_gaussian_relative_variance([1], 0)
    with pytest.raises(ValueError, match="depths"):
        jm.predicted_relative_variance("relu", [])
    with pytest.raises(TypeError, match="rng"):
        jm.sample_network(2, 3, rng=3)
    s = jm.jacobian_spectrum("linear", 2, 3, n_networks=3, spectrum_depths=())
    with pytest.raises(ValueError, match="max_depth"):
        s.slope(max_depth=1)
