"""Layer 2, ``theory``: SymPy derivations and deterministic predictions.

:mod:`~initmath.theory.activations` (each activation one SymPy expression, with stable NumPy
forms), :mod:`~initmath.theory.quadrature` (the one Gaussian quadrature rule),
:mod:`~initmath.theory.moments` (Gaussian moments, exact or numeric),
:mod:`~initmath.theory.gains` and :mod:`~initmath.theory.gain_table` (exact and PyTorch gains
side by side), :mod:`~initmath.theory.derivations` (the schemes' conditions, solved),
:mod:`~initmath.theory.meanfield` (length and correlation maps, fixed points, criticality),
:mod:`~initmath.theory.iteration` (those maps iterated over depth),
:mod:`~initmath.theory.residual` (residual blocks' maps, branch scaling, Fixup),
:mod:`~initmath.theory.normalization` (LayerNorm and BatchNorm at initialization) and
:mod:`~initmath.theory.finite_width` (exact 1/width effects). Imports only the layers below.
"""

from ..core.lazy import submodule_loader

__getattr__ = submodule_loader(__name__, __path__)
