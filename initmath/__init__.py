"""initmath: neural-network weight initialization, derived and verified.

The core is a NumPy counterpart of ``torch.nn.init``:

>>> import initmath
>>> initmath.fans((64, 3, 5, 5))
(75, 1600)
>>> initmath.variance("he", 512)
0.00390625
>>> w = initmath.init((256, 128), "xavier", distribution="uniform", rng=0)

Layers, each importing only those before it:

1. NumPy only: :mod:`~initmath.shapes` (fans), :mod:`~initmath.distributions`,
   :mod:`~initmath.torch_gain`, :mod:`~initmath.schemes` (variance, std, bound),
   :mod:`~initmath.samplers` (init), :mod:`~initmath.datasets` (offline data; needs the
   ``data`` extra).
2. SymPy: :mod:`~initmath.activations` (each activation one SymPy expression),
   :mod:`~initmath.quadrature` (the one Gaussian quadrature rule),
   :mod:`~initmath.moments` (Gaussian moments, exact or numeric), :mod:`~initmath.gains`,
   :mod:`~initmath.meanfield` (length and correlation maps, criticality).
3. :mod:`~initmath.derivations` and the formula registry :mod:`~initmath.registry`;
   :mod:`~initmath.finite_width` (exact 1/width effects).
4. Numba: :mod:`~initmath.rng` (Philox streams), :mod:`~initmath.kernels` (generated per
   activation), :mod:`~initmath.simulation`, :mod:`~initmath.stats` (exact, mergeable
   estimates), :mod:`~initmath.reference` (a NumPy reference), :mod:`~initmath.jacobian`
   (input-output Jacobian spectra).
5. :mod:`~initmath.verification` (formula against simulation; ``python -m initmath verify``),
   :mod:`~initmath.training` (a small exact trainer: does the initialization matter for
   learning?), :mod:`~initmath.lsuv` (layer-sequential unit-variance initialization).

Importing :mod:`initmath` loads layer 1 only; SymPy, mpmath and SciPy are imported the first
time a layer-2 or layer-3 name is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .distributions import DISTRIBUTIONS, truncated_normal_std
from .gains import CONVENTIONS, backward_gain, gain
from .samplers import RNGLike, init
from .schemes import MODES, SCHEMES, bound, std, variance
from .shapes import LAYOUTS, fans
from .torch_gain import ActivationSpec

if TYPE_CHECKING:
    from .activations import Activation, activation, activation_names, register_activation
    from .finite_width import kurtosis, log_norm_moments
    from .meanfield import (
        chi1,
        correlation_map,
        critical_line,
        depth_scales,
        fixed_point,
        length_map,
    )
    from .moments import Moment, derivative_moment, moment
    from .registry import Formula, formulas
    from .simulation import SimulationResult, simulate
    from .verification import Verification, predict, verify

__version__ = "0.1.0"

# Names served lazily by __getattr__: name -> module that defines it.
_LAZY = {
    "Activation": "activations",
    "activation": "activations",
    "activation_names": "activations",
    "register_activation": "activations",
    "Moment": "moments",
    "moment": "moments",
    "derivative_moment": "moments",
    "Formula": "registry",
    "formulas": "registry",
    "simulate": "simulation",
    "SimulationResult": "simulation",
    "predict": "verification",
    "verify": "verification",
    "Verification": "verification",
    "length_map": "meanfield",
    "fixed_point": "meanfield",
    "chi1": "meanfield",
    "correlation_map": "meanfield",
    "critical_line": "meanfield",
    "depth_scales": "meanfield",
    "kurtosis": "finite_width",
    "log_norm_moments": "finite_width",
}

__all__ = [
    "CONVENTIONS",
    "DISTRIBUTIONS",
    "LAYOUTS",
    "MODES",
    "SCHEMES",
    "Activation",
    "ActivationSpec",
    "Formula",
    "Moment",
    "RNGLike",
    "SimulationResult",
    "Verification",
    "__version__",
    "activation",
    "activation_names",
    "backward_gain",
    "bound",
    "chi1",
    "correlation_map",
    "critical_line",
    "depth_scales",
    "derivative_moment",
    "fans",
    "fixed_point",
    "formulas",
    "gain",
    "init",
    "kurtosis",
    "length_map",
    "log_norm_moments",
    "moment",
    "predict",
    "register_activation",
    "simulate",
    "std",
    "truncated_normal_std",
    "variance",
    "verify",
]


# Submodules that ``initmath.<name>`` imports on first use (``initmath.plotting``, ...).
_SUBMODULES = frozenset({
    "activations", "datasets", "derivations", "distributions", "finite_width", "gains",
    "jacobian", "kernel_cache", "kernel_source", "kernels", "lsuv", "meanfield", "moments",
    "plotting", "quadrature", "reference",
    "registry", "rng", "samplers", "schemes", "shapes", "simulation", "stats", "torch_gain",
    "training", "verification",
})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'initmath' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)
