"""The trainer (``initmath.practice.training``) and the offline data set
(``initmath.practice.datasets``)."""

from __future__ import annotations

import numpy as np
import pytest

import initmath
from initmath.practice import training
from initmath.practice.training import (
    accuracy,
    loss_and_gradients,
    network,
    train,
    train_many,
)

ACTIVATIONS = initmath.activation_names()


def _finite_difference(net, x, y, eps=1e-6):
    """Central differences of the loss with respect to every weight and bias."""
    gw, gb = [], []
    for params, out in ((net.weights, gw), (net.biases, gb)):
        for p in params:
            g = np.empty_like(p)
            for idx in np.ndindex(p.shape):
                old = p[idx]
                p[idx] = old + eps
                up = loss_and_gradients(net, x, y)[0]
                p[idx] = old - eps
                down = loss_and_gradients(net, x, y)[0]
                p[idx] = old
                g[idx] = (up - down) / (2 * eps)
            out.append(g)
    return gw, gb


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_gradients_match_finite_differences(name):
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    net = network([4, 5, 6, 3], name, scheme="xavier", seed=3)
    for b in net.biases:  # non-zero biases, so that they are tested too
        b[:] = 0.3 * rng.standard_normal(b.size)
    x = rng.standard_normal((7, 4))
    y = rng.integers(0, 3, size=7)
    _, gw, gb = loss_and_gradients(net, x, y)
    fw, fb = _finite_difference(net, x, y)
    exact = np.concatenate([g.ravel() for g in gw + gb])
    numeric = np.concatenate([g.ravel() for g in fw + fb])
    rel = np.linalg.norm(exact - numeric) / np.linalg.norm(exact)
    assert rel < 1e-6, (name, rel)


def test_loss_is_the_mean_cross_entropy():
    """Against a direct computation with NumPy (no log-softmax trick)."""
    net = network([3, 4, 5], "tanh", scheme="he", seed=0)
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((6, 3)), rng.integers(0, 5, 6)
    h = np.tanh(x @ net.weights[0].T + net.biases[0])
    logits = h @ net.weights[1].T + net.biases[1]
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(p[np.arange(6), y]))
    assert loss_and_gradients(net, x, y)[0] == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(training.forward(net, x)[0], logits, rtol=1e-12)


def test_weights_come_from_the_samplers():
    net = network([8, 6, 4], "relu", scheme="he", distribution="uniform", seed=5)
    for ell, w in enumerate(net.weights):
        expected = initmath.init(
            w.shape, "he", distribution="uniform", rng=np.random.default_rng([5, ell])
        )
        np.testing.assert_array_equal(w, expected)
    assert all(np.all(b == 0) for b in net.biases)
    assert net.widths == [8, 6, 4]


def _blobs(seed=0, n=300):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centres = np.array([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])
    return centres[y] + 0.5 * rng.standard_normal((n, 2)), y


def test_loss_decreases_on_a_separable_problem():
    x, y = _blobs()
    net = network([2, 16, 16, 3], "relu", scheme="he", seed=0)
    h = train(net, x, y, epochs=30, learning_rate=0.05)
    assert h.train_loss[-1] < 0.05 * h.train_loss[0]
    assert h.train_accuracy[-1] == 1.0 and accuracy(net, x, y) == 1.0
    assert len(h.train_loss) == 31 and len(h.grad_norms) == 30 and h.diverged_at is None


