"""initmath: neural-network weight initialization, derived and verified.

The core is a NumPy counterpart of ``torch.nn.init``:

>>> import initmath
>>> initmath.fans((64, 3, 5, 5))
(75, 1600)
>>> initmath.variance("he", 512)
0.00390625
>>> w = initmath.init((256, 128), "xavier", distribution="uniform", rng=0)

The package is laid out by role, one subpackage per layer, each importing only the layers
before it:

0. :mod:`initmath.core`: argument checks shared by all.
1. :mod:`initmath.weights`: NumPy only, the counterpart of ``torch.nn.init`` (fans, schemes,
   distributions, :func:`init`, PyTorch's gain table).
2. :mod:`initmath.theory`: SymPy -- activations, Gaussian moments, gains, the schemes'
   derivations, mean field, finite width.
3. :mod:`initmath.engine`: Numba -- the description of a random network, its simulation
   (random streams, kernels, mergeable statistics), a NumPy reference, Jacobian spectra.
4. :mod:`initmath.practice`: verification of every formula against simulation (``python -m
   initmath verify``), the formula registry, training, LSUV, data sets, plotting.

Importing :mod:`initmath` loads the weights layer only; SymPy, mpmath, SciPy and Numba are
imported the first time a name that needs them is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .theory.gains import CONVENTIONS, backward_gain, gain
from .weights.distributions import DISTRIBUTIONS, truncated_normal_std
from .weights.initializers import (
    constant,
    delta_orthogonal,
    dirac,
    eye,
    normal,
    ones,
    orthogonal,
    sparse,
    trunc_normal,
    truncated_normal,
    uniform,
    zeros,
)
from .weights.samplers import RNGLike, bias, init
from .weights.schemes import MODES, SCHEMES, bound, std, variance
from .weights.shapes import LAYOUTS, WeightShape, fans
from .weights.torch_gain import ActivationSpec

if TYPE_CHECKING:
    from .engine.convolution import Conv
    from .engine.network import Network, Residual
    from .engine.simulation import SimulationResult, simulate
    from .practice.registry import Formula, formulas
    from .practice.verification import Verification, predict, verify
    from .theory.activations import Activation, activation, activation_names, register_activation
    from .theory.finite_width import kurtosis, log_norm_moments
    from .theory.meanfield import (
        chi1,
        correlation_map,
        critical_line,
        depth_scales,
        fixed_point,
        length_map,
    )
    from .theory.moments import Moment, derivative_moment, moment

__version__ = "0.1.0"

# Names served lazily by __getattr__: name -> module that defines it.
_LAZY = {
    "Activation": "theory.activations",
    "activation": "theory.activations",
    "activation_names": "theory.activations",
    "register_activation": "theory.activations",
    "Moment": "theory.moments",
    "moment": "theory.moments",
    "derivative_moment": "theory.moments",
    "Formula": "practice.registry",
    "formulas": "practice.registry",
    "Conv": "engine.convolution",
    "Network": "engine.network",
    "Residual": "engine.network",
    "simulate": "engine.simulation",
    "SimulationResult": "engine.simulation",
    "predict": "practice.verification",
    "verify": "practice.verification",
    "Verification": "practice.verification",
    "length_map": "theory.meanfield",
    "fixed_point": "theory.meanfield",
    "chi1": "theory.meanfield",
    "correlation_map": "theory.meanfield",
    "critical_line": "theory.meanfield",
    "depth_scales": "theory.meanfield",
    "kurtosis": "theory.finite_width",
    "log_norm_moments": "theory.finite_width",
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
    "Conv",
    "Network",
    "RNGLike",
    "Residual",
    "SimulationResult",
    "Verification",
    "WeightShape",
    "__version__",
    "activation",
    "activation_names",
    "backward_gain",
    "bias",
    "bound",
    "chi1",
    "constant",
    "correlation_map",
    "critical_line",
    "delta_orthogonal",
    "depth_scales",
    "derivative_moment",
    "dirac",
    "eye",
    "fans",
    "fixed_point",
    "formulas",
    "gain",
    "init",
    "kurtosis",
    "length_map",
    "log_norm_moments",
    "moment",
    "normal",
    "ones",
    "orthogonal",
    "predict",
    "register_activation",
    "simulate",
    "sparse",
    "std",
    "trunc_normal",
    "truncated_normal",
    "truncated_normal_std",
    "uniform",
    "variance",
    "verify",
    "zeros",
]


# Submodules that ``initmath.<name>`` imports on first use (``initmath.practice.plotting``, ...).
_SUBMODULES = frozenset({"core", "weights", "theory", "engine", "practice"})


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
