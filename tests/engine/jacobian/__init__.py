"""Tests of :mod:`initmath.engine.jacobian`, one file per module."""
