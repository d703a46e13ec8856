"""The kernel cache (issue 11, items 10-12): damaged, unsafe or full caches are repaired or
refused, never trusted.

Damage is always done to a temporary ``INITMATH_CACHE_DIR``, and every run that loads a
damaged cache runs in a subprocess (a bad cache file used to crash the whole process). Compiles
take 10-60 s, so one warm cache is built per module (by two processes at once: the file lock)
and copied for each case, and cases that recompile everything share one damaged cache. Those
are marked ``slow``.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from initmath.engine import kernel_cache as kc
from initmath.engine import kernels

ROOT = Path(__file__).resolve().parents[2]

CHILD = """
import json, os, signal, sys, threading, time, warnings
import initmath
from initmath.engine import kernels
from initmath.theory.activations import activation
from initmath.engine.kernels import kernel_module
interrupted = None
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    if "--interrupt" in sys.argv:  # Ctrl-C 2 s into the first call (while compiling)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        threading.Timer(2.0, os.kill, (os.getpid(), signal.SIGINT)).start()
        t = time.time()
        try:
            initmath.simulate([16, 16, 16], "relu", n_networks=4, seed=0)
        except KeyboardInterrupt:
            interrupted = time.time() - t
    t = time.time()
    r = initmath.simulate([16, 16, 16], "relu", n_networks=4, seed=0)
    seconds = time.time() - t
st = kernel_module(activation("relu")).run.stats
print(json.dumps({"q": [float(v).hex() for v in r.q],
                  "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
                  "hits": sum(st.cache_hits.values()), "children": kernels.child_compiles,
                  "interrupted": interrupted, "seconds": seconds}))
