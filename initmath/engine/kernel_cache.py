"""The on-disk cache of the engine's generated kernel modules and of Numba's machine code.

Layout: ``$INITMATH_CACHE_DIR/kernels`` (default ``~/.cache/initmath/kernels``) holds, per
kernel, the generated module ``initmath_kernel_<digest>.py`` and a manifest
``initmath_kernel_<digest>.sha256`` with the SHA-256 of that module and of every file Numba
wrote for it (``__pycache__/initmath_kernel_<digest>.*.nbi`` / ``*.nbc``: its index and data
files, which are **pickles** that Numba unpickles and whose machine code it links into the
process). The cache must therefore never be shared with, or writable by, anyone you would not
let run code as you.

What this module guarantees:

* **Safety.** The cache directory and ``kernels/`` are used only when each is a real directory
  (not a symlink), owned by the current user and not world-writable; directories it creates
  are mode ``0o700``. Files are written atomically: a ``tempfile.mkstemp`` file in the same
  directory (unpredictable name, ``O_EXCL``, never following a symlink), then ``os.replace``;
  on any error (a full disk included) the partial file is removed. Files are read with
  ``O_NOFOLLOW``: a planted symlink is treated as a damaged entry.
* **Corruption.** Before a module is imported its bytes are compared with the generated
  source; before Numba can load its files, each is checked against the manifest. A file that
  is missing from the manifest, mismatched, unreadable or a symlink is deleted (with the rest
  of that function's Numba files) and recompiled; nothing in the cache can crash the process.
* **Fallback.** When the cache cannot be used (see :func:`kernels_dir`) or a write fails, the
  kernel is compiled in memory (``cache=False``) and one :class:`KernelCacheWarning` is issued
  per cache directory and process.
* **Size.** After each new compilation the least recently used kernels are deleted (their
  module, manifest and Numba files) until the cache holds at most ``$INITMATH_CACHE_MAX_MB``
  megabytes (default :data:`DEFAULT_MAX_MB`; the kernel in use is always kept).
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import stat
import tempfile
import time
import warnings
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "DEFAULT_MAX_MB",
    "CacheUnusable",
    "KernelCacheWarning",
    "cache_root",
    "check_directory",
    "is_write_failure",
    "kernels_dir",
    "max_bytes",
    "prune",
    "read_manifest",
    "read_nofollow",
    "remove",
    "sha256",
    "warn_unusable",
    "write_atomic",
    "write_manifest",
]

#: Default bound on the cache's size in megabytes (a kernel takes about 1.5 MB).
DEFAULT_MAX_MB = 256.0

#: Temporary files older than this (seconds) are left-overs of a crashed writer.
_STALE_TMP_S = 3600.0

_DIGEST = re.compile(r"initmath_kernel_([0-9a-f]{20})\.")
_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,200}")
_HEX = re.compile(r"[0-9a-f]{64}")


class KernelCacheWarning(RuntimeWarning):
    """The kernel cache directory cannot be used; kernels are compiled in memory instead.

    Issued once per cache directory and process. Fix the directory named in the message (or
    point ``INITMATH_CACHE_DIR`` at a private, writable directory) to get the disk cache back;
    results are the same either way, only the first call of each activation is slower.
    """


class CacheUnusable(Exception):
    """Internal: why the cache cannot be used (the message ends up in the warning)."""


def cache_root() -> Path:
    """``$INITMATH_CACHE_DIR`` if set, else ``~/.cache/initmath``."""
    root = os.environ.get("INITMATH_CACHE_DIR")
    return Path(root) if root else Path.home() / ".cache" / "initmath"


def check_directory(path: Path, what: str) -> None:
    """Raise :class:`CacheUnusable` unless ``path`` is a real directory (not a symlink) owned
    by the current user and not writable by others."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        raise CacheUnusable(f"{what} {str(path)!r} cannot be examined: {exc}") from exc
    if stat.S_ISLNK(st.st_mode):
        raise CacheUnusable(f"{what} {str(path)!r} is a symbolic link")
    if not stat.S_ISDIR(st.st_mode):
        raise CacheUnusable(f"{what} {str(path)!r} is not a directory")
    if hasattr(os, "getuid") and st.st_uid != os.getuid():
        raise CacheUnusable(f"{what} {str(path)!r} is owned by another user (uid {st.st_uid})")
    if st.st_mode & stat.S_IWOTH:
        raise CacheUnusable(
            f"{what} {str(path)!r} is world-writable (mode {stat.S_IMODE(st.st_mode):o})"
        )


def _make_dir(path: Path, what: str) -> None:
    if os.path.lexists(path):
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(path, 0o700)
    except FileExistsError:
        return  # a concurrent process made it: check_directory judges it
    except OSError as exc:
        raise CacheUnusable(f"{what} {str(path)!r} cannot be created: {exc}") from exc


def kernels_dir() -> Path:
    """The ``kernels/`` directory of the cache, created (mode ``0o700``) if needed.

    Raises
    ------
    CacheUnusable
        When the cache directory or ``kernels/`` is a symlink, not a directory (a file),
        owned by another user, world-writable, or when a file cannot be created and written
        in ``kernels/`` (read-only, full disk).
    """
    root = cache_root()
    _make_dir(root, "cache directory")
    check_directory(root, "cache directory")
    path = root / "kernels"
    _make_dir(path, "kernel cache directory")
    check_directory(path, "kernel cache directory")
    # Writable and not full: a probe file (also what Numba needs for its in-tree cache).
    try:
        fd, probe = tempfile.mkstemp(dir=path, prefix=".probe-", suffix=".tmp")
        try:
            _write_all(fd, b"\0" * 512)
        finally:
            os.close(fd)
            os.unlink(probe)
    except OSError as exc:
        raise CacheUnusable(f"kernel cache directory {str(path)!r} is not writable: {exc}") from exc
    return path


