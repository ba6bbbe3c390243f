"""Cost of one network_rhs and one network_jacobian call on TMDD's arrays, from compiled code.

The loops are compiled fresh (no cache), as an integrator calling the kernels would be. For an
A/B against another checkout, run this file with that checkout on PYTHONPATH, alternating.
The fastest repeat is the steadiest figure on a shared machine; the median is printed too.
"""

from __future__ import annotations

import time

import numpy as np
from common import print_table
from numba import njit
from tmdd_ode import D0, PARAMS

import workbench as wb
from workbench.core import kinetics as kin

CALLS = 20_000
REPEATS = 201


@njit
def _rhs_loop(net, p, u, y, v, dy, n):
    y0 = y[0]
    total = 0.0
    for i in range(n):
        y[0] = y0 + i * 1e-15  # a new state each call, so nothing is hoisted out of the loop
        kin.network_rhs(net, p, u, y, v, dy)
        total += dy[0]
    y[0] = y0
    return total


@njit
def _jac_loop(net, p, y, jac, n):
    y0 = y[0]
    total = 0.0
    for i in range(n):
        y[0] = y0 + i * 1e-15
        kin.network_jacobian(net, p, y, jac)
        total += jac[0, 0]
    y[0] = y0
    return total


def main() -> dict:
    net = wb.TMDD(**PARAMS, dose=D0).network()  # the model and values of tmdd_ode
    arrays = net.arrays
    p = net.parameter_vector()
    y = net.initial_vector() + np.array([100.0, 0.0, 0.5])  # drug, receptor, complex
    n = y.size
    u, v, dy, jac = np.zeros(n), np.empty(len(net.reactions)), np.empty(n), np.empty((n, n))
    calls = {
        "network_rhs": lambda count: _rhs_loop(arrays, p, u, y, v, dy, count),
        "network_jacobian": lambda count: _jac_loop(arrays, p, y, jac, count),
    }
    times: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        call(10)  # compile
    for _ in range(REPEATS):
        for name, call in calls.items():
            start = time.perf_counter()
            call(CALLS)
            times[name].append((time.perf_counter() - start) / CALLS)
    rows = [[name, f"{min(t) * 1e9:.1f} ns", f"{np.median(t) * 1e9:.1f} ns"] for name, t in times.items()]
    print_table(
        f"Kernel calls on TMDD's {type(arrays).__name__} ({len(arrays)} arrays), from a compiled loop",
        ["kernel", "fastest", "median"],
        rows,
    )
    return {name: {"fastest_s": min(t), "median_s": float(np.median(t))} for name, t in times.items()}


if __name__ == "__main__":
    main()
