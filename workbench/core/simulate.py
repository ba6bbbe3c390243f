"""The Python wrapper around the integrator kernel: validate, preallocate, call, report."""

from __future__ import annotations

import numpy as np

from ..errors import ModelError, SolverError
from . import control, ode
from .kinetics import NetworkArrays

__all__ = ["METHODS", "check_solver_options", "integrate"]

METHODS = tuple(ode.METHODS)


def output_times(t_end: float | None, n_points: int, t: np.ndarray | None, t0: float) -> np.ndarray:
    """Validated output times: ``t`` if given, else ``n_points`` evenly from ``t0`` to ``t_end``."""
    if t is not None:
        times = np.array(t, dtype=float, ndmin=1)
        if times.ndim != 1 or times.size == 0:
            raise ModelError("output times t must be a non-empty 1-D sequence")
        if not np.all(np.isfinite(times)):
            raise ModelError("output times must be finite")
        if np.any(np.diff(times) < 0):
            raise ModelError("output times must be sorted in increasing order")
        if times[0] < t0:
            raise ModelError(f"output times start at {times[0]:g}, before the initial time t0 = {t0:g}")
        return times
    if t_end is None:
        raise ModelError("give t_end (with n_points) or explicit output times t")
    t_end = float(t_end)
    if not np.isfinite(t_end) or t_end <= t0:
        raise ModelError(f"t_end must be a finite time after t0 = {t0:g}, got {t_end}")
    if int(n_points) != n_points or n_points < 2:
        raise ModelError(f"n_points must be an integer >= 2, got {n_points}")
    return np.linspace(t0, t_end, int(n_points))


def _explain(status: int, t_reached: float, method: str, rtol: float, atol: float, max_steps: int) -> str:
    at = f"at t = {t_reached:.6g}"
    if status == ode.MAX_STEPS:
        return (
            f"the solver took max_steps = {max_steps} steps and stopped {at}. "
            "If the model is stiff (fast and slow rates together) use method='rodas4'; "
            "otherwise raise max_steps or loosen rtol/atol."
        )
    if status == ode.NONFINITE:
        return (
            f"the state became non-finite or exceeded {ode.BLOWUP:.0e} {at}: the model blows up "
            "(a rate grows faster than linearly without a limit). Check the parameter values."
        )
    if status == ode.SINGULAR:
        return f"the stiff solver's iteration matrix became singular {at}. Check the parameter values."
    stiff_hint = " Try method='rodas4' for a stiff model," if method != "rodas4" else ""
    return (
        f"the step size fell below the round-off limit {at}, so the solver cannot meet "
        f"rtol = {rtol:g}, atol = {atol:g}.{stiff_hint} loosen the tolerances, or check for "
        "a solution that blows up in finite time."
    )


def check_solver_options(method: str, rtol: float, atol: float, max_steps: int) -> int:
    """Validate the solver's options; return the method's kernel code.

    Raises
    ------
    ModelError
        For an unknown method, tolerances out of range or a step limit that is not a
        positive integer.
    """
    if method not in ode.METHODS:
        raise ModelError(f"unknown method {method!r}; choose one of {list(ode.METHODS)}")
    if not (np.isfinite(rtol) and 1e-14 <= rtol < 1):
        raise ModelError(f"rtol must be in [1e-14, 1), got {rtol}")
    if not (np.isfinite(atol) and atol > 0):
        raise ModelError(f"atol must be positive, got {atol}")
    if int(max_steps) != max_steps or max_steps < 1:
        raise ModelError(f"max_steps must be a positive integer, got {max_steps}")
    return ode.METHODS[method]


def integrate(
    arrays: NetworkArrays,
    p: np.ndarray,
    y0: np.ndarray,
    times: np.ndarray,
    events: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    *,
    t0: float = 0.0,
    method: str = "auto",
    rtol: float = 1e-6,
    atol: float = 1e-9,
    max_steps: int = 100_000,
) -> tuple[np.ndarray, dict]:
    """Integrate a compiled network; return the output array and solver statistics.

    Raises
    ------
    ModelError
        For an unknown method or invalid tolerances.
    SolverError
        When the solver cannot reach the last output time.
    """
    rtol = float(rtol)
    atol = float(atol)
    check_solver_options(method, rtol, atol, max_steps)
    out = np.zeros((times.size, y0.size))
    info = np.zeros(ode.N_INFO)
    ev_t, ev_sp, ev_kind, ev_val = events
    stop = control.current_flag()
    status = ode.integrate_network(
        arrays,
        p,
        y0,
        float(t0),
        times,
        ev_t,
        ev_sp,
        ev_kind,
        ev_val,
        ode.METHODS[method],
        rtol,
        atol,
        int(max_steps),
        stop,
        out,
        info,
    )
    stats = {
        "method": method,
        "accepted_steps": int(info[ode.INFO_ACCEPTED]),
        "rejected_steps": int(info[ode.INFO_REJECTED]),
        "rhs_evaluations": int(info[ode.INFO_RHS]),
        "jacobian_evaluations": int(info[ode.INFO_JAC]),
        "stiff_from": float(info[ode.INFO_STIFF_T]),
    }
    if method == "rodas4":
        stats["stiff_from"] = float(t0)
    if status == ode.STOPPED:
        raise control.stopped_error(stop, "Simulation", float(info[ode.INFO_T]))
    if status != ode.OK:
        t_reached = float(info[ode.INFO_T])
        reason = {
            ode.STEP_TOO_SMALL: "step_size",
            ode.MAX_STEPS: "max_steps",
            ode.NONFINITE: "nonfinite",
            ode.SINGULAR: "singular",
        }[status]
        raise SolverError(
            "Simulation failed: " + _explain(status, t_reached, method, rtol, atol, int(max_steps)),
            t_reached=t_reached,
            reason=reason,
        )
    return out, stats
