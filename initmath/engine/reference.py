"""A plain NumPy reference implementation of the Monte Carlo engine.

:func:`simulate_numpy` simulates the same random fully connected networks as
:func:`initmath.simulate` with nothing but NumPy: a batch of networks is pushed through each
layer at once with one stacked :func:`numpy.matmul`, weights of shape
``(batch, n_out, n_in)`` are drawn by a single :class:`numpy.random.Generator` call per layer,
and everything is in float64. There is no Python loop over networks, only over layers and
over batches of networks, and the batch is chosen so that the arrays held at once stay within
a memory budget (:data:`DEFAULT_MEMORY`, 32 MB).

It serves two purposes: an independent check of the Numba engine (the two agree
statistically, not bit for bit, since they draw from different random streams) and the
baseline of the engine's benchmark (``benchmarks/bench_engine.py``).

Residual networks (:class:`~initmath.engine.network.Residual`) are simulated as the engine
does: a block end adds the stored pre-activations (ordering ``"post"``: activations) of its
skip's source, and its gradient joins that layer's on the way back. Normalized networks
(``norm``) normalize every layer's :math:`W x + b` over its units (LayerNorm) or over the
inputs of the network (BatchNorm), and back-propagate through the normalization exactly.
Convolutional layers (:class:`~initmath.engine.convolution.Convolution`) are computed tap by
tap on padded inputs (:mod:`initmath.engine.reference_convs`), with one bias per output
channel.

Differences from :func:`initmath.simulate`: only the ``"normal"`` and ``"uniform"``
distributions, no histograms or means, and the result is a plain dict. Explosions, NaNs and
underflows are detected and reported as the engine does (the same thresholds,
:data:`~initmath.engine.kernel_source.EXPLODE` and
:data:`~initmath.engine.kernel_source.TINY`, the same
rules): a layer where some network's value overflowed is ``inf``, one where some value is NaN
or underflowed is ``nan``, a network whose forward pass blew up has no later or backward
values, and the per-layer counts of such networks are returned. (The engine keeps the
backward pass scaled by powers of two; this reference does not, so a vanishing gradient
underflows here at least as early as there.)

Examples
--------
>>> r = simulate_numpy([64] * 4, "relu", scheme="he", n_networks=300, seed=1)
>>> r["q"].shape, r["q_se"].shape
((3,), (3,))
>>> bool(abs(r["q"][-1] - 2.0) < 5 * r["q_se"][-1])  # He on unit inputs: q = 2 at every layer
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Unpack

import numpy as np
import numpy.typing as npt

from ..core.checks import integer, layer_widths
from .convolution import Convolution
from .kernel_source import AFTER_NAN, AFTER_OVERFLOW, EXPLODE, NAN, OK, OVERFLOW, TINY, UNDERFLOW
from .network import Network, NetworkOptions, as_network
from .reference_convs import conv_apply, conv_apply_adjoint

__all__ = ["DEFAULT_MEMORY", "REFERENCE_DISTRIBUTIONS", "batch_size", "simulate_numpy"]

#: The distributions :func:`simulate_numpy` supports.
REFERENCE_DISTRIBUTIONS: tuple[str, ...] = ("normal", "uniform")

#: Default budget, in bytes, for the arrays one batch of networks holds at once. Batches of a
#: few tens of MB ran 5-15% faster than ones of 256 MB (which do not stay in cache) on the
#: benchmark's workloads; below that the batch size hardly matters.
DEFAULT_MEMORY = 32 * 2**20

_F64 = np.dtype(np.float64).itemsize


def batch_size(
    widths: Sequence[int],
    n_inputs: int = 1,
    *,
    backward: bool = False,
    memory: int = DEFAULT_MEMORY,
    weights: Sequence[int] | None = None,
) -> int:
    """How many networks :func:`simulate_numpy` pushes through the layers at once.

    The largest batch whose arrays fit in ``memory`` bytes: forward only, one layer's weights
    and its input and output activations; with ``backward``, every layer's weights and
    pre-activations (kept for the backward pass) and the gradients.

    Parameters
    ----------
    widths : sequence of int
        ``[n0, n1, ..., nL]``.
    n_inputs : int
        Inputs per network.
    backward : bool
        Whether the gradients are back-propagated too.
    memory : int
        Budget in bytes (>= 1).
    weights : sequence of int, optional
        Each layer's number of weights (default: dense layers, ``n_in * n_out``); a
        convolution's padded copies of its input count as three activations more.

    Returns
    -------
    int
        At least 1, even if one network alone needs more than ``memory``.

    Examples
    --------
    >>> batch_size([128] * 11)  # 128 kB of weights per network and layer
    250
    """
    ws = layer_widths(widths)
    n_inputs = integer(n_inputs, "n_inputs", 1)
    memory = integer(memory, "memory", 1)
    sizes = (
        [a * b for a, b in zip(ws[1:], ws[:-1], strict=True)]
        if weights is None
        else [integer(w, "weights", 0) for w in weights]
    )
    if backward:
        per_network = sum(sizes) + sum(ws[1:]) * n_inputs + 3 * max(ws) * n_inputs
    else:
        per_network = max(sizes) + 3 * max(ws) * n_inputs
    return max(1, memory // (per_network * _F64))


def _classify(v: np.ndarray, nonzero: np.ndarray) -> np.ndarray:
    """Status codes of per-network second moments, by the engine's rule (see
    :mod:`initmath.engine.kernel_source`): NaN, past ``EXPLODE``, or below ``TINY`` (a zero from
    values not all zero included)."""
    out = np.full(v.shape, OK, dtype=np.int8)
    out[(v < TINY) & ((v > 0) | nonzero)] = UNDERFLOW
    out[~(v <= EXPLODE)] = OVERFLOW
    out[np.isnan(v)] = NAN
    return out


def _after(code: np.ndarray) -> np.ndarray:
    return np.where(code == NAN, AFTER_NAN, AFTER_OVERFLOW).astype(np.int8)


def _estimate(per_network: np.ndarray, status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over networks (axis 0) and its standard error; ``inf`` where some network's
    value overflowed (or is missing after an overflow), ``nan`` where some is NaN or
    underflowed. The spread is computed on values scaled by a power of two, so that tiny
    values keep their standard error."""
    n = per_network.shape[0]
    mean = np.empty(per_network.shape[1])
    se = np.empty(per_network.shape[1])
    for layer in range(per_network.shape[1]):
        st = status[:, layer]
        if np.any((st == OVERFLOW) | (st == AFTER_OVERFLOW)):
            mean[layer] = se[layer] = math.inf
        elif np.any(st != OK):
            mean[layer] = se[layer] = math.nan
        else:
            x = per_network[:, layer]
            big = float(np.max(np.abs(x)))
            e = math.frexp(big)[1] if big > 0 else 0
            y = np.ldexp(x, -e)
            mean[layer] = math.ldexp(float(y.mean()), e)
            se[layer] = math.ldexp(float(y.std(ddof=1)) / math.sqrt(n), e)
    return mean, se


