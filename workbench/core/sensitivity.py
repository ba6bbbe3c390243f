"""The Python wrapper around the forward-sensitivity kernel."""

from __future__ import annotations

import numpy as np

from ..errors import ModelError, SolverError
from . import control, ode
from .kinetics import NetworkArrays
from .simulate import _explain

__all__ = ["integrate_with_sensitivities"]


def integrate_with_sensitivities(
    arrays: NetworkArrays,
    p: np.ndarray,
    y0: np.ndarray,
    s0: np.ndarray,
    g: np.ndarray,
    times: np.ndarray,
    events: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    ev_dval: np.ndarray,
    *,
    t0: float = 0.0,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    max_steps: int = 100_000,
    sens_error: bool = False,
) -> tuple[np.ndarray, np.ndarray, dict]:
    """States and sensitivities ``dy/dtheta`` at ``times`` (Rodas4 on the augmented system).

    ``s0`` (n_species x n_theta) are the initial sensitivities, ``g`` (n_parameters x
    n_theta) how network parameters depend on theta, ``ev_dval`` (n_events x n_theta) how
    the event values do.
    """
    n, ns = s0.shape
    if g.shape != (p.size, ns) or ev_dval.shape != (events[0].size, ns) or n != y0.size:
        raise ModelError("sensitivity inputs have inconsistent shapes")
    if not (np.isfinite(rtol) and 1e-14 <= rtol < 1 and np.isfinite(atol) and atol > 0):
        raise ModelError(f"invalid tolerances rtol={rtol}, atol={atol}")
    out = np.zeros((times.size, n))
    out_s = np.zeros((times.size, n, ns))
    info = np.zeros(ode.N_INFO)
    ev_t, ev_sp, ev_kind, ev_val = events
    stop = control.current_flag()
    status = ode.integrate_sensitivities(
        arrays, p, y0, np.ascontiguousarray(s0), np.ascontiguousarray(g), float(t0), times,
        ev_t, ev_sp, ev_kind, ev_val, np.ascontiguousarray(ev_dval), float(rtol), float(atol), int(max_steps),
        stop, bool(sens_error), out, out_s, info,
    )  # fmt: skip
    if status == ode.STOPPED:
        raise control.stopped_error(stop, "Sensitivity integration", float(info[ode.INFO_T]))
    if status != ode.OK:
        t_reached = float(info[ode.INFO_T])
        raise SolverError(
            "Sensitivity integration failed: " + _explain(status, t_reached, "rodas4", rtol, atol, max_steps),
            t_reached=t_reached,
            reason="sensitivities",
        )
    stats = {
        "accepted_steps": int(info[ode.INFO_ACCEPTED]),
        "rejected_steps": int(info[ode.INFO_REJECTED]),
        "rhs_evaluations": int(info[ode.INFO_RHS]),
        "jacobian_evaluations": int(info[ode.INFO_JAC]),
    }
    return out, out_s, stats
