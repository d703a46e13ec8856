"""Layer 3, ``engine``: random networks, described and simulated.

:mod:`~initmath.engine.network` (:class:`~initmath.engine.network.Network`, the one
description of a random network every consumer takes); the random streams --
:mod:`~initmath.engine.philox` (counter-based Philox4x64-10), :mod:`~initmath.engine.streams`
(uniforms, Box-Muller normals), :mod:`~initmath.engine.ziggurat`, with their Python faces in
:mod:`~initmath.engine.rng` --; the Numba kernels: :mod:`~initmath.engine.kernel_source` (the
small template of what depends on the activation), :mod:`~initmath.engine.kernel_draws` and
:mod:`~initmath.engine.kernel_checks` (the rest, ordinary Numba code),
:mod:`~initmath.engine.kernel_printer`, :mod:`~initmath.engine.kernels`,
:mod:`~initmath.engine.kernel_loader`, :mod:`~initmath.engine.kernel_child` and
:mod:`~initmath.engine.kernel_cache` (generated, compiled once per activation, cached), with
:mod:`~initmath.engine.jit` (the one JIT wrapper); :mod:`~initmath.engine.simulation`
(:func:`initmath.simulate`) and :mod:`~initmath.engine.simulation_result`,
:mod:`~initmath.engine.stats` (exact, mergeable estimates), :mod:`~initmath.engine.reference`
(a NumPy reference of the same networks) and :mod:`~initmath.engine.jacobian` (input-output
Jacobian spectra, predicted and sampled). Imports only the layers below.
"""

from ..core.lazy import submodule_loader

__getattr__ = submodule_loader(__name__, __path__)
