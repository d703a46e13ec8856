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
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .gains import backward_gain, gain
from .moments import derivative_moment, moment

__all__ = [
    "DEEPMIND_NF_GAINS",
    "NF_SAMPLE_ROW",
    "NF_SAMPLE_ROWS",
    "ActivationGains",
    "MeanSplit",
    "NFGainRow",
    "activation_gains",
    "mean_split",
    "nf_gain_table",
    "torch_gain_or_none",
]


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


# -- the normalizer-free gains: DeepMind's table against the exact values -------------------
#: DeepMind's normalizer-free gains :math:`\gamma` ("magic constants"), transcribed from the
#: dict ``nonlinearities`` of ``nfnets/base.py`` in deepmind/deepmind-research (added in
#: commit abc9ba0635da9a9e5c57b124fe004151cd5cbd38, 2021-02-11, unchanged up to
#: d8df4155dc72fc3dfff9f857412168993348ca23), where each activation is multiplied by its value,
#: e.g. ``'relu': lambda x: jax.nn.relu(x) * 1.7139588594436646``. ``identity`` is the one
#: entry with no factor (1). The file does not say how they were obtained; they are float32
#: numbers, and sampling estimates (see :func:`nf_gain_table`).
DEEPMIND_NF_GAINS: Mapping[str, float] = MappingProxyType(
    {
        "identity": 1.0,
        "celu": 1.270926833152771,
        "elu": 1.2716004848480225,
        "gelu": 1.7015043497085571,
        "glu": 1.8484294414520264,
        "leaky_relu": 1.70590341091156,
        "log_sigmoid": 1.9193484783172607,
        "log_softmax": 1.0002083778381348,
        "relu": 1.7139588594436646,
        "relu6": 1.7131484746932983,
        "selu": 1.0008515119552612,
        "sigmoid": 4.803835391998291,
        "silu": 1.7881293296813965,
        "soft_sign": 2.338853120803833,
        "softplus": 1.9203323125839233,
        "tanh": 1.5939117670059204,
    }
)

#: The sampling model the table is judged with, :math:`\hat\gamma = \bar V^{-1/2}`,
#: :math:`\bar V` the mean of the biased (``ddof=0``) variances of ``NF_SAMPLE_ROWS`` rows of
#: ``NF_SAMPLE_ROW`` i.i.d. values :math:`\phi(z)` (``jnp.mean(jnp.var(phi(x), axis=1))``
#: for ``x`` of shape (1024, 256), the estimate usually attributed to Brock et al. 2021).
NF_SAMPLE_ROWS, NF_SAMPLE_ROW = 1024, 256


def _jax_forms() -> dict[str, tuple[object, str]]:
    # DeepMind's name -> (the activation jax.nn computes there, a note). The activations that
    # initmath does not register are written here as (unregistered) Activation objects.
    import sympy as sp

    from .activations import Activation, X

    x = X
    tanh_gelu = x / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (x + sp.Rational(44715, 10**6) * x**3)))
    return {
        "identity": ("linear", "no factor in DeepMind's table (exactly 1)"),
        "celu": ("elu", "jax.nn.celu with alpha = 1 is ELU"),
        "elu": ("elu", ""),
        "gelu": (
            Activation("gelu_tanh", tanh_gelu),
            "jax.nn.gelu's default approximate=True: x/2 (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3)))",
        ),
        "glu": (
            "sigmoid",
            "a sigmoid(b) for the two halves a, b of the input, independent N(0, 1): "
            "Var = E[sigmoid(z)^2], so gamma is sigmoid's exact (second-moment) gain",
        ),
        "leaky_relu": (("leaky_relu", 0.01), "jax.nn.leaky_relu's slope 0.01"),
        "log_sigmoid": (
            Activation("log_sigmoid", -sp.log(1 + sp.exp(-x))),
            "log sigmoid(z) = -softplus(-z): the same variance as softplus",
        ),
        "log_softmax": (None, "not elementwise: x - logsumexp(x) over the axis sampled"),
        "relu": ("relu", ""),
        "relu6": (
            Activation("relu6", sp.Piecewise((0, x < 0), (x, x < 6), (6, True))),
            "min(max(x, 0), 6)",
        ),
        "selu": ("selu", "Var = 1 exactly with Klambauer et al.'s constants"),
        "sigmoid": ("sigmoid", ""),
        "silu": ("silu", ""),
        "soft_sign": (
            Activation("soft_sign", sp.Piecewise((x / (1 - x), x < 0), (x / (1 + x), True))),
            "x / (1 + |x|)",
        ),
        "softplus": ("softplus", ""),
        "tanh": ("tanh", ""),
    }


