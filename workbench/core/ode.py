"""Compiled ODE integration of a reaction network with dosing events.

:func:`integrate_network` runs the whole simulation in compiled code. It integrates piecewise
between dosing events (a bolus adds an amount; an infusion switches a zero-order input on or
off), and within each piece runs one method's time loop: explicit Dormand-Prince 5(4)
(:func:`_dopri5_loop`) or the stiff, L-stable Rosenbrock method Rodas4 with the analytic
Jacobian (:func:`_rodas4_loop`). Both write the state at the requested output times by their
dense output, so output points never shorten the steps.

Contract for callers (the Python wrapper in :mod:`workbench.core.simulate` honours it):

1. every array has the dtype and layout documented in :func:`integrate_network` (so one
   compiled version serves every network);
2. ``t_out`` is sorted, finite and starts at or after ``t0``; events are sorted by time;
3. ``out`` and ``info`` are preallocated; the kernel never raises, it returns a status code
   (:data:`OK` or a failure code) and records the time reached in ``info``;
4. ``stop`` is an int64[1] flag read before every step: non-zero stops the run with
   :data:`STOPPED` (another thread sets it to cancel, or a time budget runs out).

At an event time the state is right-continuous: an output requested exactly at a dose time
shows the state after the dose.

Performance note: each time loop keeps its step in its own body and calls only small kernels
whose array arguments numba's reference-count pruning removes. A step function taking two
dozen arrays cost an atomic increment and decrement per array per step, measured as half of
the run time of a three-species network.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import tableaux as tb
from .kinetics import network_dfdp, network_jacobian, network_rhs
from .linalg import lu_factor, lu_solve, lu_solve_columns

# Status codes returned by the kernel.
OK = 0
STEP_TOO_SMALL = 1
MAX_STEPS = 2
NONFINITE = 3
SINGULAR = 4
STOPPED = 5  # the stop flag was set: cancelled, or over its time budget (see core.control)
_BECAME_STIFF = -1  # internal: the explicit loop handed over to the stiff one

# Methods.
AUTO = 0
DOPRI5 = 1
RODAS4 = 2
METHODS = {"auto": AUTO, "dopri5": DOPRI5, "rodas4": RODAS4}

# Event kinds.
EVENT_BOLUS = 0  # add ``value`` (amount) to the species
EVENT_RATE = 1  # add ``value`` (amount per time) to the species' zero-order input

# Slots of the ``info`` array.
INFO_T = 0  # time reached
INFO_ACCEPTED = 1
INFO_REJECTED = 2
INFO_RHS = 3  # right-hand-side evaluations
INFO_JAC = 4  # Jacobian evaluations (= LU factorisations)
INFO_STIFF_T = 5  # time at which method="auto" switched to the stiff method, NaN if never
N_INFO = 6

# A state component beyond this magnitude is treated as a blow-up.
BLOWUP = 1e200
# Smallest step relative to |t|: 16 machine epsilons.
_EPS16 = 16.0 * 2.220446049250313e-16
# Step-size control: safety factor and bounds on the change per step.
_SAFETY = 0.9
_SHRINK_MIN = 0.2
_GROW_MAX_DOPRI = 10.0
_GROW_MAX_RODAS = 6.0
# Hairer's stiffness test for Dormand-Prince: the estimate h|lambda| of the dominant
# eigenvalue exceeds 3.25 (the stability boundary is about 3.3) on 15 steps without six
# non-stiff steps in between. "auto" then hands over to Rodas4.
_STIFF_HLAMBDA = 3.25
_STIFF_HITS = 15
_NONSTIFF_RESET = 6
# Hairer's test can miss a step that hovers just under the stability boundary, so every
# 25 accepted steps the step is also compared with a Gershgorin bound on the spectral radius:
# h * rho near the boundary means stability, not accuracy, limits the step.
_STIFF_CHECK_EVERY = 25
_STIFF_HBOUND = 2.5
# "auto" starts with Rodas4 when the Gershgorin bound on the spectral radius times the
# segment length says an explicit method would need this many steps for stability alone.
_STIFF_START = 500.0


@njit(cache=True, error_model="numpy", nogil=True)
def _rms_norm(x, y, rtol, atol):
    """Root-mean-square of ``x / (atol + rtol |y|)``."""
    acc = 0.0
    for i in range(x.shape[0]):
        acc += (x[i] / (atol + rtol * abs(y[i]))) ** 2
    return np.sqrt(acc / x.shape[0])


@njit(cache=True, error_model="numpy", nogil=True)
def _initial_step(net, p, u, y, f0, span, order, rtol, atol, ytmp, f1, v):
    """Starting step size (Hairer, Norsett & Wanner, *Solving ODEs I*, section II.4)."""
    d0 = _rms_norm(y, y, rtol, atol)
    d1 = _rms_norm(f0, y, rtol, atol)
    h0 = 1e-6 if (d0 < 1e-5 or d1 < 1e-5) else 0.01 * d0 / d1
    h0 = min(h0, span)
    for i in range(y.shape[0]):
        ytmp[i] = y[i] + h0 * f0[i]
    network_rhs(net, p, u, ytmp, v, f1)
    for i in range(y.shape[0]):
        ytmp[i] = f1[i] - f0[i]
    d2 = _rms_norm(ytmp, y, rtol, atol) / h0
    if d1 <= 1e-15 and d2 <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** (1.0 / (order + 1.0))
    return min(100.0 * h0, h1, span)


@njit(cache=True, error_model="numpy", nogil=True)
def _spectral_radius_bound(jac):
    """Gershgorin bound on the largest |eigenvalue| of ``jac``."""
    bound = 0.0
    for i in range(jac.shape[0]):
        row = 0.0
        for m in range(jac.shape[1]):
            row += abs(jac[i, m])
        bound = max(bound, row)
    return bound


@njit(cache=True, error_model="numpy", nogil=True)
def _at_least_resolvable(h, t, t_stop):
    """The initial step, raised to a few times the round-off limit at ``t`` (as scipy does).

    The estimate ``0.01 |y| / |f|`` is tiny when a state starts near zero but not at zero,
    and the step would otherwise count as too small before the first attempt.
    """
    return min(max(h, 4.0 * _EPS16 * max(abs(t), abs(t_stop))), t_stop - t)


@njit(cache=True, error_model="numpy", nogil=True)
def _too_small(h, t, t_stop):
    return h <= _EPS16 * max(abs(t), abs(t_stop))


@njit(cache=True, error_model="numpy", nogil=True)
def _judge(err, biggest, h, exponent):
    """Accept a step, or the step size to retry with: ``(accepted, nonfinite, h_retry)``.

    ``err`` is the scaled RMS error estimate, ``biggest`` the largest |component| of the new
    state and ``exponent`` is -1/(q + 1) for an embedded method of order q.
    """
    if not (err < 1e300 and biggest <= BLOWUP):  # also catches NaN
        return False, True, 0.25 * h
    if err > 1.0:
        return False, False, h * max(_SHRINK_MIN, _SAFETY * err**exponent)
    return True, False, h


@njit(cache=True, error_model="numpy", nogil=True)
def _dopri5_loop(net, p, u, t, t_stop, y, t_out, k_out, out, detect_stiffness, rtol, atol, max_steps, stop, info):
    """Dormand-Prince 5(4) from ``t`` to ``t_stop`` with Shampine's 4th-order dense output.

    Writes the outputs strictly before ``t_stop`` and leaves ``y`` at the time reached.
    Returns ``(status, k_out, t)``; status :data:`_BECAME_STIFF` when ``detect_stiffness``
    is set and the problem was found stiff (``y`` and ``t`` are then valid to continue).
    """
    n = y.shape[0]
    n_out = t_out.shape[0]
    v = np.empty(net.kind.shape[0])
    f0 = np.empty(n)
    k2 = np.empty(n)
    k3 = np.empty(n)
    k4 = np.empty(n)
    k5 = np.empty(n)
    k6 = np.empty(n)
    k7 = np.empty(n)
    ys = np.empty(n)
    ysti = np.empty(n)
    ynew = np.empty(n)
    network_rhs(net, p, u, y, v, f0)
    h = _initial_step(net, p, u, y, f0, t_stop - t, 4.0, rtol, atol, ys, k2, v)
    h = _at_least_resolvable(h, t, t_stop)
    info[INFO_RHS] += 2
    stiff_hits = 0
    nonstiff_run = 0
    since_check = 0
    jac = np.empty((n, n))
    rejected_last = False
    nonfinite_last = False
    while t < t_stop:
        info[INFO_T] = t
        if info[INFO_ACCEPTED] + info[INFO_REJECTED] >= max_steps:
            return MAX_STEPS, k_out, t
        if stop[0] != 0:
            return STOPPED, k_out, t
        if _too_small(h, t, t_stop):
            return (NONFINITE if nonfinite_last else STEP_TOO_SMALL), k_out, t
        landing = t + 1.0001 * h >= t_stop
        if landing:
            h = t_stop - t
        # --- one Dormand-Prince step -------------------------------------------------------
        for i in range(n):
            ys[i] = y[i] + h * tb.DP_A21 * f0[i]
        network_rhs(net, p, u, ys, v, k2)
        for i in range(n):
            ys[i] = y[i] + h * (tb.DP_A31 * f0[i] + tb.DP_A32 * k2[i])
        network_rhs(net, p, u, ys, v, k3)
        for i in range(n):
            ys[i] = y[i] + h * (tb.DP_A41 * f0[i] + tb.DP_A42 * k2[i] + tb.DP_A43 * k3[i])
        network_rhs(net, p, u, ys, v, k4)
        for i in range(n):
            ys[i] = y[i] + h * (tb.DP_A51 * f0[i] + tb.DP_A52 * k2[i] + tb.DP_A53 * k3[i] + tb.DP_A54 * k4[i])
        network_rhs(net, p, u, ys, v, k5)
        for i in range(n):
            ysti[i] = y[i] + h * (
                tb.DP_A61 * f0[i] + tb.DP_A62 * k2[i] + tb.DP_A63 * k3[i] + tb.DP_A64 * k4[i] + tb.DP_A65 * k5[i]
            )
        network_rhs(net, p, u, ysti, v, k6)
        for i in range(n):
            ynew[i] = y[i] + h * (
                tb.DP_B1 * f0[i] + tb.DP_B3 * k3[i] + tb.DP_B4 * k4[i] + tb.DP_B5 * k5[i] + tb.DP_B6 * k6[i]
            )
        network_rhs(net, p, u, ynew, v, k7)
        info[INFO_RHS] += 6
        err = 0.0
        stiff_num = 0.0
        stiff_den = 0.0
        biggest = 0.0
        for i in range(n):
            e = h * (
                tb.DP_E1 * f0[i]
                + tb.DP_E3 * k3[i]
                + tb.DP_E4 * k4[i]
                + tb.DP_E5 * k5[i]
                + tb.DP_E6 * k6[i]
                + tb.DP_E7 * k7[i]
            )
            err += (e / (atol + rtol * max(abs(y[i]), abs(ynew[i])))) ** 2
            biggest = max(biggest, abs(ynew[i]))
            stiff_num += (k7[i] - k6[i]) ** 2
            stiff_den += (ynew[i] - ysti[i]) ** 2
        err = np.sqrt(err / n)
        # --- accept or reject --------------------------------------------------------------
        accepted, nonfinite_last, h_retry = _judge(err, biggest, h, -0.2)
        if not accepted:
            info[INFO_REJECTED] += 1
            rejected_last = True
            h = h_retry
            continue
        t_new = t_stop if landing else t + h
        while k_out < n_out and t_out[k_out] <= t_new and t_out[k_out] < t_stop:
            theta = (t_out[k_out] - t) / h
            t1 = 1.0 - theta
            for i in range(n):
                ydiff = ynew[i] - y[i]
                bspl = h * f0[i] - ydiff
                r4 = ydiff - h * k7[i] - bspl
                r5 = h * (
                    tb.DP_D1 * f0[i]
                    + tb.DP_D3 * k3[i]
                    + tb.DP_D4 * k4[i]
                    + tb.DP_D5 * k5[i]
                    + tb.DP_D6 * k6[i]
                    + tb.DP_D7 * k7[i]
                )
                out[k_out, i] = y[i] + theta * (ydiff + t1 * (bspl + theta * (r4 + t1 * r5)))
            k_out += 1
        for i in range(n):
            y[i] = ynew[i]
            f0[i] = k7[i]  # first same as last
        t = t_new
        info[INFO_ACCEPTED] += 1
        grow = min(_GROW_MAX_DOPRI, _SAFETY * err**-0.2) if err > 0.0 else _GROW_MAX_DOPRI
        if rejected_last:
            grow = min(grow, 1.0)
        rejected_last = False
        if detect_stiffness and t < t_stop:
            if stiff_den > 0.0 and h * np.sqrt(stiff_num / stiff_den) > _STIFF_HLAMBDA:
                nonstiff_run = 0
                stiff_hits += 1
                if stiff_hits == _STIFF_HITS:
                    return _BECAME_STIFF, k_out, t
            else:
                nonstiff_run += 1
                if nonstiff_run == _NONSTIFF_RESET:
                    stiff_hits = 0
            since_check += 1
            if since_check == _STIFF_CHECK_EVERY:
                since_check = 0
                network_jacobian(net, p, y, jac)
                info[INFO_JAC] += 1
                if h * _spectral_radius_bound(jac) > _STIFF_HBOUND:
                    return _BECAME_STIFF, k_out, t
        h *= grow
    info[INFO_T] = t
    return OK, k_out, t


@njit(cache=True, error_model="numpy", nogil=True)
def _rodas4_loop(net, p, u, t, t_stop, y, t_out, k_out, out, rtol, atol, max_steps, stop, info):
    """Rodas4 from ``t`` to ``t_stop`` with its 3rd-order dense output.

    Rodas4 (Hairer & Wanner) is a stiffly accurate, L-stable Rosenbrock method of order 4 with
    an embedded order-3 solution; each step solves six linear systems with the one matrix
    ``I / (h gamma) - J``. Returns ``(status, k_out, t)`` like :func:`_dopri5_loop`.
    """
    n = y.shape[0]
    n_out = t_out.shape[0]
    v = np.empty(net.kind.shape[0])
    f0 = np.empty(n)
    k1 = np.empty(n)
    k2 = np.empty(n)
    k3 = np.empty(n)
    k4 = np.empty(n)
    k5 = np.empty(n)
    k6 = np.empty(n)
    d1 = np.empty(n)
    d2 = np.empty(n)
    ys = np.empty(n)
    ynew = np.empty(n)
    jac = np.empty((n, n))
    lu = np.empty((n, n))
    piv = np.empty(n, dtype=np.int64)
    network_rhs(net, p, u, y, v, f0)
    h = _initial_step(net, p, u, y, f0, t_stop - t, 3.0, rtol, atol, ys, k1, v)
    h = _at_least_resolvable(h, t, t_stop)
    info[INFO_RHS] += 2
    rejected_last = False
    nonfinite_last = False
    while t < t_stop:
        info[INFO_T] = t
        if info[INFO_ACCEPTED] + info[INFO_REJECTED] >= max_steps:
            return MAX_STEPS, k_out, t
        if stop[0] != 0:
            return STOPPED, k_out, t
        if _too_small(h, t, t_stop):
            return (NONFINITE if nonfinite_last else STEP_TOO_SMALL), k_out, t
        landing = t + 1.0001 * h >= t_stop
        if landing:
            h = t_stop - t
        # --- iteration matrix I / (h gamma) - J and its LU factors ---------------------------
        network_jacobian(net, p, y, jac)
        info[INFO_JAC] += 1
        fac = 1.0 / (h * tb.RO_GAMMA)
        for i in range(n):
            for m in range(n):
                lu[i, m] = -jac[i, m]
            lu[i, i] += fac
        if lu_factor(lu, piv) != 0:
            # Singular at this h (an eigenvalue of J equals 1 / (h gamma)): try a smaller h.
            info[INFO_REJECTED] += 1
            h *= 0.5
            if _too_small(h, t, t_stop):
                return SINGULAR, k_out, t
            continue
        # --- the six stages (transformed form: k_i are increments, not derivatives) ----------
        inv_h = 1.0 / h
        for i in range(n):
            k1[i] = f0[i]
        lu_solve(lu, piv, k1)
        for i in range(n):
            ys[i] = y[i] + tb.RO_A21 * k1[i]
        network_rhs(net, p, u, ys, v, k2)
        for i in range(n):
            k2[i] += inv_h * tb.RO_C21 * k1[i]
        lu_solve(lu, piv, k2)
        for i in range(n):
            ys[i] = y[i] + tb.RO_A31 * k1[i] + tb.RO_A32 * k2[i]
        network_rhs(net, p, u, ys, v, k3)
        for i in range(n):
            k3[i] += inv_h * (tb.RO_C31 * k1[i] + tb.RO_C32 * k2[i])
        lu_solve(lu, piv, k3)
        for i in range(n):
            ys[i] = y[i] + tb.RO_A41 * k1[i] + tb.RO_A42 * k2[i] + tb.RO_A43 * k3[i]
        network_rhs(net, p, u, ys, v, k4)
        for i in range(n):
            k4[i] += inv_h * (tb.RO_C41 * k1[i] + tb.RO_C42 * k2[i] + tb.RO_C43 * k3[i])
        lu_solve(lu, piv, k4)
        for i in range(n):
            ys[i] = y[i] + tb.RO_A51 * k1[i] + tb.RO_A52 * k2[i] + tb.RO_A53 * k3[i] + tb.RO_A54 * k4[i]
        network_rhs(net, p, u, ys, v, k5)
        for i in range(n):
            k5[i] += inv_h * (tb.RO_C51 * k1[i] + tb.RO_C52 * k2[i] + tb.RO_C53 * k3[i] + tb.RO_C54 * k4[i])
        lu_solve(lu, piv, k5)
        # Stiffly accurate: the embedded solution is ys + k5; the solution adds k6, the error.
        for i in range(n):
            ys[i] += k5[i]
        network_rhs(net, p, u, ys, v, k6)
        for i in range(n):
            k6[i] += inv_h * (
                tb.RO_C61 * k1[i] + tb.RO_C62 * k2[i] + tb.RO_C63 * k3[i] + tb.RO_C64 * k4[i] + tb.RO_C65 * k5[i]
            )
        lu_solve(lu, piv, k6)
        info[INFO_RHS] += 5
        err = 0.0
        biggest = 0.0
        for i in range(n):
            ynew[i] = ys[i] + k6[i]
            err += (k6[i] / (atol + rtol * max(abs(y[i]), abs(ynew[i])))) ** 2
            biggest = max(biggest, abs(ynew[i]))
        err = np.sqrt(err / n)
        # --- accept or reject --------------------------------------------------------------
        accepted, nonfinite_last, h_retry = _judge(err, biggest, h, -0.25)
        if not accepted:
            info[INFO_REJECTED] += 1
            rejected_last = True
            h = h_retry
            continue
        t_new = t_stop if landing else t + h
        if k_out < n_out and t_out[k_out] <= t_new and t_out[k_out] < t_stop:
            for i in range(n):
                d1[i] = (
                    tb.RO_H21 * k1[i] + tb.RO_H22 * k2[i] + tb.RO_H23 * k3[i] + tb.RO_H24 * k4[i] + tb.RO_H25 * k5[i]
                )
                d2[i] = (
                    tb.RO_H31 * k1[i] + tb.RO_H32 * k2[i] + tb.RO_H33 * k3[i] + tb.RO_H34 * k4[i] + tb.RO_H35 * k5[i]
                )
            while k_out < n_out and t_out[k_out] <= t_new and t_out[k_out] < t_stop:
                theta = (t_out[k_out] - t) / h
                t1 = 1.0 - theta
                for i in range(n):
                    out[k_out, i] = t1 * y[i] + theta * (ynew[i] + t1 * (d1[i] + theta * d2[i]))
                k_out += 1
        for i in range(n):
            y[i] = ynew[i]
        t = t_new
        info[INFO_ACCEPTED] += 1
        network_rhs(net, p, u, y, v, f0)
        info[INFO_RHS] += 1
        grow = min(_GROW_MAX_RODAS, _SAFETY * err**-0.25) if err > 0.0 else _GROW_MAX_RODAS
        if rejected_last:
            grow = min(grow, 1.0)
        rejected_last = False
        h *= grow
    info[INFO_T] = t
    return OK, k_out, t


@njit(cache=True, error_model="numpy", nogil=True)
def _looks_stiff(net, p, y, span):
    """Whether an explicit method would need hundreds of steps over ``span`` for stability."""
    n = y.shape[0]
    jac = np.empty((n, n))
    network_jacobian(net, p, y, jac)
    return _spectral_radius_bound(jac) * span > _STIFF_START


@njit(cache=True, error_model="numpy", nogil=True)
def integrate_network(
    net, p, y0, t0, t_out, ev_t, ev_sp, ev_kind, ev_val, method, rtol, atol, max_steps, stop, out, info
):
    """Integrate a network ODE with dosing events and write the state at ``t_out``.

    Parameters
    ----------
    net : NetworkArrays
    p : float64[n_parameters]
    y0 : float64[n_species]
        Concentrations at ``t0`` (before any event at ``t0``).
    t0 : float
    t_out : float64[n_out]
        Sorted output times, ``t_out[0] >= t0``.
    ev_t, ev_sp, ev_kind, ev_val : float64, int64, int64, float64 [n_events]
        Events sorted by time: kind :data:`EVENT_BOLUS` adds ``ev_val`` (amount) to species
        ``ev_sp``; kind :data:`EVENT_RATE` adds ``ev_val`` (amount per time) to its input.
    method : int
        :data:`AUTO`, :data:`DOPRI5` or :data:`RODAS4`. ``AUTO`` uses Rodas4 from the start
        of a piece when a bound on the Jacobian's spectral radius says the piece is stiff,
        and otherwise Dormand-Prince, handing over to Rodas4 if stiffness shows up later.
    rtol, atol : float
    max_steps : int
        Limit on attempted steps (accepted plus rejected) over the whole run.
    stop : int64[1]
        Stop flag, read before every step (non-zero: return :data:`STOPPED`).
    out : float64[n_out, n_species]
        Output, written in place.
    info : float64[N_INFO]
        Output statistics (``INFO_*`` slots).

    Returns
    -------
    int
        :data:`OK` or a failure code; on failure ``info[INFO_T]`` is the time reached and the
        rows of ``out`` not reached are left untouched.
    """
    n = y0.shape[0]
    y = np.empty(n)
    for i in range(n):
        y[i] = y0[i]
    u = np.zeros(n)
    for s in range(N_INFO):
        info[s] = 0.0
    info[INFO_STIFF_T] = np.nan
    stiff = method == RODAS4
    n_out = t_out.shape[0]
    n_ev = ev_t.shape[0]
    t_final = t_out[n_out - 1]
    t = t0
    k_out = 0
    e = 0
    status = OK
    while True:
        while e < n_ev and ev_t[e] <= t:
            sp = ev_sp[e]
            if ev_kind[e] == EVENT_BOLUS:
                y[sp] += ev_val[e] / (1.0 if net.sp_vol[sp] < 0 else p[net.sp_vol[sp]])
            else:
                u[sp] += ev_val[e]
            e += 1
        while k_out < n_out and t_out[k_out] <= t:
            for i in range(n):
                out[k_out, i] = y[i]
            k_out += 1
        if k_out >= n_out:
            break
        t_stop = t_final
        if e < n_ev and ev_t[e] < t_stop:
            t_stop = ev_t[e]
        if method == AUTO and not stiff and _looks_stiff(net, p, y, t_stop - t):
            stiff = True
            info[INFO_STIFF_T] = t
        if not stiff:
            status, k_out, t = _dopri5_loop(
                net, p, u, t, t_stop, y, t_out, k_out, out, method == AUTO, rtol, atol, max_steps, stop, info
            )
            if status == _BECAME_STIFF:
                stiff = True
                info[INFO_STIFF_T] = t
        if stiff and t < t_stop:
            status, k_out, t = _rodas4_loop(
                net, p, u, t, t_stop, y, t_out, k_out, out, rtol, atol, max_steps, stop, info
            )
        if status != OK:
            break
        t = t_stop
    if status == OK:
        info[INFO_T] = t
    return status


# --- forward sensitivities ------------------------------------------------------------------------
#
# The sensitivities s_k = dy/dtheta_k obey ds_k/dt = J(y) s_k + F(y) g_k + du_k / V, with
# F = df/dp, g_k = dp/dtheta_k and du_k the derivative of the zero-order input. Rodas4 is
# applied to the augmented system (y, s_1..s_m) with its exact Jacobian, which is block lower
# triangular [[J, 0], [M_k, J]]: one LU of I/(h gamma) - J serves every block, and the
# sensitivity stages are K_s = W^-1 (r_s + M_k K_y). The products M_k K_y (second derivatives
# of f) are directional finite differences of J s_k + F g_k along K_y.


@njit(cache=True, error_model="numpy", nogil=True)
def _sens_combine(jac, dfdp, s, g_ptr, g_col, g_val, du, inv_vol, out_s):
    """out_s = J s + F g + du / V: the sensitivity right-hand side from its parts.

    ``g`` comes in compressed rows (``g_ptr, g_col, g_val``): it is mostly zeros (a theta
    moves one or two network parameters), and F is sparse too (a species depends on few
    parameters), so only nonzero products are formed.
    """
    n = jac.shape[0]
    ns = s.shape[1]
    for i in range(n):
        for k in range(ns):
            out_s[i, k] = du[i, k] * inv_vol[i]
        for m in range(n):
            jim = jac[i, m]
            if jim != 0.0:
                for k in range(ns):
                    out_s[i, k] += jim * s[m, k]
        for q in range(dfdp.shape[1]):
            fiq = dfdp[i, q]
            if fiq != 0.0:
                for e in range(g_ptr[q], g_ptr[q + 1]):
                    out_s[i, g_col[e]] += fiq * g_val[e]


@njit(cache=True, error_model="numpy", nogil=True)
def _rodas4_sens_loop(
    net, p, u, t, t_stop, y, s, g, du, t_out, k_out, out, out_s, rtol, atol, max_steps, stop, sens_error, info
):
    """Rodas4 with forward sensitivities from ``t`` to ``t_stop`` (see the section comment)."""
    n = y.shape[0]
    ns = s.shape[1]
    n_p = p.shape[0]
    n_out = t_out.shape[0]
    v = np.empty(net.kind.shape[0])
    f0 = np.empty(n)
    ky = np.empty((6, n))
    ks = np.empty((6, n, ns))
    d1 = np.empty(n)
    d2 = np.empty(n)
    d1s = np.empty((n, ns))
    d2s = np.empty((n, ns))
    ys = np.empty(n)
    ss = np.empty((n, ns))
    fy = np.empty(n)
    fs = np.empty((n, ns))
    fs0 = np.empty((n, ns))
    ynew = np.empty(n)
    snew = np.empty((n, ns))
    jac = np.empty((n, n))
    jac0 = np.empty((n, n))
    dfdp = np.empty((n, n_p))
    lu = np.empty((n, n))
    piv = np.empty(n, dtype=np.int64)
    col = np.empty(n)
    yeps = np.empty(n)
    fd = np.empty((n, ns))
    rhs_s = np.empty((n, ns))
    g_ptr = np.zeros(n_p + 1, dtype=np.int64)
    for q in range(n_p):
        count = 0
        for k in range(ns):
            if g[q, k] != 0.0:
                count += 1
        g_ptr[q + 1] = g_ptr[q] + count
    g_col = np.empty(g_ptr[n_p], dtype=np.int64)
    g_val = np.empty(g_ptr[n_p])
    e = 0
    for q in range(n_p):
        for k in range(ns):
            if g[q, k] != 0.0:
                g_col[e] = k
                g_val[e] = g[q, k]
                e += 1
    # with fewer species than stages, differencing M_k column by column once per step is cheaper
    by_matrix = n < 6
    mk = np.empty((n, n, ns))
    inv_vol = np.empty(n)
    for i in range(n):
        inv_vol[i] = 1.0 if net.sp_vol[i] < 0 else 1.0 / p[net.sp_vol[i]]
    a = np.zeros((6, 6))
    c = np.zeros((6, 6))
    a[1, 0] = tb.RO_A21
    a[2, 0] = tb.RO_A31
    a[2, 1] = tb.RO_A32
    a[3, 0] = tb.RO_A41
    a[3, 1] = tb.RO_A42
    a[3, 2] = tb.RO_A43
    a[4, 0] = tb.RO_A51
    a[4, 1] = tb.RO_A52
    a[4, 2] = tb.RO_A53
    a[4, 3] = tb.RO_A54
    c[1, 0] = tb.RO_C21
    c[2, 0] = tb.RO_C31
    c[2, 1] = tb.RO_C32
    c[3, 0] = tb.RO_C41
    c[3, 1] = tb.RO_C42
    c[3, 2] = tb.RO_C43
    c[4, 0] = tb.RO_C51
    c[4, 1] = tb.RO_C52
    c[4, 2] = tb.RO_C53
    c[4, 3] = tb.RO_C54
    c[5, 0] = tb.RO_C61
    c[5, 1] = tb.RO_C62
    c[5, 2] = tb.RO_C63
    c[5, 3] = tb.RO_C64
    c[5, 4] = tb.RO_C65
    network_rhs(net, p, u, y, v, f0)
    h = _initial_step(net, p, u, y, f0, t_stop - t, 3.0, rtol, atol, ys, ynew, v)
    h = _at_least_resolvable(h, t, t_stop)
    info[INFO_RHS] += 2
    rejected_last = False
    nonfinite_last = False
    while t < t_stop:
        info[INFO_T] = t
        if info[INFO_ACCEPTED] + info[INFO_REJECTED] >= max_steps:
            return MAX_STEPS, k_out, t
        if stop[0] != 0:
            return STOPPED, k_out, t
        if _too_small(h, t, t_stop):
            return (NONFINITE if nonfinite_last else STEP_TOO_SMALL), k_out, t
        landing = t + 1.0001 * h >= t_stop
        if landing:
            h = t_stop - t
        # base point: J(y), and the sensitivity right-hand side at (y, s)
        network_jacobian(net, p, y, jac0)
        network_dfdp(net, p, u, y, v, fy, dfdp)
        _sens_combine(jac0, dfdp, s, g_ptr, g_col, g_val, du, inv_vol, fs0)
        info[INFO_JAC] += 1
        fac = 1.0 / (h * tb.RO_GAMMA)
        for i in range(n):
            for m in range(n):
                lu[i, m] = -jac0[i, m]
            lu[i, i] += fac
        if lu_factor(lu, piv) != 0:
            info[INFO_REJECTED] += 1
            h *= 0.5
            if _too_small(h, t, t_stop):
                return SINGULAR, k_out, t
            continue
        inv_h = 1.0 / h
        if by_matrix:
            for m in range(n):
                eps = 1e-7 * (abs(y[m]) + atol / rtol)
                for i in range(n):
                    yeps[i] = y[i]
                yeps[m] += eps
                network_jacobian(net, p, yeps, jac)
                network_dfdp(net, p, u, yeps, v, col, dfdp)
                _sens_combine(jac, dfdp, s, g_ptr, g_col, g_val, du, inv_vol, fd)
                for i in range(n):
                    for k in range(ns):
                        mk[i, m, k] = (fd[i, k] - fs0[i, k]) / eps
        for st in range(6):
            # stage state: y + sum a_ij K_j (the sixth stage starts from ys + k5)
            if st == 0:
                for i in range(n):
                    fy[i] = f0[i]
                    for k in range(ns):
                        fs[i, k] = fs0[i, k]
            else:
                if st < 5:
                    for i in range(n):
                        ys[i] = y[i]
                        for k in range(ns):
                            ss[i, k] = s[i, k]
                    for j in range(st):
                        coef = a[st, j]
                        for i in range(n):
                            ys[i] += coef * ky[j, i]
                            for k in range(ns):
                                ss[i, k] += coef * ks[j, i, k]
                else:
                    for i in range(n):
                        ys[i] += ky[4, i]
                        for k in range(ns):
                            ss[i, k] += ks[4, i, k]
                network_jacobian(net, p, ys, jac)
                network_dfdp(net, p, u, ys, v, fy, dfdp)
                _sens_combine(jac, dfdp, ss, g_ptr, g_col, g_val, du, inv_vol, fs)
            # y stage
            for i in range(n):
                acc = fy[i]
                for j in range(st):
                    acc += inv_h * c[st, j] * ky[j, i]
                col[i] = acc
            lu_solve(lu, piv, col)
            for i in range(n):
                ky[st, i] = col[i]
            # M_k K_y: with few species from the matrices M_k differenced once per step, else by a
            # directional difference of (J s_k + F g_k) along K_y at the base point
            if by_matrix:
                for i in range(n):
                    for k in range(ns):
                        acc = 0.0
                        for m in range(n):
                            acc += mk[i, m, k] * ky[st, m]
                        fd[i, k] = acc
                norm = 0.0
                eps = 0.0
            else:
                norm = 0.0
                for i in range(n):
                    norm = max(norm, abs(ky[st, i]) / (abs(y[i]) + atol / rtol))
                eps = 1e-7 / norm if norm > 0.0 else 0.0
            if eps > 0.0:
                for i in range(n):
                    yeps[i] = y[i] + eps * ky[st, i]
                network_jacobian(net, p, yeps, jac)
                network_dfdp(net, p, u, yeps, v, col, dfdp)
                _sens_combine(jac, dfdp, s, g_ptr, g_col, g_val, du, inv_vol, fd)
                for i in range(n):
                    for k in range(ns):
                        fd[i, k] = (fd[i, k] - fs0[i, k]) / eps
            elif not by_matrix:
                for i in range(n):
                    for k in range(ns):
                        fd[i, k] = 0.0
            for i in range(n):
                for k in range(ns):
                    rhs_s[i, k] = fs[i, k] + fd[i, k]
            for j in range(st):
                coef = inv_h * c[st, j]
                for i in range(n):
                    for k in range(ns):
                        rhs_s[i, k] += coef * ks[j, i, k]
            lu_solve_columns(lu, piv, rhs_s)
            for i in range(n):
                for k in range(ns):
                    ks[st, i, k] = rhs_s[i, k]
        info[INFO_RHS] += 5
        err = 0.0
        biggest = 0.0
        for i in range(n):
            ynew[i] = ys[i] + ky[5, i]
            err += (ky[5, i] / (atol + rtol * max(abs(y[i]), abs(ynew[i])))) ** 2
            biggest = max(biggest, abs(ynew[i]))
            for k in range(ns):
                snew[i, k] = ss[i, k] + ks[5, i, k]
                if sens_error:
                    err += (ks[5, i, k] / (atol + rtol * max(abs(s[i, k]), abs(snew[i, k])))) ** 2
        err = np.sqrt(err / (n * (1 + ns) if sens_error else n))
        accepted, nonfinite_last, h_retry = _judge(err, biggest, h, -0.25)
        if not accepted:
            info[INFO_REJECTED] += 1
            rejected_last = True
            h = h_retry
            continue
        t_new = t_stop if landing else t + h
        if k_out < n_out and t_out[k_out] <= t_new and t_out[k_out] < t_stop:
            for i in range(n):
                d1[i] = (
                    tb.RO_H21 * ky[0, i]
                    + tb.RO_H22 * ky[1, i]
                    + tb.RO_H23 * ky[2, i]
                    + tb.RO_H24 * ky[3, i]
                    + tb.RO_H25 * ky[4, i]
                )
                d2[i] = (
                    tb.RO_H31 * ky[0, i]
                    + tb.RO_H32 * ky[1, i]
                    + tb.RO_H33 * ky[2, i]
                    + tb.RO_H34 * ky[3, i]
                    + tb.RO_H35 * ky[4, i]
                )
                for k in range(ns):
                    d1s[i, k] = (
                        tb.RO_H21 * ks[0, i, k]
                        + tb.RO_H22 * ks[1, i, k]
                        + tb.RO_H23 * ks[2, i, k]
                        + tb.RO_H24 * ks[3, i, k]
                        + tb.RO_H25 * ks[4, i, k]
                    )
                    d2s[i, k] = (
                        tb.RO_H31 * ks[0, i, k]
                        + tb.RO_H32 * ks[1, i, k]
                        + tb.RO_H33 * ks[2, i, k]
                        + tb.RO_H34 * ks[3, i, k]
                        + tb.RO_H35 * ks[4, i, k]
                    )
            while k_out < n_out and t_out[k_out] <= t_new and t_out[k_out] < t_stop:
                theta = (t_out[k_out] - t) / h
                t1 = 1.0 - theta
                for i in range(n):
                    out[k_out, i] = t1 * y[i] + theta * (ynew[i] + t1 * (d1[i] + theta * d2[i]))
                    for k in range(ns):
                        out_s[k_out, i, k] = t1 * s[i, k] + theta * (snew[i, k] + t1 * (d1s[i, k] + theta * d2s[i, k]))
                k_out += 1
        for i in range(n):
            y[i] = ynew[i]
            for k in range(ns):
                s[i, k] = snew[i, k]
        t = t_new
        info[INFO_ACCEPTED] += 1
        network_rhs(net, p, u, y, v, f0)
        info[INFO_RHS] += 1
        grow = min(_GROW_MAX_RODAS, _SAFETY * err**-0.25) if err > 0.0 else _GROW_MAX_RODAS
        if rejected_last:
            grow = min(grow, 1.0)
        rejected_last = False
        h *= grow
    info[INFO_T] = t
    return OK, k_out, t


@njit(cache=True, error_model="numpy", nogil=True)
def integrate_sensitivities(
    net,
    p,
    y0,
    s0,
    g,
    t0,
    t_out,
    ev_t,
    ev_sp,
    ev_kind,
    ev_val,
    ev_dval,
    rtol,
    atol,
    max_steps,
    stop,
    sens_error,
    out,
    out_s,
    info,
):
    """Integrate a network and its forward sensitivities with Rodas4, with dosing events.

    Parameters are those of :func:`integrate_network` (always Rodas4), plus:

    s0 : float64[n_species, n_theta]
        Initial sensitivities ``dy0/dtheta``.
    g : float64[n_parameters, n_theta]
        ``dp/dtheta``: how each network parameter depends on each theta.
    ev_dval : float64[n_events, n_theta]
        ``d(event value)/dtheta`` (bolus amounts, input rates).
    sens_error : bool
        Include the sensitivities in the error control (full error control, more steps), or
        control the states only and let the sensitivities ride on their steps.
    out_s : float64[n_out, n_species, n_theta]
        Output sensitivities at ``t_out``.
    """
    n = y0.shape[0]
    ns = s0.shape[1]
    y = np.empty(n)
    s = np.empty((n, ns))
    for i in range(n):
        y[i] = y0[i]
        for k in range(ns):
            s[i, k] = s0[i, k]
    u = np.zeros(n)
    du = np.zeros((n, ns))
    for slot in range(N_INFO):
        info[slot] = 0.0
    info[INFO_STIFF_T] = t0
    n_out = t_out.shape[0]
    n_ev = ev_t.shape[0]
    t_final = t_out[n_out - 1]
    t = t0
    k_out = 0
    e = 0
    status = OK
    while True:
        while e < n_ev and ev_t[e] <= t:
            sp = ev_sp[e]
            vol_index = net.sp_vol[sp]
            if ev_kind[e] == EVENT_BOLUS:
                volume = 1.0 if vol_index < 0 else p[vol_index]
                y[sp] += ev_val[e] / volume
                for k in range(ns):
                    dvol = 0.0 if vol_index < 0 else g[vol_index, k]
                    s[sp, k] += ev_dval[e, k] / volume - ev_val[e] * dvol / (volume * volume)
            else:
                u[sp] += ev_val[e]
                for k in range(ns):
                    du[sp, k] += ev_dval[e, k]
            e += 1
        while k_out < n_out and t_out[k_out] <= t:
            for i in range(n):
                out[k_out, i] = y[i]
                for k in range(ns):
                    out_s[k_out, i, k] = s[i, k]
            k_out += 1
        if k_out >= n_out:
            break
        t_stop = t_final
        if e < n_ev and ev_t[e] < t_stop:
            t_stop = ev_t[e]
        status, k_out, t = _rodas4_sens_loop(
            net, p, u, t, t_stop, y, s, g, du, t_out, k_out, out, out_s, rtol, atol, max_steps, stop, sens_error, info
        )
        if status != OK:
            break
        t = t_stop
    if status == OK:
        info[INFO_T] = t
    return status
