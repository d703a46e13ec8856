"""Weight shapes and fans.

The two conventions differ only in where the input and output dimensions sit:

========  ======================  ==========================================
layout    weight shape            used by
========  ======================  ==========================================
torch     ``(out, in, *kernel)``  PyTorch ``nn.Linear`` / ``nn.ConvNd``
keras     ``(*kernel, in, out)``  Keras 3 and JAX (``in_axis=-2, out_axis=-1``)
========  ======================  ==========================================

In both, :math:`\\mathrm{fan_{in}} = n_{in} \\prod k` and
:math:`\\mathrm{fan_{out}} = n_{out} \\prod k`: a unit of a convolution sees ``in`` input
channels through a kernel of ``prod(kernel)`` taps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from ..core.checks import choice, shape_tuple

__all__ = ["LAYOUTS", "Layout", "fans", "matrix_shape"]

Layout = Literal["torch", "keras", "jax"]
#: Weight layouts understood by :func:`fans`; ``"jax"`` is an alias of ``"keras"``.
LAYOUTS: tuple[str, ...] = ("torch", "keras")
_LAYOUT_ALIASES = {"jax": "keras"}


def _layout(layout: str) -> str:
    return choice(layout, "layout", LAYOUTS, _LAYOUT_ALIASES)


def fans(shape: Sequence[int], layout: Layout = "torch") -> tuple[int, int]:
    """Fan-in and fan-out of a weight tensor.

    Parameters
    ----------
    shape : sequence of int
        Weight shape, at least two dimensions, each >= 1.
    layout : {"torch", "keras", "jax"}
        ``"torch"``: ``(out, in, *kernel)``. ``"keras"`` (alias ``"jax"``):
        ``(*kernel, in, out)``.

    Returns
    -------
    fan_in, fan_out : int
        :math:`n_{in}\\prod_j k_j` and :math:`n_{out}\\prod_j k_j`.

    Raises
    ------
    TypeError
        If ``shape`` is not a sequence of integers.
    ValueError
        If ``shape`` has fewer than two dimensions or a dimension < 1, or ``layout`` is unknown.

    Notes
    -----
    Both frameworks agree on these numbers for ordinary layers. Two differences are
    deliberately not reproduced: Keras and JAX accept 0-d and 1-d shapes (fans of 1, or the
    single dimension twice) and clamp every fan to at least 1, where PyTorch and initmath
    refuse them; and for ``ConvTranspose`` PyTorch stores ``(in, out/groups, *kernel)``, so its
    "fan_in" there is really ``(out/groups)·prod(kernel)``.

    Examples
    --------
    >>> fans((64, 3, 5, 5))            # torch Conv2d(3, 64, 5)
    (75, 1600)
    >>> fans((5, 5, 3, 64), "keras")   # the same layer in Keras
    (75, 1600)
    """
    dims = shape_tuple(shape)
    if _layout(layout) == "torch":
        n_out, n_in, kernel = dims[0], dims[1], dims[2:]
    else:
        n_in, n_out, kernel = dims[-2], dims[-1], dims[:-2]
    receptive = math.prod(kernel)
    return n_in * receptive, n_out * receptive


def matrix_shape(shape: Sequence[int], layout: Layout = "torch") -> tuple[int, int]:
    """The 2-D ``(rows, cols)`` view that orthogonal initialization orthogonalizes.

    PyTorch flattens to ``(shape[0], prod(shape[1:]))``; Keras and JAX to
    ``(prod(shape[:-1]), shape[-1])``. In both, the rows (or columns) that come out
    orthonormal are those of the smaller dimension.
    """
    dims = shape_tuple(shape)
    if _layout(layout) == "torch":
        return dims[0], math.prod(dims[1:])
    return math.prod(dims[:-1]), dims[-1]
