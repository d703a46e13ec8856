"""Throughput of initmath.engine's Philox streams against NumPy's generators.

Run from the repository root (a script, not a test)::

    .venv/bin/python benchmarks/bench_rng.py [--n 10000000] [--repeat 5]

Prints

1. the first-call time of ``fill_normal`` and of a ``prange`` kernel in a fresh process with
   an empty Numba cache (compilation), then in a second fresh process with the same cache
   (loading from disk), with Numba's cache hit/miss counts;
2. standard normals per second (best of ``--repeat`` after a warm-up call): ``fill_normal``
   and ``ziggurat_fill`` on one thread, the ``prange`` kernel (one stream per row) on 1 and
   2 threads,
   ``Generator(Philox(0)).standard_normal`` and ``default_rng().standard_normal``; uniforms
   for comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable

import numba
import numpy as np

from initmath.engine import rng, streams, ziggurat
from initmath.engine.jit import jit

SEED = 20240601


@jit(parallel=True)
def fill_normal_rows(k0, k1, first_stream, out):  # type: ignore[no-untyped-def]
    """Row i of ``out``: positions 0.. of stream first_stream + i (prange over rows)."""
    for i in numba.prange(out.shape[0]):
        streams.fill_normal(k0, k1, first_stream + i, 0, out[i])


def _first_call() -> dict[str, object]:
    """Child process: time the import and the first calls; report Numba's cache stats."""

    def hits_misses(dispatcher) -> tuple[int, int]:  # type: ignore[no-untyped-def]
        stats = dispatcher.stats
        return sum(stats.cache_hits.values()), sum(stats.cache_misses.values())

    t0 = time.perf_counter()
    k0, k1 = rng.seed_key(SEED)
    streams.fill_normal(k0, k1, 0, 0, np.empty(16))
    t1 = time.perf_counter()
    fill_normal_hits_misses = hits_misses(streams.fill_normal)
    fill_normal_rows(k0, k1, 0, np.empty((4, 16)))
    t2 = time.perf_counter()
    return {
        "fill_normal_s": t1 - t0,
        "fill_normal_hits_misses": fill_normal_hits_misses,
        "prange_kernel_s": t2 - t1,
        "prange_kernel_hits_misses": hits_misses(fill_normal_rows),
    }


def compile_and_cache_report() -> None:
    with tempfile.TemporaryDirectory(prefix="numba-cache-") as cache_dir:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
        for label in ("1st process, empty cache", "2nd process, same cache"):
            proc = subprocess.run(
                [sys.executable, __file__, "--first-call"],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            for name in ("fill_normal", "prange_kernel"):
                hits, misses = r[f"{name}_hits_misses"]
                source = "loaded from cache" if hits and not misses else "compiled"
                print(
                    f"  {label:26s} {name:14s} first call {r[f'{name}_s']:7.3f} s"
                    f"  ({source}; cache hits {hits}, misses {misses})"
                )


def best_time(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up (compilation or cache load happens here)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def throughput_report(n: int, repeat: int) -> None:
    k0, k1 = rng.seed_key(SEED)
    n_rows = 256
    out = np.empty(n)
    rows = np.empty((n_rows, n // n_rows))
    threads_before = numba.get_num_threads()

    def prange_on(n_threads: int) -> Callable[[], object]:
        def run() -> None:
            numba.set_num_threads(n_threads)
            try:
                fill_normal_rows(k0, k1, 0, rows)
            finally:
                numba.set_num_threads(threads_before)

        return run

    philox = np.random.Generator(np.random.Philox(0))
    pcg = np.random.default_rng()
    normals: list[tuple[str, int, Callable[[], object]]] = [
        ("initmath fill_normal, 1 thread", n, lambda: streams.fill_normal(k0, k1, 0, 0, out)),
        ("initmath ziggurat_fill, 1 thread", n, lambda: ziggurat.ziggurat_fill(k0, k1, 0, 0, out)),
        ("initmath prange kernel, 1 thread", rows.size, prange_on(1)),
    ]
    if numba.config.NUMBA_NUM_THREADS >= 2:
        normals.append(("initmath prange kernel, 2 threads", rows.size, prange_on(2)))
    normals += [
        ("numpy Generator(Philox).standard_normal", n, lambda: philox.standard_normal(out=out)),
        ("numpy default_rng().standard_normal", n, lambda: pcg.standard_normal(out=out)),
    ]
    uniforms: list[tuple[str, int, Callable[[], object]]] = [
        ("initmath fill_uniform, 1 thread", n, lambda: streams.fill_uniform(k0, k1, 0, 0, out)),
        ("numpy Generator(Philox).random", n, lambda: philox.random(out=out)),
    ]
    for kind, cases in (("normals", normals), ("uniforms", uniforms)):
        for name, count, fn in cases:
            t = best_time(fn, repeat)
            print(f"  {name:42s} {count / t / 1e6:8.1f} M {kind}/s  ({t * 1e3:7.1f} ms / call)")

    # The parallel result does not depend on the thread count.
    prange_on(1)()
    one = rows.copy()
    if numba.config.NUMBA_NUM_THREADS >= 2:
        prange_on(2)()
        print(f"  prange kernel bit-identical on 1 and 2 threads: {np.array_equal(one, rows)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000_000, help="draws per call")
    parser.add_argument("--repeat", type=int, default=5, help="timed calls (best is shown)")
    parser.add_argument("--first-call", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.first_call:
        print(json.dumps(_first_call()))
        return
    print(
        f"Python {platform.python_version()}, NumPy {np.__version__}, Numba {numba.__version__},"
        f" {os.cpu_count()} CPUs, Numba threads {numba.config.NUMBA_NUM_THREADS}"
        f" ({platform.processor() or platform.machine()})"
    )
    print("Compilation and disk cache (fresh processes, temporary NUMBA_CACHE_DIR):")
    compile_and_cache_report()
    print(f"Throughput, {args.n:,} draws per call, best of {args.repeat}:")
    throughput_report(args.n, args.repeat)


if __name__ == "__main__":
    main()
