"""Monte Carlo simulation of many random fully connected networks.

:func:`simulate` draws ``n_networks`` independent networks ``widths[0] -> ... -> widths[L]``,
weights from a scheme and distribution (:func:`initmath.std`, :func:`initmath.bound`), pushes
Gaussian inputs through them and, optionally, a Gaussian gradient back. Per layer it reports
the second moment of the pre-activations (and of the back-propagated gradients) averaged over
units and inputs, as an estimate over networks with its standard error.

Reproducibility: network ``i`` draws everything from Philox stream ``i`` of the seed
(:mod:`initmath.engine.rng`), so a seed gives bit-identical results for any thread count, and runs
over disjoint ranges of networks (``first_network``) merge (:meth:`SimulationResult.merge`)
into exactly the result of one run.

Honesty at the edges: a per-network value that overflowed (past
:data:`~initmath.engine.kernel_source.EXPLODE`), went NaN or underflowed (below
:data:`~initmath.engine.kernel_source.TINY`) is never averaged in. A layer where any network's value
is missing that way is reported as ``inf`` (overflow) or ``nan`` (NaN, underflow), with the
layer and the number of networks (:attr:`SimulationResult.exploded_at`,
:attr:`SimulationResult.grad_exploded_at`, :attr:`SimulationResult.underflow_at`,
:meth:`SimulationResult.failures`). A network whose forward pass exploded has no backward
values at all.

The result class, :class:`SimulationResult`, and :data:`FAILURES` are defined in
:mod:`~initmath.engine.simulation_result` and importable from here; this module holds
:func:`simulate`, the checks of its arguments and the planning of its memory and of the
kernel calls.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any, Unpack, cast

import numba
import numpy as np
from threadpoolctl import threadpool_limits

from ..core.checks import (
    available_memory,
    choice,
    integer,
)
from ..weights.distributions import TRUNCATION
from .convolution import layer_geometry
from .kernel_source import OK
from .kernels import DIST_CODES, NORM_CODES, forget_module, kernel_module, kernel_params
from .network import Network, NetworkOptions, as_network
from .rng import seed_key
from .simulation_result import FAILURES, SimulationResult
from .stats import Moments

__all__ = ["FAILURES", "RECORDS", "SimulationResult", "simulate"]

#: What :func:`simulate` can record.
RECORDS: tuple[str, ...] = ("second_moment", "mean", "histograms")
_TARGET_SECONDS = 0.2  # wall time of one kernel call: Ctrl-C acts between calls
_MAX_CHUNK = 1 << 16
_CHUNK_BYTES = 64 * 2**20  # bound on the per-call output arrays
_STREAMS = 2**64  # network i uses Philox stream i < 2**64


def _codes_summary(status: np.ndarray) -> np.ndarray:
    """Counts per status code (axis 0) and layer of a ``(networks, L)`` int8 array."""
    L = status.shape[1]
    out = np.zeros((6, L), dtype=np.int64)
    for code in range(6):
        out[code] = np.count_nonzero(status == code, axis=0)
    return out


def _hist_ranges(hist_range: object) -> np.ndarray:
    defaults: dict[str, Any] = {"pre": (-5.0, 5.0), "act": (-5.0, 5.0), "grad": (-5.0, 5.0)}
    if hist_range is not None:
        if not isinstance(hist_range, dict):
            raise TypeError(
                "hist_range must be a dict with keys among 'pre', 'act', 'grad', "
                f"got {hist_range!r}"
            )
        if not set(hist_range) <= set(defaults):
            raise ValueError(
                "hist_range must be a dict with keys among 'pre', 'act', 'grad', "
                f"got {hist_range!r}"
            )
        defaults.update(hist_range)
    out = np.empty((3, 2))
    for i, key in enumerate(("pre", "act", "grad")):
        pair = defaults[key]
        name = f"hist_range[{key!r}]"
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise TypeError(f"{name} must be a pair (lo, hi) of numbers, got {pair!r}")
        lo, hi = (_number(v, name, pair) for v in pair)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"{name} must be finite (lo, hi) with lo < hi, got {pair!r}")
        out[i] = lo, hi
    return out


def _number(value: object, name: str, whole: object) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
        raise TypeError(f"{name} must be a pair (lo, hi) of numbers, got {whole!r}")
    return float(value)


def memory_needed(
    ws: list[int],
    n_inputs: int,
    backward: bool,
    distribution: str,
    bins: int,
    threads: int,
    chunk: int,
    residual: bool = False,
    weights: list[int] | None = None,
    columns: list[int] | None = None,
) -> dict[str, int]:
    """Bytes a run needs at once, by the argument that drives each part.

    Per thread, one network: its largest weight matrix (twice with ``backward``, several
    times for orthogonal weights' QR, 1/16 more for truncated normals' rejection), its
    activations (every layer's pre-activations with ``backward`` or ``residual``, and the
    gradients waiting for their skip with both, plus a convolution's input columns), and
    the thread's histograms; per call, the chunk's per-network outputs. ``weights`` and
    ``columns``: each layer's weight entries and im2col entries per input (default: dense
    layers, ``ws[l] * ws[l+1]`` and none).
    """
    L = len(ws) - 1
    if weights is None:
        weights = [a * b for a, b in zip(ws[1:], ws[:-1], strict=True)]
    biggest = max(weights)
    copies = {"orthogonal": 4.0, "truncated_normal": 2.1}.get(distribution, 1.0)
    copies += 1.0 if backward else 0.0
    stored = (L if backward or residual else 0) + (2 * L if residual else 0)
    acts = (4 + stored) * max(ws) * n_inputs + 2 * max(columns or [0]) * n_inputs
    return {
        "widths": int(8 * threads * copies * biggest),
        "n_inputs": int(8 * threads * acts),
        "bins": 8 * (threads + 1) * 3 * L * bins,
        "n_networks": chunk * L * (3 * 8 + 3),
    }


def _matrix(layer: Any) -> tuple[int, int]:
    """The weight matrix a layer draws: a convolution's, or a dense layer's shape."""
    return cast(tuple[int, int], getattr(layer, "matrix", None) or layer.shape)


def _check_memory(need: dict[str, int], values: dict[str, object]) -> None:
    total = sum(need.values())
    avail = available_memory()
    if total <= avail:
        return
    arg = max(need, key=lambda k: need[k])
    raise ValueError(
        f"{arg}={values[arg]!r} needs {total} bytes ({total / 2**30:.3g} GiB) of memory at "
        f"once, more than the {avail / 2**30:.3g} GiB available"
    )


def _initial_chunk(
    weights: list[int], macs: list[int], n_inputs: int, backward: bool, threads: int
) -> int:
    # About 2e8 weight draws and multiply-adds per second and thread (measured ~3-5e8): a
    # first call of well under a second; later calls are sized from measured times.
    work = (2 * sum(weights) + sum(macs) * n_inputs) * (2 if backward else 1)
    per_thread = max(1, int(_TARGET_SECONDS * 2e8 / max(work, 1)))
    return int(min(_MAX_CHUNK, max(threads, per_thread * threads)))


def simulate(
    network: Network | Sequence[int],
    activation: object = None,
    *,
    n_networks: int = 1000,
    n_inputs: int = 1,
    seed: int = 0,
    threads: int | None = None,
    backward: bool = False,
    record: Sequence[str] = ("second_moment",),
    bins: int = 100,
    hist_range: dict[str, tuple[float, float]] | None = None,
    first_network: int = 0,
    **options: Unpack[NetworkOptions],
) -> SimulationResult:
    """Simulate ``n_networks`` random networks of one description.

    Each is a draw of ``network`` (:class:`~initmath.engine.network.Network`): layer
    :math:`\\ell = 1..L` computes :math:`z^\\ell = W^\\ell x^{\\ell-1} + b^\\ell` and
    :math:`x^\\ell = \\phi(z^\\ell)`, with :math:`x^0` the input (i.i.d.
    :math:`N(0, \\text{input\\_std}^2)`, ``n_inputs`` of them per network).

    Networks whose values overflow, go NaN or underflow are counted and reported, never
    averaged in (see :class:`SimulationResult`). The work is done in kernel calls of a
    fraction of a second each, so ``KeyboardInterrupt`` (Ctrl-C) stops a run within about
    a second (one network's time, for huge networks) and leaves the process usable. That
    includes a first run that compiles the kernel: it is compiled in a child process that
    Ctrl-C kills (see :func:`initmath.engine.kernels.kernel_module`; with the in-memory
    fallback, when the disk cache cannot be used, Ctrl-C acts only once the compilation is
    done).

    Parameters
    ----------
    network : Network or sequence of int
        The description of the networks; or, the short form, their widths ``[n0, ..., nL]``,
        with ``activation`` and ``**options`` (:class:`~initmath.engine.network.Network`'s
        arguments: ``scheme``, ``distribution``, ``gain``, ``mode``, ``std``, ``bias_std``,
        ``input_std``).
    activation : str, (str, float) or Activation, optional
        With widths only: the nonlinearity :math:`\\phi`.
    n_networks, n_inputs : int
        Independent networks (>= 2, for a standard error) and inputs per network (>= 1).
    seed : int
        Seed; network ``i`` uses stream ``i``.
    threads : int, optional
        Numba threads for this call (default: Numba's current setting). Never changes the
        result.
    backward : bool
        Also back-propagate a standard Gaussian gradient from the last layer.
    record : str or sequence of {"second_moment", "mean", "histograms"}
        Extra quantities ("second_moment" is always recorded).
    bins, hist_range
        Histogram bins, and ``{"pre"|"act"|"grad": (lo, hi)}`` (default (-5, 5) each);
        values outside a range are not counted.
    first_network : int
        Index of the first network: runs over ranges ``[a, b)`` and ``[b, c)`` merge into
        the run over ``[a, c)``. ``first_network + n_networks <= 2**64`` (the streams).

    Returns
    -------
    SimulationResult

    Raises
    ------
    TypeError, ValueError
        For any invalid argument, before any kernel runs; ``ValueError`` also when the run
        would need more memory at once than is available (naming the argument that drives
        it, and the bytes).

    Examples
    --------
    >>> r = simulate([100] * 4, "relu", scheme="he", n_networks=200, seed=1)
    >>> bool(abs(r.q[-1] - 2.0) < 5 * r.q_se[-1])  # He on unit inputs: q = 2 at every layer
    True
    """
    net = as_network(network, activation, **options)
    if not isinstance(backward, (bool, np.bool_)):
        raise TypeError(f"backward must be a bool, got {backward!r}")
    backward = bool(backward)
    act = net.activation
    n_networks = integer(n_networks, "n_networks", 2)
    n_inputs = integer(n_inputs, "n_inputs", 1)
    if net.norm == "batch" and n_inputs < 2:
        raise ValueError(
            f"n_inputs must be >= 2 for batch normalization (the inputs of a network are its "
            f"batch), got n_inputs={n_inputs!r}"
        )
    first_network = integer(first_network, "first_network", 0)
    if first_network + n_networks > _STREAMS:
        raise ValueError(
            f"first_network + n_networks must be <= 2**64 (one random stream per network), "
            f"got first_network={first_network!r}, n_networks={n_networks!r}"
        )
    if isinstance(record, str):
        record = (record,)
    if isinstance(record, (bytes, dict)) or not isinstance(record, (Sequence, set, frozenset)):
        raise TypeError(f"record must be a string or a sequence of strings, got {record!r}")
    rec = {choice(r, "record", RECORDS) for r in record}
    bins = integer(bins, "bins", 1)
    ranges = _hist_ranges(hist_range)
    if threads is not None:
        threads = integer(threads, "threads", 1)
        # numba.config's settings are module globals set at run time (mypy cannot see them)
        max_threads: int = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
        if threads > max_threads:
            raise ValueError(f"threads must be <= {max_threads} (NUMBA_NUM_THREADS), got {threads}")
    k0, k1 = seed_key(seed)
    L = len(list(net.widths)) - 1
    # the histograms have a row per thread id (numba.config's globals are set at run time)
    n_threads: int = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
    use = threads if threads is not None else numba.get_num_threads()
    nbins = bins if "histograms" in rec else 0
    weights = [math.prod(_matrix(k)) for k in net.layers]
    positions = [k.n_out // _matrix(k)[0] for k in net.layers]  # output positions per row
    columns = [_matrix(k)[1] * p for k, p in zip(net.layers, positions, strict=True)]
    macs = [w * p for w, p in zip(weights, positions, strict=True)]
    max_chunk = int(min(_MAX_CHUNK, max(1, _CHUNK_BYTES // (L * 27)), n_networks))
    _check_memory(
        memory_needed(
            list(net.widths),
            n_inputs,
            backward,
            net.distribution,
            nbins,
            n_threads,
            max_chunk,
            residual=net.residual is not None,
            weights=weights,
            columns=columns,
        ),
        {"widths": list(net.widths), "n_inputs": n_inputs, "bins": bins, "n_networks": n_networks},
    )

    ws = np.array(list(net.widths), dtype=np.int64)
    scales = np.array(net.scales)
    skip = np.array([-1 if k.skip is None else k.skip - 1 for k in net.layers], dtype=np.int64)
    alpha = np.array([k.alpha for k in net.layers], dtype=np.float64)
    post = net.residual is not None and net.residual.ordering == "post"
    norms = np.array([NORM_CODES[k.norm] for k in net.layers], dtype=np.int64)
    geom = np.stack([layer_geometry(k) for k in net.layers])
    kernel = kernel_module(act).run
    params = kernel_params(act)
    keys = ("q", "mean", "grad") if backward else ("q", "mean")
    stats = {k: Moments(L) for k in keys}
    codes = {k: np.zeros((6, L), dtype=np.int64) for k in keys}
    hist_total = np.zeros((3, L, nbins), dtype=np.int64)
    previous = numba.get_num_threads()
    # The parallelism is over networks; a multithreaded BLAS under each of Numba's threads
    # would only oversubscribe the cores (measured: 2 threads slower than 1).
    blas = threadpool_limits(limits=1, user_api="blas")
    try:
        if threads is not None:
            numba.set_num_threads(threads)
        start = 0
        chunk = min(max_chunk, _initial_chunk(weights, macs, n_inputs, backward, use))
        while start < n_networks:
            count = min(chunk, n_networks - start)
            q = np.zeros((count, L))
            mean = np.zeros((count, L))
            grad = np.zeros((count, L))
            status = np.zeros((count, 3, L), dtype=np.int8)
            hist = np.zeros((n_threads, 3, L, nbins), dtype=np.int64)
            began = time.perf_counter()
            try:
                # kernel_module compiled run for exactly these argument types (its Ctrl-C
                # handling is there), so these calls only run compiled code
                kernel(
                    ws,
                    n_inputs,
                    np.uint64(first_network + start),
                    count,
                    k0,
                    k1,
                    DIST_CODES[net.distribution],
                    scales,
                    TRUNCATION,
                    net.bias_std,
                    net.input_std,
                    skip,
                    alpha,
                    post,
                    norms,
                    net.norm_eps,
                    geom,
                    backward,
                    ranges,
                    params,
                    q,
                    mean,
                    grad,
                    status,
                    hist,
                )
            except RuntimeError as exc:
                if "no compiled object yet" not in str(exc):
                    raise
                # (defensive) Numba swallowed a Ctrl-C in a compilation callback and fails
                # here instead: drop the module and report the interrupt as what it was.
                forget_module(act)
                raise KeyboardInterrupt(
                    "interrupted while the kernel was compiling; the next call compiles it afresh"
                ) from exc
            elapsed = time.perf_counter() - began
            for row, (key, values) in enumerate(zip(keys, (q, mean, grad), strict=False)):
                st = status[:, row, :]
                codes[key] += _codes_summary(st)
                stats[key].add(values, st == OK)
            hist_total += hist.sum(axis=0)
            start += count
            # next call: about _TARGET_SECONDS, growing at most 4x at a time
            rate = count / max(elapsed, 1e-3)
            chunk = int(min(max_chunk, 4 * count, max(use, rate * _TARGET_SECONDS)))
    finally:
        numba.set_num_threads(previous)
        blas.restore_original_limits()

    if "mean" not in rec:
        del stats["mean"]
    edges = None
    if "histograms" in rec:
        edges = {
            k: np.linspace(ranges[i, 0], ranges[i, 1], bins + 1)
            for i, k in enumerate(("pre", "act", "grad"))
        }
    config = {
        "widths": net.widths,
        "architecture": net.architecture,
        "activation": act.name,
        "phi": str(act.expr),
        "scheme": net.scheme,
        "distribution": net.distribution,
        "gain": net.gain,
        "mode": net.mode,
        "std": net.std,
        "bias_std": net.bias_std,
        "input_std": net.input_std,
        "residual": net.residual,
        "norm": net.norm,
        "norm_eps": net.norm_eps,
        "fan_convention": net.fan_convention,
        "n_inputs": n_inputs,
        "seed": int(seed),
        "backward": backward,
        "record": tuple(sorted(rec)),
        "bins": bins,
        "hist_range": ranges.tolist(),
    }
    return SimulationResult(
        config,
        first_network,
        n_networks,
        stats,
        hist_total if "histograms" in rec else None,
        edges,
        codes,
        net,
    )
