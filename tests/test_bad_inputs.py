"""A bad-input battery over the whole public API (issue #11, acceptance).

Every public function and keyword of :mod:`initmath` and of its public modules gets wrong
types (a string for a number, a float for an int, a bool, ``None`` where it is not allowed, a
list, ``object()``) and bad values (negative, zero where invalid, NaN, +-inf, huge, tiny,
empty, wrong shapes). Each case must end in a ``ValueError`` or ``TypeError`` whose message
names the argument (and, for a scalar, repeats the value), or in a documented result.

No case may run a simulation: the kernels are replaced by a function that raises
:class:`KernelReached`, so an engine function that accepts bad input fails its case at once
instead of running; the widths are tiny anyway. A case that runs for more than
:data:`CASE_SECONDS` is a failure too (bad input must be refused up front).
"""

from __future__ import annotations

import math
import signal
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import sympy as sp

import initmath
from initmath.engine import jacobian, reference, rng, stats
from initmath.practice import datasets, lsuv, training, verification
from initmath.theory import derivations, finite_width, meanfield, moments
from initmath.weights import distributions, samplers, schemes, shapes, torch_gain

CASE_SECONDS = 20
NAN, INF = math.nan, math.inf


class KernelReached(BaseException):
    """Raised by the stand-in kernel: bad input got as far as a simulation."""


def _no_kernel(*args: object, **kwargs: object) -> None:
    raise KernelReached("a kernel was reached: the bad input was not refused up front")


@pytest.fixture(autouse=True)
def _guard(monkeypatch):
    """No kernel runs, and no case runs longer than CASE_SECONDS."""
    for name, mod in list(sys.modules.items()):
        if name.startswith("initmath") and hasattr(mod, "kernel_module"):
            monkeypatch.setattr(mod, "kernel_module", _no_kernel)

    def alarm(signum, frame):
        raise TimeoutError(f"case ran {CASE_SECONDS} s: bad input was not refused up front")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# -- bad values ------------------------------------------------------------------------------
# Each entry: (id, value). Which ones apply depends on what the argument is.
WRONG_TYPE_NUM = [
    ("str", "1.0"),
    ("bool", True),
    ("list", [1.0]),
    ("object", object()),
    ("complex", 1j),
]
NONFINITE = [("nan", NAN), ("inf", INF), ("-inf", -INF)]
POSITIVE = WRONG_TYPE_NUM + NONFINITE + [("negative", -1.0), ("zero", 0.0)]
NONNEGATIVE = WRONG_TYPE_NUM + NONFINITE + [("negative", -1.0), ("negative_tiny", -1e-320)]
WRONG_TYPE_INT = [
    ("str", "2"),
    ("float", 2.0),
    ("bool", True),
    ("list", [2]),
    ("object", object()),
    ("complex", 2j),
]
INT_MIN1 = WRONG_TYPE_INT + [("zero", 0), ("negative", -1)]
INT_MIN0 = WRONG_TYPE_INT + [("negative", -1)]
CHOICE = [
    ("int", 3),
    ("bytes", b"he"),
    ("unknown", "no_such_thing"),
    ("empty", ""),
    ("list", ["he"]),
]
ACTIVATION = [
    ("int", 3),
    ("unknown", "no_such_activation"),
    ("object", object()),
    ("tuple1", ("leaky_relu",)),
    ("tuple3", ("leaky_relu", 0.1, 2)),
    ("param_on_relu", ("relu", 0.5)),
    ("nan_slope", ("leaky_relu", NAN)),
    ("negative_slope", ("leaky_relu", -1.0)),
    ("str_slope", ("leaky_relu", "0.1")),
]
WIDTHS = [
    ("empty", []),
    ("one", [2]),
    ("zero", [2, 0]),
    ("negative", [2, -1]),
    ("float", [2, 2.5]),
    ("bool", [2, True]),
    ("string", "22"),
    ("int", 5),
    ("none_entry", [2, None]),
    ("object", object()),
]
NONE = [("none", None)]

ACT_NAMES = ("activation", "spec", "slope", "param", "parameter", "act", "leaky_relu")


def _simple(value: object) -> bool:
    return type(value) in (int, float, str)


def _assert_refused(call: Callable[[], Any], names: tuple[str, ...], value: object) -> None:
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    message = str(info.value)
    assert any(n in message for n in names), (
        f"{type(info.value).__name__}: {message!r} does not name {' or '.join(names)}"
    )
    if _simple(value) and not (isinstance(value, str) and value == ""):
        assert repr(value) in message or str(value) in message, (
            f"{type(info.value).__name__}: {message!r} does not repeat the value {value!r}"
        )


CASES: list[Any] = []


def add(
    module: str,
    func: Callable[..., Any],
    args: tuple,
    base: dict,
    key: str | int,
    values: list[tuple[str, object]],
    names: tuple[str, ...] | str | None = None,
    label: str | None = None,
) -> None:
    """A case per value: ``func(*args, **base)`` with ``key`` (keyword or position) replaced."""
    if names is None:
        names = (str(key),)
    elif isinstance(names, str):
        names = (names,)
    fname = label or getattr(func, "__qualname__", getattr(func, "__name__", "call"))
    for vid, value in values:
        if isinstance(key, int):
            a = list(args)
            a[key] = value

            def call(a=tuple(a)):
                return func(*a, **base)

            kname = f"arg{key}"
        else:

            def call(value=value):
                return func(*args, **{**base, key: value})

            kname = key
        CASES.append(pytest.param(module, call, names, value, id=f"{module}.{fname}-{kname}-{vid}"))


def add_call(
    module: str,
    case_id: str,
    call: Callable[[], Any],
    names: tuple[str, ...] | str,
    value: object = None,
) -> None:
    """A single hand-written case."""
    names = (names,) if isinstance(names, str) else names
    CASES.append(pytest.param(module, call, names, value, id=f"{module}.{case_id}"))


# -- layer 1: shapes, distributions, torch_gain, schemes, samplers ---------------------------
SHAPES = [
    ("empty", ()),
    ("one_dim", (5,)),
    # zero-size shapes are valid: init returns the empty array (tests/weights/test_shapes.py)
    ("negative", (3, -1)),
    ("float", (2.0, 3)),
    ("bool", (True, 3)),
    ("string", "34"),
    ("int", 7),
    ("none", None),
    ("none_entry", (None, 3)),
    ("object", object()),
]
for f in (initmath.fans, shapes.matrix_shape):
    add("shapes", f, ((3, 4),), {}, 0, SHAPES, "shape")
    add("shapes", f, ((3, 4),), {}, "layout", CHOICE + NONE)