def _counts(status: np.ndarray, *codes: int) -> np.ndarray:
    return np.isin(status, codes).sum(axis=0).astype(np.int64)


def simulate_numpy(
    network: Network | Sequence[int],
    activation: object = None,
    *,
    n_networks: int = 1000,
    n_inputs: int = 1,
    seed: int = 0,
    backward: bool = False,
    batch: int | None = None,
    **options: Unpack[NetworkOptions],
) -> dict[str, npt.NDArray[np.float64]]:
    """Simulate ``n_networks`` random fully connected networks with NumPy only.

    The networks are those of :func:`initmath.simulate`: layer :math:`\\ell = 1..L` computes
    :math:`z^\\ell = W^\\ell x^{\\ell-1} + b^\\ell` and :math:`x^\\ell = \\phi(z^\\ell)`, the
    input :math:`x^0` has ``n_inputs`` columns of i.i.d. :math:`N(0, \\text{input\\_std}^2)`
    entries, :math:`W^\\ell` has shape ``(widths[l], widths[l-1])`` with i.i.d. entries of
    standard deviation :func:`initmath.std` (uniform: on :math:`\\pm` :func:`initmath.bound`),
    and :math:`b^\\ell_i \\sim N(0, \\text{bias\\_std}^2)`. With ``backward``, a standard
    Gaussian gradient :math:`\\delta^L` is injected at the last pre-activations and pulled
    back, :math:`\\delta^{\\ell-1} = \\phi'(z^{\\ell-1}) \\odot W^{\\ell\\top} \\delta^\\ell`.

    Networks are processed ``batch`` at a time: for each layer, one generator call draws the
    weights of the whole batch, of shape ``(batch, n_out, n_in)``, and one
    :func:`numpy.matmul` applies them. All arithmetic is float64.

    Parameters
    ----------
    network : Network or sequence of int
        The description of the networks, or widths with ``activation`` and ``**options``,
        as for :func:`initmath.simulate`; its distribution must be ``"normal"`` or
        ``"uniform"``. The activation's NumPy form
        (:attr:`initmath.theory.activations.Activation.numpy`) is used.
    activation : str, (str, float) or Activation, optional
        With widths only.
    n_networks, n_inputs : int
        Independent networks (>= 2, for a standard error) and inputs per network (>= 1).
    seed : int
        Seed of the :func:`numpy.random.default_rng` generator that draws everything.
    backward : bool
        Also back-propagate a standard Gaussian gradient from the last layer. The weights
        of a batch are kept for the backward pass, which makes the default batch smaller.
    batch : int, optional
        Networks per batch; default :func:`batch_size` (a budget of 32 MB). The
        result depends on it, since it changes the order of the random draws.

    Returns
    -------
    dict of str to numpy.ndarray
        ``"q"``, ``"q_se"``: per layer, the mean over networks of each network's mean of
        :math:`(z^\\ell)^2` over units and inputs, and its standard error (standard
        deviation over networks with ``ddof=1``, over :math:`\\sqrt{N}`). With ``backward``
        also ``"grad_q"``, ``"grad_q_se"``: the same for :math:`(\\delta^\\ell)^2`.
        Estimates are ``inf`` where some network's value overflowed, ``nan`` where some is
        NaN or underflowed; ``"exploded"`` and ``"underflow"`` (with ``backward`` also
        ``"grad_exploded"`` and ``"grad_underflow"``) count, per layer, the networks whose
        pass overflowed or went NaN, or whose value underflowed, at that layer, as
        :attr:`initmath.engine.simulation.SimulationResult.exploded` does.

    Raises
    ------
    TypeError, ValueError
        For an invalid argument, among them a distribution other than ``"normal"`` and
        ``"uniform"``.

    Examples
    --------
    >>> r = simulate_numpy([32, 32, 32], "linear", scheme="lecun", distribution="uniform",
    ...                    n_networks=50, backward=True, seed=3)
    >>> sorted(r)  # doctest: +NORMALIZE_WHITESPACE
    ['exploded', 'grad_exploded', 'grad_q', 'grad_q_se', 'grad_underflow', 'q', 'q_se',
     'underflow']
    """
    net = as_network(network, activation, **options)
    if net.distribution not in REFERENCE_DISTRIBUTIONS:
        raise ValueError(
            f"distribution must be one of {', '.join(map(repr, REFERENCE_DISTRIBUTIONS))} for "
            f"the NumPy reference, got {net.distribution!r}"
        )
    ws = list(net.widths)
    act = net.activation
    phi, dphi = act.numpy, act.numpy_derivative
    dist = net.distribution
    n_networks = integer(n_networks, "n_networks", 2)
    n_inputs = integer(n_inputs, "n_inputs", 1)
    bias_std, input_std = net.bias_std, net.input_std
    if not isinstance(backward, (bool, np.bool_)):
        raise TypeError(f"backward must be a bool, got {backward!r}")
    residual = net.residual is not None
    if batch is None:  # a residual network keeps its pre-activations as a backward one does
        batch = batch_size(
            ws,
            n_inputs,
            backward=bool(backward) or residual,
            weights=[math.prod(k.shape) + 3 * k.n_in * net.convolutional for k in net.layers],
        )
    batch = min(integer(batch, "batch", 1), n_networks)
    scales = net.scales
    skips = [-1 if k.skip is None else k.skip - 1 for k in net.layers]  # 0-based sources
    alphas = [k.alpha for k in net.layers]
    # every layer is normalized alike: over the units (axis 1) or over the inputs (axis 2)
    norm_axis = {None: None, "layer": 1, "batch": 2}[net.norm]
    eps = net.norm_eps
    if net.norm == "batch" and n_inputs < 2:
        raise ValueError(
            f"n_inputs must be >= 2 for batch normalization (the inputs of a network are its "
            f"batch), got n_inputs={n_inputs!r}"
        )
    post = residual and net.residual is not None and net.residual.ordering == "post"
    seed = integer(seed, "seed", 0)  # the shared check, as simulate's (no str, float, bool)
    rng = np.random.default_rng(seed)

    L = len(ws) - 1
    q = np.empty((n_networks, L))
    q_status = np.zeros((n_networks, L), dtype=np.int8)
    grad = np.empty((n_networks, L)) if backward else None
    g_status = np.zeros((n_networks, L), dtype=np.int8)
    act_blew = np.zeros(L, dtype=np.int64)  # networks whose activations blew up, per layer
    # One weight buffer per layer shape, reused from batch to batch (and, forward only,
    # from layer to layer): the generator writes into it, nothing is allocated per draw.
    buffers: dict[tuple[int, ...], np.ndarray] = {}

    def draw(b: int, layer: int) -> np.ndarray:
        shape = net.layers[layer].shape
        key = (b, *shape, layer if backward else -1)
        w = buffers.get(key)
        if w is None:
            w = buffers[key] = np.empty((b, *shape))
        if dist == "normal":
            rng.standard_normal(out=w)
        else:  # U(-1/2, 1/2); the layer's scale 2a is applied to the (smaller) product
            rng.random(out=w)
            w -= 0.5
        return w

    def pull(layer: int, d: np.ndarray) -> np.ndarray:
        """W^T d for the layer's stored (unit-scale) weights."""
        kind, w = net.layers[layer], weights[layer]
        if isinstance(kind, Convolution):
            return conv_apply_adjoint(kind, w, d)
        return np.matmul(w.transpose(0, 2, 1), d)

    # The unit-scale weights' products are rescaled afterwards: N(0, s^2) = s N(0, 1) and
    # U(-a, a) = 2a U(-1/2, 1/2). Multiplying z (b x n_out x n_inputs) is cheaper than
    # multiplying W (b x n_out x n_in) whenever n_inputs < n_in.
    factor = [s if dist == "normal" else 2.0 * s for s in scales]

    # Exploded networks are carried along (a batch is one array) but their values are
    # never used: their status says why.
    with np.errstate(all="ignore"):
        for start in range(0, n_networks, batch):
            b = min(batch, n_networks - start)
            rows = slice(start, start + b)
            x = rng.standard_normal((b, ws[0], n_inputs))
            x *= input_std
            alive = np.ones(b, dtype=bool)  # forward pass finite so far
            tainted = np.zeros(b, dtype=bool)  # underflowed before: a zero may be lost digits
            weights: list[np.ndarray] = []
            zs: list[np.ndarray] = []
            acts: list[np.ndarray] = []
            normed: list[tuple[np.ndarray, np.ndarray]] = []
            for layer in range(L):
                nonzero = np.any(x != 0, axis=(1, 2)) | (bias_std > 0.0)
                w = draw(b, layer)
                this = net.layers[layer]
                z = conv_apply(this, w, x) if isinstance(this, Convolution) else np.matmul(w, x)
                z *= factor[layer]
                if bias_std > 0.0:  # one per unit, or per output channel
                    channels = getattr(this, "out_shape", (ws[layer + 1],))[0]
                    bias = bias_std * rng.standard_normal((b, channels, 1, 1))
                    z += np.broadcast_to(bias, (b, channels, ws[layer + 1] // channels, 1)).reshape(
                        b, ws[layer + 1], 1
                    )
                if norm_axis is not None:  # LayerNorm over the units, BatchNorm the inputs
                    z -= z.mean(axis=norm_axis, keepdims=True)
                    inv = 1.0 / np.sqrt((z * z).mean(axis=norm_axis, keepdims=True) + eps)
                    z *= inv
                    if backward:
                        normed.append((z.copy(), inv))
                if skips[layer] >= 0:  # a block end: z = z^s (post: phi(z^s)) + alpha (W x + b)
                    z *= alphas[layer]
                    z += (acts if post else zs)[skips[layer]]
                    nonzero = np.ones(b, dtype=bool)
                q[rows, layer] = np.einsum("bij,bij->b", z, z) / z[0].size
                code = _classify(q[rows, layer], nonzero | tainted)
                tainted |= code == UNDERFLOW
                st = q_status[rows]
                blew = alive & ((code == OVERFLOW) | (code == NAN))
                st[alive, layer] = code[alive]
                st[blew, layer + 1 :] = _after(code[blew])[:, None]
                g_status[rows][blew] = _after(code[blew])[:, None]
                alive &= ~blew
                x = phi(z)
                bad = alive & ~np.all(np.isfinite(x), axis=(1, 2))  # activations blew up
                if np.any(bad):
                    act_blew[layer] += int(np.count_nonzero(bad))
                    kind = np.where(
                        np.any(np.isnan(x[bad]), axis=(1, 2)), AFTER_NAN, AFTER_OVERFLOW
                    ).astype(np.int8)
                    st[bad, layer + 1 :] = kind[:, None]
                    g_status[rows][bad] = kind[:, None]
                    alive &= ~bad
                q_status[rows] = st
                if backward:
                    weights.append(w)
                if backward or residual:
                    zs.append(z)
                if post:
                    acts.append(x)
            if grad is None:
                continue
            gst = g_status[rows]
            live = alive.copy()  # backward pass finite so far
            tainted[:] = False
            delta = rng.standard_normal((b, ws[L], n_inputs))
            pending: dict[int, np.ndarray] = {}  # block ends' gradients, by skip source
            for layer in range(L - 1, -1, -1):
                total = np.einsum("bij,bij->b", delta, delta)
                grad[rows, layer] = total / delta[0].size
                code = _classify(grad[rows, layer], (total > 0) | tainted)
                tainted |= code == UNDERFLOW
                blew = live & ((code == OVERFLOW) | (code == NAN))
                gst[live, layer] = code[live]
                gst[blew, :layer] = _after(code[blew])[:, None]
                live &= ~blew
                if layer == 0:
                    break
                if skips[layer] >= 0:
                    pending[skips[layer]] = delta
                if norm_axis is not None:
                    zh, inv = normed[layer]
                    d = delta - delta.mean(axis=norm_axis, keepdims=True)
                    d -= zh * (delta * zh).mean(axis=norm_axis, keepdims=True)
                    d *= inv * alphas[layer]
                    back = pull(layer, d)
                    back *= factor[layer]
                else:
                    back = pull(layer, delta)
                    back *= factor[layer] * alphas[layer]
                if post and layer - 1 in pending:  # the skip's gradient passes phi' too
                    back += pending.pop(layer - 1)
                delta = dphi(zs[layer - 1])
                delta *= back
                if layer - 1 in pending:
                    delta += pending.pop(layer - 1)
            g_status[rows] = gst

    q_mean, q_se = _estimate(q, q_status)
    out = {
        "q": q_mean,
        "q_se": q_se,
        "exploded": _counts(q_status, OVERFLOW, NAN) + act_blew,
        "underflow": _counts(q_status, UNDERFLOW),
    }
    if grad is not None:
        out["grad_q"], out["grad_q_se"] = _estimate(grad, g_status)
        out["grad_exploded"] = _counts(g_status, OVERFLOW, NAN)
        out["grad_underflow"] = _counts(g_status, UNDERFLOW)
    return out
