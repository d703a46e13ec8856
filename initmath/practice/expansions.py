r"""Series expansions behind two derivations that the book states in a few lines.

* Free products (the isometry chapter): :func:`s_transform` gives Voiculescu's S-transform
  of a spectral law to first order in :math:`z` from its first two moments, and
  :func:`relative_variance_from_s` reads the relative variance
  :math:`\operatorname{Var}[\lambda]/E[\lambda]^2` back off it. Because the S-transform of a
  product of free factors is the product of their S-transforms, :math:`-\,d\log S/dz` at
  :math:`z = 0` is additive over factors, which is the per-layer increment of the
  relative variance of :math:`J^\top J`.
* The finite-width mean shift (the finite-width chapter): :func:`mean_shift_recursions`
  expands the chain :math:`q_{\ell+1} = \sigma_w^2 \hat M_n(q_\ell) + \sigma_b^2` to first
  order in :math:`1/n`, the derivation that
  :func:`initmath.theory.finite_width.mean_second_moment` iterates numerically.

Both are SymPy derivations; the book shows their results and checks them against the
package's own functions and against simulation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import sympy as sp

__all__ = [
    "MeanShiftRecursions",
    "Z",
    "mean_shift_recursions",
    "relative_variance_from_s",
    "s_transform",
]

#: The argument of an S-transform (a SymPy symbol).
Z = sp.Symbol("z")


def s_transform(moments: Sequence[sp.Expr | int | float]) -> sp.Expr:
    r"""The S-transform of a law with moments :math:`m_1, m_2`, to first order in :math:`z`.

    With the moment generating function :math:`\psi(z) = \sum_{k \ge 1} m_k z^k` and its
    inverse under composition :math:`\psi^{-1}`, the S-transform is

    .. math::
        S(z) = \frac{1 + z}{z}\,\psi^{-1}(z)
             = \frac{1}{m_1} + \frac{m_1^2 - m_2}{m_1^3}\,z + O(z^2).

    The inverse is found here by solving :math:`\psi(\psi^{-1}(z)) = z` order by order, so
    the second line is derived, not typed in.

    Parameters
    ----------
    moments : sequence of two SymPy expressions or numbers
        :math:`m_1 \ne 0` and :math:`m_2`.

    Returns
    -------
    sympy.Expr
        :math:`S(0) + S'(0)\,z`, a polynomial in :data:`Z`.

    Raises
    ------
    TypeError, ValueError
        If ``moments`` is not a sequence of two numbers or expressions, or :math:`m_1 = 0`.

    Examples
    --------
    >>> s_transform([1, 2])  # Marchenko-Pastur at ratio 1: S(z) = 1/(1 + z)
    1 - z
    """
    m1, m2 = _two_moments(moments)
    c1, c2 = sp.symbols("c1 c2")
    inverse = c1 * Z + c2 * Z**2
    psi = m1 * inverse + m2 * inverse**2
    series = sp.expand(psi)
    sol = sp.solve([series.coeff(Z, 1) - 1, series.coeff(Z, 2)], [c1, c2], dict=True)[0]
    chi = sp.expand(inverse.subs(sol))
    s = sp.expand(sp.cancel((1 + Z) * chi / Z))
    return sp.simplify(s.coeff(Z, 0)) + sp.simplify(s.coeff(Z, 1)) * Z


def relative_variance_from_s(s: sp.Expr) -> sp.Expr:
    r"""The relative variance :math:`m_2/m_1^2 - 1` of a law, from its S-transform.

    .. math::
        \frac{m_2}{m_1^2} - 1 = -\frac{S'(0)}{S(0)} = -\frac{d}{dz}\log S(z)\Big|_{z=0},

    so for a product of free factors, whose S-transform is the product of theirs, the
    relative variances add.

    Parameters
    ----------
    s : sympy.Expr
        An S-transform in :data:`Z` (e.g. from :func:`s_transform`, or a product of them).

    Returns
    -------
    sympy.Expr

    Examples
    --------
    >>> relative_variance_from_s(s_transform([1, 2]))
    1
    """
    if not isinstance(s, sp.Expr):
        raise TypeError(f"s must be a SymPy expression, got {s!r}")
    return sp.simplify(-sp.diff(s, Z).subs(Z, 0) / s.subs(Z, 0))


class MeanShiftRecursions(NamedTuple):
    r"""The three recursions of :func:`mean_shift_recursions`, as SymPy equations.

    ``mean``: :math:`m_{\ell+1}`; ``shift``: :math:`\alpha_{\ell+1}`; ``variance``:
    :math:`\beta_{\ell+1}`, in the symbols of :attr:`symbols`.
    """

    mean: sp.Eq
    shift: sp.Eq
    variance: sp.Eq
    symbols: dict[str, sp.Expr]


def mean_shift_recursions() -> MeanShiftRecursions:
    r"""Expand the finite-width chain of the second moment to first order in :math:`1/n`.

    Given layer :math:`\ell`, the :math:`n` pre-activations of the next layer are i.i.d.
    :math:`N(0, q_\ell)`, so :math:`q_{\ell+1} = \sigma_w^2 \hat M + \sigma_b^2` with
    :math:`\hat M` the average of :math:`n` values of :math:`\phi(\sqrt{q_\ell}\,\xi)^2`:
    :math:`E[\hat M \mid q] = M(q)`, :math:`\operatorname{Var}[\hat M \mid q] =
    (M_4(q) - M(q)^2)/n`, where :math:`M(q) = E[\phi(\sqrt q\,\xi)^2]` and
    :math:`M_4(q) = E[\phi(\sqrt q\,\xi)^4]`. Write :math:`E[q_\ell] = m_\ell +
    \alpha_\ell/n` and :math:`\operatorname{Var}[q_\ell] = \beta_\ell/n`. Taylor-expanding
    :math:`M` and :math:`M_4` around :math:`m_\ell` in :math:`\delta = q_\ell - m_\ell`
    (whose third and higher moments are :math:`O(1/n^2)`), taking expectations and keeping
    the :math:`1/n` terms gives

    .. math::
        m_{\ell+1} = \sigma_w^2 M + \sigma_b^2, \quad
        \alpha_{\ell+1} = \sigma_w^2\bigl(M'\alpha_\ell + \tfrac12 M''\beta_\ell\bigr), \quad
        \beta_{\ell+1} = \sigma_w^4\bigl(M'^2\beta_\ell + M_4 - M^2\bigr),

    with :math:`M, M', M'', M_4` evaluated at :math:`m_\ell`.

    Returns
    -------
    MeanShiftRecursions
        The three equations; ``symbols`` maps ``"m", "alpha", "beta", "M", "dM", "d2M",
        "M4"`` to the symbols they use and ``"sigma_w2", "sigma_b2"`` to
        :math:`\sigma_w^2, \sigma_b^2`.

    Examples
    --------
    >>> rec = mean_shift_recursions()
    >>> s = rec.symbols
    >>> sp.expand(rec.shift.rhs - s["sigma_w2"] * (s["dM"] * s["alpha"] + s["d2M"] * s["beta"] / 2))
    0
    """
    m, alpha, beta = sp.symbols(r"m_{\ell} \alpha_{\ell} \beta_{\ell}", real=True)
    sigma_w, sigma_b = sp.symbols(r"\sigma_w \sigma_b", positive=True)
    sw2, sb2 = sigma_w**2, sigma_b**2
    eps, delta, q = sp.symbols("epsilon delta q", real=True)  # eps^2 = 1/n
    big_m, big_m4 = sp.Function("M"), sp.Function("M_4")

    def expect(poly: sp.Expr) -> sp.Expr:
        """E over delta, with E[delta] = eps^2 alpha, E[delta^2] = eps^2 beta + O(eps^4)."""
        poly = sp.expand(poly)
        moments = {0: sp.Integer(1), 1: eps**2 * alpha, 2: eps**2 * beta}
        return sp.expand(sum(poly.coeff(delta, k) * moments.get(k, 0) for k in range(5)))

    def taylor(f: sp.Function) -> sp.Expr:
        return sum(sp.diff(f(q), q, k).subs(q, m) * delta**k / sp.factorial(k) for k in range(3))

    def first_order(expr: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
        series = sp.expand(expr)
        return series.coeff(eps, 0), series.coeff(eps, 2)

    mean_m = expect(taylor(big_m))  # E[M(q)]
    mean_q0, mean_q1 = first_order(sw2 * mean_m + sb2)
    # Var[q'] = sigma_w^4 (Var[M(q)] + E[Var[M_hat | q]]), Var[M_hat | q] = eps^2 (M4 - M^2)
    var_m = (
        expect(taylor(big_m) ** 2)
        - mean_m**2
        + eps**2 * expect(taylor(big_m4) - taylor(big_m) ** 2)
    )
    var0, var1 = first_order(sw2**2 * var_m)
    if var0 != 0:  # the variance is O(1/n) by construction
        raise AssertionError(f"a variance of order one: {var0}")
    names = {
        "M": sp.Symbol(r"M", real=True),
        "dM": sp.Symbol(r"M'", real=True),
        "d2M": sp.Symbol(r"M''", real=True),
        "M4": sp.Symbol(r"M_4", real=True),
    }
    plain = {
        sp.diff(big_m(q), q, 2).subs(q, m): names["d2M"],
        sp.diff(big_m(q), q).subs(q, m): names["dM"],
        big_m(m): names["M"],
        big_m4(m): names["M4"],
    }

    def show(expr: sp.Expr) -> sp.Expr:
        return sp.factor_terms(sp.expand(expr.subs(plain)))

    nxt = sp.symbols(r"m_{\ell+1} \alpha_{\ell+1} \beta_{\ell+1}", real=True)
    symbols = {"m": m, "alpha": alpha, "beta": beta, "sigma_w2": sw2, "sigma_b2": sb2, **names}
    return MeanShiftRecursions(
        sp.Eq(nxt[0], show(mean_q0)),
        sp.Eq(nxt[1], show(mean_q1)),
        sp.Eq(nxt[2], show(var1)),
        symbols,
    )


def _two_moments(moments: object) -> tuple[sp.Expr, sp.Expr]:
    if isinstance(moments, (str, bytes)) or not isinstance(moments, Sequence):
        raise TypeError(
            f"moments must be a sequence of two numbers or expressions, got {moments!r}"
        )
    if len(moments) != 2:
        raise ValueError(f"moments must have two entries (m_1, m_2), got {moments!r}")
    out = []
    for value in moments:
        if isinstance(value, bool) or not isinstance(value, (int, float, sp.Expr)):
            raise TypeError(f"moments must hold numbers or SymPy expressions, got {value!r}")
        out.append(
            value
            if isinstance(value, sp.Expr)
            else sp.Integer(value)
            if isinstance(value, int)
            else sp.Float(value)
        )
    if out[0] == 0:
        raise ValueError(f"moments: m_1 must not be zero, got {moments!r}")
    return out[0], out[1]
