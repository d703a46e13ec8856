"""Layer 3, ``engine``: random networks, simulated.

:mod:`~initmath.engine.rng` (counter-based random streams),
:mod:`~initmath.engine.kernel_source`, :mod:`~initmath.engine.kernels` and
:mod:`~initmath.engine.kernel_cache` (the Numba kernels, compiled once per activation and
cached), :mod:`~initmath.engine.simulation` (:func:`initmath.simulate`),
:mod:`~initmath.engine.stats` (exact, mergeable estimates), :mod:`~initmath.engine.reference`
(a NumPy reference of the same networks) and :mod:`~initmath.engine.jacobian` (input-output
Jacobian spectra, predicted and sampled). Imports only the layers below.
"""

from ..core.lazy import submodule_loader

__getattr__ = submodule_loader(__name__, __path__)
