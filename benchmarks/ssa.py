"""SSA ensembles: the two-stage and telegraph models, against GillesPy2's C++ SSA.

Tasks (issue 3), both with the generic network kernel (no model-specific code):
- two-stage: km = 10/h, gm = 1/h, kp = 5/h, gp = 0.1/h, from zero, 10,000 cells to 100 h;
  exact stationary protein Fano factor 1 + kp / (gm + gp);
- telegraph: gene on/off 0.05/h and 0.5/h, transcription 50/h when on, mRNA decay 1/h,
  10,000 cells to 200 h; exact stationary mRNA Fano factor
  1 + km koff / ((kon + koff)(kon + koff + gm)) (Peccoud & Ycart 1995).

GillesPy2 compiles each model with g++ (timed separately) and is run with the same number of
trajectories and output times; its event count is taken to be ours (same model, same law).
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import numba
import numpy as np
from common import fmt_time, print_table

import workbench as wb

N_CELLS = 10_000


def _gillespy2(kind: str, times: np.ndarray):
    """Build GillesPy2's C++ SSA solver for the task; returns (build seconds, run callable)."""
    try:
        import gillespy2
    except ImportError:
        return None
    # GillesPy2 runs "python -m SCons" through the interpreter it resolves on PATH: put this
    # environment's bin first so it finds the SCons installed here.
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    model = gillespy2.Model(name=kind)
    if kind == "two_stage":
        params = {"km": 10.0, "gm": 1.0, "kp": 5.0, "gp": 0.1}
        species = {"M": 0, "P": 0}
        reactions = [
            ("tx", {}, {"M": 1}, "km"),
            ("dm", {"M": 1}, {}, "gm"),
            ("tl", {"M": 1}, {"M": 1, "P": 1}, "kp"),
            ("dp", {"P": 1}, {}, "gp"),
        ]
    else:
        params = {"kon": 0.05, "koff": 0.5, "km": 50.0, "gm": 1.0}
        species = {"Goff": 1, "Gon": 0, "M": 0}
        reactions = [
            ("on", {"Goff": 1}, {"Gon": 1}, "kon"),
            ("off", {"Gon": 1}, {"Goff": 1}, "koff"),
            ("tx", {"Gon": 1}, {"Gon": 1, "M": 1}, "km"),
            ("dm", {"M": 1}, {}, "gm"),
        ]
    model.add_parameter([gillespy2.Parameter(name=k, expression=v) for k, v in params.items()])
    model.add_species([gillespy2.Species(name=k, initial_value=v, mode="discrete") for k, v in species.items()])
    sp = {s.name: s for s in model.listOfSpecies.values()}
    for name, reac, prod, rate in reactions:
        model.add_reaction(
            gillespy2.Reaction(
                name=name,
                reactants={sp[k]: v for k, v in reac.items()},
                products={sp[k]: v for k, v in prod.items()},
                rate=model.listOfParameters[rate],
            )
        )
    model.timespan(times)
    start = time.perf_counter()
    solver = gillespy2.SSACSolver(model=model)
    build = time.perf_counter() - start

    def run():
        return solver.run(number_of_trajectories=N_CELLS, seed=1)

    return build, run


def _exact_fano(kind: str) -> float:
    if kind == "two_stage":
        return 1 + 5.0 / (1.0 + 0.1)
    kon, koff, km, gm = 0.05, 0.5, 50.0, 1.0
    return 1 + km * koff / ((kon + koff) * (kon + koff + gm))


def main() -> dict:
    results = {}
    tasks = {
        "two_stage": (wb.TwoStageExpression(km=10.0, gm=1.0, kp=5.0, gp=0.1), 100.0, "P"),
        "telegraph": (wb.TelegraphExpression(kon=0.05, koff=0.5, km=50.0, gm=1.0), 200.0, "M"),
    }
    cores = numba.config.NUMBA_NUM_THREADS
    for kind, (model, t_end, observed) in tasks.items():
        times = np.linspace(0.0, t_end, 101)
        model.ssa(10, t=times, seed=0)  # warm: load the kernels
        rows = []
        timings = {}
        for threads in sorted({1, cores}):
            start = time.perf_counter()
            ens = model.ssa(N_CELLS, t=times, seed=1, threads=threads)
            timings[threads] = time.perf_counter() - start
        events = int(ens.events.sum())
        fano = float(ens.fano(observed)[-1])
        low, high = ens.fano_ci(observed)
        exact = _exact_fano(kind)
        for threads, seconds in timings.items():
            rows.append(
                [
                    f"workbench SSA, {threads} thread{'s' if threads > 1 else ''}",
                    fmt_time(seconds),
                    f"{events / seconds / 1e6:.1f} M/s",
                    f"{seconds / timings[cores]:.2f}x",
                    f"{fano:.3f} [{low[-1]:.3f}, {high[-1]:.3f}]",
                ]
            )
        start = time.perf_counter()
        leap = model.ssa(N_CELLS, t=times, seed=1, method="tau_leap")
        seconds = time.perf_counter() - start
        rows.append(
            [
                "workbench tau-leaping (approx.)",
                fmt_time(seconds),
                f"{int(leap.events.sum()) / seconds / 1e6:.2f} M steps/s",
                f"{seconds / timings[cores]:.2f}x",
                f"{float(leap.fano(observed)[-1]):.3f}",
            ]
        )
        peer = _gillespy2(kind, times) if shutil.which("g++") else None
        if peer is not None:
            build, run = peer
            start = time.perf_counter()
            out = run()
            seconds = time.perf_counter() - start
            final = np.array([trajectory[observed][-1] for trajectory in out])
            rows.append(
                [
                    f"GillesPy2 SSACSolver (C++; +{build:.1f} s g++ build)",
                    fmt_time(seconds),
                    f"{events / seconds / 1e6:.1f} M/s",
                    f"{seconds / timings[cores]:.2f}x",
                    f"{final.var(ddof=1) / final.mean():.3f}",
                ]
            )
        print_table(
            f"{kind}: {N_CELLS} cells to {t_end:g} h, 101 outputs; {events:.3g} events; "
            f"exact Fano({observed}) = {exact:.4f}",
            [
                "tool",
                "wall time",
                "events per second",
                f"time / workbench ({cores} threads)",
                f"Fano({observed}) at end [95% CI]",
            ],
            rows,
        )
        print(f"  memory of the ensemble ({N_CELLS} x 101 x {len(ens.species)} int64): {ens.nbytes / 2**20:.1f} MiB")
        results[kind] = {"timings": timings, "events": events, "fano": fano, "exact": exact}
    return results


if __name__ == "__main__":
    main()
