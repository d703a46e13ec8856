"""Tests of :mod:`initmath.theory.meanfield`, one file per module."""
