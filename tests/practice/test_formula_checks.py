"""The checks of the formulas (initmath.practice.formula_checks): one per formula of the
registry, typed and read-only."""

from __future__ import annotations

import pytest

import initmath
from initmath.practice.formula_checks import CHECKS, Check


def test_every_check_is_a_registry_formula_and_hooked():
    assert set(CHECKS) <= set(initmath.formulas)
    for name in CHECKS:
        assert callable(initmath.formulas[name].verify)


def test_checks_are_typed_objects_not_a_dict_language():
    assert all(isinstance(c, Check) for c in CHECKS.values())
    net = initmath.Network((8, 8), "relu")
    with pytest.raises(TypeError):
        CHECKS["new"] = Check(net)  # read-only
    with pytest.raises(TypeError, match="network must be a Network"):
        Check(("relu", (8, 8)))
    with pytest.raises(ValueError, match="needs backward=True"):
        Check(net, quantity="grad")
    with pytest.raises(ValueError, match="needs gain_of"):
        Check(net, unit_q=True)
    with pytest.raises(ValueError, match="not both"):
        Check(net.replace(gain=1.0), gain_of="tanh")
    with pytest.raises(ValueError, match="layer must be in 1..1"):
        Check(net, layer=2)
    # the network a check simulates: exact gain of tanh and the unit-q input scale
    simulated = CHECKS["gain.exact"].simulated()
    g = initmath.gain("tanh", convention="exact")
    assert simulated.gain == g and simulated.input_std == 1.0 / g
    assert simulated.scheme == "lecun" and simulated.widths == (1024,) * 3
