"""Helpers for the book chapter on He/Kaiming initialization (``book/he.md``).

The spread of a second moment over networks, alternating layer widths, and the table of
convolution fans in the PyTorch and Keras layouts. (Z-scores against a prediction are
:meth:`initmath.SimulationResult.z`.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from initmath.weights.schemes import std
from initmath.weights.shapes import fans

if TYPE_CHECKING:
    from initmath.engine.simulation import SimulationResult

__all__ = ["alternating_widths", "coefficient_of_variation", "fan_table", "keras_shape"]


def _curve(result: SimulationResult, quantity: str) -> tuple[np.ndarray, np.ndarray]:
    est = result.q if quantity == "q" else result.grad_q
    se = result.q_se if quantity == "q" else result.grad_q_se
    if est is None or se is None:
        raise ValueError(f"the simulation did not record {quantity!r}")
    return np.asarray(est, dtype=float), np.asarray(se, dtype=float)


def coefficient_of_variation(result: SimulationResult, quantity: str, layer: int) -> float:
    """Spread over networks of a per-network second moment at ``layer`` (1-based).

    The standard deviation over the simulated networks divided by the mean, i.e.
    ``se * sqrt(n_networks) / mean``.
    """
    est, se = _curve(result, quantity)
    return float(se[layer - 1] * np.sqrt(result.n_networks) / est[layer - 1])


def alternating_widths(first: int, second: int, n_layers: int) -> list[int]:
    """``[first, second, first, ...]`` with ``n_layers + 1`` entries (input width first)."""
    if n_layers < 1:
        raise ValueError("n_layers must be >= 1")
    return [first if i % 2 == 0 else second for i in range(n_layers + 1)]


def keras_shape(torch_shape: Sequence[int]) -> tuple[int, ...]:
    """The Keras/JAX weight shape ``(*kernel, in, out)`` of a PyTorch ``(out, in, *kernel)``."""
    out, inp, *kernel = (int(s) for s in torch_shape)
    return (*kernel, inp, out)


def fan_table(layers: Sequence[tuple[str, Sequence[int]]]) -> list[dict[str, object]]:
    """Fans and He standard deviations of layers given by name and PyTorch weight shape.

    For each layer the shape is also converted to the Keras layout, and the fans and the He
    standard deviation (``initmath.std(..., "he")``, modes ``"fan_in"`` and ``"fan_out"``)
    are computed from each layout; the two layouts must agree, which is checked.

    Returns
    -------
    list of dict
        Keys ``layer``, ``torch``, ``keras``, ``fan_in``, ``fan_out``, ``std_fan_in``,
        ``std_fan_out``.
    """
    rows = []
    for name, shape in layers:
        t_shape = tuple(int(s) for s in shape)
        k_shape = keras_shape(t_shape)
        f_t, f_k = fans(t_shape, "torch"), fans(k_shape, "keras")
        if f_t != f_k:
            raise AssertionError(f"layouts disagree for {name}: {f_t} != {f_k}")
        s_in = std(t_shape, "he", layout="torch", mode="fan_in")
        s_out = std(t_shape, "he", layout="torch", mode="fan_out")
        if not np.isclose(s_in, std(k_shape, "he", layout="keras", mode="fan_in")):
            raise AssertionError(f"He std differs between layouts for {name}")
        rows.append(
            {
                "layer": name,
                "torch": t_shape,
                "keras": k_shape,
                "fan_in": int(f_t[0]),
                "fan_out": int(f_t[1]),
                "std_fan_in": float(s_in),
                "std_fan_out": float(s_out),
            }
        )
    return rows
