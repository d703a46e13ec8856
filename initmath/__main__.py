"""Command line: ``python -m initmath verify`` checks every formula against simulation."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence


def _progress_bar(stream):  # type: ignore[no-untyped-def]
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
    from .verification import CHECKS, LEVEL, verify

    names = args.formulas or list(CHECKS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        print(f"unknown formula(s): {', '.join(unknown)}; known: {', '.join(CHECKS)}",
              file=sys.stderr)
        return 2
    tty = sys.stderr.isatty() and not args.no_progress
    progress = _progress_bar(sys.stderr) if tty else None
    results = []
    for i, name in enumerate(names):
        if progress:
            progress(i, len(names), name)
        elif args.verbose:
            print(f"checking {name} ...", file=sys.stderr, flush=True)
        results.append(verify(name, n_networks=args.networks, seed=args.seed,
                              level=args.level, threads=args.threads))
    if progress:
        progress(len(names), len(names), "done")
        sys.stderr.write("\n")
    header = f"{'formula':<26} {'qty':<4} {'layer':>5} {'prediction':>12} {'estimate':>12} {'± se':>10} {'z':>7}  verdict"
    print(header)
    print("-" * len(header))
    for r in results:
        verdict = r.verdict + (f" ({r.note})" if r.note else "")
        print(f"{r.name:<26} {r.quantity:<4} {r.layer:>5} {r.predicted:>12.6g} "
              f"{r.estimate:>12.6g} {r.se:>10.2g} {r.z:>+7.2f}  {verdict}")
    failed = [r.name for r in results if not r.passed]
    level = args.level if args.level is not None else LEVEL
    print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed "
          f"(two-sided level {level:g}, seed {args.seed})")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m initmath")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("verify", help="check every registry formula against simulation")
    v.add_argument("formulas", nargs="*", help="formula names (default: all)")
    v.add_argument("--networks", type=int, default=None,
                   help="networks per check (default: each check's own)")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--level", type=float, default=None, help="two-sided test level (0.001)")
    v.add_argument("--threads", type=int, default=None, help="Numba threads")
    v.add_argument("--no-progress", action="store_true", help="no progress bar")
    v.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args(argv)
    if args.level is None:
        from .verification import LEVEL

        args.level = LEVEL
    return _verify(args)


if __name__ == "__main__":
    sys.exit(main())
