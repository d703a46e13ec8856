"""What a wrong fan does: deep linear stacks of grouped, strided, transposed and packed layers.

Each layer kind of :class:`initmath.WeightShape` is built here as the dense matrix it applies
to a signal of ``channels x length`` (1-d convolutions with circular padding, so that every
output position sees the same number of terms and the true fans hold exactly), drawn with
:func:`initmath.init`, and stacked. In a linear network with weights independent of the
signal, one layer multiplies the expected second moment by

.. math:: \\frac{E[q^{l+1}]}{E[q^{l}]} = \\mathrm{fan_{in}} \\cdot \\mathrm{Var}[w]
          = \\frac{\\mathrm{fan_{in}}^{\\text{true}}}{\\mathrm{fan}^{\\text{used}}}

forward (with ``mode="fan_in"``) and by
:math:`\\mathrm{fan_{out}}^{\\text{true}}/\\mathrm{fan}^{\\text{used}}` backward (with
``mode="fan_out"``), exactly. With the true fans every ratio is 1; with a framework's, the
second moment drifts geometrically by the product of the per-layer ratios
(:func:`predicted_drift`), which :func:`fan_drift` measures over independent networks.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import numpy as np

from ..core.checks import choice, integer
from ..weights.samplers import as_generator, init
from ..weights.schemes import Mode
from ..weights.shapes import FAN_CONVENTIONS, FanConvention, WeightShape

__all__ = [
    "FanDrift",
    "default_block",
    "fan_drift",
    "layer_matrix",
    "predicted_drift",
]

_DIRECTIONS = ("forward", "backward")


def default_block(channels: int = 16, groups: int = 4, heads: int = 3) -> tuple[WeightShape, ...]:
    """One block of four layers, each a case the frameworks' fans get wrong.

    A grouped convolution (kernel 3, ``groups``), a strided one (kernel 4, stride 2), a
    transposed one (kernel 4, stride 2, which restores the length) and a packed projection of
    ``heads`` matrices, ``(heads·C, C)`` like ``nn.MultiheadAttention``'s ``in_proj_weight``,
    whose ``heads`` outputs are summed with weight :math:`1/\\sqrt{P}` (each path counts
    equally, as the query, key and value paths do).
    """
    c = integer(channels, "channels", minimum=1)
    g = integer(groups, "groups", minimum=1)
    p = integer(heads, "heads", minimum=1)
    if c % g:
        raise ValueError(f"channels={c} must be divisible by groups={g}")
    return (
        WeightShape((c, c // g, 3), groups=g),
        WeightShape((c, c, 4), stride=2),
        WeightShape((c, c, 4), transposed=True, stride=2),
        WeightShape((p * c, c), packed=p),
    )


def _stride(ws: WeightShape) -> int:
    s = ws.stride
    if isinstance(s, tuple):
        if len(s) != 1:
            raise ValueError(f"layer_matrix builds 1-d layers; stride {s!r} has {len(s)} axes")
        return s[0]
    return s


def _conv_matrix(w: np.ndarray, groups: int, stride: int, length: int) -> np.ndarray:
    """Dense matrix of ``Conv1d`` (weight ``(out, in/G, k)``, circular padding ``k//2``)."""
    c_out, c_in_g, k = w.shape
    c_in = c_in_g * groups
    t_out = length // stride
    m = np.zeros((c_out, t_out, c_in, length))
    o, c, j, t = np.meshgrid(
        np.arange(c_out), np.arange(c_in_g), np.arange(k), np.arange(t_out), indexing="ij"
    )
    src_channel = (o // (c_out // groups)) * c_in_g + c
    src_pos = (stride * t + j - (k - 1) // 2) % length
    np.add.at(m, (o, t, src_channel, src_pos), w[o, c, j])
    return m.reshape(c_out * t_out, c_in * length)


def layer_matrix(ws: WeightShape, weight: np.ndarray, length: int) -> np.ndarray:
    """The dense matrix of the 1-d layer ``ws`` with ``weight``, on signals of ``length``.

    Torch layout. An ordinary weight ``(out, in/G, k)`` is a circular ``Conv1d`` with stride
    ``ws.stride`` (``length`` in, ``length/stride`` out); a transposed one ``(in, out/G, k)``
    is its adjoint, the matrix of ``ConvTranspose1d`` (``length`` in, ``length·stride`` out);
    a 2-d weight is a dense projection applied at every position, and a packed ``(P·C, C)``
    one sums its ``P`` outputs with weight :math:`1/\\sqrt P`.
    """
    if not isinstance(ws, WeightShape):
        raise TypeError(f"ws must be a WeightShape, got {ws!r}")
    if ws.layout != "torch":
        raise ValueError(f"layer_matrix builds torch-layout layers, got layout={ws.layout!r}")
    length = integer(length, "length", minimum=1)
    w = np.asarray(weight, dtype=np.float64)
    if w.shape != ws.dims:
        raise ValueError(f"weight has shape {w.shape}, expected {ws.dims}")
    s = _stride(ws)
    if len(ws.dims) == 2:
        p = ws.packed
        c_in = ws.dims[1]
        stacked = w.reshape(p, ws.dims[0] // p, c_in).sum(axis=0) / math.sqrt(p)
        return np.kron(stacked, np.eye(length))
    if len(ws.dims) != 3:
        raise ValueError(f"layer_matrix builds 1-d layers (3-d weights), got {ws.dims}")
    if ws.transposed:
        # ConvTranspose1d(in, out, k, stride) is the adjoint of Conv1d(out, in, k, stride)
        # with the same weight tensor, on outputs of length*stride.
        return _conv_matrix(w, ws.groups, s, length * s).T
    if length % s:
        raise ValueError(f"length={length} must be divisible by the stride {s}")
    return _conv_matrix(w, ws.groups, s, length)


def _lengths(block: Sequence[WeightShape], length: int) -> list[int]:
    """The input length of each layer of ``block``; the block must restore ``length``."""
    out, n = [], length
    for ws in block:
        out.append(n)
        s = _stride(ws)
        if len(ws.dims) == 3:
            n = n * s if ws.transposed else n // s
    if n != length:
        raise ValueError(f"the block maps length {length} to {n}; it must restore it")
    return out


def _check(
    block: Sequence[WeightShape], direction: str, fan_convention: str
) -> tuple[tuple[WeightShape, ...], str, str]:
    blk = tuple(block)
    if not blk or not all(isinstance(ws, WeightShape) for ws in blk):
        raise TypeError(f"block must be a non-empty sequence of WeightShape, got {block!r}")
    return (
        blk,
        choice(direction, "direction", _DIRECTIONS),
        choice(fan_convention, "fan_convention", FAN_CONVENTIONS),
    )


def predicted_drift(
    block: Sequence[WeightShape], direction: str = "forward", fan_convention: str = "true"
) -> list[float]:
    """Per-layer factor of the expected second moment, :math:`\\mathrm{fan^{true}/fan^{used}}`.

    ``direction="forward"`` uses ``mode="fan_in"``, ``"backward"`` ``mode="fan_out"``;
    ``fan_convention`` is the fans the weights are drawn with. 1 for every layer with
    ``"true"``.
    """
    blk, d, c = _check(block, direction, fan_convention)
    k = 0 if d == "forward" else 1
    return [ws.true_fans()[k] / ws.fans(cast(FanConvention, c))[k] for ws in blk]


@dataclass(frozen=True)
class FanDrift:
    """Second moment through a deep linear stack, over independent networks.

    ``mean[l]`` and ``se[l]`` are the mean and standard error over ``networks`` of
    :math:`q^{l}/q^{0}` after layer ``l`` (forward) or of the gradient's second moment
    :math:`\\tilde q^{L-l}/\\tilde q^{L}` that far from the output (backward), for
    ``l = 1 ... depth``; ``predicted[l]`` is the product of :func:`predicted_drift`'s factors.
    """

    direction: str
    fan_convention: str
    mean: np.ndarray
    se: np.ndarray
    predicted: np.ndarray
    networks: int

    def z(self) -> np.ndarray:
        """``(mean - predicted) / se`` at every depth."""
        return (self.mean - self.predicted) / self.se


def fan_drift(
    block: Sequence[WeightShape] | None = None,
    *,
    blocks: int = 4,
    direction: str = "forward",
    fan_convention: str = "true",
    networks: int = 200,
    length: int = 16,
    seed: int = 0,
) -> FanDrift:
    """Measure the drift of the second moment through ``blocks`` repetitions of ``block``.

    Every weight is drawn with ``initmath.init(ws, "lecun", mode=..., fan_convention=...)``
    (unit gain: the network is linear), forward with ``mode="fan_in"`` from an input of
    i.i.d. :math:`N(0, 1)` entries, backward with ``mode="fan_out"`` from an output
    gradient of i.i.d. :math:`N(0, 1)` entries. Network ``i`` uses seed ``(seed, i)``, so a
    result does not depend on how many networks are asked for before it.
    """
    blk, d, c = _check(default_block() if block is None else block, direction, fan_convention)
    n_blocks = integer(blocks, "blocks", minimum=1)
    n_nets = integer(networks, "networks", minimum=2)
    length = integer(length, "length", minimum=1)
    seed = integer(seed, "seed", minimum=0)
    lengths = _lengths(blk, length)
    layers = list(blk) * n_blocks
    mode: Mode = "fan_in" if d == "forward" else "fan_out"
    conv = cast(FanConvention, c)
    ratios = np.empty((n_nets, len(layers)))
    for i in range(n_nets):
        gen = as_generator(np.random.default_rng([seed, i]))
        mats = [
            layer_matrix(
                ws,
                init(ws, "lecun", mode=mode, fan_convention=conv, rng=gen),
                lengths[j % len(blk)],
            )
            for j, ws in enumerate(layers)
        ]
        if d == "forward":
            x: np.ndarray = gen.standard_normal((mats[0].shape[1],))
            q0 = float(np.mean(x * x))
            for j, m in enumerate(mats):
                x = m @ x
                ratios[i, j] = float(np.mean(x * x)) / q0
        else:
            grad: np.ndarray = gen.standard_normal((mats[-1].shape[0],))
            q0 = float(np.mean(grad * grad))
            for j, m in enumerate(reversed(mats)):
                grad = m.T @ grad
                ratios[i, j] = float(np.mean(grad * grad)) / q0
    factors = predicted_drift(blk, d, c) * n_blocks
    if d == "backward":
        factors = factors[::-1]
    return FanDrift(
        direction=d,
        fan_convention=c,
        mean=ratios.mean(axis=0),
        se=ratios.std(axis=0, ddof=1) / math.sqrt(n_nets),
        predicted=np.cumprod(factors),
        networks=n_nets,
    )
