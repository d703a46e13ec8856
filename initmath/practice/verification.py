"""Verification: predictions of the variance maps against simulation, with calibrated verdicts.

:func:`predict` iterates the forward and backward second-moment maps of
:mod:`initmath.theory.derivations` (``q_{l+1} = n_l v_{l+1} M(q_l) + \\sigma_b^2`` and
``g_l = n_{l+1} v_{l+1} D(q_l) g_{l+1}``) with the activation's Gaussian moments
(:func:`initmath.moment`). :func:`verify` simulates the same networks
(:func:`initmath.simulate`) and compares: the z-score is (estimate - prediction) / standard
error, the standard error coming from the spread over independent networks.

The verdict is a two-sided test at level :data:`LEVEL` (:math:`|z| < 3.29`). With the
default :data:`DEFAULT_NETWORKS` = 2000 networks (500 for the two width-1024 tanh checks) the
relative standard error of every check in :data:`CHECKS` is below 1%, so a formula wrong by
5% is off by more than 5 standard errors and rejected with power above 0.95
(``tests/practice/test_verification.py`` measures the calibration and the power).

What each check simulates, :class:`Check`, and the tables :data:`CHECKS` and
:data:`CHECKED_WITH` are defined in :mod:`~initmath.practice.formula_checks` and importable
from here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, Literal, Unpack, cast

import numpy as np

from ..core.checks import choice, integer, positive_real
from ..engine.network import Network, NetworkOptions, as_network
from ..engine.simulation import SimulationResult, simulate
from ..theory.moments import derivative_moment, moment
from ..theory.residual import post_activation_moments
from ..weights.schemes import SCHEME_ALIASES, SCHEMES
from .formula_checks import CHECKED_WITH, CHECKS, Check
from .positional import positional_moments

__all__ = [
    "DEFAULT_NETWORKS",
    "LEVEL",
    "CHECKED_WITH",
    "CHECKS",
    "Check",
    "Verification",
    "predict",
    "verify",
    "verify_all",
]

#: Two-sided level of the default test.
LEVEL = 0.001
#: Networks simulated by default.
DEFAULT_NETWORKS = 2000


@dataclass(frozen=True)
class Verification:
    """The outcome of one prediction-versus-simulation check.

    ``predicted`` and ``estimate`` are for the checked ``quantity`` (``"q"``, ``"grad"`` or
    ``"mean"``) at ``layer`` (1-based); ``z = (estimate - predicted) / se``; ``passed`` is
    ``|z| < z_crit`` with ``z_crit`` the two-sided critical value at ``level``. ``note``
    explains a failure that is not a z-score (an explosion). The per-layer curves are kept
    for plots.
    """

    name: str
    quantity: str
    layer: int
    predicted: float
    estimate: float
    se: float
    z: float
    passed: bool
    level: float
    note: str = ""
    curve_predicted: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    curve_estimate: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    curve_se: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "FAIL"


def predict(
    network: Network | Sequence[int],
    activation: object = None,
    *,
    backward: bool = False,
    **options: Unpack[NetworkOptions],
) -> tuple[np.ndarray, np.ndarray | None]:
    """Infinite-width predictions of what :func:`initmath.simulate` measures.

    Returns ``(q, grad_q)``: per layer, the second moment of the pre-activations and (with
    ``backward``) of the gradient with respect to them, the last layer's gradient being the
    injected :math:`N(0, 1)`. In a residual network (:class:`~initmath.engine.network.Residual`)
    a block end :math:`e` with skip from :math:`s` maps
    :math:`q_e = q_s + \\alpha^2 (\\sigma_{w,e}^2 M(q_{e-1}) + \\sigma_b^2)` and
    :math:`\\tilde q_s` gains :math:`\\tilde q_e`, since the branch's zero-mean weights
    make it uncorrelated with the skip; with ordering ``"post"`` the block ends are not
    Gaussian and their law is carried on a grid
    (:func:`initmath.theory.residual.post_activation_moments`). A normalized layer
    (``norm``) has :math:`q = u/(u + \\epsilon)` for the second moment :math:`u` of its
    :math:`W x + b`, and LayerNorm divides the gradient's second moment by
    :math:`u + \\epsilon` on the way back (the :math:`O(1/n)` of its projection neglected);
    batch-normalized gradients, which depend on the correlations within the batch, are not
    predicted (``ValueError``). Layer :math:`\\ell` maps
    :math:`q_\\ell = \\sigma_{w,\\ell}^2 M(q_{\\ell-1}) + \\sigma_b^2` (the first from
    the input's :math:`q_0`, with :math:`M(q_0) = q_0`), with
    :math:`\\sigma_{w,\\ell}^2 = n_{in} \\operatorname{Var}(W^\\ell)`
    (:attr:`initmath.engine.network.Dense.sigma_w2`); for orthogonal weights the variance is
    the mean square :math:`g^2/\\max(n_{in}, n_{out})`: the same map holds, since a random
    orthogonal row (or column) spreads a vector's norm evenly.
    A convolutional network (:mod:`initmath.engine.convolution`) is predicted position by
    position, which takes zero padding's borders into account
    (:func:`initmath.practice.positional.positional_moments`).

    Parameters
    ----------
    network : Network or sequence of int
        The description, or widths with ``activation`` and ``**options``, exactly as
        :func:`initmath.simulate` takes them (the same checks, the same messages).
    activation : str, (str, float) or Activation, optional
        With widths only.
    backward : bool
        Also predict the gradients' second moments.
    """
    net = as_network(network, activation, **options)
    if not isinstance(backward, (bool, np.bool_)):
        raise TypeError(f"backward must be a bool, got {backward!r}")
    act, layers, bias2 = net.activation, net.layers, net.sigma_b2
    if net.convolutional:
        return positional_moments(net, backward=bool(backward))
    post = net.residual is not None and net.residual.ordering == "post"
    if net.norm is not None and post:
        raise ValueError(
            "no infinite-width prediction for normalized post-activation residual networks "
            "yet; initmath.simulate measures them"
        )
    if net.norm == "batch" and backward:
        raise ValueError(
            "no infinite-width prediction of batch-normalized gradients: they depend on the "
            "correlations between the inputs of a batch (Yang et al. 2019); "
            "initmath.simulate measures them"
        )
    if post:
        return post_activation_moments(
            act,
            [k.sigma_w2 for k in layers],
            [k.n_out * k.variance for k in layers],
            [k.alpha for k in layers],
            [-1 if k.skip is None else k.skip - 1 for k in layers],
            bias2,
            net.input_q,
            backward=bool(backward),
        )
    L = net.depth
    q = np.empty(L)
    inflow = np.empty(L)  # the second moment of W x + b, before any normalization
    eps = net.norm_eps
    inflow[0] = layers[0].sigma_w2 * net.input_q + bias2
    q[0] = _normalized(inflow[0], layers[0].norm, eps)
    for ell in range(1, L):
        layer = layers[ell]
        inflow[ell] = layer.sigma_w2 * _m(act, q[ell - 1]) + bias2
        q[ell] = layer.alpha**2 * _normalized(inflow[ell], layer.norm, eps)
        if layer.skip is not None:  # the skip is independent of the zero-mean branch
            q[ell] += q[layer.skip - 1]
    if not backward:
        return q, None
    g = np.empty(L)
    g[L - 1] = 1.0
    for ell in range(L - 1, 0, -1):
        layer = layers[ell]
        # through alpha * N(W x + b): LayerNorm divides the gradient by its sigma
        through = layer.alpha**2 * g[ell]
        if layer.norm is not None:
            through /= inflow[ell] + eps
        g[ell - 1] = layer.n_out * layer.variance * _d(act, q[ell - 1]) * through
        # gradients that reach a layer through its skip were added when the block end was
        # passed (its layer is higher, so its g is final by then)
        g[ell - 1] += sum(g[k] for k in range(ell, L) if layers[k].skip == ell)
    return q, g


def _normalized(inflow: float, norm: str | None, eps: float) -> float:
    """The second moment after a normalization: var / (var + eps) at infinite width."""
    return inflow if norm is None else inflow / (inflow + eps)


def _m(act: Any, q: float) -> float:
    return moment(act, float(q), 2).value if q > 0 else 0.0


def _d(act: Any, q: float) -> float:
    return derivative_moment(act, float(q), 2).value if q > 0 else 0.0


def _critical(level: float) -> float:
    return NormalDist().inv_cdf(1 - level / 2)


def compare(
    name: str,
    result: SimulationResult,
    predicted: np.ndarray,
    quantity: str = "q",
    layer: int | None = None,
    level: float = LEVEL,
) -> Verification:
    """Compare a simulation with per-layer predictions of ``quantity`` at ``layer`` (default:
    the last layer for ``"q"``/``"mean"``, the first for ``"grad"``)."""
    if not isinstance(result, SimulationResult):
        raise TypeError(f"result must be a SimulationResult, got {result!r}")
    quantity = choice(quantity, "quantity", ("q", "grad", "mean"))
    L = len(predicted)
    if layer is None:
        layer = 1 if quantity == "grad" else L
    layer = integer(layer, "layer", 1)
    if layer > L:
        raise ValueError(f"layer must be in 1..{L}, got {layer!r}")
    mean = {"q": result.q, "grad": result.grad_q, "mean": result.mean}[quantity]
    se = {"q": result.q_se, "grad": result.grad_q_se, "mean": result.mean_se}[quantity]
    if mean is None or se is None:
        raise ValueError(f"the simulation did not record {quantity!r}")
    pred = float(predicted[layer - 1])
    problems = result.problems(quantity)
    est = result.estimate(quantity, layer)
    if problems or not (math.isfinite(est.mean) and math.isfinite(est.se)):
        # an explosion or underflow anywhere is a failure, not a z-score
        z = math.nan if math.isnan(est.mean) else math.inf
        passed, note = False, problems or "no finite estimate"
    else:
        z = float(est.z(pred))
        passed, note = bool(abs(z) < _critical(level)), ""
    return Verification(
        name,
        quantity,
        layer,
        pred,
        est.mean,
        est.se,
        z,
        passed,
        level,
        note=note,
        curve_predicted=np.asarray(predicted),
        curve_estimate=mean,
        curve_se=se,
    )


def _run(
    name: str,
    check: Check,
    n_networks: int | None,
    seed: int,
    level: float,
    threads: int | None,
    scale: float = 1.0,
) -> Verification:
    net = check.simulated()
    if n_networks is None:
        n_networks = check.n_networks or DEFAULT_NETWORKS
    q, g = predict(net, backward=check.backward)
    pred = {"q": q, "grad": g}.get(check.quantity)
    if check.quantity == "mean":
        pred = np.array([_mean(net.activation, qq) for qq in q])
    assert pred is not None  # Check: quantity 'grad' implies backward
    record = ("mean",) if check.quantity == "mean" else ("second_moment",)
    result = simulate(
        net,
        n_networks=n_networks,
        seed=seed,
        threads=threads,
        backward=check.backward,
        record=record,
        n_inputs=8,
    )
    return compare(name, result, np.asarray(pred) * scale, check.quantity, check.layer, level)


def _mean(act: Any, q: float) -> float:
    return moment(act, float(q), 1).value


def verify(
    target: str,
    *,
    network: Network | None = None,
    widths: Sequence[int] | None = None,
    activation: object | None = None,
    n_networks: int | None = None,
    seed: int = 0,
    level: float = LEVEL,
    threads: int | None = None,
    scale: float = 1.0,
    backward: bool | None = None,
    quantity: str | None = None,
    layer: int | None = None,
    **options: Unpack[NetworkOptions],
) -> Verification:
    """Check a registry formula, or a scheme, against simulation.

    Parameters
    ----------
    target : str
        A formula name of :data:`initmath.formulas` (its check is in :data:`CHECKS`), or a
        scheme (``"he"``, ``"xavier"``, ...): then ``network`` is simulated and the last
        layer's second moment compared with :func:`predict`.
    network : Network, optional
        For a scheme: the network simulated (its scheme must be ``target``).
    widths : sequence of int, optional
        For a scheme, the short form instead of ``network``: the widths (default 10 layers
        of 256), with ``activation`` (default the scheme's own, :data:`CHECKED_WITH`:
        He-ReLU, LeCun-linear, Xavier-tanh) and ``**options``
        (:class:`~initmath.engine.network.Network`'s: ``distribution``, ``gain``, ``mode``,
        ``std``, ``bias_std``, ``input_std``), checked as :func:`initmath.simulate` checks
        them.
    n_networks : int, optional
        Networks to simulate; default :data:`DEFAULT_NETWORKS`, or the check's own.
    seed, threads
        As for :func:`initmath.simulate`.
    level : float
        Two-sided level of the test (default :data:`LEVEL`).
    scale : float
        Multiplies the prediction: ``scale=1.05`` checks that a 5% error is caught.
    backward, quantity, layer
        For a scheme: ``quantity`` (``"q"``, ``"grad"``, which implies ``backward=True``,
        or ``"mean"``) and ``layer`` (1-based) choose what is compared; ``backward=True``
        alone compares the gradients.

    Raises
    ------
    TypeError, ValueError
        For an invalid argument (naming it), before anything is simulated.

    Returns
    -------
    Verification
    """
    if not isinstance(target, str):
        raise TypeError(f"target must be a string (a formula name or a scheme), got {target!r}")
    level = positive_real(level, "level")
    if not level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    scale = positive_real(scale, "scale")
    if n_networks is not None:
        n_networks = integer(n_networks, "n_networks", 2)
    if target in CHECKS:
        given = [
            k
            for k, v in (
                ("network", network),
                ("widths", widths),
                ("activation", activation),
                ("backward", backward),
                ("quantity", quantity),
                ("layer", layer),
            )
            if v is not None
        ]
        if given or options:
            raise ValueError(
                f"formula {target!r} has a fixed check; give no network options, got "
                f"{(given or sorted(options))[0]!r}"
            )
        return _run(target, CHECKS[target], n_networks, seed, level, threads, scale)
    if target.lower() not in (*SCHEMES, *SCHEME_ALIASES):
        raise ValueError(
            f"unknown target {target!r}; expected a formula name ({', '.join(CHECKS)}) or a scheme"
        )
    scheme = SCHEME_ALIASES.get(target.lower(), target.lower())
    if network is not None:
        if widths is not None:
            raise ValueError("give network or widths, not both")
        net = as_network(network, activation, **options)
        if net.scheme != scheme:
            raise ValueError(
                f"network has scheme {net.scheme!r}, but the target is scheme {scheme!r}"
            )
    else:
        widths = widths if widths is not None else [256] * 11
        act = activation if activation is not None else CHECKED_WITH[scheme]
        if "scheme" in options:
            raise TypeError("verify() takes the scheme as its target, not as an option")
        opts = NetworkOptions(**options)
        opts["scheme"] = scheme
        net = as_network(widths, act, **opts)
    q = choice("q" if quantity is None else quantity, "quantity", ("q", "grad", "mean"))
    if backward is not None and not isinstance(backward, (bool, np.bool_)):
        raise TypeError(f"backward must be a bool, got {backward!r}")
    if q == "grad":
        if backward is False:
            raise ValueError("quantity='grad' needs backward=True, got backward=False")
        backward = True
    elif backward and quantity is None:
        q = "grad"
    if layer is not None:
        layer = integer(layer, "layer", 1)
    check = Check(
        net, backward=bool(backward), quantity=cast(Literal["q", "grad", "mean"], q), layer=layer
    )
    return _run(target, check, n_networks, seed, level, threads, scale)


def verify_all(
    n_networks: int | None = None,
    seed: int = 0,
    level: float = LEVEL,
    threads: int | None = None,
    progress: Any = None,
) -> list[Verification]:
    """Run the check of every formula in :data:`CHECKS`; ``progress(i, n, name)`` is called
    before each."""
    if progress is not None and not callable(progress):
        raise TypeError(
            f"progress must be None or a callable progress(i, n, name), got {progress!r}"
        )
    out = []
    names = list(CHECKS)
    for i, name in enumerate(names):
        if progress is not None:
            progress(i, len(names), name)
        out.append(verify(name, n_networks=n_networks, seed=seed, level=level, threads=threads))
    return out
