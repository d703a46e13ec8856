"""Reusable Hypothesis strategies for initmath's tests."""

from __future__ import annotations

from hypothesis import strategies as st

import initmath

#: Canonical scheme names and every accepted alias.
schemes = st.sampled_from(
    ("lecun", "xavier", "glorot", "he", "kaiming", "standard", "fixed", "normal")
)
fan_schemes = st.sampled_from(("lecun", "xavier", "he", "standard"))
gain_schemes = st.sampled_from(("lecun", "xavier", "he"))
modes = st.sampled_from(initmath.MODES)
sampled_distributions = st.sampled_from(("normal", "uniform", "truncated_normal"))
layouts = st.sampled_from(("torch", "keras"))
gains = st.floats(min_value=0.0, max_value=10.0, allow_nan=False, allow_infinity=False)
positive_fans = st.one_of(
    st.integers(min_value=1, max_value=10**6),
    st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False),
)
slopes = st.floats(min_value=0.0, max_value=5.0, allow_nan=False, allow_infinity=False)


@st.composite
def layer_shapes(draw: st.DrawFn, max_kernel_dims: int = 3, max_dim: int = 64) -> tuple[int, ...]:
    """A torch-layout weight shape ``(out, in, *kernel)`` with 0 to 3 kernel dimensions."""
    n_kernel = draw(st.integers(min_value=0, max_value=max_kernel_dims))
    dims = st.integers(min_value=1, max_value=max_dim)
    out, inp = draw(dims), draw(dims)
    kernel = tuple(draw(st.integers(min_value=1, max_value=7)) for _ in range(n_kernel))
    return (out, inp, *kernel)


def torch_to_keras(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The same layer's weight shape in Keras's ``(*kernel, in, out)`` layout."""
    out, inp, *kernel = shape
    return (*kernel, inp, out)
