"""Compiling a kernel in a child process, so that Ctrl-C can never break this one.

Numba's first compilation in a process sets up shared typing state; an interrupt in the
middle leaves it half set up for the rest of the process. So a kernel not yet in the disk
cache is compiled by a child process (:func:`compile_in_child`), one process at a time per
kernel (:class:`Lock`, an ``flock``), and waited for interruptibly: ``KeyboardInterrupt``
kills the child and removes what it left half-written (:func:`clean_partial`). Where this
process must compile or load Numba code itself, :func:`sigint_deferred` holds Ctrl-C back
until it is done.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numba

from . import kernel_cache as kc

__all__ = ["WRITE_FAILED", "Lock", "clean_partial", "compile_in_child", "sigint_deferred"]

#: Exit status of the child when Numba could not write the cache (full disk, read-only).
WRITE_FAILED = 3

# numba.config, typed loosely: its settings (CACHE_DIR) are module globals that Numba sets
# at run time, so they are not in its type information.
_NUMBA_CONFIG: Any = numba.config


class Lock:
    """An exclusive ``flock`` on ``initmath_kernel_<digest>.lock`` in the kernel directory:
    one process at a time compiles a given kernel into the cache (pruned with the kernel)."""

    def __init__(self, kdir: Path, digest: str):
        self.path = kdir / f"initmath_kernel_{digest}.lock"
        self.fd = -1

    def acquire(self, blocking: bool = True) -> bool:
        import fcntl

        flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            self.fd = os.open(self.path, flags, 0o600)
        except OSError:
            return blocking  # no lock possible: compile without one, but never clean up
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except OSError:
            os.close(self.fd)
            self.fd = -1
            return False
        return True

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def compile_in_child(code: str, source: str, digest: str, kdir: Path) -> int:
    """Run ``code`` (Python, the compiling child's entry point) in a child process with the
    request ``{"source", "digest"}`` (JSON) on its stdin; return its exit status.

    The child gets this process's ``INITMATH_CACHE_DIR`` and ``NUMBA_CACHE_DIR`` and the
    package on its ``PYTHONPATH``.

    Waiting is interruptible: on ``KeyboardInterrupt`` (or any other exception) the child is
    killed, the temporary files it may have left are removed (when no other process is
    compiling the same kernel) and the exception re-raised. A kernel cut off half-written is
    harmless: the next load checks every file against the manifest.
    """
    import json
    import subprocess
    import tempfile

    env = dict(os.environ, INITMATH_CACHE_DIR=str(kc.cache_root()))
    if _NUMBA_CONFIG.CACHE_DIR:
        env["NUMBA_CACHE_DIR"] = str(_NUMBA_CONFIG.CACHE_DIR)
    package_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(
        [package_parent, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
    )
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
        try:
            assert proc.stdin is not None
            with proc.stdin:
                proc.stdin.write(json.dumps({"source": source, "digest": digest}).encode())
            return proc.wait()
        except BaseException:
            proc.kill()
            proc.wait()
            clean_partial(kdir, digest)
            raise


def clean_partial(kdir: Path, digest: str) -> None:
    """Remove the temporary files of a killed compile of ``digest`` (only when no other
    process holds the kernel's lock, i.e. is writing them)."""
    lock = Lock(kdir, digest)
    if not lock.acquire(blocking=False):
        return
    try:
        tag = f"initmath_kernel_{digest}."
        for directory in (kdir, kdir / "__pycache__"):
            try:
                names = os.listdir(directory)
            except OSError:
                continue
            for n in names:
                if tag in n and (n.endswith(".tmp") or ".tmp." in n):
                    try:
                        kc.remove(directory / n)
                    except OSError:
                        pass
    finally:
        lock.release()


@contextlib.contextmanager
def sigint_deferred() -> Iterator[None]:
    """Hold back SIGINT (Ctrl-C) until the block ends, then raise ``KeyboardInterrupt``.

    Numba's first compilation in a process sets up shared typing state; an interrupt in the
    middle leaves it half set up for the rest of the process. Outside the main thread
    (where Python delivers no signal) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    got: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: got.append(signum))
    except (ValueError, OSError):  # pragma: no cover - no signals here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if got:
            _deliver(previous)


def _deliver(handler: Any) -> None:
    """Act on a held-back SIGINT as ``handler`` (the handler in place before) would."""
    if handler is signal.SIG_IGN:
        return
    if handler is signal.SIG_DFL:
        os.kill(os.getpid(), signal.SIGINT)  # the default action: terminate
        return
    if callable(handler) and handler is not signal.default_int_handler:
        handler(signal.SIGINT, None)
        return
    raise KeyboardInterrupt(
        "interrupted while the kernel was compiling (the compilation was completed first, so "
        "the process stays usable)"
    )
