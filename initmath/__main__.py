"""Command line: ``python -m initmath verify`` checks every formula against simulation.

``verify [NAME ...] [--select PATTERN ...] [--json]``: the formulas named, else those whose
name matches a ``--select`` pattern (a shell-style wildcard matched against the whole name,
``relu.*`` or ``*.variance``; a pattern without wildcards matches every name that contains
it), else all. ``--json`` prints, instead of the table, a JSON list with one object per
check and the keys ``name``, ``prediction``, ``estimate``, ``se``, ``z``, ``passed`` (and
``quantity``, ``layer``, ``level``, ``note``); a value that is not a finite number (an
estimate from exploded networks) is ``null``, never a made-up number.

Exit status: 0 if every check passed, 1 if one failed, 2 for an error (a bad argument, an
unknown formula, standard output closed or broken), 130 when interrupted. An error is one
line on standard error, ``initmath: error: ...``, never a traceback.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import NoReturn, TextIO

PROG = "initmath"


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, ``initmath: error: ...``, exit 2."""

    def error(self, message: str) -> NoReturn:
        _fail(message)


def _fail(message: str, status: int = 2) -> NoReturn:
    try:
        sys.stderr.write(f"{PROG}: error: {' '.join(str(message).split())}\n")
        sys.stderr.flush()
    except (OSError, AttributeError, ValueError):
        pass  # stderr closed as well: the exit status is all that is left
    raise SystemExit(status)


def _integer(minimum: int, flag: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} must be an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{flag} must be >= {minimum}, got {text!r}")
        return value

    return parse


