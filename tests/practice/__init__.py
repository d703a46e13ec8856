"""Tests of :mod:`initmath.practice`, one file per module."""
