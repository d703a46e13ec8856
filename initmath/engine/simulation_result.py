"""What :func:`~initmath.engine.simulation.simulate` returns: estimates, failures, merging.

A :class:`SimulationResult` holds, per recorded quantity (``"q"``, ``"mean"``, ``"grad"``), the
exact sufficient statistics of the per-network values (:class:`~initmath.engine.stats.Moments`)
and, per layer, how many networks' values are missing and why (the status codes of
:mod:`~initmath.engine.kernel_source`, counted by kind in :data:`FAILURES`). Its estimates
are ``inf`` or ``nan`` where any network's value is missing, never a number made of the
others; :meth:`SimulationResult.merge` combines runs over consecutive ranges of networks into
exactly the result of one run.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..core.checks import choice, integer
from .kernel_source import (
    AFTER_NAN,
    AFTER_OVERFLOW,
    NAN,
    OVERFLOW,
    UNDERFLOW,
)
from .network import Network
from .stats import Estimate, Moments

__all__ = ["FAILURES", "SimulationResult"]

#: The kinds of failure :meth:`SimulationResult.failures` counts, by status code.
FAILURES: dict[str, int] = {
    "overflow": OVERFLOW,
    "nan": NAN,
    "underflow": UNDERFLOW,
    "after_overflow": AFTER_OVERFLOW,
    "after_nan": AFTER_NAN,
}
_QUANTITIES = ("q", "mean", "grad")  # the kernel's status rows, in order


@dataclass
class SimulationResult:
    """What :func:`simulate` measured; layer ``l`` (0-based) is the output of weight matrix ``l+1``.

    Attributes
    ----------
    config : dict
        The arguments of the run (without ``threads``, which cannot change the result).
    network : Network
        The description of the networks simulated.
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
        The first layer (1-based) at which some network's forward pass overflowed (a second
        moment past 1e150) or went NaN, in its pre-activations or its activations; estimates
        of the later layers (and of that one, unless only its activations blew up) are
        ``inf`` (``nan`` after a NaN), and such a network has no backward values.
    grad_exploded_at : int or None
        The same for the backward pass of the networks whose forward pass was finite: the
        first layer met going back (the highest) at which some gradient's second moment
        overflowed or went NaN; estimates there and below are ``inf`` (``nan``).
    underflow_at, grad_underflow_at : int or None
        The first layer at which some network's forward (backward) second moment is below
        the representable range (:data:`~initmath.engine.kernel_source.TINY`, about 1e-301): that
        layer's estimate is ``nan``, not a number made of lost digits.
    """

    config: dict
    first_network: int
    n_networks: int
    _stats: dict[str, Moments] = field(repr=False)
    _hist: np.ndarray | None = field(repr=False)
    hist_edges: dict[str, np.ndarray] | None
    _codes: dict[str, np.ndarray] = field(repr=False)  # per quantity: (6 codes, L) counts
    network: Network | None = None

    # -- comparison with a prediction ---------------------------------------------------------
    def z(self, predicted: Sequence[float] | np.ndarray, quantity: str = "q") -> np.ndarray:
        """Per-layer z-scores :math:`(\\hat m_\\ell - m_\\ell)/\\widehat{se}_\\ell` of a prediction.

        Parameters
        ----------
        predicted : array_like
            One finite value per layer, e.g. from :func:`initmath.predict`.
        quantity : {"q", "grad", "mean"}
            Which estimate to compare (``"grad"`` needs ``backward=True``, ``"mean"`` a
            ``record`` with it).

        Returns
        -------
        numpy.ndarray
            One z per layer. A layer whose estimate is missing (an explosion, a NaN, an
            underflow: ``inf`` or ``nan``) has z ``nan``, never a number; a standard error of
            0 (every network gave the same value) gives 0 where the prediction is that value
            and :math:`\\pm\\infty` elsewhere.

        Raises
        ------
        ValueError
            The quantity was not recorded, or ``predicted`` does not have one finite value
            per layer.
        """
        name = choice(quantity, "quantity", ("q", "grad", "mean"))
        attr = {"q": "q", "grad": "grad_q", "mean": "mean"}[name]
        est, se = getattr(self, attr), getattr(self, f"{attr}_se")
        if est is None or se is None:
            raise ValueError(f"quantity {quantity!r} was not recorded in this simulation")
        pred = np.asarray(predicted, dtype=float)
        if pred.shape != est.shape or not np.all(np.isfinite(pred)):
            raise ValueError(
                f"predicted must be {est.size} finite values, one per layer, got {predicted!r}"
            )
        diff = est - pred
        out = np.full(est.shape, np.nan)
        ok = np.isfinite(est) & np.isfinite(se)
        pos = ok & (se > 0)
        out[pos] = diff[pos] / se[pos]
        flat = ok & (se == 0)
        out[flat] = np.where(diff[flat] == 0, 0.0, np.copysign(np.inf, diff[flat]))
        return out

    def max_abs_z(self, predicted: Sequence[float] | np.ndarray, quantity: str = "q") -> float:
        """The largest per-layer :math:`|z|` of :meth:`z`, as a float (``nan`` if any layer's
        estimate is missing)."""
        return float(np.max(np.abs(self.z(predicted, quantity))))

    # -- failures ----------------------------------------------------------------------------
    def failures(self, quantity: str = "q") -> dict[str, np.ndarray]:
        """Per layer, how many networks' value of ``quantity`` (``"q"``, ``"mean"`` or
        ``"grad"``) is missing, and why.

        Returns
        -------
        dict of str to numpy.ndarray
            For each kind of :data:`FAILURES`: ``"overflow"``, ``"nan"``, ``"underflow"``
            (the value at that layer overflowed, is NaN, underflowed) and
            ``"after_overflow"``, ``"after_nan"`` (no value: the network's pass blew up
            earlier; for ``"grad"`` this includes every network whose forward pass did).
        """
        key = choice(quantity, "quantity", _QUANTITIES)
        codes = self._codes[key]
        return {kind: codes[code].copy() for kind, code in FAILURES.items()}

    def _first(self, key: str, kinds: tuple[int, ...], backward: bool = False) -> int | None:
        hit = np.nonzero(sum(self._codes[key][k] for k in kinds))[0]
        if not hit.size:
            return None
        return int(hit[-1] if backward else hit[0]) + 1

    @property
    def exploded(self) -> np.ndarray:
        """Per layer, the number of networks whose forward pass blew up at that layer."""
        q, m = self._codes["q"], self._codes["mean"]
        return q[OVERFLOW] + q[NAN] + m[OVERFLOW] + m[NAN]

    @property
    def exploded_at(self) -> int | None:
        """The first layer (1-based) at which some network's forward pass overflowed or went
        NaN, or None."""
        hit = np.nonzero(self.exploded)[0]
        return int(hit[0]) + 1 if hit.size else None

    @property
    def grad_exploded(self) -> np.ndarray | None:
        """Per layer, the number of networks whose backward pass blew up at that layer."""
        if "grad" not in self._codes:
            return None
        g = self._codes["grad"]
        return g[OVERFLOW] + g[NAN]

    @property
    def grad_exploded_at(self) -> int | None:
        """The highest layer (1-based; the backward pass runs down) at which some network's
        gradient overflowed or went NaN, or None (also without ``backward``)."""
        if "grad" not in self._codes:
            return None
        return self._first("grad", (OVERFLOW, NAN), backward=True)

    @property
    def underflow_at(self) -> int | None:
        """The first layer (1-based) at which some network's second moment underflowed
        (below :data:`~initmath.engine.kernel_source.TINY`), or None."""
        return self._first("q", (UNDERFLOW,))

    @property
    def grad_underflow_at(self) -> int | None:
        """The highest layer (1-based) at which some network's gradient second moment
        underflowed, or None (also without ``backward``)."""
        if "grad" not in self._codes:
            return None
        return self._first("grad", (UNDERFLOW,), backward=True)

    # -- estimates ---------------------------------------------------------------------------
    def _estimates(self, key: str) -> list[Estimate] | None:
        m = self._stats.get(key)
        if m is None:
            return None
        codes = self._codes[key]
        out = []
        for layer, e in enumerate(m.estimates()):
            if codes[OVERFLOW, layer] or codes[AFTER_OVERFLOW, layer]:
                e = Estimate(math.inf, math.inf, m.count)
            elif codes[NAN, layer] or codes[AFTER_NAN, layer] or codes[UNDERFLOW, layer]:
                e = Estimate(math.nan, math.nan, m.count)
            out.append(e)
        return out

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
        """The :class:`~initmath.engine.stats.Estimate` of ``"q"``, ``"mean"`` or ``"grad"`` at a
        1-based layer (``inf``/``nan`` where some network's value is missing, see
        :meth:`failures`)."""
        key = choice(quantity, "quantity", _QUANTITIES)
        est = self._estimates(key)
        if est is None:
            raise ValueError(f"quantity {quantity!r} was not recorded")
        layer = integer(layer, "layer", 1)
        if layer > len(est):
            raise ValueError(f"layer must be in 1..{len(est)}, got {layer!r}")
        return est[layer - 1]

    def problems(self, quantity: str = "q") -> str:
        """A one-line explanation of why some estimates of ``quantity`` are missing, or
        ``""``."""
        key = choice(quantity, "quantity", _QUANTITIES)
        notes = []
        if self.exploded_at is not None:
            notes.append(f"exploded at layer {self.exploded_at}")
        if key == "grad" and self.grad_exploded_at is not None:
            notes.append(f"backward exploded at layer {self.grad_exploded_at}")
        under = self.grad_underflow_at if key == "grad" else self.underflow_at
        if key != "mean" and under is not None:
            notes.append(f"{'backward ' if key == 'grad' else ''}underflow at layer {under}")
        return "; ".join(notes)

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
        if not isinstance(other, SimulationResult):
            raise TypeError(f"other must be a SimulationResult, got {other!r}")
        if other.config != self.config:
            raise ValueError("cannot merge simulations with different configurations")
        if other.first_network != self.first_network + self.n_networks:
            raise ValueError(
                "networks must be contiguous: this run ends at "
                f"{self.first_network + self.n_networks}, the other starts at "
                f"{other.first_network}"
            )
        stats = {}
        for key, m in self._stats.items():
            merged = Moments(m.n_layers)
            merged.merge(m).merge(other._stats[key])
            stats[key] = merged
        hist = None if self._hist is None else self._hist + other._hist
        codes = {k: v + other._codes[k] for k, v in self._codes.items()}
        return SimulationResult(
            self.config,
            self.first_network,
            self.n_networks + other.n_networks,
            stats,
            hist,
            self.hist_edges,
            codes,
            self.network,
        )

    def summary(self) -> str:
        """A short text report: explosions and underflows (layer, networks), then per layer
        the estimates."""
        lines = [f"{self.n_networks} networks, widths {self.config['widths']}"]

        def counts(key: str, codes: tuple[int, ...], layer: int) -> str:
            c = self._codes[key]
            parts = [
                f"{int(c[k, layer - 1])} {name}"
                for name, k in (("overflowed", OVERFLOW), ("NaN", NAN), ("underflowed", UNDERFLOW))
                if k in codes and c[k, layer - 1]
            ]
            return ", ".join(parts)

        if self.exploded_at is not None:
            k = self.exploded_at
            n = int(self.exploded[k - 1])
            total = int(self.exploded.sum())
            lines.append(f"exploded at layer {k} ({n} networks there, {total} in all)")
        if self.underflow_at is not None:
            k = self.underflow_at
            lines.append(f"underflow at layer {k} ({counts('q', (UNDERFLOW,), k)})")
        grad = self._stats.get("grad") is not None
        if grad:
            if self.exploded_at is not None:
                lines.append(
                    f"backward not computed for {int(self.exploded.sum())} networks "
                    "(their forward pass exploded)"
                )
            if self.grad_exploded_at is not None:
                k = self.grad_exploded_at
                lines.append(
                    f"backward exploded at layer {k} ({counts('grad', (OVERFLOW, NAN), k)})"
                )
            if self.grad_underflow_at is not None:
                k = self.grad_underflow_at
                lines.append(f"backward underflow at layer {k} ({counts('grad', (UNDERFLOW,), k)})")
        rows = [self.q, self.q_se] + ([self.grad_q, self.grad_q_se] if grad else [])
        for i, vals in enumerate(zip(*rows, strict=True), 1):
            line = f"layer {i:3d}: q = {vals[0]:.6g} +- {vals[1]:.2g}"
            if grad:
                line += f", grad_q = {vals[2]:.6g} +- {vals[3]:.2g}"
            lines.append(line)
        return "\n".join(lines)