def test_same_seed_same_weights_and_history():
    x, y = _blobs(1)
    runs = []
    for _ in range(2):
        net = network([2, 8, 3], "tanh", scheme="xavier", seed=4)
        runs.append((net, train(net, x, y, x_test=x, y_test=y, epochs=3, seed=9)))
    (a, ha), (b, hb) = runs
    for wa, wb in zip(a.weights + a.biases, b.weights + b.biases, strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert ha.train_loss == hb.train_loss and ha.test_accuracy == hb.test_accuracy
    other = network([2, 8, 3], "tanh", scheme="xavier", seed=4)
    train(other, x, y, epochs=3, seed=10)  # another batch order
    assert not np.array_equal(other.weights[0], a.weights[0])


def test_divergence_is_reported():
    x, y = _blobs(2)
    net = network([2, 32, 32, 3], "linear", scheme="normal", std=1.0, seed=0)
    h = train(net, x, y, epochs=50, learning_rate=10.0, momentum=0.9)
    assert h.diverged_at is not None and len(h.train_loss) == h.diverged_at + 1


def test_epochs_to():
    h = training.History(test_accuracy=[0.1, 0.5, 0.9, 0.95])
    assert h.epochs_to(0.9) == 2 and h.epochs_to(0.99) is None


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"x": np.zeros((4, 3))}, ValueError, "x must have shape"),
        ({"x": np.full((4, 2), np.nan)}, ValueError, "finite"),
        ({"x": np.array([["a", "b"]] * 4)}, TypeError, "x must be a real array"),
        ({"y": np.array([0, 1, 2, 3])}, ValueError, "y must be in"),
        ({"y": np.zeros(4)}, TypeError, "y must be an integer array"),
        ({"y": np.zeros(3, dtype=int)}, ValueError, "y must have shape"),
        ({"epochs": 0}, ValueError, "epochs"),
        ({"batch_size": 2.5}, TypeError, "batch_size"),
        ({"learning_rate": float("nan")}, ValueError, "learning_rate"),
        ({"momentum": 1.0}, ValueError, "momentum"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    net = network([2, 4, 3], "relu", seed=0)
    args = {"x": np.zeros((4, 2)), "y": np.zeros(4, dtype=int)} | kwargs
    before = [w.copy() for w in net.weights]
    with pytest.raises(error, match=match):
        train(net, args.pop("x"), args.pop("y"), **args)
    assert all(np.array_equal(a, b) for a, b in zip(before, net.weights, strict=True))  # untouched


def test_bad_network_arguments():
    with pytest.raises(ValueError, match="widths"):
        network([4], "relu")
    with pytest.raises(ValueError, match="activation|unknown"):
        network([4, 2], "no_such_activation")
    with pytest.raises(TypeError, match="seed"):
        network([4, 2], "relu", seed=1.5)


def test_one_full_batch_step_is_gradient_descent():
    """With one batch per epoch the first update is -eta times the exact gradient."""
    x, y = _blobs(3, n=40)
    net = network([2, 5, 4, 3], "tanh", scheme="xavier", seed=2)
    before = net.copy()
    _, gw, gb = loss_and_gradients(before, x, y)
    train(net, x, y, epochs=1, batch_size=40, learning_rate=0.3, momentum=0.5)
    params = zip(before.weights + before.biases, gw + gb, net.weights + net.biases, strict=True)
    for w0, g, w1 in params:
        np.testing.assert_allclose(w1, w0 - 0.3 * g, rtol=1e-12, atol=1e-15)


def test_train_many_equals_separate_runs():
    """Stacking networks mixes nothing: each ends as if trained alone, with its own rate."""
    x, y = _blobs(4, n=150)
    xt, yt = _blobs(5, n=50)
    rates, seeds = [0.01, 0.1, 0.03], [0, 1, 2]
    many = [network([2, 8, 8, 3], "relu", scheme="he", seed=s) for s in seeds]
    alone = [m.copy() for m in many]
    hs = train_many(many, x, y, x_test=xt, y_test=yt, epochs=4, learning_rate=rates, seed=seeds)
    for net, m, h, eta, s in zip(alone, many, hs, rates, seeds, strict=True):
        ref = train(net, x, y, x_test=xt, y_test=yt, epochs=4, learning_rate=eta, seed=s)
        np.testing.assert_allclose(h.train_loss, ref.train_loss, rtol=1e-10)
        assert h.test_accuracy == ref.test_accuracy
        np.testing.assert_allclose(m.weights[0], net.weights[0], rtol=1e-10)
    assert len({h.train_loss[-1] for h in hs}) == 3  # the rates did differ


def test_train_many_stops_only_the_diverged_network():
    x, y = _blobs(2)
    nets = [network([2, 32, 32, 3], "linear", scheme="fixed", std=1.0, seed=0) for _ in range(2)]
    hs = train_many(nets, x, y, epochs=6, learning_rate=[10.0, 1e-3], momentum=0.9)
    assert hs[0].diverged_at is not None and len(hs[0].train_loss) == hs[0].diverged_at + 1
    assert hs[1].diverged_at is None and len(hs[1].train_loss) == 7
    assert np.all(np.isfinite(hs[1].train_loss))


def test_readout_gain_sets_the_output_layer_apart():
    widths = [64, 32, 32, 10]
    net = network(widths, "relu", scheme="he", seed=7, readout_gain=0.5)
    ref = network(widths, "relu", scheme="he", seed=7)
    for w, r in zip(net.weights[:-1], ref.weights[:-1], strict=True):
        np.testing.assert_array_equal(w, r)  # the hidden layers are the scheme's
    expected = 0.5 / np.sqrt(32) * np.random.default_rng([7, 2]).standard_normal((10, 32))
    np.testing.assert_array_equal(net.weights[-1], expected)
    zero = network(widths, "relu", scheme="he", seed=7, readout_gain=0)
    assert np.all(zero.weights[-1] == 0)
    # logits of a small readout are small: the loss of a uniform guess, ln 10
    x = np.random.default_rng(0).standard_normal((500, 64))
    y = np.random.default_rng(1).integers(0, 10, 500)
    small = network(widths, "relu", scheme="he", seed=7, readout_gain=0.01)
    assert abs(loss_and_gradients(small, x, y)[0] - np.log(10)) < 1e-3
    assert loss_and_gradients(ref, x, y)[0] > np.log(10) + 0.1
    with pytest.raises(ValueError, match="readout_gain"):
        network(widths, "relu", readout_gain=-1.0)
    with pytest.raises(TypeError, match="readout_gain"):
        network(widths, "relu", readout_gain="small")


def test_train_many_bad_arguments():
    x, y = _blobs(0, n=20)
    a, b = network([2, 4, 3], "relu", seed=0), network([2, 5, 3], "relu", seed=0)
    with pytest.raises(ValueError, match="share their widths"):
        train_many([a, b], x, y)
    with pytest.raises(ValueError, match="distinct"):
        train_many([a, a], x, y)
    with pytest.raises(TypeError, match="nets"):
        train_many(a, x, y)
    with pytest.raises(ValueError, match="one per network"):
        train_many([a, a.copy()], x, y, learning_rate=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="learning_rate"):
        train_many([a, a.copy()], x, y, learning_rate=[0.1, -0.2])
    with pytest.raises(TypeError, match="learning_rate"):
        train(a, x, y, learning_rate=[0.1])


# --- the data set -------------------------------------------------------------------------
def test_digits_split_is_fixed_stratified_and_standardized():
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits

    from initmath.practice.datasets import digits

    d = digits(seed=0)
    raw = load_digits()
    assert d.x_train.shape[1] == d.x_test.shape[1] == 64 and d.n_classes == 10
    assert len(d.y_train) + len(d.y_test) == len(raw.target) == 1797
    for c in range(10):  # a quarter of every class is held out
        n_c = np.sum(raw.target == c)
        assert np.sum(d.y_test == c) == round(0.25 * n_c)
    np.testing.assert_allclose(d.x_train.mean(axis=0), 0, atol=1e-12)
    sd = d.x_train.std(axis=0)
    assert np.all((np.abs(sd - 1) < 1e-12) | (sd == 0))
    again = digits(seed=0)
    np.testing.assert_array_equal(d.x_test, again.x_test)
    assert not np.array_equal(d.y_test, digits(seed=1).y_test)
    plain = digits(standardize=False)
    assert set(np.unique(plain.x_train)) <= set(range(17))  # 17 grey levels
    with pytest.raises(ValueError, match="test_fraction"):
        digits(test_fraction=1.0)
