"""The Monte Carlo engine (initmath.simulate) against the plain NumPy reference.

Run from the repository root (a script, not a test)::

    .venv/bin/python benchmarks/bench_engine.py [--repeats 3] [--workloads narrow,wide]
                                                [--no-compile]

or import it (the book's appendix "Performance of the Monte Carlo engine" does)::

    from benchmarks.bench_engine import run, format_table
    print(format_table(run(repeats=2)))

On four workloads (forward pass only, ReLU, He weights drawn from a normal distribution:
three fully connected ones and a convolutional one) it times, in one process and after a
warm-up call that compiles or loads the kernels,

1. :func:`initmath.simulate` on all of Numba's threads and
   :func:`initmath.engine.reference.simulate_numpy` (stacked ``numpy.matmul`` over a batch of
   networks; for a convolution, one per tap on the padded inputs): the best of ``repeats``
   wall times, weights drawn and multiply-adds per second, and the ratio NumPy time /
   initmath time;
2. :func:`initmath.simulate` on 1 and on 2 threads, the speed-up, and whether the two runs
   gave bit-identical results;

and (:func:`compile_times`) the first call of :func:`initmath.simulate` in a fresh process
with an empty temporary ``INITMATH_CACHE_DIR`` (``NUMBA_CACHE_DIR`` unset), then in a second
fresh process with the same directory, where the compiled kernel is loaded from disk.

The project's targets (reported, never enforced): at least 5x NumPy's speed on the narrow
workload, 2x on the medium one, 1x on the wide one and 3x on the convolutional one; at least
1.7x from 1 to 2 threads; the compiled kernel reused by later processes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numba
import numpy as np

from initmath.engine.convolution import Conv, Convolution
from initmath.engine.network import Network
from initmath.engine.reference import simulate_numpy
from initmath.engine.simulation import simulate

__all__ = [
    "ACTIVATION",
    "THREAD_TARGET",
    "WORKLOADS",
    "compile_times",
    "counts",
    "describe",
    "format_compile_table",
    "format_table",
    "format_thread_table",
    "machine",
    "main",
    "run",
    "workload_network",
]

#: The benchmark's workloads: name -> the architecture (the first argument of
#: :class:`~initmath.engine.network.Network`: widths, or an input shape and one item per
#: layer), inputs per network, networks, and the project's target for NumPy time / initmath
#: time. The convolutional one: 20 layers of 3x3 convolutions with 32 channels on 16x16
#: images, zero padding "same".
WORKLOADS: dict[str, dict[str, Any]] = {
    "narrow": {"architecture": (128,) * 11, "n_inputs": 1, "n_networks": 4096, "target": 5.0},
    "medium": {"architecture": (256,) * 11, "n_inputs": 32, "n_networks": 256, "target": 2.0},
    "wide": {"architecture": (512,) * 11, "n_inputs": 256, "n_networks": 32, "target": 1.0},
    "conv": {
        "architecture": ((32, 16, 16), *(Conv(32, 3),) * 20),
        "n_inputs": 1,
        "n_networks": 256,
        "target": 3.0,
    },
}
#: Target for the speed-up of :func:`initmath.simulate` from 1 to 2 threads.
THREAD_TARGET = 1.7
#: Activation of every workload (He weights, normal distribution, forward pass only).
ACTIVATION = "relu"
SEED = 20261129

_ROOT = Path(__file__).resolve().parent.parent


# -- the machine -------------------------------------------------------------------------------
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover - not Linux
        pass
    return platform.processor() or platform.machine()


def _threading_layer() -> str:
    try:
        return str(numba.threading_layer())  # known once a parallel kernel has run
    except ValueError:
        return f"{numba.config.THREADING_LAYER} (not yet chosen)"


def machine() -> dict[str, Any]:
    """CPU count and model, Numba's thread count, versions, and the current load average."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {
        "cpu_count": os.cpu_count(),
        "cpu": _cpu_model(),
        "numba_threads": int(numba.config.NUMBA_NUM_THREADS),
        "threading_layer": _threading_layer(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "load_1min": float(load[0]),
    }


# -- timing ------------------------------------------------------------------------------------
def _cpu_seconds() -> tuple[float, float, float] | None:
    """(wall clock, CPU seconds used by the whole machine, by this process and its children).

    From ``/proc/stat`` (Linux only; ``None`` elsewhere).
    """
    try:
        first = Path("/proc/stat").read_text().split("\n", 1)[0].split()
        ticks = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):  # pragma: no cover - not Linux
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    busy = (user + nice + system + irq + softirq + steal) / ticks
    own = sum(
        resource.getrusage(who).ru_utime + resource.getrusage(who).ru_stime
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)
    )
    return time.perf_counter(), busy, own


