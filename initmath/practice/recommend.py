r"""Which initialization to use, judged by how deep it keeps the second moments in a band.

One criterion, one function: :func:`recommend` produces both the marks of the book's tables and
the advice of its decision guide, so the two cannot disagree.

**The ratios.** A network of :math:`L` bias-free layers of equal width, weight variance
:math:`\sigma_w^2/\mathrm{fan_{in}}` and unit-variance inputs has, at infinite width, the
second moments :math:`q^1 = \sigma_w^2` and :math:`q^{\ell+1} = \sigma_w^2 M(q^\ell)` of its
pre-activations and, for a gradient injected at the last layer,
:math:`\tilde q^{\ell} = \sigma_w^2 D(q^\ell)\, \tilde q^{\ell+1}` of the back-propagated
gradients, with :math:`M(q) = E[\phi(\sqrt q\, z)^2]` and :math:`D(q) = E[\phi'(\sqrt q\, z)^2]`
for :math:`z \sim N(0, 1)` (:func:`initmath.predict` computes the same). The forward and
backward ratios of the depth-:math:`L` network are

.. math::

    F(L) = \frac{q^L}{q^1}, \qquad
    B(L) = \frac{\tilde q^1}{\tilde q^L} = \prod_{\ell=1}^{L-1} \sigma_w^2 D(q^\ell),

the factors by which the stack after the first layer changes the signal's second moment on
the way forward and the gradient's on the way back (both 1 for :math:`L = 1`).

**The criterion.** With a band :math:`b > 1`, a setting *reaches* depth :math:`L` when every
depth up to :math:`L` keeps both ratios within a factor :math:`b` of one,

.. math::

    W(L) = \max_{1 \le \ell \le L} \max\bigl(|\ln F(\ell)|, |\ln B(\ell)|\bigr) \le \ln b,

and its reach :math:`R` is the largest such :math:`L` (counted up to a horizon). For a
requested depth :math:`L`, :func:`recommend` judges the settings of :func:`candidates`
(LeCun, He, PyTorch's default, and LeCun's fan-in rule with PyTorch's gain and with the
exact forward and backward gains): among those that reach :math:`L` it recommends the one
with the smallest :math:`W(L)`; when none does, it searches the gain :math:`g` (weight
variance :math:`g^2/\mathrm{fan_{in}}`) that minimizes :math:`W(L)` and recommends that,
stating the depth it reaches. Every activation gets a concrete setting.

>>> rec = recommend("relu")
>>> rec.scheme, rec.mode, rec.distribution, round(rec.gain, 4)
('he', 'fan_in', 'normal', 1.4142)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar

from ..core.checks import integer, positive_real
from ..theory.activations import Activation, activation, activation_names
from ..theory.gain_table import torch_gain_or_none
from ..theory.quadrature import gaussian_expectation
from ..weights.torch_gain import spec_label

__all__ = [
    "BAND",
    "DEPTH",
    "HORIZON",
    "Candidate",
    "Recommendation",
    "Setting",
    "candidates",
    "default_activations",
    "depth_ratios",
    "reach",
    "recommend",
    "recommendations",
]

#: The default depth :math:`L` a recommendation is made for.
DEPTH = 20
#: The default band :math:`b`: both ratios within a factor 10 of one.
BAND = 10.0
#: The default horizon, the depth up to which reaches are counted.
HORIZON = 1000
#: The activations :func:`recommendations` covers by default: every registered one, with its
#: registered default parameter, and leaky ReLU also with slope 0.2.
_EXTRA = (("leaky_relu", 0.2),)
# The search of the tuned gain: sigma_w^2 = 2^(k/8), k in this range (1/16 to 256).
_SCAN = (-32, 65)


@dataclass(frozen=True)
class Setting:
    r"""One way to initialize a layer: a scheme, its mode, distribution and gain.

    Attributes
    ----------
    label : str
        A name for tables: ``"LeCun"``, ``"He"``, ``"PyTorch default"``, ``"PyTorch gain"``,
        ``"exact gain"``, ``"exact backward gain"``, ``"tuned gain"``.
    scheme : str
        The scheme of :func:`initmath.variance`: ``"lecun"``, ``"he"`` or ``"standard"``.
    mode : str
        The fan the variance divides by (always ``"fan_in"`` here: equal widths).
    distribution : str
        ``"normal"``, or ``"uniform"`` for PyTorch's default.
    gain : float
        The gain passed with the scheme (He's is :math:`\sqrt 2`).
    sigma_w2 : float
        :math:`\sigma_w^2 = \mathrm{fan_{in}} \operatorname{Var}(W)`.
    """

    label: str
    scheme: str
    mode: str
    distribution: str
    gain: float
    sigma_w2: float


@dataclass(frozen=True)
class Candidate:
    r"""A setting judged at one depth (:func:`recommend`).

    Attributes
    ----------
    setting : Setting
    reach : int
        :math:`R`, the largest depth whose ratios and those of all shallower depths stay in
        the band; ``horizon`` means at least that.
    worst : float
        :math:`W(L)` at the requested depth :math:`L`.
    forward, backward : float
        :math:`F(L)` and :math:`B(L)`.
    chosen : bool
        Whether this is the recommended setting (the table's mark).
    """

    setting: Setting
    reach: int
    worst: float
    forward: float
    backward: float
    chosen: bool


@dataclass(frozen=True)
class Recommendation:
    r"""The recommended initialization of one activation (:func:`recommend`).

    Attributes
    ----------
    activation : str
        The activation's label (``"leaky_relu(0.2)"`` for a parameter).
    scheme, mode, distribution : str
        As for :func:`initmath.variance` and :func:`initmath.init`.
    gain : float
        The gain to pass with ``scheme`` (weight variance :math:`g^2/\mathrm{fan_{in}}`).
    reason : str
        One line: why, with the depth the setting reaches.
    depth : int
        The requested depth :math:`L`.
    band : float
        :math:`b`.
    horizon : int
        Reaches are counted up to this depth.
    reach : int
        The recommended setting's reach :math:`R`.
    passes : bool
        :math:`R \ge L`.
    candidates : tuple of Candidate
        Every setting judged, the recommended one with ``chosen`` set.
    """

    activation: str
    scheme: str
    mode: str
    distribution: str
    gain: float
    reason: str
    depth: int
    band: float
    horizon: int
    reach: int
    passes: bool
    candidates: tuple[Candidate, ...]

    @property
    def chosen(self) -> Candidate:
        """The recommended candidate."""
        return next(c for c in self.candidates if c.chosen)


def _activation(spec: object) -> Activation:
    act = activation(spec)
    return act if act.is_bound else act.bind()


def _label(spec: object) -> str:
    if isinstance(spec, Activation):
        return spec.name
    return spec_label(spec)


def _band(band: object) -> float:
    b = positive_real(band, "band")
    if not b > 1.0 or not math.isfinite(b):
        raise ValueError(f"band must be a finite number > 1, got {band!r}")
    return b


def _log_ratios(
    act: Activation, sigma_w2: np.ndarray, depth: int, stop: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """ln F and ln B for depths 1..depth, one column per sigma_w2.

    With ``stop``, a column stops being iterated once its ratios leave the band
    ``|ln| <= stop`` (its later entries are then NaN): the reach needs no more.
    """
    f, d = act.numpy, act.numpy_derivative
    sw2 = np.asarray(sigma_w2, dtype=float)
    n = sw2.size
    log_f = np.full((depth, n), np.nan)
    log_b = np.full((depth, n), np.nan)
    log_f[0] = log_b[0] = 0.0
    q = sw2.copy()
    lb = np.zeros(n)
    active = np.ones(n, dtype=bool)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        for ell in range(1, depth):
            idx = np.flatnonzero(active)
            if idx.size == 0:
                break
            qa, sa = q[idx], sw2[idx]
            ok = (qa > 0) & np.isfinite(qa)
            dm = np.zeros(idx.size)
            mm = np.zeros(idx.size)
            if ok.any():
                dm[ok] = gaussian_expectation(lambda x: d(x) ** 2, qa[ok])
                mm[ok] = gaussian_expectation(lambda x: f(x) ** 2, qa[ok])
            lb[idx] += np.log(sa * dm)
            q[idx] = sa * mm
            log_f[ell, idx] = np.log(q[idx] / sa)
            log_b[ell, idx] = lb[idx]
            if stop is not None:
                worst = np.maximum(np.abs(log_f[ell, idx]), np.abs(log_b[ell, idx]))
                active[idx[~(worst <= stop)]] = False
    return log_f, log_b


def depth_ratios(activation: object, sigma_w2: float, depth: int) -> tuple[np.ndarray, np.ndarray]:
    r"""The forward and backward ratios :math:`F(\ell)` and :math:`B(\ell)` for :math:`\ell \le L`.

    Parameters
    ----------
    activation : str, (str, float) or Activation
        :math:`\phi`, as for :func:`initmath.activation`.
    sigma_w2 : float
        :math:`\sigma_w^2 > 0`, the weight variance times the fan-in.
    depth : int
        :math:`L \ge 1`.

    Returns
    -------
    (F, B) : tuple of numpy.ndarray
        Shape ``(depth,)``; entry ``l - 1`` is :math:`F(\ell) = q^\ell/q^1` and
        :math:`B(\ell) = \tilde q^1/\tilde q^\ell` of the depth-:math:`\ell` network
        (the module's equations); an overflow is ``inf``, a collapse to zero ``0``.

    Examples
    --------
    >>> F, B = depth_ratios("relu", 2.0, 4)  # He: critical, 1 up to the quadrature's 1e-15
    >>> F.round(12).tolist(), B.round(12).tolist()
    ([1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0])
    >>> depth_ratios("linear", 2.0, 3)[0].round(12).tolist()
    [1.0, 2.0, 4.0]
    """
    act = _activation(activation)
    s = positive_real(sigma_w2, "sigma_w2")
    L = integer(depth, "depth", 1)
    log_f, log_b = _log_ratios(act, np.array([s]), L, None)
    with np.errstate(over="ignore"):
        return np.exp(log_f[:, 0]), np.exp(log_b[:, 0])


def _reaches(act: Activation, sigma_w2: np.ndarray, band: float, horizon: int) -> np.ndarray:
    stop = math.log(band)
    log_f, log_b = _log_ratios(act, sigma_w2, horizon, stop)
    inside = np.maximum(np.abs(log_f), np.abs(log_b)) <= stop  # NaN (stopped) is outside
    out = np.full(sigma_w2.size, horizon)
    for j in range(sigma_w2.size):
        bad = np.flatnonzero(~inside[:, j])
        if bad.size:
            out[j] = int(bad[0])  # depths 1..bad[0] are inside
    return out


def reach(
    activation: object, sigma_w2: float, *, band: float = BAND, horizon: int = HORIZON
) -> int:
    r"""The reach :math:`R`: the largest depth up to which both ratios stay within the band.

    Parameters
    ----------
    activation : str, (str, float) or Activation
        :math:`\phi`.
    sigma_w2 : float
        :math:`\sigma_w^2 > 0`.
    band : float
        :math:`b > 1`: :math:`b^{-1} \le F(\ell), B(\ell) \le b` for every
        :math:`\ell \le R`.
    horizon : int
        Depths are tried up to this one (>= 1); the result is at most ``horizon``.

    Returns
    -------
    int
        :math:`R \ge 1` (depth 1 has both ratios equal to one).

    Examples
    --------
    >>> reach("linear", 1.0, horizon=100), reach("linear", 2.0)  # 2^3 < 10 < 2^4
    (100, 4)
    """
    act = _activation(activation)
    s = positive_real(sigma_w2, "sigma_w2")
    return int(_reaches(act, np.array([s]), _band(band), integer(horizon, "horizon", 1))[0])


def candidates(activation: object) -> tuple[Setting, ...]:
    r"""The settings :func:`recommend` judges for an activation, before any tuned gain.

    LeCun (:math:`\sigma_w^2 = 1`), He (:math:`\sigma_w^2 = 2`), PyTorch's layer default
    (``"standard"``, :math:`U(\pm 1/\sqrt{\mathrm{fan_{in}}})`, :math:`\sigma_w^2 = 1/3`), then
    LeCun's fan-in rule with PyTorch's ``calculate_gain`` (where PyTorch has one), with the
    exact forward gain :math:`1/\sqrt{M(1)}` and with the exact backward gain
    :math:`1/\sqrt{D(1)}` (:func:`initmath.gain` with ``convention="exact"`` and
    :func:`initmath.backward_gain`, here by the quadrature of
    :func:`~initmath.theory.quadrature.gaussian_expectation`), each only when its
    :math:`\sigma_w^2` differs from those before it.

    Parameters
    ----------
    activation : str, (str, float) or Activation
        :math:`\phi`.

    Returns
    -------
    tuple of Setting

    Examples
    --------
    >>> [s.label for s in candidates("relu")]
    ['LeCun', 'He', 'PyTorch default']
    """
    act = _activation(activation)
    spec = activation if not isinstance(activation, Activation) else act
    out = [
        Setting("LeCun", "lecun", "fan_in", "normal", 1.0, 1.0),
        Setting("He", "he", "fan_in", "normal", math.sqrt(2.0), 2.0),
        Setting("PyTorch default", "standard", "fan_in", "uniform", 1.0, 1.0 / 3.0),
    ]
    torch = None if isinstance(activation, Activation) else torch_gain_or_none(spec)
    one = np.array([1.0])
    m1 = float(gaussian_expectation(lambda x: act.numpy(x) ** 2, one)[0])
    d1 = float(gaussian_expectation(lambda x: act.numpy_derivative(x) ** 2, one)[0])
    extra = [
        ("PyTorch gain", torch),
        ("exact gain", 1.0 / math.sqrt(m1) if m1 > 0 else None),
        ("exact backward gain", 1.0 / math.sqrt(d1) if d1 > 0 else None),
    ]
    for label, g in extra:
        if g is None or not math.isfinite(g) or g <= 0:
            continue
        if all(abs(g * g - s.sigma_w2) > 1e-9 * max(1.0, g * g) for s in out):
            out.append(Setting(label, "lecun", "fan_in", "normal", float(g), float(g * g)))
    return tuple(out)


def _worst(act: Activation, sigma_w2: np.ndarray, depth: int) -> np.ndarray:
    log_f, log_b = _log_ratios(act, sigma_w2, depth, None)
    w = np.maximum(np.abs(log_f), np.abs(log_b))
    return np.where(np.isnan(w), np.inf, w).max(axis=0)


def _tuned(act: Activation, depth: int) -> float:
    """The sigma_w^2 minimizing W(depth): a grid of 2^(k/8), then a bounded search."""
    grid = 2.0 ** (np.arange(*_SCAN) / 8.0)
    w = _worst(act, grid, depth)
    i = int(np.argmin(w))
    lo, hi = math.log(grid[max(i - 1, 0)]), math.log(grid[min(i + 1, grid.size - 1)])
    res = minimize_scalar(
        lambda t: float(_worst(act, np.array([math.exp(t)]), depth)[0]),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-6},
    )
    best = math.exp(float(res.x))
    return best if float(res.fun) <= w[i] else float(grid[i])


def _depth_text(r: int, horizon: int) -> str:
    return f"beyond depth {horizon}" if r >= horizon else f"up to depth {r}"


def recommend(
    activation: object,
    *,
    depth: int = DEPTH,
    band: float = BAND,
    horizon: int = HORIZON,
) -> Recommendation:
    r"""The initialization to use for ``activation`` in a plain stack of ``depth`` layers.

    The criterion of the module: each setting of :func:`candidates` is judged by
    :math:`W(L) = \max_{\ell \le L} \max(|\ln F(\ell)|, |\ln B(\ell)|)` and by its reach
    :math:`R` (the largest depth with :math:`W \le \ln b`). Among the settings with
    :math:`R \ge L` the one with the smallest :math:`W(L)` is recommended (the first listed on
    a tie); if none reaches :math:`L`, the gain :math:`g` minimizing :math:`W(L)` (LeCun's
    fan-in rule times :math:`g`) is found and recommended, with the depth it reaches.

    Parameters
    ----------
    activation : str, (str, float) or Activation
        :math:`\phi`, as for :func:`initmath.activation`.
    depth : int
        :math:`L \ge 1`, the number of layers.
    band : float
        :math:`b > 1`.
    horizon : int
        Reaches are counted up to this depth (>= ``depth``).

    Returns
    -------
    Recommendation
        With ``scheme``, ``mode``, ``distribution``, ``gain``, a one-line ``reason`` and
        every candidate judged (the recommended one ``chosen``).

    Raises
    ------
    TypeError, ValueError
        An activation that is not one (as :func:`initmath.activation`), a depth or horizon
        that is not an integer >= 1, a horizon below the depth, a band that is not > 1.

    Examples
    --------
    >>> recommend("linear", depth=20).scheme
    'lecun'
    >>> rec = recommend("sigmoid", depth=20)
    >>> rec.chosen.setting.label, rec.passes, rec.reach
    ('tuned gain', True, 43)
    """
    act = _activation(activation)
    L = integer(depth, "depth", 1)
    b = _band(band)
    H = integer(horizon, "horizon", 1)
    if H < L:
        raise ValueError(f"horizon must be at least the depth {L}, got {horizon!r}")
    settings = list(candidates(activation))
    sw2 = np.array([s.sigma_w2 for s in settings])
    reaches = _reaches(act, sw2, b, H)
    worst = _worst(act, sw2, L)
    passing = [i for i in range(len(settings)) if reaches[i] >= L]
    if passing:
        pick = min(passing, key=lambda i: (worst[i], i))
    else:
        s = _tuned(act, L)
        g = math.sqrt(s)
        settings.append(Setting("tuned gain", "lecun", "fan_in", "normal", g, s))
        reaches = np.append(reaches, _reaches(act, np.array([s]), b, H))
        worst = np.append(worst, _worst(act, np.array([s]), L))
        pick = len(settings) - 1
    log_f, log_b = _log_ratios(act, np.array([x.sigma_w2 for x in settings]), L, None)
    with np.errstate(over="ignore"):
        fwd, bwd = np.exp(log_f[-1]), np.exp(log_b[-1])
    cands = tuple(
        Candidate(x, int(reaches[i]), float(worst[i]), float(fwd[i]), float(bwd[i]), i == pick)
        for i, x in enumerate(settings)
    )
    chosen = settings[pick]
    R = int(reaches[pick])
    within = f"both ratios stay within a factor {b:g} of 1 {_depth_text(R, H)}"
    if chosen.label != "tuned gain":
        reason = (
            f"{chosen.label} ({chosen.scheme}, gain {chosen.gain:.3g}): {within}, the closest "
            f"to 1 at depth {L} of the usual settings that reach it"
        )
    else:
        n = max(range(len(settings) - 1), key=lambda i: (reaches[i], -i))
        short = "" if R >= L else f"; short of depth {L}, it is the best over {L} layers"
        reason = (
            f"tuned gain {chosen.gain:.3g} on LeCun's fan-in rule: no usual setting reaches "
            f"depth {L} "
            f"({settings[n].label}, the best, reaches depth {int(reaches[n])}); with this gain "
            f"{within}{short}"
        )
    return Recommendation(
        _label(activation),
        chosen.scheme,
        chosen.mode,
        chosen.distribution,
        chosen.gain,
        reason,
        L,
        b,
        H,
        R,
        R >= L,
        cands,
    )


def default_activations() -> tuple[object, ...]:
    """Every registered activation (with its default parameter), and leaky ReLU with 0.2."""
    return (*activation_names(), *_EXTRA)


def recommendations(
    activations: Iterable[object] | None = None,
    *,
    depth: int = DEPTH,
    band: float = BAND,
    horizon: int = HORIZON,
) -> tuple[Recommendation, ...]:
    """:func:`recommend` for each activation (default: every registered one).

    Parameters
    ----------
    activations : iterable of activation specs, optional
        Default: :func:`initmath.activation_names` and ``("leaky_relu", 0.2)``.
    depth, band, horizon
        As for :func:`recommend`.

    Returns
    -------
    tuple of Recommendation
        In the order of ``activations``.
    """
    specs: Sequence[object] = default_activations() if activations is None else tuple(activations)
    return tuple(recommend(a, depth=depth, band=band, horizon=horizon) for a in specs)
