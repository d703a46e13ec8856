"""Tests of :mod:`initmath.theory.finite_width`, one file per module."""
