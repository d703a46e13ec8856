"""Tests of :mod:`initmath.engine`, one file per module."""
