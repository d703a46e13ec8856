"""Layer 1, ``weights``: NumPy only, the counterpart of ``torch.nn.init``.

:mod:`~initmath.weights.shapes` (fans of a weight shape), :mod:`~initmath.weights.distributions`,
:mod:`~initmath.weights.torch_gain` (PyTorch's gain table and the one activation-alias table),
:mod:`~initmath.weights.schemes` (variance, std, bound of each scheme),
:mod:`~initmath.weights.samplers` (:func:`initmath.init`, :func:`initmath.bias`) and
:mod:`~initmath.weights.initializers` (every other initializer of PyTorch, Keras and JAX).
Imports only :mod:`initmath.core`.
"""

from ..core.lazy import submodule_loader

__getattr__ = submodule_loader(__name__, __path__)
