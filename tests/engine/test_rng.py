"""The Python faces of the random streams, ``initmath.engine.rng``: seeds are NumPy's keys,
the arrays are the kernels' draws, and bad arguments are refused."""

from __future__ import annotations

import numpy as np
import pytest

from initmath.engine import rng, streams, ziggurat

U64 = 2**64
U128 = 2**128


def test_seed_key_is_numpys_key():
    seed = 0xBE5466CF34E90C6C452821E638D01377
    k0, k1 = rng.seed_key(seed)
    assert type(k0) is np.uint64 and type(k1) is np.uint64
    np.testing.assert_array_equal(
        np.random.Philox(key=seed).state["state"]["key"], np.array([k0, k1], dtype=np.uint64)
    )


def test_faces_equal_their_kernels():
    k0, k1 = rng.seed_key(2**70 + 11)
    for face, fill in (
        (rng.uniforms, streams.fill_uniform),
        (rng.normals, streams.fill_normal),
        (rng.ziggurat_normals, ziggurat.ziggurat_fill),
    ):
        out = np.empty(1001)
        fill(k0, k1, np.uint64(9), 13, out)
        np.testing.assert_array_equal(face(2**70 + 11, 9, 1001, 13), out)


def test_empty_and_validation():
    assert rng.normals(0, 0, 0).shape == (0,)
    assert rng.ziggurat_normals(0, 0, 0).shape == (0,)
    for bad in (-1, U128):
        with pytest.raises(ValueError, match="seed"):
            rng.seed_key(bad)
    for bad in (1.0, True, "1", None):
        with pytest.raises(TypeError, match="seed"):
            rng.seed_key(bad)
    with pytest.raises(ValueError, match="stream"):
        rng.normals(0, U64, 3)
    with pytest.raises(ValueError, match="stream"):
        rng.uniforms(0, -1, 3)
    with pytest.raises(ValueError, match="offset"):
        rng.normals(0, 0, 3, offset=-1)
    with pytest.raises(ValueError, match="^n must"):
        rng.normals(0, 0, -1)
    with pytest.raises(TypeError, match="^n must"):
        rng.normals(0, 0, 2.0)
    with pytest.raises(ValueError, match="offset"):  # offset + n past the positions
        rng.uniforms(0, 0, 2**61, offset=2**61)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"std": float("nan")}, ValueError, "std"),
        ({"std": 0.0}, ValueError, "std"),
        ({"std": "1"}, TypeError, "std"),
        ({"offset": -1}, ValueError, "offset"),
        ({"n": 2.5}, TypeError, "n"),
    ],
)
def test_ziggurat_validation(kwargs, error, match):
    args = {"seed": 1, "stream": 0, "n": 4} | kwargs
    with pytest.raises(error, match=match):
        rng.ziggurat_normals(**args)