add("distributions", initmath.truncated_normal_std, (), {}, "cut", POSITIVE + NONE)
add("distributions", distributions.uniform_half_width, (), {}, "std", NONNEGATIVE + NONE)
_G = np.random.default_rng(0)
add(
    "distributions",
    distributions.sample,
    (_G, 3, "normal", 1.0),
    {},
    0,
    [("int", 3), ("none", None), ("object", object())],
    "rng",
)
add("distributions", distributions.sample, (_G, 3, "normal", 1.0), {}, 1, INT_MIN0, "size")
add(
    "distributions",
    distributions.sample,
    (_G, 3, "normal", 1.0),
    {},
    2,
    CHOICE + NONE + [("orthogonal", "orthogonal")],
    "distribution",
)
add("distributions", distributions.sample, (_G, 3, "normal", 1.0), {}, 3, NONNEGATIVE, "std")
add("distributions", distributions.orthogonal, (_G, 3, 3, 1.0), {}, 1, INT_MIN1, "rows")
add("distributions", distributions.orthogonal, (_G, 3, 3, 1.0), {}, 2, INT_MIN1, "cols")
add("distributions", distributions.orthogonal, (_G, 3, 3, 1.0), {}, 3, NONNEGATIVE, "gain")
add(
    "distributions",
    distributions.orthogonalize,
    (np.ones((2, 2)),),
    {},
    0,
    [
        ("1d", np.ones(3)),
        ("3d", np.ones((2, 2, 2))),
        ("empty", np.ones((0, 2))),
        ("nan", np.full((2, 2), NAN)),
        ("str", "ab"),
        ("none", None),
    ],
    "a",
)
add("distributions", distributions.orthogonalize, (np.eye(2),), {}, "gain", NONNEGATIVE)

add(
    "torch_gain",
    torch_gain.torch_gain,
    ("leaky_relu",),
    {},
    0,
    ACTIVATION + NONE + [("not_torch", "gelu")],
    ACT_NAMES,
)
add(
    "torch_gain",
    torch_gain.torch_gain,
    ("leaky_relu",),
    {},
    "param",
    NONNEGATIVE,
    ("slope", "param"),
)
add(
    "torch_gain",
    torch_gain.parse_activation,
    ("leaky_relu",),
    {},
    0,
    [("int", 3), ("none", None), ("tuple1", ("relu",))],
    ACT_NAMES,
)
add(
    "torch_gain",
    torch_gain.split_spec,
    ("relu",),
    {},
    0,
    [("int", 3), ("none", None), ("tuple3", ("a", 1, 2))],
    ACT_NAMES,
)

add("schemes", initmath.variance, ("he", 10), {}, 0, CHOICE + NONE, "scheme")
add(
    "schemes",
    initmath.variance,
    ("he", 10),
    {},
    1,
    POSITIVE + NONE + [("tiny_overflows", 1e-320)],
    "fan_in",
)
add("schemes", initmath.variance, ("xavier", 10, 20), {}, 2, POSITIVE, "fan_out")
add(
    "schemes",
    initmath.variance,
    ("he", 10),
    {},
    "gain",
    NONNEGATIVE + [("huge_overflows", 1e200), ("tiny_underflows", 1e-200)],
)
add("schemes", initmath.variance, ("he", 10, 20), {}, "mode", CHOICE)
add(
    "schemes",
    initmath.variance,
    ("normal", 10),
    {},
    "std",
    NONNEGATIVE + [("huge_overflows", 1e200)],
)
add_call(
    "schemes", "variance-xavier_without_fan_out", lambda: initmath.variance("xavier", 10), "fan_out"
)
add_call("schemes", "variance-std_on_he", lambda: initmath.variance("he", 10, std=0.1), "std")
add_call(
    "schemes",
    "variance-gain_and_std_overflow",
    lambda: initmath.variance("normal", 10, gain=1e200, std=1e200),
    ("gain", "std"),
)
for f in (initmath.std, initmath.bound, initmath.init):
    add("schemes", f, ((3, 4), "he"), {}, 0, SHAPES, "shape")
    add("schemes", f, ((3, 4), "he"), {}, 1, CHOICE + NONE, "scheme")
    add("schemes", f, ((3, 4), "he"), {}, "layout", CHOICE + NONE)
    add("schemes", f, ((3, 4), "he"), {}, "activation", ACTIVATION, ACT_NAMES)
    add("schemes", f, ((3, 4), "he"), {}, "mode", CHOICE)
    add("schemes", f, ((3, 4), "he"), {}, "distribution", CHOICE + NONE)
    add("schemes", f, ((3, 4), "he"), {}, "gain", NONNEGATIVE)
    add("schemes", f, ((3, 4), "fixed"), {}, "std", NONNEGATIVE)
    add_call(
        "schemes",
        f"{f.__name__}-gain_and_activation",
        lambda f=f: f((3, 4), "he", gain=1.0, activation="relu"),
        ("gain", "activation"),
    )
    add_call(
        "schemes",
        f"{f.__name__}-gain_std_overflow",
        lambda f=f: f((3, 4), "normal", gain=1e200, std=1e200),
        ("gain", "std"),
    )
add_call(
    "schemes",
    "std-orthogonal_with_mode",
    lambda: initmath.std((3, 4), "he", distribution="orthogonal", mode="fan_in"),
    "mode",
)
add_call(
    "schemes",
    "std-orthogonal_standard",
    lambda: initmath.std((3, 4), "standard", distribution="orthogonal"),
    "scheme",
)
add_call(
    "schemes",
    "bound-normal",
    lambda: initmath.bound((3, 4), "he", distribution="normal"),
    "distribution",
    "normal",
)
add("schemes", schemes.resolve_gain, ("he",), {}, 0, CHOICE + NONE, "scheme")

add(
    "samplers",
    initmath.init,
    ((3, 4), "he"),
    {},
    "rng",
    [
        ("negative", -1),
        ("float", 1.5),
        ("str", "0"),
        ("bool", True),
        ("object", object()),
        ("legacy_randomstate", np.random.RandomState(0)),
    ],
)
add(
    "samplers",
    initmath.init,
    ((3, 4), "he"),
    {},
    "dtype",
    [
        ("int", np.int32),
        ("str", "nonsense"),
        ("complex", np.complex128),
        ("object", object()),
        ("bool", bool),
    ],
)
add_call(
    "samplers",
    "init-gain_overflows_float32",
    lambda: initmath.init((3, 4), "he", gain=1e200, dtype=np.float32),
    ("gain", "dtype"),
)
add_call(
    "samplers",
    "init-gain_overflows_float16",
    lambda: initmath.init((3, 4), "he", gain=1e6, distribution="uniform", dtype=np.float16),
    ("gain", "dtype"),
)
add_call(
    "samplers",
    "init-gain_underflows_float16",
    lambda: initmath.init((3, 4), "he", gain=1e-12, dtype=np.float16),
    ("gain", "dtype"),
)
add_call(
    "samplers",
    "init-orthogonal_gain_overflows_float32",
    lambda: initmath.init((3, 4), "he", gain=1e100, distribution="orthogonal", dtype=np.float32),
    ("gain", "dtype"),
)
add_call("samplers", "init-huge_shape", lambda: initmath.init((2**40, 2**40), "he"), "shape")
add(
    "samplers",
    samplers.as_generator,
    (0,),
    {},
    0,
    [("negative", -1), ("float", 1.5), ("str", "0"), ("bool", True), ("object", object())],
    "rng",
)


