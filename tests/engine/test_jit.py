"""``initmath.engine.jit``: the package closure of a module, and a Numba disk cache that goes
stale when any module in it changes (not only the function's own file)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numba
import pytest

from initmath.engine import jit, kernel_checks, kernel_draws, philox, streams, ziggurat

ENGINE = "initmath.engine"


def test_imported_modules_resolves_relative_imports_and_skips_attributes():
    source = (
        "import numpy\n"
        "from . import philox\n"
        "from .streams import fill_normal\n"
        "from ..core.checks import integer\n"
        "from initmath.engine.ziggurat import ziggurat_fill\n"
        "def f():\n"
        "    from .kernel_source import TINY\n"  # at any depth
    )
    assert jit.imported_modules(source, ENGINE) == {
        "initmath.engine",
        "initmath.engine.philox",
        "initmath.engine.streams",
        "initmath.core.checks",
        "initmath.engine.ziggurat",
        "initmath.engine.kernel_source",
    }
    assert jit.imported_modules("import numba\nfrom math import pi\n") == set()


def test_package_closure_follows_imports_recursively():
    assert jit.package_closure([f"{ENGINE}.ziggurat"]) == [
        f"{ENGINE}.{m}" for m in ("jit", "philox", "streams", "ziggurat")
    ]
    assert jit.package_closure([f"{ENGINE}.kernel_checks"]) == [
        f"{ENGINE}.{m}" for m in ("jit", "kernel_checks", "kernel_source")
    ]
    assert jit.package_closure(["numpy", f"{ENGINE}.philox.IntLike"]) == []


def test_modules_digest_depends_on_names_and_texts(monkeypatch):
    names = [f"{ENGINE}.philox", f"{ENGINE}.streams"]
    before = jit.modules_digest(names)
    assert jit.modules_digest(reversed(names)) == before
    assert jit.modules_digest(names[:1]) != before
    path = jit.PACKAGE_DIR / "engine" / "philox.py"
    monkeypatch.setitem(jit._TEXTS, path, jit._text(path) + "\n# edited\n")
    assert jit.modules_digest(names) != before
    with pytest.raises(ValueError, match="not a module"):
        jit.modules_digest([f"{ENGINE}.philox.jit"])


def test_dependency_digest_changes_with_a_dependency_only(monkeypatch):
    target = Path(streams.__file__)
    before = jit.dependency_digest(target)
    assert len(before) == 64 and jit.dependency_digest("<string>") == ""
    for name, changes in (("stats.py", False), ("philox.py", True), ("jit.py", True)):
        monkeypatch.setattr(jit, "_DIGESTS", {})
        path = jit.PACKAGE_DIR / "engine" / name
        with monkeypatch.context() as m:
            m.setitem(jit._TEXTS, path, jit._text(path) + "\n# edited\n")
            assert (jit.dependency_digest(target) != before) is changes, name


@pytest.mark.parametrize(
    "module", [philox, streams, ziggurat, kernel_draws, kernel_checks], ids=lambda m: m.__name__
)
def test_every_jitted_function_is_stamped_with_its_dependencies(module):
    dispatchers = [
        v
        for v in vars(module).values()
        if isinstance(v, numba.core.registry.CPUDispatcher)
        and v.py_func.__module__ == module.__name__
    ]
    assert dispatchers
    digest = jit.dependency_digest(module.__file__)
    for d in dispatchers:
        stamp = d._cache._cache_file._source_stamp
        assert isinstance(stamp, tuple) and stamp[1] == digest, d


def test_options_and_both_spellings():
    @jit.jit
    def plain(x):  # type: ignore[no-untyped-def]
        return x + 1

    @jit.jit(cache=False, nogil=False)
    def uncached(x):  # type: ignore[no-untyped-def]
        return x * 2

    assert plain(1) == 2 and uncached(3) == 6
    assert plain.targetoptions["nogil"] and not uncached.targetoptions.get("nogil", False)
    assert isinstance(plain._cache._cache_file._source_stamp, tuple)
    assert not hasattr(uncached._cache, "_cache_file")  # no disk cache to stamp


CHILD = """
import numpy as np
from initmath.engine import streams
out = np.empty(5)
streams.fill_uniform(np.uint64(1), np.uint64(0), 0, 0, out)
stats = streams.fill_uniform.stats
print(sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))
"""


@pytest.mark.slow
def test_editing_a_called_module_recompiles(tmp_path):
    # On a copy of the package: fill_uniform (streams.py) compiles, then loads from the
    # cache; after an edit of philox.py alone, which it calls, it compiles again.
    shutil.copytree(
        jit.PACKAGE_DIR, tmp_path / "initmath", ignore=shutil.ignore_patterns("__pycache__")
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["PYTHONPATH"] = str(tmp_path)

    def hits_misses() -> list[int]:
        out = subprocess.run(
            [sys.executable, "-c", CHILD], env=env, cwd=tmp_path, capture_output=True, text=True
        )
        assert out.returncode == 0, out.stderr[-2000:]
        return [int(v) for v in out.stdout.split()]

    assert hits_misses() == [0, 1]
    assert hits_misses() == [1, 0]
    with open(tmp_path / "initmath" / "engine" / "philox.py", "a") as f:
        f.write("\n# an edit of a module that streams.py calls into\n")
    assert hits_misses() == [0, 1]
