"""The arguments of the finite-width moments (initmath.theory.finite_width.setting): depth,
width, the activations covered and the weight laws, refused by name."""

from __future__ import annotations

import pytest

from initmath.theory import finite_width as fw


@pytest.mark.parametrize("func", [fw.kurtosis, fw.log_norm_moments])
def test_bad_arguments(func):
    with pytest.raises(ValueError, match="width"):
        func("relu", 3, 0)
    with pytest.raises(ValueError, match="depth"):
        func("relu", 0, 8)
    with pytest.raises(TypeError, match="depth"):
        func("relu", 2.5, 8)
    with pytest.raises(TypeError, match="width"):
        func("relu", 3, True)
    with pytest.raises(NotImplementedError, match="tanh"):
        func("tanh", 3, 8)
    with pytest.raises(TypeError, match="activation"):
        func(3, 3, 8)
    with pytest.raises(ValueError, match="distribution.*'cauchy'"):
        func("relu", 3, 8, distribution="cauchy")
    with pytest.raises(NotImplementedError, match="orthogonal"):
        func("relu", 3, 8, distribution="orthogonal")


def test_bad_arguments_specific():
    with pytest.raises(TypeError, match="slope"):
        fw.kurtosis(("leaky_relu", "x"), 3, 8)
    with pytest.raises(ValueError, match="slope"):
        fw.kurtosis(("leaky_relu", float("nan")), 3, 8)
    with pytest.raises(TypeError, match="no parameter"):
        fw.kurtosis(("relu", 0.1), 3, 8)
    with pytest.raises(TypeError, match="activation"):
        fw.kurtosis(("leaky_relu", 0.1, 2), 3, 8)
