"""Numba kernels of the Monte Carlo engine, generated per activation from its SymPy expression.

The activation and its derivative are printed from SymPy (:func:`sympy.pycode`, ``math``
functions only) into a small Python module together with the kernels below, written to a
cache directory and imported. Numba then compiles plain code with the activation inlined, and
``cache=True`` keeps the machine code across processes (the module's file name is a hash of
everything it depends on, so a change of activation, template, generator or Numba version
can never pick up a stale cache).

The cache directory is ``$INITMATH_CACHE_DIR`` if set, else ``~/.cache/initmath``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import numba
import numpy as np
import sympy as sp

from . import rng
from .activations import Activation
from .kernel_source import TEMPLATE

__all__ = ["DIST_CODES", "cache_dir", "forget_module", "kernel_module", "kernel_params"]

#: Integer code of each distribution inside the kernels.
DIST_CODES = {"normal": 0, "uniform": 1, "truncated_normal": 2, "orthogonal": 3}



def cache_dir() -> Path:
    """Where generated kernel modules (and Numba's cache of them) live."""
    root = os.environ.get("INITMATH_CACHE_DIR")
    path = Path(root) if root else Path.home() / ".cache" / "initmath"
    path = path / "kernels"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _print(expr: sp.Expr) -> str:
    # Evaluate constants once at 20 digits, then print with math.* functions only. The
    # activation's variable X is the symbol x, which is the kernels' argument name.
    return sp.pycode(sp.N(expr, 20), fully_qualified_modules=True)


_MODULES: dict[str, ModuleType] = {}


def kernel_module(act: Activation) -> ModuleType:
    """The compiled kernel module for a bound activation (generated and imported once)."""
    if not act.is_bound:
        act = act.bind()
    phi, dphi = _print(act.expr), _print(act.derivative)
    source = TEMPLATE.format(name=act.name, phi=phi, dphi=dphi)
    digest = hashlib.sha256(
        "\n".join(
            [source, Path(rng.__file__).read_text(), numba.__version__, sys.version]
        ).encode()
    ).hexdigest()[:20]
    if digest in _MODULES:
        return _MODULES[digest]
    name = f"initmath_kernel_{digest}"
    path = cache_dir() / f"{name}.py"
    if not path.exists() or path.read_text() != source:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(source)
        os.replace(tmp, path)  # atomic: concurrent processes never see half a file
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    _MODULES[digest] = module
    return module


def kernel_params(act: Activation) -> np.ndarray:
    """The float64 array passed to a kernel module's ``run`` as ``params``: the activation's
    parameters, read by the generated ``phi(x, p)`` and ``dphi(x, p)``."""
    return np.zeros(1)


def forget_module(act: Activation) -> None:
    """Drop this process's loaded kernel module for ``act``, so that the next
    :func:`kernel_module` imports it afresh (e.g. after a compilation was interrupted)."""
    _MODULES.clear()
