r"""Derivations, in SymPy, of the second-moment maps of residual networks and of the schemes
that tame their growth with depth.

The setting (:class:`initmath.Residual`, pre-activation ordering): a stream
:math:`h_k = h_{k-1} + \alpha F(h_{k-1})` over :math:`B` blocks, each branch
:math:`F = W_m \phi(\cdots W_1 \phi(h))` a stack of :math:`m` layers of i.i.d. zero-mean
weights. The branch is uncorrelated with the stream (its last weights have mean zero and are
independent of :math:`h_{k-1}`), so second moments add:

.. math::

    q_k = q_{k-1} + \alpha^2 \big(n\, v\, M(q') + \sigma_b^2\big),

with :math:`q'` the second moment of the branch's last pre-activations. Backward, the
stream's gradient is the sum of the skip's and the branch's, again uncorrelated:
:math:`\tilde q_{k-1} = \tilde q_k\,(1 + \alpha^2 \chi_F)` with :math:`\chi_F` the
branch's gradient gain. These maps are what :func:`initmath.predict` iterates; this module
derives their closed forms and the constants of the schemes (branch scaling, Fixup).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import sympy as sp

from ..core.checks import integer
from .activations import Activation
from .derivations import SIGMA_B2, V, backward_map, forward_map, scheme_variance
from .moments import Q
from .quadrature import gaussian_expectation, half_line_nodes

__all__ = [
    "ALPHA",
    "BLOCKS",
    "BRANCH_LAYERS",
    "POINTS_PER_SD",
    "Q_GRAD_END",
    "Q_STREAM",
    "branch_scaling_growth",
    "fixup_condition",
    "fixup_scale",
    "he_relu_growth",
    "post_activation_moments",
    "residual_backward_map",
    "residual_forward_map",
]

#: The branch multiplier :math:`\alpha` (``initmath.Residual.alpha``).
ALPHA = sp.Symbol("alpha", nonnegative=True)
#: The number of residual blocks :math:`B`.
BLOCKS = sp.Symbol("B", positive=True, integer=True)
#: The weight layers per branch :math:`m`.
BRANCH_LAYERS = sp.Symbol("m", positive=True, integer=True)
#: The stream's second moment before a block, :math:`q_s`.
Q_STREAM = sp.Symbol("q_s", positive=True)
_K = sp.Symbol("k", integer=True, nonnegative=True)
_C = sp.Symbol("c", positive=True)
_ETA = sp.Symbol("eta", positive=True)


def residual_forward_map(act: object | None = None) -> sp.Expr:
    r"""The second moment at a block end, :math:`q_e`, from the stream's :math:`q_s` and the
    branch's last input :math:`q`:

    .. math:: q_e = q_s + \alpha^2\,\big(n_{in}\, v\, M(q) + \sigma_b^2\big),

    the cross term :math:`2\alpha\,E[h_s F]` vanishing because the branch's last weights
    have mean zero and are independent of the stream. With ``act`` its closed-form
    :math:`M(q)` is substituted (:func:`initmath.theory.derivations.forward_map`).
    """
    return Q_STREAM + ALPHA**2 * forward_map(act)


#: The gradient's second moment at the block end, :math:`\tilde q_e`, which the skip
#: carries back to the stream before the block.
Q_GRAD_END = sp.Symbol("q_g_e", positive=True)


def residual_backward_map(act: object | None = None) -> sp.Expr:
    r"""The gradient's second moment at the stream before a block, :math:`\tilde q_s`:

    .. math:: \tilde q_s = \tilde q_e + n_{out}\, v\, D(q_s)\, \tilde q_{s+1},

    the skip's :math:`\tilde q_e` (the block end's gradient, unchanged) plus what the
    branch's first layer pulls back (:func:`initmath.theory.derivations.backward_map`, with
    :math:`\tilde q_{s+1}` its gradient, which already carries the factor :math:`\alpha^2`
    of the branch's last layer); the cross term vanishes as forward.
    """
    return Q_GRAD_END + backward_map(act)


def he_relu_growth() -> sp.Expr:
    r""":math:`q_B / q_0` after :math:`B` blocks of He-initialized ReLU branches.

    Each branch layer preserves the second moment (:math:`n\,v\,M(q) = 2 \cdot q/2 = q`), so
    the branch's output has the stream's :math:`q` and the map is the linear recurrence
    :math:`q_k = (1 + \alpha^2)\,q_{k-1}`, solved by :func:`sympy.rsolve`:

    .. math:: \frac{q_B}{q_0} = (1 + \alpha^2)^B,

    whatever the branch's depth :math:`m` (without biases). Plain ResNets
    (:math:`\alpha = 1`) double the second moment with every block: past
    :math:`10^{150}` (an overflow for the engine) after about 500 blocks.
    """
    he_v = scheme_variance("he")  # 2/n_in
    preserved = sp.simplify(forward_map("relu").subs({SIGMA_B2: 0, V: he_v}))
    if sp.simplify(preserved - Q) != 0:  # the branch is the identity on q, else no closed form
        raise ArithmeticError(f"He/ReLU layers should preserve q, got {preserved}")
    q = sp.Function("q")
    step = residual_forward_map("relu").subs({SIGMA_B2: 0, V: he_v, Q: Q_STREAM})
    ratio = sp.simplify(step / Q_STREAM)  # 1 + alpha^2
    solution = sp.rsolve(q(_K + 1) - ratio * q(_K), q(_K), {q(0): 1})
    return sp.simplify(solution.subs(_K, BLOCKS))


def branch_scaling_growth(limit: bool = False) -> sp.Expr:
    r""":math:`q_B/q_0` of He/ReLU blocks with the branch scaling :math:`\alpha = 1/\sqrt B`:
    :math:`(1 + 1/B)^B`, which increases to :math:`e` (``limit=True``: that limit), so the
    growth stays bounded at any depth."""
    growth = he_relu_growth().subs(ALPHA, 1 / sp.sqrt(BLOCKS))
    growth = sp.simplify(growth)
    if limit:
        return sp.limit(growth, BLOCKS, sp.oo)
    return growth


def fixup_condition() -> sp.Eq:
    r"""The condition Fixup's scale solves (Zhang et al. 2019, Sec. 3): one SGD step of
    size :math:`\eta` changes the output by :math:`\Theta(\eta)` whatever the depth.

    A branch of :math:`m` layers whose weights are multiplied by :math:`c` is a product of
    :math:`m` factors of size :math:`c` (ReLU is positively homogeneous). The gradient with
    respect to one layer's weights is the product of the other :math:`m - 1`, of size
    :math:`c^{m-1}`, so the step moves that layer by :math:`\eta\,c^{m-1}` and the branch's
    output by :math:`c^{m-1} \cdot \eta\,c^{m-1}` per layer: :math:`\Theta(\eta\,c^{2m-2})`
    per branch. Over :math:`B` branches the change is :math:`\Theta(\eta)` when

    .. math:: B\, c^{2m-2} = 1.
    """
    change = BLOCKS * _C ** (BRANCH_LAYERS - 1) * (_ETA * _C ** (BRANCH_LAYERS - 1))
    return sp.Eq(sp.powsimp(change / _ETA), 1)


def fixup_scale(layers: int | None = None) -> sp.Expr:
    r"""Fixup's multiplier of the branch weights, solved from :func:`fixup_condition`:

    .. math:: c = B^{-1/(2m - 2)},

    defined for :math:`m \ge 2` (a one-layer branch cannot be scaled this way: its
    gradient does not depend on its own scale, and Fixup zeroes that layer). ``layers``
    substitutes :math:`m`.

    Raises
    ------
    ValueError
        If ``layers`` is below 2.
    """
    m = BRANCH_LAYERS
    if layers is not None:
        m = sp.Integer(integer(layers, "layers", 1))
        if m < 2:
            raise ValueError(f"Fixup's scale needs branches of at least 2 layers, got {layers!r}")
    condition = fixup_condition().subs(BRANCH_LAYERS, m)
    (c,) = sp.solve(condition, _C)
    return sp.powsimp(sp.simplify(c), force=True)


# -- post-activation blocks: the law of the stream ------------------------------------------
#: Grid points per standard deviation of the narrowest Gaussian in
#: :func:`post_activation_moments` (its trapezoid and deposit errors are O(h^2): about 1e-4
#: relative at this resolution).
POINTS_PER_SD = 40


def post_activation_moments(
    act: Activation,
    sigma_w2: Sequence[float],
    back_gain: Sequence[float],
    alpha: Sequence[float],
    skip: Sequence[int],
    bias_var: float,
    input_q: float,
    backward: bool = False,
) -> tuple[np.ndarray, np.ndarray | None]:
    r"""Infinite-width second moments, per layer, of a post-activation residual network.

    Block :math:`k` ends with :math:`z^e = \phi(z^s) + \alpha u`, :math:`u` Gaussian of
    second moment :math:`q_u = \sigma_w^2 E[\phi(\cdot)^2] + \sigma_b^2` and independent of
    the stream. The block end is therefore not Gaussian: its law is that of
    :math:`\phi(z^s)` convolved with :math:`N(0, \alpha^2 q_u)`, which this function carries
    from block to block on a uniform grid (spacing :math:`1/`:data:`POINTS_PER_SD` of the
    narrowest of those Gaussians, aligned with 0 so that the kink of ReLU-like activations
    is a grid point, where the trapezoid rule takes the mean of its two sides). The layers
    inside the branches are Gaussian and use the usual maps. Forward,
    :math:`q_e = E[\phi(z^s)^2] + \alpha^2 q_u`. Backward, with
    :math:`G(z) = E[\delta^2 \mid z]` on each block end's grid,
    :math:`G_s(z) = \phi'(z)^2 \big(c + E[G_e(\phi(z) + \alpha\sqrt{q_u}\,\xi)]\big)`, where
    :math:`c` is what the branch's first layer pulls back and :math:`\xi \sim N(0, 1)`: the
    skip's gradient passes :math:`\phi'` of the stream, which is correlated along it.

    Parameters
    ----------
    act : Activation
        The nonlinearity (its NumPy forms are used).
    sigma_w2, back_gain, alpha : sequences of float, one per layer
        :math:`n_{in} v`, :math:`n_{out} v` and the branch multiplier of each layer.
    skip : sequence of int, one per layer
        The 0-based layer whose activations a block end adds, or -1.
    bias_var, input_q : float
        :math:`\sigma_b^2` and the input's second moment.
    backward : bool
        Also the gradients' second moments (a unit gradient injected at the last layer).

    Returns
    -------
    q, g : numpy.ndarray, numpy.ndarray or None

    Raises
    ------
    ValueError
        Outside the domain: a block whose branch adds nothing (:math:`\alpha = 0`, or a zero
        last layer as in Fixup, or zero branch weights) leaves an atom in the stream's law
        that the grid does not resolve.
    """
    n_layers = len(sigma_w2)
    phi, dphi = act.numpy, act.numpy_derivative
    q = np.empty(n_layers)
    gauss_q: dict[int, float] = {}  # the Gaussian layers (inside the branches): their q
    # the stem and the block ends: their law on a grid, and the sd of the branch they add
    laws: dict[int, tuple[np.ndarray, np.ndarray, float]] = {}
    q[0] = sigma_w2[0] * input_q + bias_var
    stem_sd = math.sqrt(q[0])
    laws[0] = (*_gaussian_grid(q[0], stem_sd / POINTS_PER_SD), stem_sd)

    def phi2(layer: int) -> float:  # E[phi(z)^2] of a layer's pre-activations
        if layer in laws:
            x, w, _ = laws[layer]
            return float(np.dot(w, phi(x) ** 2))
        return _m(phi, gauss_q[layer])

    for k in range(1, n_layers):
        inflow = sigma_w2[k] * phi2(k - 1) + bias_var  # W x + b, Gaussian
        if skip[k] < 0:
            q[k] = gauss_q[k] = inflow
            continue
        sd = abs(alpha[k]) * math.sqrt(inflow)
        if not sd > 0.0:
            raise ValueError(
                f"layer {k + 1} adds a zero branch (alpha * sqrt(q_u) = 0): the stream of a "
                f"post-activation network then has an atom, outside this function's domain"
            )
        xs, ws, _ = laws[skip[k]]
        q[k] = phi2(skip[k]) + alpha[k] ** 2 * inflow
        laws[k] = (*_convolved(phi(xs), ws, sd, sd / POINTS_PER_SD), sd)
    if not backward:
        return q, None

    def dphi2(t: np.ndarray) -> np.ndarray:
        return np.asarray(dphi(t), dtype=float) ** 2

    g = np.empty(n_layers)
    cond: dict[int, np.ndarray] = {}  # stem and block ends: E[delta^2 | z] on their grids
    top = n_layers - 1
    g[top] = 1.0
    if top in laws:
        cond[top] = np.ones_like(laws[top][0])
    for k in range(top, 0, -1):
        pulled = alpha[k] ** 2 * back_gain[k] * g[k]  # through W_k (times alpha at a block end)
        below = k - 1
        if below not in laws:
            g[below] = _d(dphi, gauss_q[below]) * pulled
            continue
        x, w, _ = laws[below]
        inner = np.full_like(x, pulled)
        for e in (e for e in range(n_layers) if skip[e] == below):
            inner += _skip_expectation(phi(x), cond[e], laws[e][0], laws[e][2])
        cond[below] = _mid_kink(dphi2, x) * inner
        g[below] = float(np.dot(w, cond[below]))
    return q, g


def _gaussian_grid(q: float, h: float) -> tuple[np.ndarray, np.ndarray]:
    """N(0, q) on the grid h * integers (trapezoid masses, normalized)."""
    sd = math.sqrt(q)
    n = int(math.ceil(10.0 * sd / h))
    x = h * np.arange(-n, n + 1)
    w = np.exp(-0.5 * (x / sd) ** 2)
    return x, w / w.sum()


def _convolved(y: np.ndarray, w: np.ndarray, sd: float, h: float) -> tuple[np.ndarray, np.ndarray]:
    """The law sum_i w_i N(y_i, sd^2) on the grid h * integers: masses deposited on the grid
    by linear interpolation (exact for y on the grid), then convolved with the sampled
    Gaussian kernel."""
    lo = int(math.floor((y.min() - 10.0 * sd) / h))
    hi = int(math.ceil((y.max() + 10.0 * sd) / h))
    grid = h * np.arange(lo, hi + 1)
    pos = (y - grid[0]) / h
    i = np.clip(np.floor(pos).astype(np.int64), 0, grid.size - 2)
    t = pos - i
    dep = np.zeros(grid.size)
    np.add.at(dep, i, w * (1.0 - t))
    np.add.at(dep, i + 1, w * t)
    m = int(math.ceil(10.0 * sd / h))
    kx = h * np.arange(-m, m + 1)
    kernel = np.exp(-0.5 * (kx / sd) ** 2)
    kernel /= kernel.sum()
    mass = np.convolve(dep, kernel, mode="same") if kernel.size <= dep.size else None
    if mass is None:  # the kernel is wider than the deposit: pad (cannot happen by the range)
        raise ArithmeticError("internal: the stream's grid is narrower than its kernel")
    mass = np.clip(mass, 0.0, None)
    return grid, mass / mass.sum()


def _skip_expectation(y: np.ndarray, g_end: np.ndarray, grid: np.ndarray, sd: float) -> np.ndarray:
    """E[G(y + sd * xi)], xi ~ N(0, 1), for every y, with G tabulated on ``grid``."""
    xi, wq = half_line_nodes()
    vals = np.interp(y[:, None] + sd * xi[None, :], grid, g_end)
    return vals @ wq


def _mid_kink(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """f on the grid, with the mean of its two one-sided values at 0 (the trapezoid rule's
    value at a kink that falls on a grid point)."""
    out = np.asarray(f(x), dtype=float).copy()
    zero = x == 0.0
    if zero.any():
        tiny = np.array([-1e-300, 1e-300])
        out[zero] = float(np.mean(np.asarray(f(tiny), dtype=float)))
    return out


def _m(phi: Callable[[np.ndarray], np.ndarray], q: float) -> float:
    return float(gaussian_expectation(lambda x: phi(x) ** 2, np.asarray(q)))


def _d(dphi: Callable[[np.ndarray], np.ndarray], q: float) -> float:
    return float(gaussian_expectation(lambda x: dphi(x) ** 2, np.asarray(q)))