# -- layer 2: activations, moments, gains, meanfield -----------------------------------------
add("activations", initmath.activation, ("relu",), {}, 0, ACTIVATION + NONE, ACT_NAMES)
add(
    "activations",
    initmath.activation,
    ("leaky_relu",),
    {},
    "param",
    NONNEGATIVE,
    ("slope", "param", "a"),
)
add_call(
    "activations",
    "activation-param_twice",
    lambda: initmath.activation(("leaky_relu", 0.1), 0.2),
    ("param", "activation"),
)
add_call(
    "activations",
    "Activation.bind-nan",
    lambda: initmath.activation("leaky_relu").bind(NAN),
    ("slope", "param", "a"),
    NAN,
)
add_call(
    "activations",
    "Activation.bind-str",
    lambda: initmath.activation("leaky_relu").bind("0.1"),
    ("slope", "param", "a"),
    "0.1",
)
add_call(
    "activations",
    "Activation.bind-unknown_name",
    lambda: initmath.activation("leaky_relu").bind(nonsense=0.1),
    "nonsense",
)
add_call(
    "activations",
    "Activation.bind-too_many",
    lambda: initmath.activation("leaky_relu").bind(0.1, 0.2),
    ("param", "value", "slope"),
)
add_call(
    "activations",
    "Activation.bind-on_relu",
    lambda: initmath.activation("relu").bind(0.1),
    ("param", "relu"),
)
_T = sp.Symbol("t", real=True)
_U = sp.Symbol("u", real=True)
_reg = iter(range(10**6))


def _register(expr: object = _T**3 / (1 + _T**2), **kw: object) -> object:
    kw.setdefault("name", f"battery_act_{next(_reg)}")
    return initmath.register_activation(expr=expr, **kw)


for vid, kw, names in [
    ("name_int", dict(name=3), "name"),
    ("name_none", dict(name=None), "name"),
    ("name_empty", dict(name=""), "name"),
    ("name_builtin", dict(name="relu"), ("name", "relu")),
    ("name_space", dict(name="my act"), "name"),
    ("name_newline", dict(name="a\nb"), "name"),
    ("expr_str", dict(expr="t**2"), "expr"),
    ("expr_none", dict(expr=None), "expr"),
    ("expr_float", dict(expr=1.5), "expr"),
    ("expr_two_symbols", dict(expr=_T * _U), ("expr", "symbol")),
    ("expr_complex", dict(expr=sp.I * _T), "expr"),
    ("expr_sign", dict(expr=sp.sign(_T)), ("expr", "sign")),
    ("expr_heaviside", dict(expr=sp.Heaviside(_T)), ("expr", "Heaviside")),
    ("expr_undefined_function", dict(expr=sp.Function("f")(_T)), ("expr", "f")),
    ("symbol_str", dict(symbol="t"), "symbol"),
    ("symbol_absent", dict(symbol=_U), "symbol"),
    ("params_list", dict(params=[1.0]), "params"),
    ("params_nan", dict(expr=_T * sp.Symbol("k"), params={sp.Symbol("k"): NAN}), "params"),
    ("params_str_key", dict(expr=_T * sp.Symbol("k"), params={"k": 1.0}), "params"),
    ("citation_int", dict(citation=3), "citation"),
    ("description_int", dict(description=3), "description"),
    ("replace_str", dict(replace="yes"), "replace"),
]:
    add_call(
        "activations",
        f"register_activation-{vid}",
        lambda kw=kw: _register(**kw),
        names,
        kw.get("name") if vid.startswith("name_") else None,
    )
add_call(
    "activations",
    "register_activation-alias_shadowed",
    lambda: initmath.register_activation("swish", _T / (1 + sp.exp(-2 * _T))),
    ("name", "swish"),
    "swish",
)

for f in (initmath.moment, initmath.derivative_moment):
    add("moments", f, ("relu",), {}, 0, ACTIVATION + NONE, ACT_NAMES)
    add("moments", f, ("relu",), {}, "q", NONNEGATIVE + NONE)
    add(
        "moments",
        f,
        ("relu",),
        {},
        "k",
        [
            ("str", "2"),
            ("float", 2.5),
            ("bool", True),
            ("none", None),
            ("negative", -1),
            ("huge", 10**6),
            ("object", object()),
        ],
    )
add(
    "moments",
    moments.symbolic_moment,
    ("relu",),
    {},
    "k",
    [("str", "2"), ("float", 2.5), ("bool", True), ("negative", -1), ("huge", 10**6)],
)
add(
    "moments",
    moments.symbolic_moment,
    ("relu",),
    {},
    "derivative",
    [("str", "yes"), ("none", None), ("int", 2)],
)

for f in (initmath.gain, initmath.backward_gain):
    add("gains", f, ("leaky_relu",), {}, 0, ACTIVATION + NONE, ACT_NAMES)
    add("gains", f, ("leaky_relu",), {}, "param", NONNEGATIVE, ("slope", "param", "a"))
add("gains", initmath.gain, ("relu",), {}, "convention", CHOICE + NONE)
add_call("gains", "gain-torch_unknown", lambda: initmath.gain("gelu"), "activation", "gelu")

_MF = [
    (meanfield.length_map, ("relu", 1.0, 2.0, 0.0)),
    (meanfield.length_slope, ("relu", 1.0, 2.0, 0.0)),
    (meanfield.fixed_point, ("tanh", 1.0, 0.1)),
    (meanfield.chi1, ("tanh", 1.0, 0.1)),
    (meanfield.correlation_map, ("tanh", 0.5, 1.0, 0.1)),
    (meanfield.correlation_slope, ("tanh", 0.5, 1.0, 0.1)),
    (meanfield.correlation_fixed_point, ("tanh", 1.0, 0.1)),
    (meanfield.depth_scales, ("tanh", 1.0, 0.1)),
]
for f, args in _MF:
    add("meanfield", f, args, {}, 0, ACTIVATION + NONE, ACT_NAMES)
    i_w = 2 if len(args) == 4 else 1
    add("meanfield", f, args, {}, i_w, POSITIVE + NONE, "sigma_w2")
    add("meanfield", f, args, {}, i_w + 1, NONNEGATIVE + NONE, "sigma_b2")


def _array_ok(cases):
    """Cases for an argument documented to accept arrays of numbers: a list of numbers is valid,
    a list holding a string or a bool is not."""
    return [c for c in cases if c[0] != "list"] + [
        ("str_list", ["1.0"]),
        ("bool_list", [1.0, True]),
    ]