def _background(start: tuple[float, float, float] | None) -> float | None:
    """Share of the machine's CPU time that other processes used since ``start``."""
    end = _cpu_seconds()
    if start is None or end is None:
        return None
    wall = end[0] - start[0]
    others = (end[1] - start[1]) - (end[2] - start[2])
    return max(0.0, min(1.0, others / (wall * (os.cpu_count() or 1))))


def workload_network(name: str) -> Network:
    """The :class:`~initmath.engine.network.Network` of workload ``name`` (ReLU, He, normal)."""
    return Network(WORKLOADS[name]["architecture"], ACTIVATION, scheme="he")


def counts(network: Network, n_inputs: int, n_networks: int) -> tuple[int, int]:
    """Weights drawn and multiply-adds of a forward pass over all networks.

    A dense layer has ``n_in * n_out`` weights, each used once per input; a convolution has
    ``prod(shape)`` (its PyTorch weight) and uses each once per output position and input
    (a transposed one: per input position), the zero padding's taps included, as both
    implementations compute them. Biases are not counted.
    """
    weights = madds = 0
    for layer in network.layers:
        size = math.prod(layer.shape)
        if isinstance(layer, Convolution):
            spatial = layer.in_shape if layer.transposed else layer.out_shape
            positions = math.prod(spatial[1:])
        else:
            positions = 1
        weights += size
        madds += size * positions
    return n_networks * weights, n_networks * madds * n_inputs


