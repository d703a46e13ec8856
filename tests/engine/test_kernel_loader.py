"""Loading generated modules, ``initmath.engine.kernel_loader``, on a tiny module (compiles in
a fraction of a second): the disk cache writes and checks every file, the in-memory path
touches no disk."""

from __future__ import annotations

import os
from pathlib import Path

import numba
import pytest

from initmath.engine import kernel_cache as kc
from initmath.engine import kernel_loader as kl

DIGEST = "0123456789abcdef0123"
SOURCE = """\
import numba


@numba.njit(cache=True)
def run(x):
    return x + 1
"""


@pytest.fixture
def cache_env(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("INITMATH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    yield kc.kernels_dir()
    for suffix in ("", "_memory"):
        kl.sys.modules.pop(f"initmath_kernel_{DIGEST}{suffix}", None)


def test_in_memory_uses_no_disk_cache(cache_env):
    module = kl.in_memory(SOURCE, DIGEST)
    assert module.run(2) == 3
    assert isinstance(module.run, kl.KernelRun) and module.run.entry is None
    assert isinstance(module.run._dispatcher._cache, numba.core.caching.NullCache)
    assert not kl.compiled_on_disk(module)
    assert list(cache_env.iterdir()) == []


def test_from_cache_writes_the_module_and_a_manifest_of_numba_files(cache_env):
    module = kl.from_cache(SOURCE, DIGEST)
    entry = module.run.entry
    assert entry.py.read_text() == SOURCE and not kl.compiled_on_disk(module)
    assert module.run(2) == 3  # compiles; Numba writes its index and data file
    assert kl.compiled_on_disk(module)
    manifest = kc.read_manifest(entry.manifest, DIGEST)
    files = entry.numba_files()
    assert {n for kind, n in manifest if kind == "numba"} == set(files) and len(files) == 2
    assert manifest[("src", entry.py.name)] == kc.sha256(SOURCE.encode())


def test_a_rewritten_module_drops_the_numba_files(cache_env):
    first = kl.from_cache(SOURCE, DIGEST)
    first.run(2)
    py = first.run.entry.py
    py.write_text(SOURCE.replace("x + 1", "x + 2"))  # tampered with on disk
    kl.sys.modules.pop(f"initmath_kernel_{DIGEST}", None)
    again = kl.from_cache(SOURCE, DIGEST)
    assert py.read_text() == SOURCE  # the generated source, not what was there
    assert again.run.entry.numba_files() == []  # nothing compiled from other source survives
    assert again.run(2) == 3


def test_verify_drops_what_the_manifest_does_not_vouch_for(tmp_path):
    entry = kl.CacheEntry(tmp_path, tmp_path, DIGEST, b"source")
    other = tmp_path / "initmath_kernel_ffffffffffffffffffff.run-12.py311.nbi"  # another kernel
    other.write_bytes(b"x")
    names = [
        f"initmath_kernel_{DIGEST}.{f}-12.py311.{s}"
        for f in ("run", "net")
        for s in ("nbi", "1.nbc")
    ]
    for n in names:
        (tmp_path / n).write_bytes(n.encode())
    good = {("numba", n): kc.sha256(n.encode()) for n in names}
    entry.verify(good)
    assert entry.numba_files() == sorted(names)
    good[("numba", names[0])] = kc.sha256(b"something else")  # the run index is not vouched for
    entry.verify(good)
    assert entry.numba_files() == sorted(names[2:])  # with it, run's data file goes too
    entry.verify(None)
    assert entry.numba_files() == [] and other.exists()


def test_from_cache_or_memory_falls_back_with_one_warning(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    root.mkdir()
    os.chmod(root, 0o777)  # world-writable: refused
    monkeypatch.setenv("INITMATH_CACHE_DIR", str(root))
    monkeypatch.setattr(kc, "_WARNED", set())
    with pytest.warns(kc.KernelCacheWarning, match="world-writable"):
        module = kl.from_cache_or_memory(SOURCE, DIGEST)
    assert module.run.entry is None and module.run(1) == 2
    assert list(root.iterdir()) == []
    kl.sys.modules.pop(f"initmath_kernel_{DIGEST}_memory", None)