@dataclass(frozen=True)
class NFGainRow:
    r"""DeepMind's normalizer-free gain of one activation against the exact value.

    Attributes
    ----------
    name : str
        DeepMind's name (a key of :data:`DEEPMIND_NF_GAINS`).
    deepmind : float
        Their value :math:`\hat\gamma`.
    exact : float or None
        :math:`\gamma = 1/\sqrt{\operatorname{Var}[\phi(z)]}`, :math:`z \sim N(0, 1)`
        (:func:`initmath.gain` with ``convention="nf"``); ``None`` for ``log_softmax``, which
        is not elementwise.
    relative_difference : float or None
        :math:`\hat\gamma/\gamma - 1`.
    sampling_sd : float or None
        The relative standard deviation of :math:`\hat\gamma` under the sampling model of
        :data:`NF_SAMPLE_ROWS` rows of :data:`NF_SAMPLE_ROW` samples (delta method):
        :math:`\tfrac12 \sqrt{\operatorname{Var}[s^2]/R}/\sigma^2`, with
        :math:`\operatorname{Var}[s^2] = \mu_4/n - \sigma^4 (n-3)/(n(n-1))` for the unbiased
        row variance :math:`s^2` and :math:`\mu_4 = E[(\phi - E\phi)^4]`; ``0`` for the
        identity, whose value was not sampled.
    note : str
        What ``jax.nn`` computes under that name, where it matters.
    """

    name: str
    deepmind: float
    exact: float | None
    relative_difference: float | None
    sampling_sd: float | None
    note: str


def _fourth_central_moment(act: object) -> float:
    # mu_4 = E[(phi(z) - E phi)^4] to a few digits, enough for a standard deviation: mpmath's
    # tanh-sinh quadrature split at 0 and +-6 (the kinks of the activations in the table). Not
    # through moment(): its closed form of SELU's third or fourth power takes minutes.
    import mpmath

    from .activations import activation

    a = activation(act)
    f = a.mpmath
    m = mpmath.mpf(moment(a, 1.0, 1).value)
    with mpmath.workdps(20):
        norm = 1 / mpmath.sqrt(2 * mpmath.pi)
        value = mpmath.quad(
            lambda z: (f(z) - m) ** 4 * mpmath.exp(-z * z / 2) * norm,
            [-mpmath.inf, -6, 0, 6, mpmath.inf],
        )
    return float(value)


def _sampling_sd(sigma2: float, mu4: float, n: int, rows: int) -> float:
    var_s2 = mu4 / n - sigma2**2 * (n - 3) / (n * (n - 1))
    return 0.5 * math.sqrt(var_s2 / rows) / sigma2


def nf_gain_table() -> tuple[NFGainRow, ...]:
    r"""DeepMind's normalizer-free gains, the exact values and their relative differences.

    For each entry of :data:`DEEPMIND_NF_GAINS` (in its order), the exact
    :math:`\gamma = 1/\sqrt{\operatorname{Var}[\phi(z)]}` of the function ``jax.nn`` computes
    under that name (GELU in its default tanh form; ``celu`` with :math:`\alpha = 1` is ELU;
    ``glu`` is :math:`a\,\sigma(b)`, whose variance is :math:`E[\sigma(z)^2]`), the relative
    difference :math:`\hat\gamma/\gamma - 1`, and the relative standard deviation of a
    sampling estimate (:class:`NFGainRow`).

    DeepMind's values are sampling estimates: every one but the identity's is 0.007% to 0.12%
    above the exact value, well within the spread of an estimate from :math:`1024 \times 256`
    samples (relative standard deviations 0.08% to 0.26%; the largest difference is 1.1 of
    them, tanh's). The two pairs of entries that are one function, ``celu``/``elu`` and
    ``log_sigmoid``/``softplus`` (the variance of :math:`-\mathrm{softplus}(-z)` is that of
    :math:`\mathrm{softplus}(z)`), differ from each other by 0.05%.

    Returns
    -------
    tuple of NFGainRow

    Examples
    --------
    >>> row = {r.name: r for r in nf_gain_table()}["relu"]
    >>> round(row.exact, 6), round(row.deepmind, 6), f"{row.relative_difference:.2%}"
    (1.712859, 1.713959, '0.06%')
    """
    rows = []
    for name, (spec, note) in _jax_forms().items():
        dm = DEEPMIND_NF_GAINS[name]
        if spec is None:
            rows.append(NFGainRow(name, dm, None, None, None, note))
            continue
        if name == "glu":
            exact = gain(spec, convention="exact")
            second, fourth = moment(spec, 1.0, 2).value, moment(spec, 1.0, 4).value
            # a sigmoid(b): mean 0, variance E[s^2], fourth moment E[a^4] E[s^4] = 3 E[s^4],
            # over rows of n/2 = 128 (glu halves the sampled axis)
            sd = _sampling_sd(second, 3 * fourth, NF_SAMPLE_ROW // 2, NF_SAMPLE_ROWS)
        else:
            exact = gain(spec, convention="nf")
            sd = (
                0.0
                if name == "identity"
                else _sampling_sd(
                    exact**-2, _fourth_central_moment(spec), NF_SAMPLE_ROW, NF_SAMPLE_ROWS
                )
            )
        rows.append(NFGainRow(name, dm, exact, dm / exact - 1, sd, note))
    return tuple(rows)
