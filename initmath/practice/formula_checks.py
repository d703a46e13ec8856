"""How :func:`~initmath.practice.verification.verify` checks each formula.

A :class:`Check` names the network of one check and the quantity compared; :data:`CHECKS`
holds the check of every formula of the registry (:data:`initmath.formulas`) that simulation
can test, and :data:`CHECKED_WITH` the activation in whose networks a scheme is checked. The
predictions they are compared with come from
:func:`~initmath.practice.verification.predict`, i.e. from the derived maps and moments, so a
formula is checked together with the maps it feeds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from ..engine.convolution import Conv
from ..engine.network import Network, Residual
from ..weights.schemes import SCHEME_ACTIVATION
from ..weights.torch_gain import ActivationSpec

__all__ = ["CHECKED_WITH", "CHECKS", "Check"]

#: The activation of the network in which ``verify("<scheme>")`` checks a scheme: the
#: scheme's own (:data:`initmath.weights.schemes.SCHEME_ACTIVATION`) except here. Xavier's gain 1
#: comes from the linear regime of tanh (Glorot and Bengio derived it for symmetric
#: saturating activations at the origin, and experimented with tanh networks), and the
#: standard uniform :math:`U(\pm 1/\sqrt n)` is the heuristic they compared it with: both
#: are checked in tanh networks, where the prediction comes from tanh's own moments, not
#: from the linear approximation. ``fixed`` (a fixed std) has no activation of its own and
#: is checked with tanh as well.
CHECKED_WITH: Mapping[str, str] = MappingProxyType(
    {**SCHEME_ACTIVATION, "xavier": "tanh", "standard": "tanh", "fixed": "tanh"}
)


@dataclass(frozen=True)
class Check:
    """How :func:`verify` checks one formula: the network simulated and what is compared.

    Attributes
    ----------
    network : Network
        The network simulated (its gain and input scale are replaced when ``gain_of`` is
        given; see :meth:`simulated`).
    gain_of : activation spec, optional
        The weights use this activation's gain (:func:`initmath.gain`) ...
    gain_convention : {"torch", "exact"}
        ... in this convention.
    unit_q : bool
        The input is scaled by ``1 / gain`` so that the first layer's second moment is exactly
        1 (with ``gain_of``).
    backward : bool
        Also simulate (and predict) the backward pass; implied by ``quantity="grad"``.
    quantity : {"q", "grad", "mean"}
        What is compared: the pre-activations' second moment, the gradients', or the mean of
        the activations.
    layer : int, optional
        The layer compared (1-based); default the last.
    n_networks : int, optional
        The check's own number of networks (default :data:`DEFAULT_NETWORKS`).
    """

    network: Network
    gain_of: ActivationSpec | None = None
    gain_convention: Literal["torch", "exact"] = "torch"
    unit_q: bool = False
    backward: bool = False
    quantity: Literal["q", "grad", "mean"] = "q"
    layer: int | None = None
    n_networks: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.network, Network):
            raise TypeError(f"network must be a Network, got {self.network!r}")
        if self.quantity == "grad" and not self.backward:
            raise ValueError("a check of quantity 'grad' needs backward=True")
        if self.unit_q and self.gain_of is None:
            raise ValueError("unit_q scales the input by 1/gain: it needs gain_of")
        if self.gain_of is not None and self.network.gain is not None:
            raise ValueError("give the network a gain or gain_of, not both")
        if self.layer is not None and not 1 <= self.layer <= self.network.depth:
            raise ValueError(f"layer must be in 1..{self.network.depth}, got {self.layer!r}")

    def simulated(self) -> Network:
        """The network that is simulated and predicted: ``network``, with the gain of
        ``gain_of`` (and, with ``unit_q``, the input scaled by ``1 / gain``)."""
        from ..theory.gains import gain as gain_of

        if self.gain_of is None:
            return self.network
        g = gain_of(self.gain_of, convention=self.gain_convention)
        if self.unit_q:  # input scaled so that the first layer has q = 1 exactly
            return self.network.replace(gain=g, input_std=1.0 / g)
        return self.network.replace(gain=g)


_ALT = (64, 256, 64, 256, 64)  # alternating widths: fan_in and fan_out differ

#: How :func:`~initmath.practice.verification.verify` checks each formula of the registry, by
#: name (read-only).
CHECKS: Mapping[str, Check] = MappingProxyType(
    {
        "forward_map": Check(Network((256,) * 6, "relu", scheme="he", bias_std=0.5)),
        "backward_map": Check(
            Network((256,) * 6, "relu", scheme="he"), backward=True, quantity="grad"
        ),
        "linear.second_moment": Check(Network((256,) * 3, "linear", scheme="lecun", input_std=1.5)),
        "relu.second_moment": Check(Network((256,) * 3, "relu", scheme="lecun")),
        "leaky_relu.second_moment": Check(Network((256,) * 3, ("leaky_relu", 0.2), scheme="lecun")),
        "elu.second_moment": Check(Network((1024, 256, 256), "elu", scheme="lecun")),
        "relu.mean": Check(Network((1024, 256), "relu", scheme="lecun"), quantity="mean"),
        "relu.derivative_moment": Check(
            Network((256,) * 3, "relu", scheme="lecun"), backward=True, quantity="grad"
        ),
        "tanh.linearized_moment": Check(
            Network((1024, 256, 256), "tanh", scheme="lecun", input_std=0.1)
        ),
        "selu.second_moment": Check(Network((1024, 256, 256, 256), "selu", scheme="lecun")),
        "selu.mean": Check(Network((1024, 256), "selu", scheme="lecun"), quantity="mean"),
        "lecun.variance": Check(Network(_ALT, "linear", scheme="lecun")),
        "xavier.forward": Check(Network(_ALT, "linear", scheme="xavier", mode="fan_in")),
        "xavier.backward": Check(
            Network(_ALT, "linear", scheme="xavier", mode="fan_out"), backward=True, quantity="grad"
        ),
        "xavier.variance": Check(Network(_ALT, "linear", scheme="xavier"), backward=True),
        "he.variance": Check(Network((256,) * 11, "relu", scheme="he")),
        "he.variance_fan_out": Check(
            Network((256, 128, 256, 128, 256), "relu", scheme="he", mode="fan_out"),
            backward=True,
            quantity="grad",
        ),
        "prelu.variance": Check(
            Network((256,) * 11, ("leaky_relu", 0.2), scheme="he"), gain_of=("leaky_relu", 0.2)
        ),
        "standard.variance": Check(Network((256,) * 4, "linear", scheme="standard")),
        # tanh is where finite width shows: a layer's second moment fluctuates from network to
        # network by O(1/sqrt(width)), and through the curvature of M that lowers the mean by
        # O(1/width) (about -0.1% at width 1024, measured with 2000 networks). These checks run
        # at width 1024 with 500 networks, where that shortfall is half a standard error; at
        # smaller widths it is a finding (the book shows it), not a failure of the formula.
        "gain.exact": Check(
            Network((1024,) * 3, "tanh", scheme="lecun"),
            gain_of="tanh",
            gain_convention="exact",
            unit_q=True,
            n_networks=500,
        ),
        "gain.backward": Check(
            Network((1024,) * 3, "tanh", scheme="lecun"),
            gain_of="tanh",
            gain_convention="exact",
            unit_q=True,
            backward=True,
            quantity="grad",
            n_networks=500,
        ),
        "uniform.variance": Check(
            Network((256,) * 4, "linear", scheme="lecun", distribution="uniform")
        ),
        "uniform.bound": Check(Network((256,) * 4, "relu", scheme="he", distribution="uniform")),
        "truncated_normal.factor": Check(
            Network((256,) * 4, "relu", scheme="he", distribution="truncated_normal")
        ),
        # Residual checks at width 1024: a residual stream's finite-width correction is
        # positive and O(B/n) (about +0.7 B/n relatively, measured; see
        # tests/engine/test_residual.py), here 0.2%, under half a standard error.
        "residual.forward_map": Check(
            Network(
                (1024,) * 8,
                "tanh",
                scheme="lecun",
                bias_std=0.1,
                residual=Residual(layers=2, alpha=0.8),
            ),
            n_networks=500,
        ),
        "residual.backward_map": Check(
            Network((1024,) * 8, "tanh", scheme="lecun", residual=Residual(layers=2, alpha=0.8)),
            backward=True,
            quantity="grad",
            layer=1,
            n_networks=500,
        ),
        "residual.he_growth": Check(
            Network((1024,) * 8, "relu", scheme="he", residual=Residual(layers=2, alpha=1.0)),
            n_networks=500,
        ),
        # Fan-in 64 * 9 = 576 through 4 tanh layers: the finite-width correction, O(1/fan-in),
        # is below the standard error of 500 networks (tests/engine/test_convolution.py).
        "conv.forward_map": Check(
            Network(
                [(64, 6, 6), *[Conv(64, 3, padding_mode="circular")] * 4],
                "tanh",
                scheme="lecun",
                bias_std=0.2,
            ),
            n_networks=500,
        ),
        # ReLU's map is linear in q, so the prediction is exact at any width: 16 channels
        "conv.zero_padding": Check(
            Network([(16, 8, 8), *[Conv(16, 3)] * 3], "relu", scheme="he"), layer=1
        ),
        "orthogonal.mean_square": Check(
            Network((64, 128, 96, 128), "linear", scheme="lecun", distribution="orthogonal")
        ),
    }
)
