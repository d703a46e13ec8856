"""The generated kernel modules of ``initmath.engine.kernels`` (no compile): clean Python that
the project's linter accepts, expressions laid out without changing them, parameters that
share one kernel, and a name (digest) that changes with every module the kernel uses."""

from __future__ import annotations

import ast
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from initmath.engine import jit, kernel_printer, kernels
from initmath.theory.activations import activation, activation_names, stable

ROOT = Path(__file__).resolve().parents[2]
LINE = 100  # pyproject's [tool.ruff] line-length


def _ruff() -> list[str] | None:
    """The command that runs ruff: the one next to the interpreter, else on the PATH."""
    beside = Path(sys.executable).with_name("ruff")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("ruff")
    return [found] if found else None


@pytest.mark.skipif(_ruff() is None, reason="ruff is not installed")
@pytest.mark.parametrize("name", ["relu", "tanh", ("leaky_relu", 0.2), "gelu"], ids=str)
def test_generated_module_is_clean_for_the_linter(name, tmp_path):
    path = tmp_path / "initmath_kernel_generated.py"
    path.write_text(kernels.kernel_source(activation(name)))
    out = subprocess.run(
        [*_ruff(), "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), str(path)],
        cwd=ROOT,  # the project's first-party package, for the import order
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr


def _functions(source: str) -> dict[str, ast.FunctionDef]:
    return {n.name: n for n in ast.parse(source).body if isinstance(n, ast.FunctionDef)}


def test_the_generated_module_holds_only_what_depends_on_the_activation():
    source = kernels.kernel_source(activation("tanh"))
    assert set(_functions(source)) == {"phi", "dphi", "activate", "back_activate", "network", "run"}
    imported = {
        n.module if isinstance(n, ast.ImportFrom) else a.name
        for n in ast.parse(source).body
        if isinstance(n, (ast.Import, ast.ImportFrom))
        for a in n.names
    }
    assert imported == {
        "math",
        "numba",
        "numpy",
        "initmath.engine.kernel_checks",
        "initmath.engine.kernel_convs",
        "initmath.engine.kernel_draws",
        "initmath.engine.kernel_norms",
        "initmath.engine.kernel_skips",
        "initmath.engine.kernel_source",
    }
    assert len(source.splitlines()) < 200  # the driver, with its skips and normalizations


@pytest.mark.parametrize("name", activation_names())
def test_lines_fit_and_wrapping_keeps_the_expression(name):
    act = activation(name)
    source = kernels.kernel_source(act)
    assert max(len(line) for line in source.splitlines()) <= LINE
    phi, dphi, syms = kernels._family(kernels._bound(act))
    for fn, expr in (("phi", phi), ("dphi", dphi)):
        code = kernel_printer.print_expression(stable(expr), syms, "expression")
        returned = _functions(source)[fn].body[-1]
        assert ast.dump(returned.value) == ast.dump(ast.parse(code, mode="eval").body)


def test_the_digest_covers_every_module_the_kernel_uses(monkeypatch):
    source = kernels.kernel_source(activation("relu"))
    deps = kernels._dependencies(source)
    assert deps == [
        f"initmath.engine.{m}"
        for m in (
            "jit",
            "kernel_checks",
            "kernel_convs",
            "kernel_draws",
            "kernel_norms",
            "kernel_skips",
            "kernel_source",
            "philox",
            "streams",
            "ziggurat",
        )
    ]
    before = kernels._digest(source)
    for name in [*deps, "initmath.engine.stats"]:
        path = jit.PACKAGE_DIR.parent.joinpath(*name.split(".")).with_suffix(".py")
        with monkeypatch.context() as m:
            m.setitem(jit._TEXTS, path, jit._text(path) + "\n# edited\n")
            assert (kernels._digest(source) != before) is (name in deps), name
    assert kernels._digest(source) == before


def test_parameter_values_share_one_kernel():
    a, b = activation(("leaky_relu", 0.01)), activation(("leaky_relu", 0.3))
    assert kernels.kernel_source(a) == kernels.kernel_source(b)
    assert "p[0]" in kernels.kernel_source(a) and "0.3" not in kernels.kernel_source(b)
    assert kernels.kernel_params(a).tolist() == [0.01]
    assert kernels.kernel_params(b).tolist() == [0.3]
    elu = activation(("elu", 0.5))
    assert kernels.kernel_params(elu).tolist() == [0.5]


def test_printed_code_is_exact_for_builtins():
    # constants are float literals rounded once; the printed phi agrees with NumPy's
    x = np.linspace(-3, 3, 13)
    for name in ("relu", "tanh", "gelu", "selu", "silu", "elu", "softplus"):
        act = activation(name)
        phi = _functions(kernels.kernel_source(act))["phi"].body[-1].value
        code = compile(ast.Expression(phi), "<phi>", "eval")
        ns = {"math": math, "p": kernels.kernel_params(act), "max": max, "min": min}
        got = np.array([eval(code, dict(ns, x=float(v))) for v in x])  # noqa: S307 - our own code
        np.testing.assert_allclose(got, act.numpy(x), rtol=1e-14, atol=1e-300)
