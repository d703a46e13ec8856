"""The initializer table against the frameworks.

The PyTorch column is checked against PyTorch's own draws (when installed); the Keras and
JAX columns against the formulas transcribed from their sources (Keras
keras/src/initializers/random_initializers.py at 107f5a8: RandomNormal(mean=0.0,
stddev=0.05), RandomUniform(minval=-0.05, maxval=0.05), TruncatedNormal(mean=0.0,
stddev=0.05) re-drawing beyond two stddev without correcting, VarianceScaling dividing the
truncated normal's std by 0.87962566103423978; JAX jax/_src/nn/initializers.py at 04f6bfa:
normal(stddev=1e-2), uniform(scale=1e-2) on [0, scale), truncated_normal(stddev=1e-2,
lower=-2.0, upper=2.0) "does not apply the stddev correction").
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from initmath.practice.frameworks import FRAMEWORKS, INITIALIZERS, cell_std, disagreements

FAN_IN, FAN_OUT = 256, 128
BETA = 0.87962566103423978  # Keras's and JAX's constant


def test_keras_and_jax_columns_match_their_sources():
    expected = {
        ("uniform", "keras"): 0.1 / math.sqrt(12),
        ("uniform", "jax"): 0.01 / math.sqrt(12),
        ("normal", "keras"): 0.05,
        ("normal", "jax"): 0.01,
        ("truncated normal", "keras"): 0.05 * BETA,
        ("truncated normal", "jax"): 0.01 * BETA,
        ("LeCun normal", "keras"): math.sqrt(1 / FAN_IN),
        ("Glorot normal", "jax"): math.sqrt(2 / (FAN_IN + FAN_OUT)),
        ("He normal", "keras"): math.sqrt(2 / FAN_IN),
        ("He uniform", "jax"): math.sqrt(2 / FAN_IN),
        ("layer default, weight", "keras"): math.sqrt(2 / (FAN_IN + FAN_OUT)),
        ("layer default, weight", "jax"): math.sqrt(1 / FAN_IN),
        ("layer default, bias", "keras"): 0.0,
        ("orthogonal", "jax"): 1 / math.sqrt(FAN_IN),
    }
    for (name, fw), value in expected.items():
        assert cell_std(name, fw, FAN_IN, FAN_OUT) == pytest.approx(value, rel=1e-12), (name, fw)


def test_disagreements():
    d = disagreements(FAN_IN, FAN_OUT)
    # defaults of the fixed-scale draws differ, the scheme-based ones agree; the layer defaults
    # are three different schemes
    assert {"uniform", "normal", "truncated normal"} <= set(d)
    assert "He normal" not in d and "Glorot uniform" not in d
    assert {"layer default, weight", "layer default, bias"} <= set(d)


def test_every_row_has_a_cell_and_errors():
    for name, row in INITIALIZERS.items():
        assert set(row) == set(FRAMEWORKS)
        assert any(row.values()), name
    with pytest.raises(ValueError, match="initializer"):
        cell_std("kaiming", "torch", 4, 4)
    with pytest.raises(ValueError, match="framework"):
        cell_std("zeros", "flax", 4, 4)


TORCH_CALLS = {
    "uniform": lambda nn, t: nn.init.uniform_(t),
    "normal": lambda nn, t: nn.init.normal_(t),
    "truncated normal": lambda nn, t: nn.init.trunc_normal_(t),
    "LeCun normal": lambda nn, t: nn.init.kaiming_normal_(t, nonlinearity="linear"),
    "LeCun uniform": lambda nn, t: nn.init.kaiming_uniform_(t, nonlinearity="linear"),
    "Glorot normal": lambda nn, t: nn.init.xavier_normal_(t),
    "Glorot uniform": lambda nn, t: nn.init.xavier_uniform_(t),
    "He normal": lambda nn, t: nn.init.kaiming_normal_(t),
    "He uniform": lambda nn, t: nn.init.kaiming_uniform_(t),
    "orthogonal": lambda nn, t: nn.init.orthogonal_(t),
    "layer default, weight": lambda nn, t: nn.Linear(FAN_IN, FAN_OUT).weight.detach().double(),
    "layer default, bias": lambda nn, t: nn.Linear(FAN_IN, FAN_OUT * 40).bias.detach().double(),
}


@pytest.mark.crosscheck
@pytest.mark.parametrize("name", list(TORCH_CALLS))
def test_torch_column_against_pytorch(name):
    torch = pytest.importorskip("torch")
    torch.manual_seed(11)
    t = TORCH_CALLS[name](torch.nn, torch.empty((FAN_OUT, FAN_IN), dtype=torch.float64))
    w = t.numpy().ravel()
    sigma = cell_std(name, "torch", FAN_IN, FAN_OUT)
    if name == "orthogonal":  # exactly: every row of the wide view has norm 1
        assert float(np.mean(w**2)) == pytest.approx(sigma**2, rel=1e-12)
        return
    mean = 0.5 if name == "uniform" else 0.0
    sq = (w - mean) ** 2
    se = sq.std(ddof=1) / math.sqrt(sq.size)
    assert abs(sq.mean() - sigma**2) < 5 * se, (name, sq.mean(), sigma**2)
