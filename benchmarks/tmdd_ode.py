"""TMDD ODE benchmark: warm simulate time and accuracy against scipy and libroadrunner.

Task (issue 2): ke = 0.01/h, kon = 1 /(nM h), koff = 0.01/h, kint = 0.05/h, ksyn = 1 nM/h,
kdeg = 0.1/h; bolus D0 = 100 nM, R0 = 10 nM; 0-500 h, 1001 output points, rtol 1e-6,
atol 1e-9. Accuracy is the largest relative error against a Radau solution at rtol 1e-13,
atol 1e-16, over outputs above 1e-6 nM: below that (free drug after ~250 h) atol = 1e-9
means no solver controls its error.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
from common import fmt_time, interleaved_medians, print_table
from numba import njit
from scipy.integrate import solve_ivp

import workbench as wb

PARAMS = dict(ke=0.01, kon=1.0, koff=0.01, kint=0.05, ksyn=1.0, kdeg=0.1)
D0, R0 = 100.0, 10.0
T = np.linspace(0.0, 500.0, 1001)
RTOL, ATOL = 1e-6, 1e-9


@njit(cache=True)
def _rhs(t, y):
    d, r, c = y[0], y[1], y[2]
    out = np.empty(3)
    out[0] = -0.01 * d - 1.0 * d * r + 0.01 * c
    out[1] = 1.0 - 0.1 * r - 1.0 * d * r + 0.01 * c
    out[2] = 1.0 * d * r - 0.01 * c - 0.05 * c
    return out


@njit(cache=True)
def _jac(t, y):
    d, r = y[0], y[1]
    jac = np.empty((3, 3))
    jac[0, 0], jac[0, 1], jac[0, 2] = -0.01 - r, -d, 0.01
    jac[1, 0], jac[1, 1], jac[1, 2] = -r, -0.1 - d, 0.01
    jac[2, 0], jac[2, 1], jac[2, 2] = r, d, -0.06
    return jac


def reference() -> np.ndarray:
    sol = solve_ivp(_rhs, (0, 500), [D0, R0, 0.0], method="Radau", jac=_jac, t_eval=T, rtol=1e-13, atol=1e-16)
    return sol.y.T


def accuracy(values: np.ndarray, ref: np.ndarray) -> float:
    mask = np.abs(ref) > 1e-6
    return float(np.max(np.abs(values[mask] - ref[mask]) / np.abs(ref[mask])))


def roadrunner_instance():
    """The TMDD model in libroadrunner with our tolerances, or None if it is not installed."""
    try:
        import antimony
        import roadrunner
    except ImportError:
        return None
    model = f"""
    model tmdd
      D = {D0}; R = {R0}; C = 0
      ke = 0.01; kon = 1; koff = 0.01; kint = 0.05; ksyn = 1; kdeg = 0.1
      J1: D => ; ke*D
      J2: D + R => C; kon*D*R
      J3: C => D + R; koff*C
      J4: C => ; kint*C
      J5: => R; ksyn
      J6: R => ; kdeg*R
    end
    """
    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(model) < 0:
        raise RuntimeError(antimony.getLastError())
    rr = roadrunner.RoadRunner(antimony.getSBMLString("tmdd"))
    rr.integrator.relative_tolerance = RTOL
    rr.integrator.absolute_tolerance = ATOL
    return rr


def _roadrunner():
    rr = roadrunner_instance()
    if rr is None:
        return None
    rr.timeCourseSelections = ["time", "D", "R", "C"]

    def run():
        rr.reset()
        return np.asarray(rr.simulate(0.0, 500.0, T.size))[:, 1:]

    return run


_STARTUP = """
import time
t0 = time.perf_counter()
import workbench as wb
model = wb.TMDD()
traj = model.simulate()
print(time.perf_counter() - t0)
"""


def startup_seconds(cold: bool) -> float:
    """Seconds from ``import workbench`` to a first TMDD simulation in a fresh process."""
    env = dict(os.environ)
    with tempfile.TemporaryDirectory() as cache:
        if cold:
            env["NUMBA_CACHE_DIR"] = cache
        out = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(_STARTUP)], capture_output=True, text=True, env=env, check=True
        )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> dict:
    ref = reference()
    model = wb.TMDD(**PARAMS, dose=D0)
    net = model.network()
    doses = model.doses()
    changing = wb.TMDD(**PARAMS, dose=D0)

    def after_a_change():
        # a slider move: kon nudged, so the model rebuilds its network before solving
        changing.kon = 1.0 if changing.kon != 1.0 else 1.0 + 1e-12
        return changing.simulate(t=T, rtol=RTOL, atol=ATOL)

    tasks = {
        "workbench TMDD.simulate (auto)": lambda: model.simulate(t=T, rtol=RTOL, atol=ATOL),
        "workbench TMDD.simulate after a parameter change": after_a_change,
        "workbench network.simulate (rodas4)": lambda: net.simulate(
            t=T, doses=doses, method="rodas4", rtol=RTOL, atol=ATOL
        ),
        "scipy solve_ivp LSODA (numba rhs+jac)": lambda: (
            solve_ivp(_rhs, (0, 500), [D0, R0, 0.0], method="LSODA", jac=_jac, t_eval=T, rtol=RTOL, atol=ATOL).y.T
        ),
    }
    rr = _roadrunner()
    if rr is not None:
        tasks["libroadrunner reset+simulate (CVODE)"] = rr
    medians = interleaved_medians(tasks, repeats=200, budget_s=30.0)
    outputs = {
        "workbench TMDD.simulate (auto)": model.simulate(t=T, rtol=RTOL, atol=ATOL).values[:, :3],
        "workbench TMDD.simulate after a parameter change": after_a_change().values[:, :3],
        "workbench network.simulate (rodas4)": net.simulate(
            t=T, doses=doses, method="rodas4", rtol=RTOL, atol=ATOL
        ).values,
        "scipy solve_ivp LSODA (numba rhs+jac)": tasks["scipy solve_ivp LSODA (numba rhs+jac)"](),
    }
    if rr is not None:
        outputs["libroadrunner reset+simulate (CVODE)"] = rr()
    ours = medians["workbench TMDD.simulate (auto)"]
    rows = []
    for name, median in medians.items():
        rows.append([name, fmt_time(median), f"{median / ours:.1f}x", f"{accuracy(outputs[name], ref):.2e}"])
    print_table(
        "TMDD ODE, 0-500 h, 1001 outputs, rtol 1e-6, atol 1e-9 (median warm time; ratio to workbench)",
        ["tool", "median", "time / workbench", "max rel. error"],
        rows,
    )
    if rr is None:
        print("  (libroadrunner not installed: pip install -e '.[benchmark]')")
    warm = startup_seconds(cold=False)
    cold = startup_seconds(cold=True)
    print(f"\nimport workbench + first TMDD simulate, fresh process: {warm:.2f} s with cached kernels,")
    print(f"{cold:.1f} s cold (empty numba cache: every kernel compiled)")
    return {"medians": medians, "startup_warm_s": warm, "startup_cold_s": cold}


if __name__ == "__main__":
    main()
