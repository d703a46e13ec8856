#!/usr/bin/env python3
"""One entry point for setting up, testing and building initmath.

Needs only Python >= 3.11 with ``venv`` and ``pip`` (``check-html`` also needs Chromium)::

    python3 dev.py book    # build the HTML book into _build/html
    python3 dev.py test    # run the whole test suite
    python3 dev.py lint    # ruff on the repository, mypy on the package
    python3 dev.py check-html   # after `book`: check the HTML in headless Chromium, offline

Each command creates ``.venv`` on first use and installs the package (editable) with the
exact versions pinned in ``requirements/constraints.txt``. A stamp file records what was
installed, so a re-run with unchanged requirements skips straight to the work.

Extra arguments after ``test`` go to pytest (``python3 dev.py test -k fans``); after ``book``
they go to ``jupyter-book build``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
STAMP = VENV / ".initmath-installed"
EXTRAS = "book,test,data,lint,html"
# Versions of the optional frameworks that the cross-check tests compare against. They are
# installed only from wheels already on this machine (pip's --no-index), never downloaded:
# PyPI's default torch wheel is a multi-gigabyte CUDA build.
CROSSCHECK = ["torch==2.13.0"]


def _venv_python() -> Path:
    sub = "Scripts" if os.name == "nt" else "bin"
    return VENV / sub / ("python.exe" if os.name == "nt" else "python")


def _run(cmd: list[str | os.PathLike[str]], **kwargs: object) -> int:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, **kwargs)  # type: ignore[arg-type]


def _check(cmd: list[str | os.PathLike[str]]) -> None:
    code = _run(cmd)
    if code != 0:
        sys.exit(f"dev.py: command failed with exit status {code}")


def _requirements_digest() -> str:
    h = hashlib.sha256()
    for path in (ROOT / "pyproject.toml", CONSTRAINTS):
        h.update(path.read_bytes())
    h.update(EXTRAS.encode())
    h.update(sys.version.encode())
    return h.hexdigest()


def ensure_env() -> Path:
    """Create ``.venv`` and install the pinned dependencies, unless already done."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py may be started by an older python3
        sys.exit(f"dev.py: Python >= 3.11 is needed, this is {sys.version.split()[0]}")
    python = _venv_python()
    digest = _requirements_digest()
    if python.exists() and STAMP.exists() and STAMP.read_text().strip() == digest:
        return python
    if not python.exists():
        if VENV.exists():  # a broken or foreign environment: start afresh
            shutil.rmtree(VENV)
        print(f"dev.py: creating {VENV.relative_to(ROOT)}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    pip = [python, "-m", "pip", "--disable-pip-version-check"]
    _check([*pip, "install", "-q", "--upgrade", "pip>=24"])
    _check([*pip, "install", "-q", "-c", CONSTRAINTS, "-e", f".[{EXTRAS}]"])
    # The book's notebooks run in the "python3" kernel; make sure it is this environment's.
    _check([python, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"])
    # ipykernel 7 warns on every start that its local TCP sockets are unencrypted; the
    # kernels here only ever talk to the build on the same machine.
    kernel_config = VENV / "etc" / "ipython" / "ipython_kernel_config.py"
    kernel_config.parent.mkdir(parents=True, exist_ok=True)
    kernel_config.write_text('c.IPKernelApp.log_level = "ERROR"\n')
    STAMP.write_text(digest + "\n")
    return python


def install_crosscheck(python: Path) -> None:
    """Install the reference frameworks if wheels for them are on this machine."""
    for req in CROSSCHECK:
        probe = subprocess.call(
            [str(python), "-m", "pip", "show", "-q", req.split("==")[0]],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if probe == 0:
            continue
        # First the framework alone, from local wheels only; then its small pure-Python
        # dependencies from the index, the framework itself being already satisfied.
        code = _run([python, "-m", "pip", "install", "-q", "--no-index", "--no-deps", req])
        if code == 0:
            code = _run([python, "-m", "pip", "install", "-q", req])
        if code != 0:
            print(f"dev.py: no local wheel for {req}; its cross-check tests will be skipped")


def cmd_test(args: list[str], crosscheck: bool, slow: bool = False) -> int:
    python = ensure_env()
    if crosscheck:
        install_crosscheck(python)
    # pyproject's addopts leave out the tests marked slow (each compiles Numba kernels from
    # scratch, e.g. the kernel cache's corruption and Ctrl-C cases); --slow runs just those.
    marker = ["-m", "slow"] if slow else []
    # One pytest-xdist worker per core: most of the suite is single-threaded Python (SymPy,
    # mpmath, NumPy), so two cores nearly halve it. Pass -n 0 (or -n N) to override.
    workers = [] if any(a.startswith(("-n", "--numprocesses")) for a in args) else ["-n", "auto"]
    return _run([python, "-m", "pytest", *workers, *marker, *args])


def _package_digest() -> str:
    """Hash of the package's sources: the chapters' outputs depend on them too."""
    h = hashlib.sha256()
    for path in sorted((ROOT / "initmath").rglob("*.py")):
        h.update(path.relative_to(ROOT).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _invalidate_stale_execution_cache() -> None:
    """Jupyter Book's execution cache keys a chapter on its own code only, and Sphinx re-reads
    only changed files: a chapter whose code is unchanged would keep outputs computed by an
    older ``initmath``. So both caches are dropped whenever the package's sources change."""
    build = ROOT / "_build"
    stamp = build / ".initmath-sources"
    digest = _package_digest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    for cache in (".jupyter_cache", ".doctrees"):
        shutil.rmtree(build / cache, ignore_errors=True)
    build.mkdir(exist_ok=True)
    stamp.write_text(digest)


def cmd_book(args: list[str]) -> int:
    python = ensure_env()
    jb = python.parent / "jupyter-book"
    _invalidate_stale_execution_cache()
    # -W: warnings are errors; -n: nitpicky cross-references; --keep-going: report them all.
    code = _run([jb, "build", ".", "--builder", "html", "-W", "-n", "--keep-going", *args])
    index = ROOT / "_build" / "html" / "index.html"
    if code == 0 and not index.exists():
        print(f"dev.py: the build reported success but {index} is missing")
        return 1
    # The book reads offline: MathJax and its fonts are served from the build (copied there by
    # the sphinx-mathjax-offline extension, see _config.yml), never from a CDN.
    mathjax = ROOT / "_build" / "html" / "_static" / "mathjax"
    if code == 0 and not (mathjax / "tex-chtml.js").exists():
        print(f"dev.py: MathJax is missing from {mathjax}: the book would need a network")
        return 1
    if code == 0:
        print(f"dev.py: book built: {index}")
    return code


#: What ``lint`` checks: the whole repository's Python with ruff (rules in pyproject.toml), the
#: package with mypy (configuration in pyproject.toml).
LINT_PATHS = ["initmath", "tests", "benchmarks", "tools", "book", "dev.py"]


def cmd_lint(args: list[str]) -> int:
    python = ensure_env()
    code = _run([python, "-m", "ruff", "check", *LINT_PATHS, *args])
    code = code or _run([python, "-m", "ruff", "format", "--check", *LINT_PATHS])
    return code or _run([python, "-m", "mypy", "initmath"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("test", help="run the test suite (extra arguments go to pytest)")
    t.add_argument(
        "--crosscheck",
        action="store_true",
        help="also install PyTorch from a wheel on this machine, if any, for cross-check tests",
    )
    t.add_argument(
        "--slow",
        action="store_true",
        help="run only the tests marked slow (they compile kernels from scratch; minutes)",
    )
    sub.add_parser("book", help="build the HTML book (extra arguments go to jupyter-book)")
    sub.add_parser(
        "lint", help="ruff check and ruff format --check on the repository, mypy on initmath"
    )
    sub.add_parser(
        "check-html",
        help="open the built book in headless Chromium, both themes, network off: math, "
        "images, links, tables, figures, screenshots (tools/check_html.py; needs chromium)",
    )
    sub.add_parser("setup", help="only create and update .venv")
    ns, rest = parser.parse_known_args(argv)
    if ns.command == "check-html":
        # Playwright (the html extra) drives the system's Chromium; never `playwright install`
        return _run([ensure_env(), ROOT / "tools" / "check_html.py", *rest])
    if ns.command == "test":
        return cmd_test(rest, ns.crosscheck, ns.slow)
    if ns.command == "book":
        return cmd_book(rest)
    if ns.command == "lint":
        return cmd_lint(rest)
    ensure_env()
    return 0


if __name__ == "__main__":
    sys.exit(main())
