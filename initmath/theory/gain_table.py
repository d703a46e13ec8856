r"""Gains of an activation side by side: exact forward and backward, PyTorch's, and the mean.

For an activation :math:`\phi` and :math:`z \sim N(0, 1)`, with
:math:`M = E[\phi(z)^2]` and :math:`D = E[\phi'(z)^2]`:

* the exact forward gain :math:`g_f = 1/\sqrt{M}` makes :math:`q = 1` a fixed point of the
  forward map :math:`q' = g^2 E[\phi(\sqrt q\, z)^2]` of a bias-free layer with weight
  variance :math:`g^2/\mathrm{fan_{in}}`; the exact backward gain :math:`g_b = 1/\sqrt{D}`
  does the same for the back-propagated gradient (:func:`initmath.gain`,
  :func:`initmath.backward_gain`);
* PyTorch's ``calculate_gain`` value :math:`g_t`, where it has one, changes the second moment
  at :math:`q = 1` by the factor :math:`g_t^2 M` per layer (1 means preserved);
* the second moment splits as :math:`M = \operatorname{Var}[\phi(z)] + E[\phi(z)]^2`: a gain
  :math:`1/\sqrt{\operatorname{Var}[\phi]}` that undoes only the variance multiplies
  :math:`q = 1` by :math:`M / \operatorname{Var}[\phi]`, since a layer's zero-mean weights
  turn the inputs' mean into variance of its outputs.

>>> from initmath.theory.gain_table import activation_gains, mean_split
>>> row = activation_gains("relu")
>>> row.forward == row.backward == 2 ** 0.5, round(row.torch_factor, 12)
(True, 1.0)
>>> round(mean_split("sigmoid").mean, 12)
0.5
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .gains import backward_gain, gain
from .moments import derivative_moment, moment

__all__ = ["ActivationGains", "MeanSplit", "activation_gains", "mean_split", "torch_gain_or_none"]


def torch_gain_or_none(activation: object) -> float | None:
    """PyTorch's ``calculate_gain`` value of ``activation``, or ``None`` where PyTorch has none.

    :func:`initmath.gain` raises a ``ValueError`` for the activations PyTorch does not know
    (GELU, SiLU, ...), exactly as ``torch.nn.init.calculate_gain`` does; this returns
    ``None`` for them instead.

    Examples
    --------
    >>> torch_gain_or_none("tanh"), torch_gain_or_none("gelu")
    (1.6666666666666667, None)
    """
    try:
        return gain(activation)
    except ValueError:
        return None


@dataclass(frozen=True)
class ActivationGains:
    r"""The gains of one activation (:func:`activation_gains`).

    Attributes
    ----------
    activation : object
        The activation spec, as given.
    forward, backward : float
        The exact gains :math:`1/\sqrt{E[\phi(z)^2]}` and :math:`1/\sqrt{E[\phi'(z)^2]}`.
    forward_exact, backward_exact : bool
        Whether the moment behind each is a closed form from SymPy (else numeric quadrature).
    torch : float or None
        PyTorch's ``calculate_gain`` value :math:`g_t` (``None`` where it has none).
    torch_factor : float or None
        :math:`g_t^2 E[\phi(z)^2]`: the factor by which a layer of weight variance
        :math:`g_t^2/n` multiplies the second moment at :math:`q = 1`.
    """

    activation: object
    forward: float
    backward: float
    forward_exact: bool
    backward_exact: bool
    torch: float | None
    torch_factor: float | None


def activation_gains(activation: object) -> ActivationGains:
    r"""Exact forward and backward gains, PyTorch's gain and its per-layer factor at :math:`q=1`.

    Parameters
    ----------
    activation : str, (str, float) or Activation
        Any registered activation (:func:`initmath.activation_names`).

    Returns
    -------
    ActivationGains
        With :math:`g_f = 1/\sqrt{M}`, :math:`g_b = 1/\sqrt{D}` (:math:`M = E[\phi(z)^2]`,
        :math:`D = E[\phi'(z)^2]`, :math:`z \sim N(0,1)`) and, where PyTorch has a gain
        :math:`g_t`, the factor :math:`g_t^2 M`.

    Examples
    --------
    >>> g = activation_gains(("leaky_relu", 0.2))
    >>> abs(g.forward - g.torch) < 1e-15, g.forward_exact
    (True, True)
    """
    m = moment(activation, 1.0, 2)
    g_t = torch_gain_or_none(activation)
    return ActivationGains(
        activation=activation,
        forward=gain(activation, convention="exact"),
        backward=backward_gain(activation),
        forward_exact=bool(m.exact),
        backward_exact=bool(derivative_moment(activation, 1.0, 2).exact),
        torch=g_t,
        torch_factor=None if g_t is None else g_t**2 * float(m.value),
    )


@dataclass(frozen=True)
class MeanSplit:
    r"""The moments of :math:`\phi(z)`, :math:`z \sim N(0, 1)`, and the gains that preserve them.

    The mean, second moment and variance (:func:`mean_split`), and the gains that preserve the
    second moment or only the variance.

    Attributes
    ----------
    activation : object
        The activation spec, as given.
    mean, second : float
        :math:`E[\phi(z)]` and :math:`E[\phi(z)^2]`.
    """

    activation: object
    mean: float
    second: float

    @property
    def variance(self) -> float:
        r""":math:`\operatorname{Var}[\phi] = E[\phi^2] - E[\phi]^2`."""
        return self.second - self.mean**2

    @property
    def mean_share(self) -> float:
        r""":math:`E[\phi]^2 / E[\phi^2]`: the share of the second moment due to the mean."""
        return self.mean**2 / self.second

    @property
    def forward(self) -> float:
        r""":math:`1/\sqrt{E[\phi^2]}`, the gain that keeps :math:`q = 1`."""
        return 1.0 / math.sqrt(self.second)

    @property
    def variance_gain(self) -> float:
        r""":math:`1/\sqrt{\operatorname{Var}[\phi]}`, the gain that undoes only the variance."""
        return 1.0 / math.sqrt(self.variance)

    @property
    def variance_gain_factor(self) -> float:
        r""":math:`E[\phi^2]/\operatorname{Var}[\phi]`.

        What :attr:`MeanSplit.variance_gain` does to :math:`q = 1` in one layer.
        """
        return self.second / self.variance


def mean_split(activation: object) -> MeanSplit:
    r"""The split :math:`E[\phi(z)^2] = \operatorname{Var}[\phi(z)] + E[\phi(z)]^2`.

    At :math:`z \sim N(0, 1)`, from :func:`initmath.moment` with ``k=1`` and ``k=2``.

    Examples
    --------
    >>> s = mean_split("relu")  # E[relu(z)] = 1/sqrt(2 pi), E[relu(z)^2] = 1/2
    >>> abs(s.mean_share - 1 / 3.141592653589793) < 1e-12
    True
    """
    return MeanSplit(
        activation, float(moment(activation, 1.0, 1).value), float(moment(activation, 1.0, 2).value)
    )