"""


def start_child(cache: Path, home: Path, preexec=None, args=()) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env.update(INITMATH_CACHE_DIR=str(cache), HOME=str(home), PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec,
    )


def finish_child(proc: subprocess.Popen) -> dict:
    try:
        out, err = proc.communicate(timeout=900)
    finally:
        proc.kill()
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def run_child(cache: Path, home: Path, preexec=None, args=()) -> dict:
    return finish_child(start_child(cache, home, preexec, args))


def tree(path: Path) -> dict[str, bytes | str]:
    """Every entry under path: file bytes, or the target of a symlink."""
    out: dict[str, bytes | str] = {}
    for p in sorted(path.rglob("*")):
        rel = str(p.relative_to(path))
        if p.is_symlink():
            out[rel] = "-> " + os.readlink(p)
        elif p.is_file():
            out[rel] = p.read_bytes()
    return out


def assert_consistent(cache: Path) -> None:
    """The manifest lists, with the right SHA-256, the module and every Numba file."""
    kdir = cache / "kernels"
    (manifest,) = kdir.glob("initmath_kernel_*.sha256")
    digest = manifest.name.split("_")[2].split(".")[0]
    listed = {}
    for line in manifest.read_text("ascii").splitlines():
        h, kind, name = line.split(" ")
        path = kdir / name if kind == "src" else kdir / "__pycache__" / name
        assert not path.is_symlink() and hashlib.sha256(path.read_bytes()).hexdigest() == h
        listed[name] = kind
    assert listed[f"initmath_kernel_{digest}.py"] == "src"
    numba_files = {p.name for p in (kdir / "__pycache__").iterdir() if p.suffix in (".nbi", ".nbc")}
    assert any(n.endswith(".nbi") and ".run-" in n for n in numba_files)
    assert numba_files == {n for n, k in listed.items() if k == "numba"}


@pytest.fixture(scope="module")
def warm(tmp_path_factory) -> tuple[Path, list[str]]:
    """A cache holding the compiled relu kernel, and the results of its first run.

    Built by two processes started together on the empty cache: each has the kernel compiled
    by a child process; the children take turns (a file lock), and both runs agree.
    """
    base = tmp_path_factory.mktemp("warm")
    cache, home = base / "cache", base / "home"
    home.mkdir()
    procs = [start_child(cache, home) for _ in range(2)]
    first, second = (finish_child(p) for p in procs)
    for out in (first, second):
        assert out["warnings"] == [] and out["children"] == 1 and out["hits"] == 1
    assert first["q"] == second["q"]
    assert tree(home) == {}
    assert not [p.name for p in cache.rglob("*") if ".tmp" in p.name]
    assert_consistent(cache)
    return cache, first["q"]


def damaged(warm, tmp_path: Path) -> tuple[Path, Path, Path]:
    cache = tmp_path / "cache"
    shutil.copytree(warm[0], cache, symlinks=True)
    outside, home = tmp_path / "outside", tmp_path / "home"
    outside.mkdir()
    home.mkdir()
    return cache, outside, home


def numba_file(cache: Path, function: str, suffix: str) -> Path:
    (path,) = (cache / "kernels" / "__pycache__").glob(f"*.{function}-*{suffix}")
    return path


@pytest.mark.slow
def test_warm_cache_is_loaded_not_recompiled(warm, tmp_path):
    cache, outside, home = damaged(warm, tmp_path)
    before = tree(cache)
    out = run_child(cache, home)
    assert out["q"] == warm[1] and out["hits"] == 1 and out["warnings"] == []
    assert out["children"] == 0  # nothing to compile
    assert tree(cache) == before


@pytest.mark.slow
def test_corrupt_numba_files_are_dropped_and_recompiled(warm, tmp_path):
    # random bytes in the entry point's data file (a segfault before), a truncated index
    # (EOFError on every later run before) and a truncated data file
    cache, outside, home = damaged(warm, tmp_path)
    bad = {}
    numba_file(cache, "run", ".nbc").write_bytes(np.random.default_rng(0).bytes(4096))
    index = numba_file(cache, "network", ".nbi")
    index.write_bytes(index.read_bytes()[:40])
    data = numba_file(cache, "activate", ".nbc")
    data.write_bytes(data.read_bytes()[:1000])
    for f in (numba_file(cache, "run", ".nbc"), index, data):
        bad[f] = f.read_bytes()
    out = run_child(cache, home)
    assert out["q"] == warm[1] and out["warnings"] == [] and out["children"] == 1
    for f, damage in bad.items():  # each damaged file was dropped and written afresh
        assert f.read_bytes() != damage
    assert_consistent(cache)
    assert tree(home) == {} and tree(outside) == {}
    again = run_child(cache, home)  # and the repaired cache is then used
    assert again["q"] == warm[1] and again["hits"] == 1 and again["children"] == 0


@pytest.mark.slow
def test_garbled_source_and_planted_symlinks_are_replaced(warm, tmp_path):
    # Several damages at once (each makes every Numba file untrustworthy, so one recompile
    # serves them all): invalid UTF-8 in the kernel module (UnicodeDecodeError forever
    # before); the manifest and Numba's __pycache__ replaced by links to copies outside the
    # cache of exactly what was there (not to be read through or written through).
    cache, outside, home = damaged(warm, tmp_path)
    kdir = cache / "kernels"
    (py,) = kdir.glob("*.py")
    py.write_bytes(py.read_bytes()[:500] + b"\xff\xfe\x80 garbage \xc3")
    (manifest,) = kdir.glob("*.sha256")
    shutil.copy(manifest, outside / manifest.name)
    manifest.unlink()
    manifest.symlink_to(outside / manifest.name)
    shutil.copytree(kdir / "__pycache__", outside / "pycache")
    shutil.rmtree(kdir / "__pycache__")
    (kdir / "__pycache__").symlink_to(outside / "pycache", target_is_directory=True)
    before = tree(outside)
    out = run_child(cache, home)
    assert out["q"] == warm[1] and out["warnings"] == [] and out["children"] == 1
    assert tree(outside) == before
    assert not any(p.is_symlink() for p in kdir.rglob("*"))
    assert_consistent(cache)
    assert tree(home) == {}


def test_garbage_manifest_and_linked_module_are_damaged_entries(tmp_path):
    # the two damages the combined case above leaves out, on the readers directly
    (tmp_path / "m").write_bytes(np.random.default_rng(1).bytes(300))
    assert kc.read_manifest(tmp_path / "m", "0123456789abcdef0123") is None
    (tmp_path / "outside.py").write_text("x = 1\n")
    (tmp_path / "initmath_kernel_0123456789abcdef0123.py").symlink_to(tmp_path / "outside.py")
    assert kc.read_nofollow(tmp_path / "initmath_kernel_0123456789abcdef0123.py") is None


@pytest.mark.slow
def test_unusable_cache_falls_back_to_memory_with_one_warning(warm, tmp_path):
    # and Ctrl-C during that in-memory compile acts once it is done, leaving the compiled
    # kernel in place: the next simulate neither fails nor compiles again
    cache, outside, home = damaged(warm, tmp_path)
    os.chmod(cache, 0o777)  # world-writable: anyone could plant pickles
    before = tree(cache)
    out = run_child(cache, home, args=["--interrupt"])
    assert out["interrupted"] is not None and out["interrupted"] > 2.0
    assert out["q"] == warm[1] and out["seconds"] < 5.0 and out["children"] == 0
    assert len(out["warnings"]) == 1 and out["warnings"][0].startswith("KernelCacheWarning")
    assert "world-writable" in out["warnings"][0]
    assert tree(cache) == before and tree(home) == {}


@pytest.mark.slow
def test_full_disk_while_numba_writes_falls_back(warm, tmp_path):
    # the entry point must be recompiled, and its 0.5 MB data file cannot be written
    cache, outside, home = damaged(warm, tmp_path)
    for f in (cache / "kernels" / "__pycache__").glob("*.run-*"):
        f.unlink()

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))

    out = run_child(cache, home, preexec=limit_file_size)
    assert out["q"] == warm[1]
    assert len(out["warnings"]) == 1 and "KernelCacheWarning" in out["warnings"][0]
    leftovers = [p.name for p in cache.rglob("*") if ".tmp" in p.name]
    assert leftovers == []


# -- the cache directory (no compile) --------------------------------------------------------
@pytest.fixture
def cache_env(tmp_path, monkeypatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("INITMATH_CACHE_DIR", str(root))
    return root


def test_new_cache_directories_are_private(cache_env):
    kdir = kc.kernels_dir()
    assert kdir == cache_env / "kernels"
    assert stat.S_IMODE(os.stat(cache_env).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(kdir).st_mode) == 0o700
    assert list(kdir.iterdir()) == []  # the write probe leaves nothing behind


@pytest.mark.parametrize(
    "case",
    [
        "root symlink",
        "kernels symlink",
        "root file",
        "kernels file",
        "root world-writable",
        "kernels world-writable",
    ],
)
def test_unsafe_cache_directories_are_refused(cache_env, tmp_path, case):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    where, kind = case.split(" ")
    target = cache_env if where == "root" else cache_env / "kernels"
    target.parent.mkdir(parents=True, exist_ok=True)
    if kind == "symlink":
        target.symlink_to(elsewhere, target_is_directory=True)
    elif kind == "file":
        target.write_text("not a directory")
    else:
        target.mkdir(mode=0o700, exist_ok=True)
        os.chmod(target, 0o777)
    expected = {"symlink": "symbolic link", "file": "not a directory"}.get(kind, kind)
    with pytest.raises(kc.CacheUnusable, match=expected):
        kc.kernels_dir()
    assert list(elsewhere.iterdir()) == []
    with pytest.raises(OSError):
        kernels.cache_dir()


def test_foreign_cache_directory_is_refused(cache_env):
    cache_env.mkdir(mode=0o700)
    if os.getuid() == 0:
        os.chown(cache_env, 65534, 65534)
    else:
        pytest.skip("only root can give a directory away")  # pragma: no cover
    with pytest.raises(kc.CacheUnusable, match="owned by another user"):
        kc.kernels_dir()


def test_read_only_cache_directory_is_refused(cache_env):
    kdir = kc.kernels_dir()
    if os.getuid() == 0:  # root ignores modes: make it immutable instead
        subprocess.run(["chattr", "+i", str(kdir)], check=True)
    else:  # pragma: no cover
        os.chmod(kdir, 0o500)
    try:
        with pytest.raises(kc.CacheUnusable, match="not writable"):
            kc.kernels_dir()
    finally:
        if os.getuid() == 0:
            subprocess.run(["chattr", "-i", str(kdir)], check=True)
        os.chmod(kdir, 0o700)


def test_full_cache_directory_is_refused(cache_env):
    kdir = kc.kernels_dir()
    code = (
        "import resource, signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100)); "
        "from initmath.engine import kernel_cache as kc\n"
        "try:\n    kc.kernels_dir()\nexcept kc.CacheUnusable as e:\n    print('refused', e)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert out.startswith("refused") and "not writable" in out
    assert list(kdir.iterdir()) == []


def test_atomic_write_replaces_a_planted_symlink(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    d = tmp_path / "d"
    d.mkdir()
    (d / "target").symlink_to(victim)
    kc.write_atomic(d / "target", b"new")
    assert victim.read_text() == "precious"
    assert not (d / "target").is_symlink() and (d / "target").read_bytes() == b"new"
    assert stat.S_IMODE(os.stat(d / "target").st_mode) == 0o600


def test_atomic_write_cleans_up_when_the_disk_is_full(tmp_path, monkeypatch):
    def full(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(kc.os, "write", full)
    with pytest.raises(OSError, match="No space"):
        kc.write_atomic(tmp_path / "f.py", b"x" * 100)
    assert list(tmp_path.iterdir()) == []


def test_read_nofollow_refuses_symlinks(tmp_path):
    (tmp_path / "real").write_bytes(b"abc")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    assert kc.read_nofollow(tmp_path / "real") == b"abc"
    assert kc.read_nofollow(tmp_path / "link") is None
    assert kc.read_nofollow(tmp_path) is None
    assert kc.read_nofollow(tmp_path / "missing") is None


@pytest.mark.parametrize(
    "text",
    [
        b"",
        b"\xff\xfe",
        b"zz src initmath_kernel_0.py\n",
        b"a" * 64 + b" src ../etc/passwd\n",
        b"a" * 64 + b" numba initmath_kernel_0123456789abcdef0123.x\n",
    ],
)
def test_malformed_manifests_are_rejected(tmp_path, text):
    (tmp_path / "m").write_bytes(text)
    assert kc.read_manifest(tmp_path / "m", "0123456789abcdef0123") is None


def test_prune_keeps_the_most_recently_used_within_the_bound(tmp_path):
    now = time.time()
    for i, d in enumerate(["a" * 20, "b" * 20, "c" * 20, "d" * 20]):
        for suffix in (".py", ".sha256", ".run-1.py311.nbi"):
            p = tmp_path / f"initmath_kernel_{d}{suffix}"
            p.write_bytes(b"x" * 1000)
            os.utime(p, (now - 100 * i, now - 100 * i))  # a newest ... d oldest
    other = tmp_path / "unrelated.txt"
    other.write_text("keep")
    dropped = kc.prune([tmp_path], keep="d" * 20, limit=6500)
    assert sorted(dropped) == ["b" * 20, "c" * 20]
    left = {p.name[16:36] for p in tmp_path.glob("initmath_kernel_*")}
    assert left == {"a" * 20, "d" * 20} and other.exists()


@pytest.mark.parametrize("raw", ["-1", "nan", "lots", "inf"])
def test_bad_cache_size_bound_is_refused(monkeypatch, raw):
    monkeypatch.setenv("INITMATH_CACHE_MAX_MB", raw)
    with pytest.raises(ValueError, match=f"INITMATH_CACHE_MAX_MB.*{raw}"):
        kc.max_bytes()
