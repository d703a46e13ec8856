"""Layer 0, ``core``: argument checking shared by every layer (:mod:`~initmath.core.checks`).

Imports nothing from the package.
"""

from .lazy import submodule_loader

__getattr__ = submodule_loader(__name__, __path__)
