"""Compiling in a child process, ``initmath.engine.kernel_child``, without a kernel: the lock
is exclusive, a killed compile's temporary files are removed only when nobody holds the lock,
Ctrl-C is held back and then delivered, and the child gets its request and environment."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from initmath.engine import kernel_child as kch

DIGEST = "0123456789abcdef0123"


def test_the_lock_is_exclusive(tmp_path):
    first, second = kch.Lock(tmp_path, DIGEST), kch.Lock(tmp_path, DIGEST)
    assert first.acquire(blocking=False)
    try:
        assert not second.acquire(blocking=False)
    finally:
        first.release()
    assert second.acquire(blocking=False)
    second.release()
    assert (tmp_path / f"initmath_kernel_{DIGEST}.lock").exists()


def test_clean_partial_removes_temporary_files_only_when_unlocked(tmp_path):
    (tmp_path / "__pycache__").mkdir()
    junk = [
        tmp_path / f"initmath_kernel_{DIGEST}.py.tmp",
        tmp_path / "__pycache__" / f"initmath_kernel_{DIGEST}.run-5.py311.nbi.tmp.abc",
    ]
    keep = [
        tmp_path / f"initmath_kernel_{DIGEST}.py",
        tmp_path / "initmath_kernel_ffffffffffffffffffff.py.tmp",  # another kernel's
    ]
    for p in junk + keep:
        p.write_text("x")
    holder = kch.Lock(tmp_path, DIGEST)
    assert holder.acquire(blocking=False)
    kch.clean_partial(tmp_path, DIGEST)  # someone is compiling it: leave everything
    assert all(p.exists() for p in junk + keep)
    holder.release()
    kch.clean_partial(tmp_path, DIGEST)
    assert not any(p.exists() for p in junk) and all(p.exists() for p in keep)


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals")
def test_sigint_is_held_back_then_raised():
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    reached = False
    try:
        with pytest.raises(KeyboardInterrupt, match="compilation was completed first"):
            with kch.sigint_deferred():
                os.kill(os.getpid(), signal.SIGINT)
                reached = True  # the interrupt did not cut the block short
        assert reached
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


def test_the_child_reads_its_request_and_its_status_is_returned(tmp_path, monkeypatch):
    monkeypatch.setenv("INITMATH_CACHE_DIR", str(tmp_path / "cache"))
    code = (
        "import json, os, sys\n"
        "r = json.loads(sys.stdin.read())\n"
        "ok = r == {'source': 'src', 'digest': 'dig'} and os.environ['INITMATH_CACHE_DIR']\n"
        "import initmath\n"  # the package is importable
        "sys.exit(7 if ok else 1)\n"
    )
    assert kch.compile_in_child(code, "src", "dig", tmp_path) == 7
