"""Layer 3, ``engine``: random networks, described and simulated.

:mod:`~initmath.engine.network` (:class:`~initmath.engine.network.Network`, the one
description of a random network every consumer takes), :mod:`~initmath.engine.rng` and the
counter-based random streams behind it, the Numba kernels (:mod:`~initmath.engine.kernels`,
compiled once per activation and cached by :mod:`~initmath.engine.kernel_cache`),
:mod:`~initmath.engine.simulation` (:func:`initmath.simulate`) and
:mod:`~initmath.engine.simulation_result`, :mod:`~initmath.engine.stats` (exact, mergeable
estimates), :mod:`~initmath.engine.reference` (a NumPy reference of the same networks) and
:mod:`~initmath.engine.jacobian` (input-output Jacobian spectra, predicted and sampled).
Imports only the layers below.
"""

from ..core.lazy import submodule_loader

__getattr__ = submodule_loader(__name__, __path__)