def describe(network: Network) -> str:
    """The layers in a few words: ``10 layers of 128``, ``20 × conv 3×3, 32 ch, 16×16``."""
    layers = network.layers
    if not network.convolutional:
        ws = network.widths
        return f"{len(ws) - 1} layers of {ws[0]}" if len(set(ws)) == 1 else f"widths {list(ws)}"
    parts = []
    for layer in layers:
        if isinstance(layer, Convolution):
            kind = "conv transposed" if layer.transposed else "conv"
            part = f"{kind} {'×'.join(map(str, layer.kernel))}, {layer.out_shape[0]} ch"
            if layer.in_shape[1:] == layer.out_shape[1:]:
                part += f", {'×'.join(map(str, layer.out_shape[1:]))}"
            else:
                part += (
                    f", {'×'.join(map(str, layer.in_shape[1:]))} → "
                    f"{'×'.join(map(str, layer.out_shape[1:]))}"
                )
        else:
            part = f"dense {layer.n_out}"
        if parts and parts[-1][1] == part:
            parts[-1][0] += 1
        else:
            parts.append([1, part])
    return ", then ".join(part if n == 1 else f"{n} × {part}" for n, part in parts)


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def run(
    workloads: Iterable[str] | None = None,
    repeats: int = 3,
    max_repeats: Mapping[str, int] | None = None,
) -> list[dict[str, Any]]:
    """Time :func:`initmath.simulate` against :func:`~initmath.engine.reference.simulate_numpy`.

    Parameters
    ----------
    workloads : iterable of str, optional
        Names from :data:`WORKLOADS` (default: all of them, in order).
    repeats : int
        Timed calls of each implementation and thread count; the best is kept. The calls
        are interleaved (NumPy, initmath on all threads, on 1 thread, on 2 threads, then
        again), so a passing disturbance of the machine hits all of them alike.
    max_repeats : mapping of str to int, optional
        Fewer timed calls for some workloads: workload name -> at most this many (>= 1).
        The book's appendix times the convolutional workload, whose calls take seconds,
        once.

    Returns
    -------
    list of dict
        One per workload, with plain Python values: ``workload``, ``widths`` (the flattened
        sizes, C·H·W for a convolution's), ``layers`` (:func:`describe`), ``convolutional``,
        ``n_inputs``, ``n_networks``, ``weights`` and ``madds`` (per call, :func:`counts`),
        ``repeats`` (the timed calls made), ``numpy_s`` and
        ``initmath_s`` (best wall times; initmath on ``initmath_threads`` threads, all of
        Numba's), ``ratio`` (NumPy / initmath), ``target`` and ``met``; ``threads_s``
        (thread count -> best time), ``speedup`` (1 -> 2 threads, ``None`` with a single
        thread), ``speedup_met`` and ``identical`` (the results on every thread count equal
        bit for bit); ``background``, the share of the machine's CPU time that *other*
        processes used while the workload was timed (``None`` where ``/proc/stat`` is
        missing): well above 0, they competed with the benchmark and its times are too long.
    """
    names = list(WORKLOADS) if workloads is None else list(workloads)
    for name in names:
        if name not in WORKLOADS:
            raise ValueError(f"unknown workload {name!r}; expected one of {list(WORKLOADS)}")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats!r}")
    caps = dict(max_repeats or {})
    for name, cap in caps.items():
        if name not in WORKLOADS:
            raise ValueError(f"unknown workload {name!r} in max_repeats")
        if cap < 1:
            raise ValueError(f"max_repeats[{name!r}] must be >= 1, got {cap!r}")
    n_all = int(numba.config.NUMBA_NUM_THREADS)
    thread_counts = sorted({n_all, 1, min(2, n_all)}, reverse=True)
    rows = []
    for name in names:
        spec = WORKLOADS[name]
        net = workload_network(name)
        kw = {"n_inputs": spec["n_inputs"], "n_networks": spec["n_networks"], "seed": SEED}
        # Warm-up: compiles (or loads) the kernel, builds the NumPy activation, touches BLAS.
        simulate(net, n_inputs=spec["n_inputs"], n_networks=2)
        simulate_numpy(net, n_inputs=spec["n_inputs"], n_networks=2)
        best: dict[str, float] = {}
        results: dict[int, np.ndarray] = {}
        n_repeats = min(repeats, caps.get(name, repeats))
        start = _cpu_seconds()
        for _ in range(n_repeats):
            jobs: list[tuple[str, Callable[[], Any]]] = [
                ("numpy", lambda net=net, kw=kw: simulate_numpy(net, **kw))
            ]
            for t in thread_counts:

                def job(t: int = t, net: Network = net, kw: dict = kw) -> Any:
                    return simulate(net, threads=t, **kw)

                jobs.append((f"threads={t}", job))
            for key, job in jobs:
                dt, out = _timed(job)
                best[key] = min(dt, best.get(key, float("inf")))
                if key.startswith("threads="):
                    results[int(key.split("=")[1])] = out.q
        background = _background(start)
        weights, madds = counts(net, spec["n_inputs"], spec["n_networks"])
        ratio = best["numpy"] / best[f"threads={n_all}"]
        speedup = best["threads=1"] / best["threads=2"] if n_all >= 2 else None
        first = results[thread_counts[0]]
        rows.append(
            {
                "workload": name,
                "widths": [int(w) for w in net.widths],
                "layers": describe(net),
                "convolutional": bool(net.convolutional),
                "n_inputs": int(spec["n_inputs"]),
                "n_networks": int(spec["n_networks"]),
                "weights": int(weights),
                "madds": int(madds),
                "repeats": int(n_repeats),
                "numpy_s": float(best["numpy"]),
                "initmath_s": float(best[f"threads={n_all}"]),
                "initmath_threads": n_all,
                "ratio": float(ratio),
                "target": float(spec["target"]),
                "met": bool(ratio >= spec["target"]),
                "threads_s": {t: float(best[f"threads={t}"]) for t in thread_counts},
                "speedup": None if speedup is None else float(speedup),
                "speedup_met": None if speedup is None else bool(speedup >= THREAD_TARGET),
                "identical": bool(all(np.array_equal(first, q) for q in results.values())),
                "background": background,
            }
        )
    return rows


# -- compilation and the disk cache ---------------------------------------------------------------
_CHILD = """
import json, time
t0 = time.perf_counter()
from initmath.theory.activations import activation
from initmath.engine.kernels import cache_dir, kernel_module
from initmath.engine.simulation import simulate
t1 = time.perf_counter()
simulate([16, 16], {act!r}, n_networks=2)
t2 = time.perf_counter()
simulate([16, 16], {act!r}, n_networks=2)
t3 = time.perf_counter()
stats = kernel_module(activation({act!r})).run.stats
print(json.dumps({{
    "import_s": t1 - t0, "first_call_s": t2 - t1, "second_call_s": t3 - t2,
    "cache_hits": sum(stats.cache_hits.values()),
    "cache_misses": sum(stats.cache_misses.values()),
    "cache_files": sorted(p.name for p in cache_dir().rglob("*") if p.suffix in (".nbi", ".nbc")),
}}))
"""