add(
    "meanfield",
    meanfield.length_map,
    ("relu", 1.0, 2.0, 0.0),
    {},
    1,
    _array_ok(NONNEGATIVE) + NONE + [("nan_entry", [1.0, NAN]), ("neg_entry", [1.0, -1.0])],
    "q",
)
add("meanfield", meanfield.length_slope, ("relu", 1.0, 2.0, 0.0), {}, 1, NONNEGATIVE + NONE, "q")
add("meanfield", meanfield.fixed_point, ("tanh", 1.0, 0.1), {}, "q0", POSITIVE + NONE)
C_BAD = WRONG_TYPE_NUM + NONFINITE + NONE + [("above_one", 1.5), ("below_minus_one", -2.0)]
add(
    "meanfield",
    meanfield.correlation_map,
    ("tanh", 0.5, 1.0, 0.1),
    {},
    1,
    _array_ok(C_BAD) + [("entry_above_one", [0.5, 1.5])],
    "c",
)
add("meanfield", meanfield.correlation_slope, ("tanh", 0.5, 1.0, 0.1), {}, 1, C_BAD, "c")
add("meanfield", meanfield.correlation_map, ("tanh", 0.5, 1.0, 0.1), {}, "q", POSITIVE)
add("meanfield", meanfield.correlation_slope, ("tanh", 0.5, 1.0, 0.1), {}, "q", POSITIVE)
add("meanfield", meanfield.critical_line, ("tanh", 0.1), {}, 0, ACTIVATION + NONE, ACT_NAMES)
add("meanfield", meanfield.critical_line, ("tanh", 0.1), {}, 1, NONNEGATIVE + NONE, "sigma_b2")
add(
    "meanfield",
    meanfield.critical_line,
    ("tanh", 0.1),
    {},
    "bracket",
    [
        ("reversed", (2.0, 0.5)),
        ("zero", (0.0, 2.0)),
        ("nan", (NAN, 2.0)),
        ("inf", (0.5, INF)),
        ("one", (0.5,)),
        ("str", "ab"),
        ("number", 2.0),
        ("strs", ("0.5", "2")),
    ],
)


# -- layer 3: derivations, registry, finite_width --------------------------------------------
_SYMBOLIC_ACT = [("int", 3), ("unknown", "no_such_activation"), ("object", object())]
for f in (
    derivations.forward_map,
    derivations.backward_map,
    derivations.forward_condition,
    derivations.backward_condition,
    derivations.xavier_conditions,
    derivations.linearized_moment,
    derivations.exact_gain,
    derivations.exact_backward_gain,
):
    add(
        "derivations",
        f,
        ("relu",) if f is not derivations.xavier_conditions else ("tanh",),
        {},
        0,
        _SYMBOLIC_ACT,
        ACT_NAMES,
    )
for f in (derivations.forward_condition, derivations.backward_condition):
    add(
        "derivations",
        f,
        ("relu",),
        {},
        "fan",
        [("str", "n"), ("float_nan", NAN), ("none", None), ("object", object())],
    )
add(
    "derivations",
    derivations.linearized_moment,
    ("tanh",),
    {},
    "order",
    INT_MIN1 + [("huge", 10**6)],
)
add("derivations", derivations.fan_symbol, ("fan_in",), {}, 0, CHOICE + NONE, "mode")
add(
    "derivations",
    derivations.truncated_normal_factor,
    (),
    {},
    "cut",
    [
        ("str", "2"),
        ("negative", -1),
        ("zero", 0),
        ("nan", NAN),
        ("none", None),
        ("object", object()),
        ("symbol_negative", sp.Integer(-2)),
    ],
)
add(
    "derivations",
    derivations.solve_for,
    (sp.Eq(derivations.V, 1),),
    {},
    0,
    [("str", "v = 1"), ("int", 3), ("none", None)],
    "condition",
)
add(
    "derivations",
    derivations.solve_for,
    (sp.Eq(derivations.V, 1),),
    {},
    "symbol",
    [("str", "v"), ("int", 3), ("none", None)],
)
add("derivations", derivations.scheme_variance, ("he",), {}, 0, CHOICE + NONE, "scheme")
add("derivations", derivations.scheme_variance, ("he",), {}, "mode", CHOICE)
add(
    "derivations",
    derivations.scheme_variance,
    ("he",),
    {},
    "gain",
    [("str", "g"), ("negative", -1), ("zero", 0), ("nan", NAN), ("object", object())],
)
add("derivations", derivations.weight_std, ("he",), {}, 0, CHOICE + NONE, "scheme")
add("derivations", derivations.weight_std, ("he",), {}, "mode", CHOICE)
add("derivations", derivations.weight_std, ("he",), {}, "distribution", CHOICE + NONE)
add(
    "derivations",
    derivations.weight_std,
    ("he",),
    {},
    "gain",
    [("str", "g"), ("negative", -1), ("nan", NAN)],
)


def _registry_lookup(key: object) -> Callable[[], object]:
    return lambda: initmath.formulas[key]


for vid, key in [("int", 3), ("none", None), ("list", ["he.variance"])]:
    add_call("registry", f"formulas[]-{vid}", _registry_lookup(key), ("formula", "name"), key)
for f in (finite_width.kurtosis, finite_width.log_norm_moments):
    add("finite_width", f, ("relu", 2, 4), {}, 0, ACTIVATION + NONE, ACT_NAMES)
    add("finite_width", f, ("relu", 2, 4), {}, 1, INT_MIN1 + NONE + [("huge", 10**30)], "depth")
    add("finite_width", f, ("relu", 2, 4), {}, 2, INT_MIN1 + NONE + [("nan", NAN)], "width")
    add("finite_width", f, ("relu", 2, 4), {}, "distribution", CHOICE + NONE)
add("finite_width", finite_width.log_norm_moments, ("relu", 2, 4), {}, "scheme", CHOICE)
add(
    "finite_width",
    finite_width.mean_second_moment,
    ("relu", 2),
    {},
    1,
    INT_MIN1 + NONE + [("huge", 10**30)],
    "depth",
)
add("finite_width", finite_width.mean_second_moment, ("relu", 2), {}, "sigma_w2", POSITIVE)
add("finite_width", finite_width.mean_second_moment, ("relu", 2), {}, "sigma_b2", NONNEGATIVE)
add("finite_width", finite_width.mean_second_moment, ("relu", 2), {}, "input_std", POSITIVE)
add(
    "finite_width",
    finite_width.kurtosis_expr,
    ("relu", 2),
    {},
    1,
    INT_MIN1 + [("huge", 10**30)],
    "depth",
)
add("finite_width", finite_width.kurtosis_expr, ("relu", 2), {}, "distribution", CHOICE)
add(
    "finite_width",
    finite_width.weight_excess_kurtosis,
    ("normal",),
    {},
    0,
    CHOICE + NONE,
    "distribution",
)
add(
    "finite_width",
    finite_width.conditional_fourth_moment,
    (),
    {},
    "n_check",
    INT_MIN1 + [("huge", 10**30)],
)
for f in (
    finite_width.kurtosis_closed_form,
    finite_width.kurtosis_first_order,
    finite_width.moment_recursion,
    finite_width.ratio_second_moment,
    finite_width.log_ratio_exprs,
):
    # (a smooth activation gets a documented NotImplementedError: not a bad input)
    add(
        "finite_width",
        f,
        ("relu",),
        {},
        0,
        [("int", 3), ("unknown", "no_such_activation"), ("none", None)],
        ACT_NAMES,
    )
add(
    "finite_width",
    finite_width.to_latex,
    (sp.Integer(1),),
    {},
    0,
    [("str", "x"), ("none", None), ("int", 3)],
    "expr",
)


