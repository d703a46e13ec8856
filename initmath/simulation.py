"""Monte Carlo simulation of many random fully connected networks.

:func:`simulate` draws ``n_networks`` independent networks ``widths[0] -> ... -> widths[L]``,
weights from a scheme and distribution (:func:`initmath.std`, :func:`initmath.bound`), pushes
Gaussian inputs through them and, optionally, a Gaussian gradient back. Per layer it reports
the second moment of the pre-activations (and of the back-propagated gradients) averaged over
units and inputs, as an estimate over networks with its standard error.

Reproducibility: network ``i`` draws everything from Philox stream ``i`` of the seed
(:mod:`initmath.rng`), so a seed gives bit-identical results for any thread count, and runs
over disjoint ranges of networks (``first_network``) merge (:meth:`SimulationResult.merge`)
into exactly the result of one run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numba
import numpy as np
from threadpoolctl import threadpool_limits

from ._checks import choice, integer, layer_widths, nonnegative_real, positive_real
from . import activations as _activations
from .activations import Activation
from .distributions import DISTRIBUTIONS, TRUNCATION, truncated_normal_std
from .kernels import DIST_CODES, kernel_module, kernel_params
from .rng import seed_key
from .schemes import SCHEMES, SCHEME_ALIASES, bound, std
from .stats import Estimate, Moments

__all__ = ["RECORDS", "SimulationResult", "simulate"]

#: What :func:`simulate` can record.
RECORDS: tuple[str, ...] = ("second_moment", "mean", "histograms")
_CHUNK = 1024  # networks per kernel call: bounds the per-call output arrays


@dataclass
class SimulationResult:
    """What :func:`simulate` measured; layer ``l`` (0-based) is the output of weight matrix ``l+1``.

    Attributes
    ----------
    config : dict
        The arguments of the run (without ``threads``, which cannot change the result).
    first_network, n_networks : int
        The range of networks simulated.
    q, q_se : numpy.ndarray
        Second moment of the pre-activations per layer and its standard error over networks.
    mean, mean_se : numpy.ndarray or None
        Mean of the activations :math:`\\phi(z)` per layer (``record`` has ``"mean"``).
    grad_q, grad_q_se : numpy.ndarray or None
        Second moment of the gradient with respect to each layer's pre-activations
        (``backward=True``); the last layer's is the injected :math:`N(0,1)` gradient.
    histograms : dict or None
        ``{"pre": counts, "act": counts, "grad": counts}``, each ``(L, bins)``, with
        ``hist_edges[kind]`` (``record`` has ``"histograms"``).
    exploded_at : int or None
        The first layer (1-based) at which some network's second moment overflowed
        (passed 1e150); estimates from there on are ``inf``.
    """

    config: dict
    first_network: int
    n_networks: int
    _stats: dict[str, Moments] = field(repr=False)
    _hist: np.ndarray | None = field(repr=False)
    hist_edges: dict[str, np.ndarray] | None
    _exploded: np.ndarray = field(repr=False)  # per layer: number of networks exploded there

    # -- estimates ---------------------------------------------------------------------------
    def _estimates(self, key: str) -> list[Estimate] | None:
        m = self._stats.get(key)
        if m is None:
            return None
        est = m.estimates()
        if self.exploded_at is not None:
            k = self.exploded_at - 1
            est = est[:k] + [Estimate(math.inf, math.inf, e.n) for e in est[k:]]
        return est

    def _arr(self, key: str, attr: str) -> np.ndarray | None:
        est = self._estimates(key)
        return None if est is None else np.array([getattr(e, attr) for e in est])

    @property
    def q(self) -> np.ndarray:
        return self._arr("q", "mean")  # type: ignore[return-value]

    @property
    def q_se(self) -> np.ndarray:
        return self._arr("q", "se")  # type: ignore[return-value]

    @property
    def mean(self) -> np.ndarray | None:
        return self._arr("mean", "mean")

    @property
    def mean_se(self) -> np.ndarray | None:
        return self._arr("mean", "se")

    @property
    def grad_q(self) -> np.ndarray | None:
        return self._arr("grad", "mean")

    @property
    def grad_q_se(self) -> np.ndarray | None:
        return self._arr("grad", "se")

    def estimate(self, quantity: str, layer: int) -> Estimate:
        """The :class:`~initmath.stats.Estimate` of ``"q"``, ``"mean"`` or ``"grad"`` at a
        1-based layer."""
        est = self._estimates(quantity)
        if est is None:
            raise ValueError(f"quantity {quantity!r} was not recorded")
        if not 1 <= layer <= len(est):
            raise ValueError(f"layer must be in 1..{len(est)}, got {layer!r}")
        return est[layer - 1]

    @property
    def exploded_at(self) -> int | None:
        hit = np.nonzero(self._exploded)[0]
        return int(hit[0]) + 1 if hit.size else None

    @property
    def histograms(self) -> dict[str, np.ndarray] | None:
        if self._hist is None:
            return None
        return {"pre": self._hist[0], "act": self._hist[1], "grad": self._hist[2]}

    # -- combining ---------------------------------------------------------------------------
    def merge(self, other: SimulationResult) -> SimulationResult:
        """Combine with a run over the next range of networks (same configuration).

        The result equals, bit for bit, one run over both ranges.
        """
        if other.config != self.config:
            raise ValueError("cannot merge simulations with different configurations")
        if other.first_network != self.first_network + self.n_networks:
            raise ValueError(
                f"networks must be contiguous: this run ends at {self.first_network + self.n_networks}, "
                f"the other starts at {other.first_network}"
            )
        stats = {}
        for key, m in self._stats.items():
            merged = Moments(m.n_layers)
            merged.merge(m).merge(other._stats[key])
            stats[key] = merged
        hist = None if self._hist is None else self._hist + other._hist  # type: ignore[operator]
        return SimulationResult(
            self.config, self.first_network, self.n_networks + other.n_networks, stats, hist,
            self.hist_edges, self._exploded + other._exploded,
        )

    def summary(self) -> str:
        """A short text report."""
        lines = [f"{self.n_networks} networks, widths {self.config['widths']}"]
        if self.exploded_at is not None:
            lines.append(f"exploded at layer {self.exploded_at}")
        for i, (q, se) in enumerate(zip(self.q, self.q_se), 1):
            lines.append(f"layer {i:3d}: q = {q:.6g} +- {se:.2g}")
        return "\n".join(lines)


def _hist_ranges(hist_range: object) -> np.ndarray:
    defaults = {"pre": (-5.0, 5.0), "act": (-5.0, 5.0), "grad": (-5.0, 5.0)}
    if hist_range is not None:
        if not isinstance(hist_range, dict) or not set(hist_range) <= set(defaults):
            raise ValueError(
                f"hist_range must be a dict with keys among 'pre', 'act', 'grad', got {hist_range!r}"
            )
        defaults.update(hist_range)
    out = np.empty((3, 2))
    for i, key in enumerate(("pre", "act", "grad")):
        lo, hi = defaults[key]
        lo = float(lo)
        hi = float(hi)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ValueError(f"hist_range[{key!r}] must be finite (lo, hi) with lo < hi, got {(lo, hi)}")
        out[i] = lo, hi
    return out


def simulate(
    widths: Sequence[int],
    activation: object,
    *,
    scheme: str = "he",
    distribution: str = "normal",
    gain: float | None = None,
    mode: str | None = None,
    std_value: float | None = None,
    bias_std: float = 0.0,
    input_std: float = 1.0,
    n_networks: int = 1000,
    n_inputs: int = 1,
    seed: int = 0,
    threads: int | None = None,
    backward: bool = False,
    record: Sequence[str] = ("second_moment",),
    bins: int = 100,
    hist_range: dict[str, tuple[float, float]] | None = None,
    first_network: int = 0,
) -> SimulationResult:
    """Simulate ``n_networks`` random fully connected networks.

    Layer :math:`\\ell = 1..L`: :math:`z^\\ell = W^\\ell x^{\\ell-1} + b^\\ell`, with
    :math:`x^0` the input (i.i.d. :math:`N(0, \\text{input\\_std}^2)`, ``n_inputs`` of them
    per network) and :math:`x^\\ell = \\phi(z^\\ell)`. :math:`W^\\ell` has shape
    ``(widths[l], widths[l-1])`` with entries from ``scheme``/``distribution``;
    :math:`b^\\ell_i \\sim N(0, \\text{bias\\_std}^2)`.

    Parameters
    ----------
    widths : sequence of int
        ``[n0, n1, ..., nL]``: input width, then each layer's width (all >= 1, L >= 1).
    activation : str, (str, float) or Activation
        The nonlinearity :math:`\\phi` (any registered activation).
    scheme, distribution, gain, mode
        As for :func:`initmath.std`; ``gain=None`` is the scheme's own (He: :math:`\\sqrt2`),
        independent of ``activation``.
    std_value : float, optional
        The fixed std of scheme ``"normal"``.
    bias_std, input_std : float
        Standard deviations of the biases (>= 0) and of the inputs (> 0).
    n_networks, n_inputs : int
        Independent networks (>= 2, for a standard error) and inputs per network (>= 1).
    seed : int
        Seed; network ``i`` uses stream ``i``.
    threads : int, optional
        Numba threads for this call (default: Numba's current setting). Never changes the
        result.
    backward : bool
        Also back-propagate a standard Gaussian gradient from the last layer.
    record : sequence of {"second_moment", "mean", "histograms"}
        Extra quantities ("second_moment" is always recorded).
    bins, hist_range
        Histogram bins, and ``{"pre"|"act"|"grad": (lo, hi)}`` (default (-5, 5) each);
        values outside a range are not counted.
    first_network : int
        Index of the first network: runs over ranges ``[a, b)`` and ``[b, c)`` merge into
        the run over ``[a, c)``.

    Returns
    -------
    SimulationResult

    Raises
    ------
    TypeError, ValueError
        For any invalid argument, before any kernel runs.

    Examples
    --------
    >>> r = simulate([100] * 4, "relu", scheme="he", n_networks=200, seed=1)
    >>> bool(abs(r.q[-1] - 2.0) < 5 * r.q_se[-1])  # He on unit inputs: q = 2 at every layer
    True
    """
    ws = np.array(layer_widths(widths), dtype=np.int64)
    act: Activation = _activations.activation(activation)
    sch = choice(scheme, "scheme", SCHEMES, SCHEME_ALIASES)
    dist = choice(distribution, "distribution", DISTRIBUTIONS)
    n_networks = integer(n_networks, "n_networks", 2)
    n_inputs = integer(n_inputs, "n_inputs", 1)
    first_network = integer(first_network, "first_network", 0)
    bias_std = nonnegative_real(bias_std, "bias_std")
    input_std = positive_real(input_std, "input_std")
    if not isinstance(backward, (bool, np.bool_)):
        raise TypeError(f"backward must be a bool, got {backward!r}")
    if isinstance(record, str):
        record = (record,)
    rec = {choice(r, "record", RECORDS) for r in record}
    bins = integer(bins, "bins", 1)
    ranges = _hist_ranges(hist_range)
    if threads is not None:
        threads = integer(threads, "threads", 1)
        if threads > numba.config.NUMBA_NUM_THREADS:
            raise ValueError(
                f"threads must be <= {numba.config.NUMBA_NUM_THREADS} (NUMBA_NUM_THREADS), got {threads}"
            )
    k0, k1 = seed_key(seed)

    # Per-layer scale: std (normal), half-width (uniform), underlying std (truncated), gain.
    L = ws.size - 1
    scales = np.empty(L)
    kw = {"mode": mode, "gain": gain, "std": std_value}
    for layer in range(L):
        shape = (int(ws[layer + 1]), int(ws[layer]))
        if dist == "uniform":
            scales[layer] = bound(shape, sch, distribution="uniform", **kw)
        elif dist == "truncated_normal":
            scales[layer] = std(shape, sch, distribution=dist, **kw) / truncated_normal_std()
        elif dist == "orthogonal":
            s = std(shape, sch, distribution=dist, **kw)
            scales[layer] = s * math.sqrt(max(shape))  # the gain
        else:
            scales[layer] = std(shape, sch, distribution=dist, **kw)

    kernel = kernel_module(act).run
    params = kernel_params(act)
    stats = {"q": Moments(L), "mean": Moments(L)}
    if backward:
        stats["grad"] = Moments(L)
    n_threads = numba.config.NUMBA_NUM_THREADS
    hist_total = np.zeros((3, L, bins if "histograms" in rec else 0), dtype=np.int64)
    exploded = np.zeros(L, dtype=np.int64)
    previous = numba.get_num_threads()
    # The parallelism is over networks; a multithreaded BLAS under each of Numba's threads
    # would only oversubscribe the cores (measured: 2 threads slower than 1).
    blas = threadpool_limits(limits=1, user_api="blas")
    try:
        if threads is not None:
            numba.set_num_threads(threads)
        for start in range(0, n_networks, _CHUNK):
            count = min(_CHUNK, n_networks - start)
            q = np.zeros((count, L))
            mean = np.zeros((count, L))
            grad = np.zeros((count, L))
            expl = np.empty(count, dtype=np.int64)
            hist = np.zeros((n_threads, 3, L, hist_total.shape[2]), dtype=np.int64)
            kernel(ws, n_inputs, first_network + start, count, k0, k1, DIST_CODES[dist],
                   scales, TRUNCATION, bias_std, input_std, bool(backward), ranges, params,
                   q, mean, grad, expl, hist)
            for e in expl[expl >= 0]:
                exploded[e] += 1
            finite = np.isfinite(q)
            # exploded networks contribute zeros past their explosion; those layers are
            # reported as inf anyway (SimulationResult.exploded_at)
            stats["q"].add(np.where(finite, q, 0.0))
            stats["mean"].add(np.where(finite, mean, 0.0))
            if backward:
                stats["grad"].add(np.where(np.isfinite(grad), grad, 0.0))
            hist_total += hist.sum(axis=0)
    finally:
        numba.set_num_threads(previous)
        blas.restore_original_limits()

    if "mean" not in rec:
        del stats["mean"]
    edges = None
    if "histograms" in rec:
        edges = {k: np.linspace(ranges[i, 0], ranges[i, 1], bins + 1)
                 for i, k in enumerate(("pre", "act", "grad"))}
    config = {
        "widths": tuple(int(w) for w in ws), "activation": act.name, "phi": str(act.expr),
        "scheme": sch, "distribution": dist, "gain": gain, "mode": mode,
        "std_value": std_value, "bias_std": bias_std, "input_std": input_std,
        "n_inputs": n_inputs, "seed": int(seed), "backward": bool(backward),
        "record": tuple(sorted(rec)), "bins": bins, "hist_range": ranges.tolist(),
    }
    return SimulationResult(config, first_network, n_networks, stats,
                            hist_total if "histograms" in rec else None, edges, exploded)

