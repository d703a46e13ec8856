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

import sympy as sp

from ..core.checks import integer
from .derivations import SIGMA_B2, V, backward_map, forward_map, scheme_variance
from .moments import Q

__all__ = [
    "ALPHA",
    "BLOCKS",
    "BRANCH_LAYERS",
    "Q_GRAD_END",
    "Q_STREAM",
    "branch_scaling_growth",
    "fixup_condition",
    "fixup_scale",
    "he_relu_growth",
    "residual_backward_map",
    "residual_forward_map",
]

#: The branch multiplier :math:`\alpha` (:attr:`initmath.Residual.alpha`).
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
