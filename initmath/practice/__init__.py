"""Layer 4, ``practice``: what the book and a user run on top of the engine.

:mod:`~initmath.practice.verification` (each formula against simulation;
``python -m initmath verify``; the checks themselves in
:mod:`~initmath.practice.formula_checks`), :mod:`~initmath.practice.registry` (every formula
the book shows, with its derivation, its check and its chapter),
:mod:`~initmath.practice.training` (a small exact trainer) and
:mod:`~initmath.practice.outcomes`, :mod:`~initmath.practice.lsuv`,
the studies the book runs -- :mod:`~initmath.practice.drift` (second moments over depth),
:mod:`~initmath.practice.width_studies` (finite width),
:mod:`~initmath.practice.correlation_studies`, :mod:`~initmath.practice.readouts`,
:mod:`~initmath.practice.independence` (the gradient independence assumption),
:mod:`~initmath.practice.expansions` (the S-transform step and the finite-width 1/n chain) --,
:mod:`~initmath.practice.recommend` (which scheme, by depth: the book's tables and guide),
:mod:`~initmath.practice.presentation` (derived expressions in textbook form),
:mod:`~initmath.practice.tables` (numbers and tables as the book prints them),
:mod:`~initmath.practice.datasets` (offline data) and :mod:`~initmath.practice.plotting`.
Imports only the layers below.
"""

from ..core.lazy import submodule_loader

__getattr__ = submodule_loader(__name__, __path__)