# -- layer 4: rng, stats, kernels, simulation, reference, jacobian ---------------------------
add("rng", rng.seed_key, (0,), {}, 0, INT_MIN0 + [("too_big", 2**128)], "seed")
for f in (rng.uniforms, rng.normals, rng.ziggurat_normals):
    add("rng", f, (0, 0, 3), {}, 1, INT_MIN0 + [("too_big", 2**64)], "stream")
    add("rng", f, (0, 0, 3), {}, 2, INT_MIN0 + [("huge", 2**62)], "n")
    add("rng", f, (0, 0, 3), {}, "offset", INT_MIN0 + [("too_big", 2**64)])
add("rng", rng.ziggurat_normals, (0, 0, 3), {}, "std", NONNEGATIVE)

add("stats", stats.Moments, (2,), {}, 0, INT_MIN1 + [("huge", 10**30)], "n_layers")
add_call(
    "stats",
    "Moments.add-wrong_shape",
    lambda: stats.Moments(2).add(np.ones((3, 5))),
    ("values", "shape"),
)
add_call("stats", "Moments.add-1d", lambda: stats.Moments(2).add(np.ones(2)), ("values", "shape"))
add_call("stats", "Moments.add-str", lambda: stats.Moments(2).add("ab"), "values")
add_call("stats", "ExactSum.add-nan", lambda: stats.ExactSum().add(np.array([NAN])), "values")
add_call("stats", "Moments.merge-int", lambda: stats.Moments(2).merge(42), ("other", "Moments"))
add_call(
    "stats",
    "Moments.merge-layers",
    lambda: stats.Moments(2).merge(stats.Moments(3)),
    ("layers", "n_layers"),
)

add(
    "kernels",
    initmath.engine.kernels.kernel_params,
    (initmath.activation("relu"),),
    {},
    0,
    [("str", "relu"), ("int", 3), ("none", None)],
    ("act", "activation"),
)

_SIM_BASE = dict(n_networks=2)
SIM_WIDTHS = WIDTHS + NONE + [("huge_2_40", [2**40] * 2), ("huge_2_31", [2**31] * 2)]
SIM_KEYS: list[tuple[str, list[tuple[str, object]], Any]] = [
    ("scheme", CHOICE + NONE, None),
    ("distribution", CHOICE + NONE, None),
    ("gain", NONNEGATIVE, None),
    ("mode", CHOICE, None),
    ("bias_std", NONNEGATIVE + NONE, None),
    ("input_std", POSITIVE + NONE, None),
    ("backward", [("str", "yes"), ("int", 1), ("none", None), ("list", [])], None),
]
for f, extra in ((initmath.simulate, _SIM_BASE), (initmath.predict, {})):
    mod = "simulation" if f is initmath.simulate else "verification"
    # predict evaluates formulas: huge widths are valid there (nothing is allocated)
    add(
        mod,
        f,
        ([2, 2], "relu"),
        extra,
        0,
        SIM_WIDTHS if f is initmath.simulate else WIDTHS + NONE,
        "widths",
    )
    add(mod, f, ([2, 2], "relu"), extra, 1, ACTIVATION + NONE, ACT_NAMES)
    for key, values, _ in SIM_KEYS:
        add(mod, f, ([2, 2], "relu"), extra, key, values)
    add(mod, f, ([2, 2], "relu"), {**extra, "scheme": "fixed"}, "std", NONNEGATIVE)
sim = initmath.simulate
# 2**63 networks is a valid (endless) run: streams go up to 2**64; past them is refused.
add(
    "simulation",
    sim,
    ([2, 2], "relu"),
    {},
    "n_networks",
    INT_MIN1 + NONE + [("one", 1), ("beyond_streams", 2**64 + 1)],
)
add("simulation", sim, ([2, 2], "relu"), _SIM_BASE, "n_inputs", INT_MIN1 + NONE + [("huge", 2**63)])
add("simulation", sim, ([2, 2], "relu"), _SIM_BASE, "seed", INT_MIN0 + NONE + [("too_big", 2**128)])
add("simulation", sim, ([2, 2], "relu"), _SIM_BASE, "threads", INT_MIN1 + [("too_many", 10**6)])
add(
    "simulation",
    sim,
    ([2, 2], "relu"),
    _SIM_BASE,
    "record",
    [
        ("unknown", "nonsense"),
        ("int_entry", ["second_moment", 3]),
        ("none", None),
        ("int", 3),
        ("none_entry", [None]),
    ],
)
add(
    "simulation",
    sim,
    ([2, 2], "relu"),
    {**_SIM_BASE, "record": ("histograms",)},
    "bins",
    INT_MIN1 + [("huge", 10**9), ("huger", 2**63)],
)
add(
    "simulation",
    sim,
    ([2, 2], "relu"),
    _SIM_BASE,
    "hist_range",
    [
        ("str", "x"),
        ("reversed", {"pre": (1.0, 0.0)}),
        ("nan", {"pre": (0.0, NAN)}),
        ("unknown_key", {"bad": (0.0, 1.0)}),
        ("str_pair", {"pre": "ab"}),
        ("one", {"pre": (0.0,)}),
        ("none_pair", {"pre": None}),
        ("list", [(0.0, 1.0)]),
        ("int", 3),
        ("inf", {"act": (-INF, 0.0)}),
    ],
)
add(
    "simulation",
    sim,
    ([2, 2], "relu"),
    _SIM_BASE,
    "first_network",
    INT_MIN0 + NONE + [("huger", 2**64)],
)  # first_network=2**63 with 2 networks is valid


@pytest.fixture(scope="module")
def result():
    """One real, tiny simulation (2 networks of width 2), for the methods and plots."""
    return initmath.simulate(
        [2, 2, 2], "relu", n_networks=2, backward=True, record=("mean", "histograms"), bins=4
    )


# Cases that need the result: (id, function of the result, names, value)
RESULT_CASES: list[Any] = []


def add_result(
    case_id: str, call: Callable[[Any], Any], names: tuple[str, ...] | str, value: object = None
) -> None:
    names = (names,) if isinstance(names, str) else names
    RESULT_CASES.append(pytest.param(call, names, value, id=case_id))


for vid, q in [("unknown", "nope"), ("int", 3), ("none", None), ("list", ["q"])]:
    add_result(
        f"simulation.estimate-quantity-{vid}", lambda r, q=q: r.estimate(q, 1), "quantity", q
    )
for vid, layer in [
    ("zero", 0),
    ("too_big", 3),
    ("negative", -1),
    ("float", 1.5),
    ("bool", True),
    ("str", "1"),
    ("none", None),
]:
    add_result(
        f"simulation.estimate-layer-{vid}",
        lambda r, layer=layer: r.estimate("q", layer),
        "layer",
        layer,
    )
for vid, other in [("int", 42), ("none", None), ("str", "x"), ("object", object())]:
    add_result(
        f"simulation.merge-other-{vid}",
        lambda r, other=other: r.merge(other),
        ("other", "SimulationResult"),
    )
add_result("simulation.merge-not_contiguous", lambda r: r.merge(r), ("contiguous", "networks"))


def _plot(call: Callable[[Any, Any], Any]) -> Callable[[Any], Any]:
    def run(r: Any) -> Any:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots()
        try:
            return call(r, ax)
        finally:
            plt.close(fig)

    return run


