"""The symbolic side: the recursions of the relative variance and their closed forms.

The large-width recursion :math:`r_\\ell = r_{\\ell-1} + \\mu_2/\\mu_1^2 - 1 - s_1`
(:func:`~initmath.engine.jacobian.relative_variance_recursion`) and its sum from
:math:`r_0 = 0` where the ratio :math:`\\mu_2/\\mu_1^2` does not depend on depth
(:func:`~initmath.engine.jacobian.relative_variance_closed_form`), and the exact one-layer
map of a linear Gaussian network of finite width
(:func:`~initmath.engine.jacobian.linear_gaussian_recursion`), iterated by
:func:`~initmath.engine.jacobian.linear_gaussian_relative_variance`. The SymPy symbols of
these derivations are constants of this module.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import sympy as sp

from ...core.checks import integer
from ...theory.activations import Activation
from ...theory.activations import activation as get_activation
from ...theory.moments import Q, symbolic_moment
from ...weights.torch_gain import ActivationSpec
from .arguments import checked_distribution, depth_list

__all__ = [
    "L_SYM",
    "MU1",
    "MU2",
    "N_SYM",
    "R_PREV",
    "R_SYM",
    "S1",
    "derivative_moment_ratio",
    "linear_gaussian_recursion",
    "linear_gaussian_relative_variance",
    "relative_variance_closed_form",
    "relative_variance_recursion",
]

#: The first moment of :math:`\sigma_w^2\phi'(z)^2` (a SymPy symbol of the derivations).
MU1 = sp.Symbol(r"\mu_{1}", positive=True)
#: The second moment of :math:`\sigma_w^2\phi'(z)^2` (a SymPy symbol).
MU2 = sp.Symbol(r"\mu_{2}", positive=True)
#: The depth (a SymPy symbol).
L_SYM = sp.Symbol("L", positive=True, integer=True)
#: The width (a SymPy symbol).
N_SYM = sp.Symbol("n", positive=True, integer=True)
#: The relative variance of the spectrum after :math:`\ell` layers (a SymPy symbol).
R_SYM = sp.Symbol(r"r_{\ell}", nonnegative=True)
#: The relative variance after :math:`\ell - 1` layers (a SymPy symbol).
R_PREV = sp.Symbol(r"r_{\ell-1}", nonnegative=True)
_RL = sp.Symbol("r_{L}", nonnegative=True)
#: The first coefficient :math:`s_1` of the S-transform of :math:`W^\top W`, by distribution:
#: -1 for Gaussian, 0 for orthogonal.
S1 = {"normal": -1, "orthogonal": 0}


def relative_variance_recursion(distribution: str = "normal") -> sp.Eq:
    """Large-width recursion of :math:`r_\\ell = \\operatorname{Var}[\\lambda]/E[\\lambda]^2`.

    .. math:: r_\\ell = r_{\\ell-1} + \\frac{\\mu_2}{\\mu_1^2} - 1 - s_1,

    :math:`s_1 = -1` for Gaussian, :math:`0` for orthogonal weights, where
    :math:`\\mu_k = E[(\\sigma_w^2\\phi'(z_\\ell)^2)^k]`.

    Examples
    --------
    >>> relative_variance_recursion("orthogonal").rhs - R_PREV
    -1 + \\mu_{2}/\\mu_{1}**2
    """
    s1 = S1[checked_distribution(distribution)]
    return sp.Eq(R_SYM, R_PREV + MU2 / MU1**2 - 1 - s1)


def derivative_moment_ratio(act: ActivationSpec | Activation) -> sp.Expr | None:
    """:math:`E[\\phi'^4]/E[\\phi'^2]^2` as a SymPy expression in :data:`initmath.theory.moments.Q`,
    or None when the package has no closed form for the derivative moments.

    :math:`\\sigma_w^2` cancels from :math:`\\mu_2/\\mu_1^2`.

    Examples
    --------
    >>> derivative_moment_ratio("relu"), derivative_moment_ratio("linear")
    (2, 1)
    """
    a = get_activation(act)
    d2 = symbolic_moment(a, 2, derivative=True)
    d4 = symbolic_moment(a, 4, derivative=True)
    if d2 is None or d4 is None:
        return None
    return sp.simplify(d4 / d2**2)


def relative_variance_closed_form(
    act: ActivationSpec | Activation, distribution: str = "normal"
) -> sp.Eq | None:
    """:math:`r_L` in closed form when :math:`\\mu_2/\\mu_1^2` does not depend on :math:`q`.

    Summing :func:`relative_variance_recursion` from :math:`r_0 = 0` (:math:`J = I`).
    Returns None for activations (tanh, ...) whose ratio changes with depth.

    Examples
    --------
    >>> relative_variance_closed_form("relu", "normal")
    Eq(r_{L}, 2*L)
    """
    ratio = derivative_moment_ratio(act)
    if ratio is None or Q in ratio.free_symbols:
        return None
    step = relative_variance_recursion(distribution).rhs - R_PREV
    return sp.Eq(_RL, sp.expand(L_SYM * step.subs({MU2: ratio, MU1: 1})))


def linear_gaussian_recursion() -> sp.Eq:
    """Exact one-layer map of :math:`(E[m_1^2], E[m_2])` for a linear Gaussian layer.

    For :math:`W` with i.i.d. :math:`N(0, 1/n)` entries, :math:`M` symmetric and
    :math:`G = W^\\top W`, Isserlis' theorem gives
    :math:`E[\\operatorname{tr}(GMGM)] = (1 + 1/n)\\operatorname{tr}M^2 + (\\operatorname{tr}M)^2/n`
    and :math:`E[(\\operatorname{tr}GM)^2] = (\\operatorname{tr}M)^2 + 2\\operatorname{tr}M^2/n`,
    so with :math:`x = (\\operatorname{tr}M/n)^2` and :math:`y = \\operatorname{tr}M^2/n`
    (:math:`x_0 = y_0 = 1`; :math:`E[m_1] = 1` at every depth):

    .. math:: \\begin{pmatrix}x_\\ell\\\\ y_\\ell\\end{pmatrix} =
              \\begin{pmatrix}1 & 2/n^2\\\\ 1 & 1 + 1/n\\end{pmatrix}
              \\begin{pmatrix}x_{\\ell-1}\\\\ y_{\\ell-1}\\end{pmatrix}
    """
    x, y = sp.Symbol(r"x_{\ell}"), sp.Symbol(r"y_{\ell}")
    xp, yp = sp.Symbol(r"x_{\ell-1}"), sp.Symbol(r"y_{\ell-1}")
    return sp.Eq(
        sp.Matrix([x, y]), sp.MatMul(_linear_matrix(N_SYM), sp.Matrix([xp, yp])), evaluate=False
    )


def _linear_matrix(n: sp.Expr) -> sp.Matrix:
    return sp.Matrix([[1, 2 / n**2], [1, 1 + 1 / n]])


def linear_gaussian_relative_variance(depths: Sequence[int], width: int) -> np.ndarray:
    """Exact :math:`E[m_2]/E[m_1]^2 - 1` of a linear Gaussian network of finite ``width``.

    Iterates :func:`linear_gaussian_recursion` (:math:`E[m_1] = 1`, so it is
    :math:`y_L - 1`); for large width it tends to :math:`L`.

    Examples
    --------
    >>> linear_gaussian_relative_variance([1, 2, 50], 10**8).round(4)   # tends to L
    array([ 1.,  2., 50.])
    >>> linear_gaussian_relative_variance([1, 2], 4)     # 1 + 1/n at L = 1
    array([1.25  , 2.9375])
    """
    ds = depth_list(depths, "depths")
    n = integer(width, "width", 1)
    a = np.array(_linear_matrix(sp.Integer(n)).evalf(), dtype=float)
    state, out, cur = np.array([1.0, 1.0]), {}, 0
    for d in sorted(set(ds)):
        while cur < d:
            state, cur = a @ state, cur + 1
        out[d] = state[1] - 1.0
    return np.array([out[d] for d in ds])