def compile_times(activation: str = ACTIVATION) -> list[dict[str, Any]]:
    """First calls of :func:`initmath.simulate` in two fresh processes sharing a new cache.

    Both processes get an empty temporary ``INITMATH_CACHE_DIR`` (the same one) and no
    ``NUMBA_CACHE_DIR``. The first generates the activation's kernel module there and compiles it;
    the second should load the machine code from disk. (The functions of the package that the kernel
    calls, :mod:`initmath.engine.kernel_draws`, :mod:`initmath.engine.kernel_checks` and the random
    streams, keep their own Numba cache beside the package, in ``initmath/engine/__pycache__``,
    which this does not empty.)

    Returns
    -------
    list of dict
        One per process: ``process`` (1 or 2), ``wall_s`` (the whole process, interpreter
        start-up included), ``import_s``, ``first_call_s``, ``second_call_s``, Numba's
        ``cache_hits`` and ``cache_misses`` for the kernel, and ``cache_files`` (the number
        of Numba index and data files in the cache directory afterwards).
    """
    out = []
    with tempfile.TemporaryDirectory(prefix="initmath-bench-cache-") as cache:
        env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
        env["INITMATH_CACHE_DIR"] = cache
        for process in (1, 2):
            t = time.perf_counter()
            proc = subprocess.run(
                [sys.executable, "-c", _CHILD.format(act=activation)],
                env=env,
                cwd=_ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
            wall = time.perf_counter() - t
            if proc.returncode != 0:
                raise RuntimeError(f"benchmark subprocess failed:\n{proc.stderr}")
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            out.append(
                {
                    "process": process,
                    "wall_s": float(wall),
                    "import_s": float(r["import_s"]),
                    "first_call_s": float(r["first_call_s"]),
                    "second_call_s": float(r["second_call_s"]),
                    "cache_hits": int(r["cache_hits"]),
                    "cache_misses": int(r["cache_misses"]),
                    "cache_files": len(r["cache_files"]),
                }
            )
    return out


# -- tables ------------------------------------------------------------------------------------
def _si(x: float) -> str:
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            return f"{x / scale:.3g} {prefix}"
    return f"{x:.3g} "


def _shape(row: Mapping[str, Any]) -> str:
    widths = row["layers"]
    inputs = "1 input" if row["n_inputs"] == 1 else f"{row['n_inputs']} inputs"
    return f"{widths}, {inputs}, {row['n_networks']} networks"


def format_table(rows: Iterable[Mapping[str, Any]], targets: bool = True) -> str:
    """NumPy against initmath, one line per workload and implementation (GitHub Markdown).

    With ``targets`` the last column also gives the project's target and whether it was met
    (the command line's report); without, only the ratio of the two times (the book's).
    """
    ratio_head = "NumPy / initmath (target)" if targets else "NumPy time / initmath time"
    lines = [
        f"| workload | implementation | time (s) | weights/s | multiply-adds/s | {ratio_head} |",
        "| :-- | :-- | --: | --: | --: | --: |",
    ]
    for r in rows:
        lines.append(
            f"| {r['workload']}: {_shape(r)} | NumPy | {r['numpy_s']:.3f} "
            f"| {_si(r['weights'] / r['numpy_s'])} | {_si(r['madds'] / r['numpy_s'])} | |"
        )
        ratio = f"{r['ratio']:.2f}×"
        if targets:
            verdict = "met" if r["met"] else "**not met**"
            ratio += f" (≥ {r['target']:g}×: {verdict})"
        lines.append(
            f"| | initmath, {r['initmath_threads']} thread(s) | {r['initmath_s']:.3f} "
            f"| {_si(r['weights'] / r['initmath_s'])} | {_si(r['madds'] / r['initmath_s'])} "
            f"| {ratio} |"
        )
    return "\n".join(lines)


def format_thread_table(rows: Iterable[Mapping[str, Any]], targets: bool = True) -> str:
    """initmath on 1 and 2 threads, one line per workload (GitHub Markdown).

    With ``targets`` the speed-up is compared with :data:`THREAD_TARGET` and a last column
    gives the share of the machine's CPU time other processes used while the workload was
    timed (the command line's report: it says whether the times can be trusted); without,
    the table has only the measurements (the book's).
    """
    speed_head = "speed-up (target)" if targets else "speed-up"
    lines = [
        f"| workload | 1 thread (s) | 2 threads (s) | {speed_head} | results identical "
        + ("| CPU used by other processes |" if targets else "|"),
        "| :-- | --: | --: | --: | :-- |" + (" --: |" if targets else ""),
    ]
    for r in rows:
        bg = "?" if r.get("background") is None else f"{r['background']:.0%}"
        tail = f" {bg} |" if targets else ""
        if r["speedup"] is None:
            lines.append(f"| {r['workload']} | {r['threads_s'][1]:.3f} | (1 CPU) | | |{tail}")
            continue
        speed = f"{r['speedup']:.2f}×"
        if targets:
            verdict = "met" if r["speedup_met"] else "**not met**"
            speed += f" (≥ {THREAD_TARGET:g}×: {verdict})"
        lines.append(
            f"| {r['workload']} | {r['threads_s'][1]:.3f} | {r['threads_s'][2]:.3f} "
            f"| {speed} | {'yes' if r['identical'] else '**no**'} |{tail}"
        )
    return "\n".join(lines)


def format_compile_table(results: Iterable[Mapping[str, Any]]) -> str:
    """The fresh processes of :func:`compile_times` (GitHub Markdown)."""
    lines = [
        "| process | import (s) | first call (s) | second call (s) | kernel cache hits / misses "
        "| whole process (s) |",
        "| :-- | --: | --: | --: | :-- | --: |",
    ]
    labels = {1: "1st, empty cache", 2: "2nd, same cache"}
    for r in results:
        lines.append(
            f"| {labels.get(r['process'], r['process'])} | {r['import_s']:.2f} "
            f"| {r['first_call_s']:.2f} | {r['second_call_s']:.4f} "
            f"| {r['cache_hits']} / {r['cache_misses']} | {r['wall_s']:.2f} |"
        )
    return "\n".join(lines)


def _machine_line(m: Mapping[str, Any]) -> str:
    return (
        f"{m['cpu_count']} CPUs ({m['cpu']}), Numba threads {m['numba_threads']} "
        f"({m['threading_layer']} layer); Python {m['python']}, NumPy {m['numpy']}, "
        f"Numba {m['numba']}; load average (1 min) {m['load_1min']:.2f}"
    )


def main(argv: list[str] | None = None) -> None:
    """Command line: run everything and print the tables and the targets."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="timed calls (best is kept)")
    parser.add_argument(
        "--workloads",
        default=",".join(WORKLOADS),
        help="comma-separated names among " + ", ".join(WORKLOADS),
    )
    parser.add_argument(
        "--no-compile",
        action="store_true",
        help="skip the fresh-process compile and cache measurement",
    )
    args = parser.parse_args(argv)
    print("Machine:", _machine_line(machine()), flush=True)
    compiled = None
    if not args.no_compile:
        print(
            "\nFirst call in fresh processes (empty temporary INITMATH_CACHE_DIR, "
            "NUMBA_CACHE_DIR unset):",
            flush=True,
        )
        compiled = compile_times()
        print(format_compile_table(compiled), flush=True)
    rows = run(args.workloads.split(","), repeats=args.repeats)
    print(f"\nForward pass, {ACTIVATION}, He, normal weights; best of {args.repeats}:")
    print(format_table(rows))
    print("\ninitmath.simulate on 1 and 2 threads:")
    print(format_thread_table(rows))
    print("\nTargets:")
    for r in rows:
        print(
            f"  {r['workload']:7s} NumPy / initmath {r['ratio']:5.2f}x (>= {r['target']:g}x): "
            f"{'met' if r['met'] else 'NOT met'}"
        )
    for r in rows:
        if r["speedup"] is not None:
            print(
                f"  {r['workload']:7s} 1 -> 2 threads   {r['speedup']:5.2f}x "
                f"(>= {THREAD_TARGET:g}x): {'met' if r['speedup_met'] else 'NOT met'}"
            )
    busy = [r["background"] for r in rows if r["background"] is not None]
    if busy and max(busy) > 0.05:
        print(
            f"  WARNING: other processes used up to {max(busy):.0%} of the machine's CPU time "
            "while the workloads were timed; the times above are too long"
        )
    if compiled is not None:
        first, second = compiled
        cached = second["cache_misses"] == 0 and second["cache_hits"] > 0
        print(
            f"  compile cached: first call {first['first_call_s']:.2f} s in the 1st process, "
            f"{second['first_call_s']:.2f} s in the 2nd "
            f"(hits/misses {second['cache_hits']}/{second['cache_misses']}): "
            f"{'met' if cached else 'NOT met'}"
        )
    end = machine()
    print(
        f"\nNumba threading layer used: {end['threading_layer']}; "
        f"load average (1 min) at the end: {end['load_1min']:.2f}"
    )


if __name__ == "__main__":
    main()
