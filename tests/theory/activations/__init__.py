"""Tests of the submodules of :mod:`initmath.theory.activations`, one file per module (the
package's own code, the Activation class and the registry, is tested in
``tests/theory/test_activations.py``)."""