from initmath.practice import plotting  # noqa: E402  (after the cases of the engine)

for vid, kw, names in [
    ("quantity_unknown", dict(quantity="nope"), "quantity"),
    ("quantity_int", dict(quantity=3), "quantity"),
    ("predicted_short", dict(predicted=[1.0]), "predicted"),
    ("predicted_str", dict(predicted="ab"), "predicted"),
    ("predicted_nan", dict(predicted=[NAN, 1.0]), "predicted"),
    ("z_negative", dict(z=-1.0), "z"),
    ("z_nan", dict(z=NAN), "z"),
    ("z_str", dict(z="2"), "z"),
    ("label_int", dict(label=3), "label"),
    ("logy_str", dict(logy="yes"), "logy"),
    ("result_none", dict(result=None), "result"),
    ("ax_none", dict(ax=None), "ax"),
]:

    def plot_moments(r, ax, kw=kw):
        args = {"ax": ax, "result": r, "predicted": [2.0, 2.0], **kw}
        return plotting.plot_moments(
            args.pop("ax"), args.pop("result"), args.pop("predicted"), **args
        )

    add_result(f"plotting.plot_moments-{vid}", _plot(plot_moments), names, next(iter(kw.values())))
for vid, kw, names in [
    ("kind_unknown", dict(kind="nope"), "kind"),
    ("kind_int", dict(kind=3), "kind"),
    ("layers_zero", dict(layers=[0]), "layers"),
    ("layers_too_big", dict(layers=[3]), "layers"),
    ("layers_negative", dict(layers=[-1]), "layers"),
    ("layers_float", dict(layers=[1.5]), "layers"),
    ("layers_str", dict(layers="1"), "layers"),
    ("density_str", dict(density="yes"), "density"),
    ("ax_int", dict(ax=3), "ax"),
]:
    add_result(
        f"plotting.plot_histograms-{vid}",
        _plot(lambda r, ax, kw=kw: plotting.plot_histograms(r, **kw)),
        names,
        next(iter(kw.values())),
    )
add_result(
    "plotting.plot_histograms-result_none",
    _plot(lambda r, ax: plotting.plot_histograms(None)),
    "result",
)

# reference: the NumPy simulation
_REF = reference.simulate_numpy
add("reference", _REF, ([2, 2], "relu"), dict(n_networks=2), 0, WIDTHS + NONE, "widths")
add("reference", _REF, ([2, 2], "relu"), dict(n_networks=2), 1, ACTIVATION[:3], ACT_NAMES)
add("reference", _REF, ([2, 2], "relu"), {}, "n_networks", INT_MIN1 + [("one", 1)])
add("reference", _REF, ([2, 2], "relu"), dict(n_networks=2), "n_inputs", INT_MIN1)
add("reference", _REF, ([2, 2], "relu"), dict(n_networks=2), "seed", INT_MIN0)
add("reference", _REF, ([2, 2], "relu"), dict(n_networks=2), "bias_std", NONNEGATIVE)
add("reference", _REF, ([2, 2], "relu"), dict(n_networks=2), "input_std", POSITIVE)
add("reference", _REF, ([2, 2], "relu"), dict(n_networks=2), "batch", INT_MIN1)
add(
    "reference",
    _REF,
    ([2, 2], "relu"),
    dict(n_networks=2),
    "distribution",
    CHOICE + [("orthogonal", "orthogonal")],
)
add("reference", reference.batch_size, ([2, 2],), {}, 0, WIDTHS, "widths")
add("reference", reference.batch_size, ([2, 2],), {}, "n_inputs", INT_MIN1)
add("reference", reference.batch_size, ([2, 2],), {}, "memory", INT_MIN1)

# jacobian
_JS = jacobian.jacobian_spectrum
_JB = dict(n_networks=2)
add("jacobian", _JS, ("tanh", 2, 2), _JB, 0, ACTIVATION[:3] + NONE, ACT_NAMES)
add("jacobian", _JS, ("tanh", 2, 2), _JB, 1, INT_MIN1 + NONE + [("huge", 10**30)], "depth")
add("jacobian", _JS, ("tanh", 2, 2), _JB, 2, INT_MIN1 + NONE + [("huge", 10**30)], "width")
add("jacobian", _JS, ("tanh", 2, 2), _JB, "distribution", CHOICE)  # None: not given
add("jacobian", _JS, ("tanh", 2, 2), _JB, "sigma_w2", POSITIVE)
add("jacobian", _JS, ("tanh", 2, 2), _JB, "sigma_b2", NONNEGATIVE)
add("jacobian", _JS, ("tanh", 2, 2), {}, "n_networks", INT_MIN1 + [("one", 1)])
add("jacobian", _JS, ("tanh", 2, 2), _JB, "seed", INT_MIN0 + NONE)
add(
    "jacobian",
    _JS,
    ("tanh", 2, 2),
    _JB,
    "depths",
    [("zero", [0]), ("too_deep", [3]), ("float", [1.5]), ("str", "1"), ("empty", [])],
)
add(
    "jacobian",
    _JS,
    ("tanh", 2, 2),
    _JB,
    "spectrum_depths",
    [("zero", [0]), ("too_deep", [3]), ("float", [1.5]), ("str", "1")],
)
_PRV = jacobian.predicted_relative_variance
add("jacobian", _PRV, ("relu", [1, 2]), {}, 0, ACTIVATION[:3] + NONE, ACT_NAMES)
add(
    "jacobian",
    _PRV,
    ("relu", [1, 2]),
    {},
    1,
    [
        ("zero", [0]),
        ("negative", [-1]),
        ("float", [1.5]),
        ("str", "1"),
        ("none", None),
        ("huge", [10**30]),
    ],
    "depths",
)
add("jacobian", _PRV, ("relu", [1, 2]), {}, "distribution", CHOICE)  # None: not given
add("jacobian", _PRV, ("relu", [1, 2]), {}, "sigma_w2", POSITIVE)
add("jacobian", _PRV, ("relu", [1, 2]), {}, "sigma_b2", NONNEGATIVE)
add("jacobian", _PRV, ("relu", [1, 2]), {}, "input_q", POSITIVE)
add(
    "jacobian",
    jacobian.linear_gaussian_relative_variance,
    ([1, 2], 4),
    {},
    0,
    [("zero", [0]), ("float", [1.5]), ("str", "1"), ("none", None)],
    "depths",
)
add(
    "jacobian",
    jacobian.linear_gaussian_relative_variance,
    ([1, 2], 4),
    {},
    1,
    INT_MIN1 + NONE,
    "width",
)
_SN = jacobian.sample_network
_SNB = dict(rng=np.random.default_rng(0))
add("jacobian", _SN, (2, 2), _SNB, 0, INT_MIN1 + [("huge", 10**30)], "depth")
add("jacobian", _SN, (2, 2), _SNB, 1, INT_MIN1 + [("huge", 10**30)], "width")
add("jacobian", _SN, (2, 2), _SNB, "distribution", CHOICE)
add("jacobian", _SN, (2, 2), _SNB, "sigma_w2", POSITIVE)
add("jacobian", _SN, (2, 2), _SNB, "sigma_b2", NONNEGATIVE)
add(
    "jacobian",
    _SN,
    (2, 2),
    {},
    "rng",
    [("int_seed_str", "0"), ("none", None), ("object", object())],
)
_X2 = np.ones((2, 1))
_W2 = [np.eye(2), np.eye(2)]
_B2 = [np.zeros(2), np.zeros(2)]
for f in (jacobian.forward, jacobian.input_output_jacobian):
    add("jacobian", f, ("tanh", _X2, _W2, _B2), {}, 0, ACTIVATION[:3], ACT_NAMES)
    add(
        "jacobian",
        f,
        ("tanh", _X2, _W2, _B2),
        {},
        1,
        [
            ("wrong_shape", np.ones((3, 1))),
            ("nan", np.full((2, 1), NAN)),
            ("str", "ab"),
            ("none", None),
        ],
        "x",
    )
    add(
        "jacobian",
        f,
        ("tanh", _X2, _W2, _B2),
        {},
        2,
        [
            ("empty", []),
            ("mismatch", [np.eye(2), np.eye(3)]),
            ("none", None),
            ("nan", [np.full((2, 2), NAN), np.eye(2)]),
        ],
        "weights",
    )
    add(
        "jacobian",
        f,
        ("tanh", _X2, _W2, _B2),
        {},
        3,
        [("short", [np.zeros(2)]), ("wrong_shape", [np.zeros(3), np.zeros(2)]), ("none", None)],
        "biases",
    )
