"""Random networks, their outputs and their input-output Jacobians, with NumPy.

:func:`~initmath.engine.jacobian.sample_network` draws one square network with Gaussian or
orthogonal weights (through :func:`initmath.init`) and a Gaussian input;
:func:`~initmath.engine.jacobian.forward` and
:func:`~initmath.engine.jacobian.input_output_jacobian` evaluate any fully connected network,
given as its weight matrices and bias vectors, after checking that they are real, finite and
chain; ``layer_jacobians`` is the product :math:`D_\\ell W_\\ell \\cdots D_1 W_1` layer by layer
that :func:`~initmath.engine.jacobian.input_output_jacobian` and the spectrum simulation
share.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator, Sequence

import numpy as np

from ...core.checks import fits_in_memory, integer, nonnegative_real, positive_real
from ...theory.activations import Activation
from ...theory.activations import activation as get_activation
from ...weights.samplers import init
from ...weights.torch_gain import ActivationSpec
from .arguments import F64, checked_depth, checked_distribution

__all__ = ["forward", "input_output_jacobian", "layer_jacobians", "sample_network"]


def sample_network(
    depth: int,
    width: int,
    *,
    distribution: str = "normal",
    sigma_w2: float = 1.0,
    sigma_b2: float = 0.0,
    rng: np.random.Generator,
    input_q: float = 1.0,
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """One input :math:`x_0 \\sim N(0, q_0 I_n)`, weights and biases of a ``depth``-layer network.

    Weights are ``initmath.init((width, width), "lecun", distribution=..., gain=sqrt(sigma_w2))``:
    :math:`N(0, \\sigma_w^2/n)` or :math:`\\sigma_w Q` with :math:`Q` Haar-orthogonal.
    Biases are :math:`N(0, \\sigma_b^2)` (zeros, drawing nothing, when ``sigma_b2 == 0``).
    ``input_q`` is the second moment :math:`q_0` of the input's entries (default 1).

    Raises
    ------
    ValueError
        ``depth`` above :data:`MAX_DEPTH`, or ``depth`` weight matrices of ``width**2``
        entries that do not fit in the available memory (checked before drawing anything).
    """
    dist = checked_distribution(distribution)
    big_l, n = checked_depth(depth), integer(width, "width", 1)
    gain = math.sqrt(positive_real(sigma_w2, "sigma_w2"))
    sb = math.sqrt(nonnegative_real(sigma_b2, "sigma_b2"))
    q0 = positive_real(input_q, "input_q")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {rng!r}")
    # the weights, their orthogonalization's workspace (a few n x n), biases and input
    fits_in_memory(F64 * (big_l * (n * n + n) + 4 * n * n + n), f"depth={big_l!r} and width={n!r}")
    x0 = rng.standard_normal(n)
    if q0 != 1.0:
        x0 *= math.sqrt(q0)
    weights, biases = [], []
    for _ in range(big_l):
        weights.append(init((n, n), "lecun", distribution=dist, gain=gain, rng=rng))
        biases.append(rng.standard_normal(n) * sb if sb > 0 else np.zeros(n))
    return x0, weights, biases


def _real_array(value: object, name: str, ndims: tuple[int, ...]) -> np.ndarray:
    """``value`` as a float64 array with one of ``ndims`` dimensions, non-empty and finite."""
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{name} must be an array of real numbers, got {value!r}")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise TypeError(f"{name} must be an array of real numbers, got {value!r}") from exc
    if arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must be an array of real numbers, got dtype {arr.dtype} ({value!r})"
        )
    if arr.ndim not in ndims:
        dims = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name} must be {dims}, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    arr = arr.astype(float, copy=False)
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:
        raise ValueError(f"{name} must be finite, got {bad} NaN or infinite entries")
    return arr


def _array_list(value: object, name: str) -> list[object]:
    if (
        value is None
        or isinstance(value, (str, bytes))
        or not isinstance(value, (Sequence, np.ndarray))
    ):
        raise TypeError(f"{name} must be a sequence of arrays, one per layer, got {value!r}")
    return list(value)


def _network(
    x: object,
    weights: object,
    biases: object,
    batch: bool,
) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    """Validate an input and a network: layer ``l`` maps ``n_{l-1}`` entries to ``n_l``.

    ``x`` has shape ``(n_0,)`` or ``(n_0, k)`` (``k`` inputs as columns; ``k == 1`` unless
    ``batch``), ``weights[l]`` shape ``(n_{l+1}, n_l)``, ``biases[l]`` shape ``(n_{l+1},)``.
    """
    h = _real_array(x, "x", (1, 2))
    if h.ndim == 2 and not batch and h.shape[1] != 1:
        raise ValueError(f"x must be one input, of shape (n_0,) or (n_0, 1), got shape {h.shape}")
    ws = [
        _real_array(w, f"weights[{i}]", (2,)) for i, w in enumerate(_array_list(weights, "weights"))
    ]
    if not ws:
        raise ValueError("weights must hold at least one layer's matrix, got an empty sequence")
    bs = [_real_array(b, f"biases[{i}]", (1,)) for i, b in enumerate(_array_list(biases, "biases"))]
    if len(bs) != len(ws):
        raise ValueError(
            f"biases must have one vector per layer: got {len(bs)} for {len(ws)} weight matrices"
        )
    if ws[0].shape[1] != h.shape[0]:
        raise ValueError(
            f"x has {h.shape[0]} entries (shape {h.shape}) but weights[0] has "
            f"shape {ws[0].shape}, for {ws[0].shape[1]} inputs"
        )
    for i in range(1, len(ws)):
        if ws[i].shape[1] != ws[i - 1].shape[0]:
            raise ValueError(
                f"weights[{i}] has shape {ws[i].shape}, but weights[{i - 1}] "
                f"has {ws[i - 1].shape[0]} outputs (shape {ws[i - 1].shape})"
            )
    for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
        if b.shape != (w.shape[0],):
            raise ValueError(
                f"biases[{i}] has shape {b.shape}, expected ({w.shape[0]},) "
                f"like the outputs of weights[{i}]"
            )
    return h, ws, bs


def forward(
    activation: ActivationSpec | Activation,
    x: np.ndarray,
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
) -> np.ndarray:
    """The network's output :math:`x_L` for input ``x``.

    Parameters
    ----------
    activation : str, (str, float) or Activation
        See :func:`initmath.activation`.
    x : array_like
        One input of shape ``(n_0,)``, or ``k`` inputs as the columns of an ``(n_0, k)``
        array; real and finite.
    weights : sequence of array_like
        ``weights[l]`` of shape ``(n_{l+1}, n_l)``, at least one; real and finite.
    biases : sequence of array_like
        One per weight matrix, ``biases[l]`` of shape ``(n_{l+1},)``; real and finite.

    Returns
    -------
    numpy.ndarray
        Shape ``(n_L,)`` or ``(n_L, k)``, like ``x``.

    Raises
    ------
    TypeError, ValueError
        An argument of the wrong kind, NaN or infinite entries, or shapes that do not chain
        (the message names the argument and the layer).

    Examples
    --------
    >>> forward("relu", [1.0, -1.0], [np.eye(2)], [np.zeros(2)])
    array([1., 0.])
    """
    phi = get_activation(activation).numpy
    h, ws, bs = _network(x, weights, biases, batch=True)
    for w, b in zip(ws, bs, strict=True):
        h = phi(w @ h + (b[:, None] if h.ndim == 2 else b))
    return h


def input_output_jacobian(
    activation: ActivationSpec | Activation,
    x: np.ndarray,
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray],
) -> np.ndarray:
    """:math:`J = D_L W_L \\cdots D_1 W_1` at input ``x`` (shape ``(n_L, n_0)``).

    ``x`` is one input, of shape ``(n_0,)`` or ``(n_0, 1)``; ``weights`` and ``biases`` are
    as in :func:`forward`, and are validated the same way.

    Examples
    --------
    >>> w = [np.array([[2.0, 0.0], [0.0, -1.0]])]
    >>> input_output_jacobian("relu", np.array([1.0, 1.0]), w, [np.zeros(2)])
    array([[2., 0.],
           [0., 0.]])
    """
    a = get_activation(activation)
    h, ws, bs = _network(x, weights, biases, batch=False)
    # the last layer's product is the network's (a deque of one keeps only that one)
    return deque(layer_jacobians(a, h.reshape(-1), ws, bs), maxlen=1)[0]


def layer_jacobians(
    act: Activation, x: np.ndarray, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]
) -> Iterator[np.ndarray]:
    """Yield :math:`D_\\ell W_\\ell \\cdots D_1 W_1` after each layer :math:`\\ell` of a network.

    The network's arrays are already checked; ``x`` is one input, of shape ``(n_0,)``.
    """
    phi, dphi = act.numpy, act.numpy_derivative
    h = x
    jac = np.eye(h.size)
    for w, b in zip(weights, biases, strict=True):
        z = w @ h + b
        jac = (dphi(z)[:, None] * w) @ jac
        h = phi(z)
        yield jac
