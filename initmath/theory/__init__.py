"""Layer 2, ``theory``: SymPy derivations and deterministic predictions.

:mod:`~initmath.theory.activations` (each activation one SymPy expression),
:mod:`~initmath.theory.quadrature` (the one Gaussian quadrature rule),
:mod:`~initmath.theory.moments` (Gaussian moments, exact or numeric),
:mod:`~initmath.theory.gains`, :mod:`~initmath.theory.derivations` (the schemes' conditions,
solved), :mod:`~initmath.theory.meanfield` (length and correlation maps, criticality) and
:mod:`~initmath.theory.finite_width` (exact 1/width effects). Imports only the layers below.
"""

from ..core.lazy import submodule_loader

__getattr__ = submodule_loader(__name__, __path__)
