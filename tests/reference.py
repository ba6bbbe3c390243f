"""An independent reference integrator: scipy's Radau, piecewise between dosing events.

It shares only the network's right-hand side with workbench (which is tested separately
against hand-written equations); stepping, error control, dense output and event handling
are scipy's.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from workbench.core.dosing import events_to_arrays
from workbench.core.ode import EVENT_BOLUS


def reference_solution(net, t, doses=(), parameters=None, initial=None, rtol=1e-11, atol=1e-14):
    """Concentrations at times ``t`` (right-continuous at dose times), by Radau."""
    t = np.asarray(t, dtype=float)
    p = net.parameter_vector(parameters)
    y = net.initial_vector(initial).copy()
    ev_t, ev_sp, ev_kind, ev_val = events_to_arrays(doses, net.species_index)
    volumes = np.array([1.0 if net.arrays.sp_vol[i] < 0 else p[net.arrays.sp_vol[i]] for i in range(len(net.species))])
    u = np.zeros(len(net.species))
    out = np.empty((t.size, len(net.species)))
    from workbench.core.kinetics import network_jacobian, network_rhs

    v = np.empty(len(net.reactions))

    def rhs(_, state):
        dy = np.empty_like(state)
        network_rhs(net.arrays, p, u, np.ascontiguousarray(state), v, dy)
        return dy

    def jac(_, state):
        matrix = np.empty((state.size, state.size))
        network_jacobian(net.arrays, p, np.ascontiguousarray(state), matrix)
        return matrix

    breakpoints = sorted({float(x) for x in ev_t if t[0] <= x <= t[-1]} | {float(t[0]), float(t[-1])})
    e = 0
    for a, b in zip(breakpoints[:-1], [*breakpoints[1:]], strict=True):
        while e < ev_t.size and ev_t[e] <= a:
            if ev_kind[e] == EVENT_BOLUS:
                y[ev_sp[e]] += ev_val[e] / volumes[ev_sp[e]]
            else:
                u[ev_sp[e]] += ev_val[e]
            e += 1
        mask = (t >= a) & (t < b)
        sol = solve_ivp(rhs, (a, b), y, method="Radau", jac=jac, rtol=rtol, atol=atol, dense_output=True)
        assert sol.success, sol.message
        if mask.any():
            out[mask] = sol.sol(t[mask]).T
            out[mask & (t == a)] = y
        y = sol.y[:, -1].copy()
    while e < ev_t.size and ev_t[e] <= t[-1]:
        if ev_kind[e] == EVENT_BOLUS:
            y[ev_sp[e]] += ev_val[e] / volumes[ev_sp[e]]
        e += 1
    out[t == t[-1]] = y
    return out


def scaled_error(values, reference, rtol, atol):
    """Largest error in units of the tolerance ``atol + rtol * |reference|``."""
    return float(np.max(np.abs(values - reference) / (atol + rtol * np.abs(reference))))
