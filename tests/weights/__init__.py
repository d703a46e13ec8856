"""Tests of :mod:`initmath.weights`, one file per module."""