def _level(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--level must be a number, got {text!r}") from None
    if not (math.isfinite(value) and 0 < value < 1):
        raise argparse.ArgumentTypeError(f"--level must be in (0, 1), got {text!r}")
    return value


def _progress_bar(stream: TextIO) -> Callable[[int, int, str], None]:
    start = time.monotonic()

    def show(i: int, n: int, name: str) -> None:
        width = 30
        done = int(width * i / n)
        bar = "#" * done + "-" * (width - done)
        elapsed = time.monotonic() - start
        stream.write(f"\r[{bar}] {i}/{n} {elapsed:5.0f}s  {name:<28s}")
        stream.flush()

    return show


def _verify(args: argparse.Namespace) -> int:
    from .practice.registry import formulas
    from .practice.verification import CHECKS, LEVEL, verify

    names = args.formulas or list(CHECKS)
    if args.select:
        if args.formulas:
            _fail("give formula names or --select patterns, not both")
        names = [n for n in CHECKS if any(_matches(n, p) for p in args.select)]
        if not names:
            _fail(
                f"--select {' '.join(map(repr, args.select))} matches no formula; "
                f"checked formulas: {', '.join(CHECKS)}"
            )
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        unchecked = [n for n in unknown if n in formulas]
        if unchecked:
            _fail(
                f"formula {unchecked[0]!r} has no simulation check; checked formulas: "
                f"{', '.join(CHECKS)}"
            )
        _fail(f"unknown formula {unknown[0]!r}; known: {', '.join(CHECKS)}")
    if args.threads is not None:
        import numba

        # numba.config's settings are module globals set at run time (mypy cannot see them)
        max_threads: int = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
        if args.threads > max_threads:
            _fail(f"--threads must be <= {max_threads} (NUMBA_NUM_THREADS), got {args.threads}")
    if sys.stdout is None or sys.stdout.closed:
        _fail("standard output is closed: nowhere to write the results")
    tty = sys.stderr is not None and sys.stderr.isatty() and not args.no_progress
    progress = _progress_bar(sys.stderr) if tty else None
    results = []
    for i, name in enumerate(names):
        if progress:
            progress(i, len(names), name)
        elif args.verbose:
            print(f"checking {name} ...", file=sys.stderr, flush=True)
        try:
            results.append(
                verify(
                    name,
                    n_networks=args.networks,
                    seed=args.seed,
                    level=args.level,
                    threads=args.threads,
                )
            )
        except (TypeError, ValueError) as exc:
            _fail(f"{name}: {exc}")
    if progress:
        progress(len(names), len(names), "done")
        sys.stderr.write("\n")
    failed = [r.name for r in results if not r.passed]
    if args.json:
        rows = [
            {
                "name": r.name,
                "prediction": _finite(r.predicted),
                "estimate": _finite(r.estimate),
                "se": _finite(r.se),
                "z": _finite(r.z),
                "passed": bool(r.passed),
                "quantity": r.quantity,
                "layer": int(r.layer),
                "level": float(r.level),
                "note": r.note,
            }
            for r in results
        ]
        _write(json.dumps(rows, indent=1, allow_nan=False) + "\n")
        return 1 if failed else 0
    header = (
        f"{'formula':<26} {'qty':<4} {'layer':>5} {'prediction':>12} {'estimate':>12} "
        f"{'± se':>10} {'z':>7}  verdict"
    )
    lines = [header, "-" * len(header)]
    for r in results:
        verdict = r.verdict + (f" ({r.note})" if r.note else "")
        lines.append(
            f"{r.name:<26} {r.quantity:<4} {r.layer:>5} {r.predicted:>12.6g} "
            f"{r.estimate:>12.6g} {r.se:>10.2g} {r.z:>+7.2f}  {verdict}"
        )
    level = args.level if args.level is not None else LEVEL
    lines.append(
        f"\n{len(results) - len(failed)} passed, {len(failed)} failed "
        f"(two-sided level {level:g}, seed {args.seed})"
    )
    _write("\n".join(lines) + "\n")
    return 1 if failed else 0


def _matches(name: str, pattern: str) -> bool:
    """``--select``: a wildcard pattern matches the whole name, a plain one any part of it."""
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(name, pattern)
    return pattern in name


def _finite(value: float) -> float | None:
    """A float for JSON, or None (``null``) for an infinite or NaN one."""
    value = float(value)
    return value if math.isfinite(value) else None


def _write(text: str) -> None:
    """Write the results to stdout; a closed or broken stdout is an error, not a silent 0."""
    try:
        if sys.stdout is None:
            raise OSError("standard output is closed")
        sys.stdout.write(text)
        sys.stdout.flush()
    except (OSError, ValueError) as exc:  # BrokenPipeError, EBADF, write to a closed file
        # Point the descriptor at /dev/null so that the interpreter's own flush at exit
        # does not fail a second time with a traceback.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        _fail(f"cannot write the results to standard output: {exc}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``python -m initmath`` on ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    parser = _Parser(prog="python -m initmath")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="check every registry formula against simulation")
    v.add_argument("formulas", nargs="*", help="formula names (default: all)")
    v.add_argument(
        "--networks",
        type=_integer(2, "--networks"),
        default=None,
        help="networks per check, >= 2 (default: each check's own)",
    )
    v.add_argument("--seed", type=_integer(0, "--seed"), default=0)
    v.add_argument(
        "--level", type=_level, default=None, help="two-sided test level, in (0, 1) (0.001)"
    )
    v.add_argument("--threads", type=_integer(1, "--threads"), default=None, help="Numba threads")
    v.add_argument(
        "--select",
        action="append",
        metavar="PATTERN",
        default=[],
        help="only formulas whose name matches (wildcards * ? [...], else a substring); "
        "may be repeated",
    )
    v.add_argument(
        "--json", action="store_true", help="print a JSON list of rows instead of the table"
    )
    v.add_argument("--no-progress", action="store_true", help="no progress bar")
    v.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.level is None:
        from .practice.verification import LEVEL

        args.level = LEVEL
    try:
        return _verify(args)
    except KeyboardInterrupt:
        _fail("interrupted", status=130)


if __name__ == "__main__":
    sys.exit(main())
