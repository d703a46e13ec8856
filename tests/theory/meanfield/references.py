"""Independent references for the mean-field tests: scipy.integrate.quad on the activations
written directly in NumPy/math (not the package's generated forms), and plain fixed-point
iteration."""

from __future__ import annotations

import math

from scipy.integrate import quad

GAUSS = 1 / math.sqrt(2 * math.pi)


def e_quad(f, q):
    """E[f(sqrt(q) z)] by quad on the Gaussian density (finite range: the tails are < 1e-30)."""
    s = math.sqrt(q)
    val, _ = quad(
        lambda z: f(s * z) * GAUSS * math.exp(-z * z / 2),
        -12,
        12,
        points=[0.0],
        epsabs=1e-14,
        epsrel=1e-13,
        limit=400,
    )
    return val


def tanh2(x):
    return math.tanh(x) ** 2


def dtanh2(x):
    return (1 - math.tanh(x) ** 2) ** 2


def ref_fixed_point(f2, sw2, sb2, q=1.0, steps=5000):
    """Plain fixed-point iteration of q -> sw2 E[phi^2] + sb2 (quad), until it stops moving."""
    for _ in range(steps):
        new = sw2 * e_quad(f2, q) + sb2
        if abs(new - q) < 1e-13 * max(q, 1e-300):
            return new
        q = new
    return q


def ref_chi1_tanh(sw2, sb2):
    return sw2 * e_quad(dtanh2, ref_fixed_point(tanh2, sw2, sb2))