for f in (jacobian.derivative_moment_ratio, jacobian.relative_variance_closed_form):
    add(
        "jacobian",
        f,
        ("relu",),
        {},
        0,
        [("int", 3), ("unknown", "no_such_activation"), ("none", None)],
        ACT_NAMES,
    )
add("jacobian", jacobian.relative_variance_closed_form, ("relu",), {}, "distribution", CHOICE)
add("jacobian", jacobian.relative_variance_recursion, (), {}, "distribution", CHOICE + NONE)

# verification
_VB = dict(widths=[2, 2], n_networks=2)
_V = initmath.verify
add(
    "verification",
    _V,
    ("he",),
    _VB,
    0,
    [("int", 3), ("none", None), ("list", ["he"]), ("unknown", "no.such.formula"), ("empty", "")],
    ("target", "formula"),
)
add("verification", _V, ("he",), _VB, "activation", ACTIVATION, ACT_NAMES)
add("verification", _V, ("he",), dict(n_networks=2), "widths", WIDTHS, "widths")
add("verification", _V, ("he",), dict(widths=[2, 2]), "n_networks", INT_MIN1 + [("one", 1)])
add("verification", _V, ("he",), _VB, "seed", INT_MIN0 + NONE)
add("verification", _V, ("he",), _VB, "level", POSITIVE + NONE + [("one", 1.0), ("big", 1.5)])
add("verification", _V, ("he",), _VB, "threads", INT_MIN1)
add(
    "verification",
    _V,
    ("he",),
    _VB,
    "scale",
    WRONG_TYPE_NUM + NONFINITE + NONE + [("negative", -1.0)],
)
add_call("verification", "verify-unknown_option", lambda: _V("he", nonsense=1, **_VB), "nonsense")
add_call("verification", "verify-n_inputs", lambda: _V("he", n_inputs=2, **_VB), "n_inputs")
add_call(
    "verification",
    "verify-formula_with_widths",
    lambda: _V("he.variance", widths=[2, 2]),
    ("widths", "formula"),
)
_VA = verification.verify_all
add("verification", _VA, (), {}, "n_networks", INT_MIN1 + [("one", 1)])
add("verification", _VA, (), {}, "seed", INT_MIN0 + NONE)
add("verification", _VA, (), {}, "level", POSITIVE + NONE + [("one", 1.0)])
add("verification", _VA, (), {}, "threads", INT_MIN1)
add("verification", _VA, (), {}, "progress", [("str", "x"), ("int", 3)])


# -- layer 5: training, lsuv, datasets --------------------------------------------------------
_NET = training.network([2, 3, 2], "relu", seed=0)
_XT = np.array([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]])
_YT = np.array([0, 1, 1])
X_BAD = [
    ("empty", np.empty((0, 2))),
    ("wrong_width", np.ones((3, 5))),
    ("1d", np.ones(2)),
    ("nan", np.array([[NAN, 0.0], [1.0, 1.0], [0.0, 0.0]])),
    ("inf", np.array([[INF, 0.0], [1.0, 1.0], [0.0, 0.0]])),
    ("str", "ab"),
    ("none", None),
    ("complex", np.ones((3, 2)) * 1j),
    ("object", object()),
]
Y_BAD = [
    ("float", np.array([0.0, 1.0, 1.0])),
    ("out_of_range", np.array([0, 1, 2])),
    ("negative", np.array([0, -1, 1])),
    ("wrong_length", np.array([0, 1])),
    ("2d", np.array([[0, 1, 1]])),
    ("str", "ab"),
    ("none", None),
    ("bool", np.array([True, False, True])),
]
add("training", training.network, ([2, 3, 2], "relu"), {}, 0, WIDTHS + NONE, "widths")
add("training", training.network, ([2, 3, 2], "relu"), {}, 1, ACTIVATION + NONE, ACT_NAMES)
add("training", training.network, ([2, 3, 2], "relu"), {}, "scheme", CHOICE + NONE)
add("training", training.network, ([2, 3, 2], "relu"), {}, "distribution", CHOICE + NONE)
add("training", training.network, ([2, 3, 2], "relu"), {}, "gain", NONNEGATIVE)
add("training", training.network, ([2, 3, 2], "relu"), {}, "mode", CHOICE)
add("training", training.network, ([2, 3, 2], "relu"), {"scheme": "normal"}, "std", NONNEGATIVE)
add("training", training.network, ([2, 3, 2], "relu"), {}, "seed", INT_MIN0 + NONE)


def _train(**kw: object) -> object:
    args = {"net": _NET.copy(), "x": _XT, "y": _YT, "epochs": 1, **kw}
    return training.train(args.pop("net"), args.pop("x"), args.pop("y"), **args)


for key, values in [
    ("net", [("none", None), ("int", 3), ("dict", {"weights": []})]),
    ("x", X_BAD),
    ("y", Y_BAD),
    ("epochs", INT_MIN1 + NONE),
    ("batch_size", INT_MIN1 + NONE),
    ("learning_rate", POSITIVE + NONE),
    ("momentum", NONNEGATIVE + NONE + [("one", 1.0), ("str_number", "0.9")]),
    ("seed", INT_MIN0 + NONE),
]:
    for vid, value in values:
        add_call(
            "training",
            f"train-{key}-{vid}",
            lambda key=key, value=value: _train(**{key: value}),
            key,
            value,
        )
for vid, value in X_BAD:
    add_call(
        "training",
        f"train-x_test-{vid}",
        lambda value=value: _train(x_test=value, y_test=_YT),
        "x_test",
        value,
    )
for vid, value in Y_BAD:
    add_call(
        "training",
        f"train-y_test-{vid}",
        lambda value=value: _train(x_test=_XT, y_test=value),
        "y_test",
        value,
    )
