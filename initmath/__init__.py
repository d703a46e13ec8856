"""initmath: neural-network weight initialization, derived and verified.

The core is a NumPy counterpart of ``torch.nn.init``:

>>> import initmath
>>> initmath.fans((64, 3, 5, 5))
(75, 1600)
>>> initmath.variance("he", 512)
0.00390625
>>> w = initmath.init((256, 128), "xavier", distribution="uniform", rng=0)

Layers (each imports only those above it in this list):

1. :mod:`initmath.shapes`, :mod:`initmath.distributions`, :mod:`initmath.gains`,
   :mod:`initmath.schemes`, :mod:`initmath.samplers`: fans, schemes, samplers (NumPy only).
"""

from .distributions import DISTRIBUTIONS, truncated_normal_std
from .gains import ActivationSpec, gain
from .samplers import RNGLike, init
from .schemes import MODES, SCHEMES, bound, std, variance
from .shapes import LAYOUTS, fans

__version__ = "0.1.0"

__all__ = [
    "DISTRIBUTIONS",
    "LAYOUTS",
    "MODES",
    "SCHEMES",
    "ActivationSpec",
    "RNGLike",
    "__version__",
    "bound",
    "fans",
    "gain",
    "init",
    "std",
    "truncated_normal_std",
    "variance",
]