_WARNED: set[str] = set()


def warn_unusable(reason: str, key: str) -> None:
    """One :class:`KernelCacheWarning` per ``key`` (a cache directory) and process."""
    if key in _WARNED:
        return
    _WARNED.add(key)
    warnings.warn(
        f"initmath kernel cache not used: {reason}; compiling kernels in memory instead "
        "(set INITMATH_CACHE_DIR to a private writable directory to keep them)",
        KernelCacheWarning,
        stacklevel=4,
    )


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def read_nofollow(path: Path) -> bytes | None:
    """The bytes of the regular file ``path``, or None if it is missing, a symlink, not a
    regular file or unreadable."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically.

    A temporary file with an unpredictable name is created in ``path``'s directory
    (``tempfile.mkstemp``: ``O_CREAT | O_EXCL | O_NOFOLLOW``, mode ``0o600``), filled, then
    renamed over ``path`` (which replaces a symlink there rather than following it). On any
    error, a full disk included, the temporary file is removed and the error re-raised.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_manifest(path: Path, digest: str) -> dict[tuple[str, str], str] | None:
    """The manifest at ``path``: ``{(kind, file name): sha256}``, or None if it is missing,
    unreadable or malformed in any way (kind is ``"src"`` or ``"numba"``)."""
    data = read_nofollow(path)
    if data is None:
        return None
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return None
    out: dict[tuple[str, str], str] = {}
    for line in text.splitlines():
        parts = line.split(" ")
        if len(parts) != 3:
            return None
        digest_hex, kind, name = parts
        if (
            not _HEX.fullmatch(digest_hex)
            or kind not in ("src", "numba")
            or not _NAME.fullmatch(name)
            or f"initmath_kernel_{digest}." not in name
        ):
            return None
        out[(kind, name)] = digest_hex
    if not any(kind == "src" for kind, _ in out):
        return None
    return out


def write_manifest(path: Path, entries: dict[tuple[str, str], str]) -> None:
    """Write a manifest (see :func:`read_manifest`) atomically."""
    lines = [f"{h} {kind} {name}\n" for (kind, name), h in sorted(entries.items())]
    write_atomic(path, "".join(lines).encode("ascii"))


def max_bytes() -> float:
    """The cache's size bound in bytes, from ``$INITMATH_CACHE_MAX_MB``.

    Raises
    ------
    ValueError
        If the variable is set to something other than a non-negative number.
    """
    raw = os.environ.get("INITMATH_CACHE_MAX_MB")
    if raw is None or raw == "":
        return DEFAULT_MAX_MB * 1e6
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not value >= 0 or value == float("inf"):
        raise ValueError(
            f"INITMATH_CACHE_MAX_MB must be a non-negative number of megabytes, got {raw!r}"
        )
    return value * 1e6


def remove(path: Path) -> None:
    """Delete a file of the cache; one already gone (another process pruned it) is fine."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def prune(directories: Iterable[Path], keep: str, limit: float) -> list[str]:
    """Delete the least recently used kernels until the rest fit in ``limit`` bytes.

    A kernel is every file in ``directories`` whose name contains
    ``initmath_kernel_<digest>.``; its last use is the newest modification time among them
    (the manifest is touched at each load). The kernel ``keep`` is never deleted; neither
    is a temporary file younger than an hour (a concurrent writer's). Returns the digests
    deleted.
    """
    groups: dict[str, list[tuple[Path, os.stat_result]]] = {}
    now = time.time()
    for directory in dict.fromkeys(directories):
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            m = _DIGEST.search(entry.name)
            if m is None:
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            path = Path(entry.path)
            if entry.name.endswith(".tmp") or ".tmp." in entry.name:
                if now - st.st_mtime > _STALE_TMP_S:
                    remove(path)
                continue
            groups.setdefault(m.group(1), []).append((path, st))
    order = sorted(groups, key=lambda d: (d != keep, -max(st.st_mtime for _, st in groups[d])))
    total = 0.0
    dropped = []
    for digest in order:
        size = sum(st.st_size for _, st in groups[digest])
        if digest == keep or total + size <= limit:
            total += size
            continue
        # the manifest first: a half-deleted kernel is then seen as damaged, not as valid
        for path, _ in sorted(groups[digest], key=lambda f: not f[0].name.endswith(".sha256")):
            try:
                remove(path)
            except OSError:
                pass
        dropped.append(digest)
    return dropped


def is_write_failure(exc: BaseException) -> bool:
    """True when ``exc`` (or an exception it was raised from) is an ``OSError`` from writing
    a file: read-only or full file system, exceeded quota or file size, permissions."""
    seen = set()
    codes = {
        errno.ENOSPC,
        errno.EROFS,
        errno.EACCES,
        errno.EPERM,
        errno.EFBIG,
        getattr(errno, "EDQUOT", errno.ENOSPC),
        errno.EIO,
        errno.ENOENT,
        errno.ENOTDIR,
    }
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, OSError) and cur.errno in codes:
            return True
        cur = cur.__cause__ or cur.__context__
    return False
