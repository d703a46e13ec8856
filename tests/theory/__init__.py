"""Tests of :mod:`initmath.theory`, one file per module."""