add_call(
    "training", "train-y_test_without_x_test", lambda: _train(y_test=_YT), ("y_test", "x_test")
)
add_call(
    "training", "train-x_test_without_y_test", lambda: _train(x_test=_XT), ("y_test", "x_test")
)
for f in (training.forward, training.loss_and_gradients, training.accuracy):
    extra = () if f is training.forward else (_YT,)
    add("training", f, (_NET, _XT, *extra), {}, 0, [("none", None), ("int", 3)], "net")
    add("training", f, (_NET, _XT, *extra), {}, 1, X_BAD, "x")
    if extra:
        add("training", f, (_NET, _XT, _YT), {}, 2, Y_BAD, "y")
_HIST = training.History(test_accuracy=[0.5], train_accuracy=[0.5])
add(
    "training",
    _HIST.epochs_to,
    (0.5,),
    {},
    0,
    WRONG_TYPE_NUM + NONFINITE + NONE,
    "target",
    label="History.epochs_to",
)
add("training", _HIST.epochs_to, (0.5,), {}, "on", CHOICE + NONE, label="History.epochs_to")

_XL = np.random.default_rng(0).standard_normal((8, 2))
X_BAD_L = [(vid, v) for vid, v in X_BAD] + [("one_example", np.ones((1, 2)))]
add("lsuv", lsuv.lsuv, ([2, 3, 2], "tanh", _XL), {}, 0, WIDTHS + NONE, "widths")
add("lsuv", lsuv.lsuv, ([2, 3, 2], "tanh", _XL), {}, 1, ACTIVATION + NONE, ACT_NAMES)
add("lsuv", lsuv.lsuv, ([2, 3, 2], "tanh", _XL), {}, 2, X_BAD_L, "x")
for f, args in ((lsuv.lsuv, ([2, 3, 2], "tanh", _XL)), (lsuv.lsuv_network, (_NET, _XL))):
    add("lsuv", f, args, {}, "tol", POSITIVE + NONE)
    add("lsuv", f, args, {}, "max_iter", INT_MIN1 + NONE)
add("lsuv", lsuv.lsuv, ([2, 3, 2], "tanh", _XL), {}, "seed", INT_MIN0 + NONE)
add("lsuv", lsuv.lsuv_network, (_NET, _XL), {}, 0, [("none", None), ("int", 3)], "net")
add("lsuv", lsuv.lsuv_network, (_NET, _XL), {}, 1, X_BAD_L, "x")
add("lsuv", lsuv.layer_variances, (_NET, _XL), {}, 0, [("none", None), ("int", 3)], "net")
add("lsuv", lsuv.layer_variances, (_NET, _XL), {}, 1, X_BAD_L, "x")

add(
    "datasets",
    datasets.digits,
    (),
    {},
    "test_fraction",
    POSITIVE + NONE + [("one", 1.0), ("above_one", 1.5)],
)
add("datasets", datasets.digits, (), {}, "seed", INT_MIN0 + NONE)
add(
    "datasets", datasets.digits, (), {}, "standardize", [("str", "yes"), ("int", 1), ("none", None)]
)


# -- the command line -------------------------------------------------------------------------
CLI_CASES = [
    pytest.param(["verify", "no.such.formula"], "no.such.formula", id="unknown_formula"),
    pytest.param(["verify", "relu.mean", "--networks", "x"], "--networks", id="networks_str"),
    pytest.param(["verify", "relu.mean", "--networks", "1"], "--networks", id="networks_one"),
    pytest.param(["verify", "relu.mean", "--networks", "0"], "--networks", id="networks_zero"),
    pytest.param(["verify", "relu.mean", "--networks", "2.5"], "--networks", id="networks_float"),
    pytest.param(["verify", "relu.mean", "--level", "2"], "--level", id="level_big"),
    pytest.param(["verify", "relu.mean", "--level", "nan"], "--level", id="level_nan"),
    pytest.param(["verify", "relu.mean", "--level", "0"], "--level", id="level_zero"),
    pytest.param(["verify", "relu.mean", "--seed", "-1"], "--seed", id="seed_negative"),
    pytest.param(["verify", "relu.mean", "--seed", "x"], "--seed", id="seed_str"),
    pytest.param(["verify", "relu.mean", "--threads", "0"], "--threads", id="threads_zero"),
    pytest.param(
        ["verify", "relu.mean", "--threads", "100000"], "--threads", id="threads_too_many"
    ),
    pytest.param(["verify", "--select", "zzz*"], "zzz*", id="select_matches_nothing"),
    pytest.param(["verify", "relu.mean", "--select", "relu"], "not both", id="select_and_names"),
    pytest.param(["verify", "--nonsense"], "--nonsense", id="unknown_option"),
    pytest.param(["frobnicate"], "frobnicate", id="unknown_command"),
    pytest.param([], "command", id="no_command"),
]


# -- the tests ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("module", "call", "names", "value"), CASES)
def test_bad_input(module, call, names, value):
    _assert_refused(call, names, value)


@pytest.mark.parametrize(("call", "names", "value"), RESULT_CASES)
def test_bad_input_result_methods(result, call, names, value):
    _assert_refused(lambda: call(result), names, value)


@pytest.mark.parametrize(("argv", "fragment"), CLI_CASES)
def test_bad_command_line(argv, fragment, capsys):
    from initmath.__main__ import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    assert info.value.code == 2, captured.err
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("initmath: error: ") and fragment in lines[0], lines[0]
    assert captured.out == ""


# -- documented results at the edges: valid, and exactly what the docs say -----------------------
def test_documented_edge_results():
    # huge but valid sizes: integer fans are exact
    assert initmath.fans((2**40, 2**41)) == (2**41, 2**40)
    assert initmath.fans((10**30, 3, 2, 2), "torch") == (12, 4 * 10**30)
    # a huge fan gives a tiny variance, exactly 2/fan (He)
    assert initmath.variance("he", 10**30) == pytest.approx(2.0 / 1e30, rel=1e-15)
    # numpy scalars are numbers
    assert initmath.variance("he", np.int64(8)) == 0.25
    # zero gain / zero std are allowed and give zero weights
    assert initmath.variance("he", 10, gain=0.0) == 0.0
    assert not initmath.init((2, 3), "normal", std=0.0, rng=0).any()
    # truncated_normal_std is a decreasing-to-zero function of small cuts: beta^2 ~ c^2/3
    assert math.isclose(initmath.truncated_normal_std(1e-8), 1e-8 / math.sqrt(3), rel_tol=1e-12)
    assert initmath.truncated_normal_std(1e3) == 1.0


def test_numpy_integer_power_is_an_integer():
    # E[relu(z)^2] = 1/2 for z ~ N(0, 1); a NumPy integer power is the same power
    assert initmath.moment("relu", 1.0, np.int64(2)).value == 0.5
    assert initmath.derivative_moment("relu", 1.0, np.int64(2)).value == 0.5


def test_battery_size():
    # The acceptance asks for a battery over the whole API; keep it from shrinking unnoticed.
    assert len(CASES) + len(RESULT_CASES) + len(CLI_CASES) >= 300
