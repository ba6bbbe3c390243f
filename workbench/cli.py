"""The ``workbench`` command: ``serve`` (the app gallery), ``warmup``, ``demo``."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

__all__ = ["main"]


def _warmup(args: argparse.Namespace) -> int:
    from .core.warmup import warmup
    from .sbml.events import _simulate_runs, _simulate_seeded
    from .sbml.reader import warm_event_loop

    start = time.perf_counter()
    print("Compiling and caching numba kernels:")
    warmup()
    seconds = warm_event_loop()
    compiled = _simulate_runs.stats.cache_misses or _simulate_seeded.stats.cache_misses
    source = "compiled" if compiled else "loaded from cache"
    print(f"  {'sbml event loop':<24} {seconds:7.2f} s  {source}")
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0


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
    sub.add_parser("warmup", help="compile and cache every numba kernel").set_defaults(run=_warmup)
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
