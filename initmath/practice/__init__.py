"""Layer 4, ``practice``: what the book and a user run on top of the engine.

:mod:`~initmath.practice.verification` (each formula against simulation;
``python -m initmath verify``), :mod:`~initmath.practice.registry` (every formula the book
shows, with its derivation and its check), :mod:`~initmath.practice.training` (a small exact
trainer), :mod:`~initmath.practice.lsuv`, :mod:`~initmath.practice.datasets` (offline data) and
:mod:`~initmath.practice.plotting`. Imports only the layers below.
"""

from ..core.lazy import submodule_loader

__getattr__ = submodule_loader(__name__, __path__)
