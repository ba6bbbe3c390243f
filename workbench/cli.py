"""The ``workbench`` command: ``serve`` (the app gallery), ``warmup``, ``demo``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

__all__ = ["main"]


_EVENT_LOOP = "sbml event loop"
#: Kernels the second warmup process compiles (about half the compile time, see _warmup).
_SECOND_PROCESS = ("ssa_ensemble", "cle_ensemble", _EVENT_LOOP)


def _warmup(args: argparse.Namespace) -> int:
    """Compile every kernel into numba's cache; with two jobs, in two processes at once.

    Numba compiles on one core, so a second process compiling the stochastic kernels and the
    SBML event loop cuts a cold warmup on two cores by about 40%. When both are done, a last
    pass here loads every kernel from the cache, compiling any whose cache entry the other
    process overwrote (both write the indexes of shared callees).
    """
    import subprocess

    from .core.warmup import entry_points, warmup

    start = time.perf_counter()
    names = [name for name, _ in entry_points()] + [_EVENT_LOOP]
    only = names if args.only is None else args.only.split(",")
    unknown = sorted(set(only) - set(names))
    if unknown:
        print(f"workbench warmup: unknown kernels {unknown}; choose from {names}", file=sys.stderr)
        return 2
    jobs = max(1, args.jobs)
    if jobs > 1 and args.only is None:
        print("Compiling numba kernels in 2 processes:")
        second = subprocess.Popen(
            [sys.executable, "-m", "workbench", "warmup", "--jobs", "1", "--only", ",".join(_SECOND_PROCESS)],
            stdout=subprocess.PIPE,
            text=True,
        )
        warmup(names=[n for n in names if n not in _SECOND_PROCESS and n != _EVENT_LOOP])
        output, _ = second.communicate()
        print(output, end="")
        if second.returncode:
            return second.returncode
        print("Every kernel, from the cache (or compiled where it is missing):")
    elif args.only is None:
        print("Compiling and caching numba kernels:")

    def shown(line: str) -> None:  # not the kernels this process compiled a moment ago
        if "earlier in this process" not in line:
            print(line, flush=True)

    warmup(shown, names=[n for n in only if n != _EVENT_LOOP])
    if _EVENT_LOOP in only:
        _warm_event_loop()
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0


def _warm_event_loop() -> None:
    from .sbml.events import _simulate_runs, _simulate_seeded
    from .sbml.reader import warm_event_loop

    def count(kind: str) -> int:
        return sum(sum(getattr(f.stats, kind).values()) for f in (_simulate_runs, _simulate_seeded))

    misses, hits = count("cache_misses"), count("cache_hits")
    seconds = warm_event_loop()
    if count("cache_misses") > misses:
        source = "compiled"
    elif count("cache_hits") > hits:
        source = "loaded from cache"
    else:
        source = "ready (earlier in this process)"
    print(f"  {_EVENT_LOOP:<24} {seconds:7.2f} s  {source}", flush=True)


def _demo(args: argparse.Namespace) -> int:
    import workbench as wb

    print("One-compartment PK, 100 mg oral every 12 h x 4:")
    pk = wb.OneCompartment(route="oral", dose=100.0, n_doses=4, interval=12.0, t_end=96.0, n_points=961)
    traj = pk.simulate()
    print(traj)
    print("\nNCA of C:")
    print(wb.nca(traj, "C", dose=pk.F * pk.dose * pk.n_doses))
    print("\nTMDD, apparent clearance and terminal half-life versus dose:")
    table = wb.dose_scan(wb.TMDD(), [1.0, 10.0, 100.0, 1000.0, 10000.0], t_end=1000.0)
    print(table.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
    return 0


def _serve(args: argparse.Namespace) -> int:
    from .views import serve

    if args.address not in ("localhost", "127.0.0.1") and not args.allow_origin:
        print("serving beyond localhost needs --allow-origin HOST:PORT (the websocket origin check stays on)")
        return 2
    origins = args.allow_origin or None
    prefix = args.prefix.strip("/")
    print(f"workbench gallery on http://{args.address}:{args.port}/{prefix + '/' if prefix else ''} (Ctrl-C to stop)")
    from .errors import WorkbenchError

    try:
        serve(
            port=args.port,
            show=args.show,
            address=args.address,
            allow_origins=origins,
            prefix=prefix,
            models=args.model,
        )
    except WorkbenchError as error:  # a model file that cannot be imported
        print(f"workbench serve: {error}", file=sys.stderr)
        return 2
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workbench`` command."""
    parser = argparse.ArgumentParser(prog="workbench", description="Interactive modeling workbench")
    sub = parser.add_subparsers(dest="command", required=True)
    warm = sub.add_parser("warmup", help="compile and cache every numba kernel")
    warm.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="1: one process; 2 or more: two at once (default: 2 on two or more cores)",
    )
    warm.add_argument("--only", default=None, help="comma-separated kernel names (default: every kernel)")
    warm.set_defaults(run=_warmup)
    sub.add_parser("demo", help="simulate PK and TMDD models and print summaries").set_defaults(run=_demo)
    serve = sub.add_parser("serve", help="serve the app gallery (every model as a live app)")
    serve.add_argument("--port", type=int, default=5006, help="port (default 5006)")
    serve.add_argument("--show", action="store_true", help="open the gallery in a browser")
    serve.add_argument("--address", default="localhost", help="interface to bind (default localhost)")
    serve.add_argument(
        "--allow-origin", action="append", default=[], help="allowed websocket origin host:port (repeatable)"
    )
    serve.add_argument("--prefix", default="", help="URL prefix, when served behind a proxy (Binder, JupyterHub)")
    serve.add_argument(
        "--model", action="append", default=[], metavar="FILE.xml", help="also serve an SBML model file (repeatable)"
    )
    serve.set_defaults(run=_serve)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
