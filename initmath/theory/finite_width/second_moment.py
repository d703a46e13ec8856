r"""The :math:`1/n` correction of the average second moment, for any activation.

:func:`~initmath.theory.finite_width.mean_second_moment` follows the network-to-network
fluctuations of the second moment :math:`q_\ell` as a Markov chain and expands the length map
to second order around the infinite-width value: its docstring has the derivation.
"""

from __future__ import annotations

import numpy as np

from .setting import checked_depth

__all__ = ["mean_second_moment"]


def mean_second_moment(
    activation: object,
    depth: int,
    *,
    sigma_w2: float = 1.0,
    sigma_b2: float = 0.0,
    input_std: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""The average second moment to first order in :math:`1/n`, for any activation.

    Gaussian weights of variance :math:`\sigma_w^2/n`, biases of variance
    :math:`\sigma_b^2`, constant width :math:`n`, input :math:`x \sim N(0,
    \text{input\_std}^2 I_n)` drawn per network (as :func:`initmath.simulate` does).
    Given layer :math:`\ell-1`, the pre-activations of layer :math:`\ell` are i.i.d.
    :math:`N(0, q_\ell)` with :math:`q_\ell = \sigma_w^2 \lVert h^{\ell-1}\rVert^2/n +
    \sigma_b^2`, so :math:`q_\ell` is a Markov chain,

    .. math::

        q_{\ell+1} = \sigma_w^2 \hat M_n(q_\ell) + \sigma_b^2, \qquad
        E[\hat M_n \mid q] = M(q), \quad
        \operatorname{Var}[\hat M_n \mid q] = \frac{M_4(q) - M(q)^2}{n},

    with :math:`M(q) = E[\phi(\sqrt q z)^2]` and :math:`M_4(q) = E[\phi(\sqrt q z)^4]`.
    Writing :math:`E[q_\ell] = m_\ell + a_\ell/n` and
    :math:`\operatorname{Var}[q_\ell] = b_\ell/n` and expanding :math:`M` to second order
    around :math:`m_\ell` (the third central moment is :math:`O(1/n^2)`):

    .. math::

        m_{\ell+1} = \sigma_w^2 M(m_\ell) + \sigma_b^2, \qquad
        a_{\ell+1} = \sigma_w^2\bigl(M'(m_\ell)\, a_\ell + \tfrac12 M''(m_\ell)\,
        b_\ell\bigr), \qquad
        b_{\ell+1} = \sigma_w^4\bigl(M'(m_\ell)^2 b_\ell + M_4(m_\ell) - M(m_\ell)^2\bigr),

    from :math:`m_1 = \sigma_w^2\,\text{input\_std}^2 + \sigma_b^2`, :math:`a_1 = 0`,
    :math:`b_1 = 2\sigma_w^4\,\text{input\_std}^4` (a :math:`\chi^2_n/n` input norm).
    :math:`m_\ell` is the infinite-width prediction; the correction :math:`a_\ell/n` comes
    from the curvature :math:`M''` acting on the network-to-network fluctuations of
    :math:`q`, so it vanishes for the linear, ReLU and leaky ReLU networks, whose :math:`M`
    is linear. The expectations use :mod:`initmath.theory.meanfield`'s Gauss–Legendre quadrature,
    the derivatives central differences of it (relative accuracy about :math:`10^{-7}`).

    Parameters
    ----------
    activation : str, tuple or Activation
    depth : int
        Number of layers, ``1..MAX_DEPTH``.
    sigma_w2, sigma_b2, input_std : float
        :math:`\sigma_w^2 > 0` (LeCun: 1), :math:`\sigma_b^2 \ge 0`, input std ``> 0``.

    Returns
    -------
    m, a : numpy.ndarray
        Shape ``(depth,)``: layer :math:`\ell = 1..L` has
        :math:`E[q_\ell] = m_\ell + a_\ell/n + O(1/n^2)`.

    Examples
    --------
    >>> m, a = mean_second_moment("relu", 4, sigma_w2=2.0)
    >>> bool(np.allclose(a, 0.0, atol=1e-7))   # M is linear for the ReLU: no correction
    True
    >>> m, a = mean_second_moment("tanh", 3)
    >>> bool(a[-1] < 0)                     # tanh: finite networks fall short
    True
    """
    from ...core.checks import nonnegative_real, positive_real
    from ..activations import activation as lookup
    from ..quadrature import gaussian_expectation  # the same rule as the length map

    act = lookup(activation)
    depth = checked_depth(depth)
    sw2 = positive_real(sigma_w2, "sigma_w2")
    sb2 = nonnegative_real(sigma_b2, "sigma_b2")
    s0 = positive_real(input_std, "input_std")

    def expect(q: float, power: int) -> float:
        return float(gaussian_expectation(lambda x: act.numpy(x) ** power, np.asarray(q)))

    m = np.empty(depth)
    a = np.empty(depth)
    m[0], a[0], b = sw2 * s0**2 + sb2, 0.0, 2 * sw2**2 * s0**4
    for ell in range(depth - 1):
        q = m[ell]
        h = 1e-3 * q
        m0, mp, mm = expect(q, 2), expect(q + h, 2), expect(q - h, 2)
        d1, d2 = (mp - mm) / (2 * h), (mp - 2 * m0 + mm) / (h * h)
        m[ell + 1] = sw2 * m0 + sb2
        a[ell + 1] = sw2 * (d1 * a[ell] + 0.5 * d2 * b)
        b = sw2**2 * (d1 * d1 * b + expect(q, 4) - m0 * m0)
    return m, a
