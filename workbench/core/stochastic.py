"""Stochastic simulation: Gillespie's direct method, tau-leaping and the chemical Langevin equation.

Ensembles run in parallel, one independent random stream per run.

Copy numbers and propensities
-----------------------------
With system size ``omega`` (molecules per amount unit), species ``i`` in a compartment of
volume ``V_i`` has ``x_i = C_i * omega * V_i`` molecules. A mass-action reaction with rate
constant ``k`` (concentration units, compartment volume ``V_j``) has propensity::

    a_j = k * omega * V_j * prod_r  ff(x_r, o_r) / (omega * V_r) ** o_r

with ``ff`` the falling factorial ``x (x - 1) ... (x - o + 1)``: the standard combinatorics
(``2 X -> ...`` has ``a = c X (X - 1) / 2`` with ``c = 2 k / (omega V)``). The prefactor
``c_j`` is computed once by the Python wrapper. Other rate laws give ``a_j = omega * v_j`` with
``v_j`` the deterministic rate (amount per time) at concentrations ``x / (omega V)``. As
``omega`` grows the SSA mean converges to the ODE.

Kernels
-------
Each run draws from its own xoshiro256+ stream (:mod:`.random`), so an ensemble is bit-for-bit
the same on any number of threads. A run's event loop keeps all per-reaction work inline and
calls only scalar helpers: a call taking the network's arrays would cost reference-count
updates on every event.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .kinetics import EXPRESSION, FLOW, MASS_ACTION, expression_depth, expression_rate, saturable_rate
from .random import exponential, normal, poisson, uniform

# Status codes of a run.
OK = 0
MAX_EVENTS = 1
NEGATIVE_COUNT = 2  # a reaction fired without the molecules it consumes
BAD_PROPENSITY = 3  # a propensity became negative, NaN or infinite
STOPPED = 4  # the stop flag was set: cancelled, or over its time budget (see core.control)

# Methods.
DIRECT = 0
TAU_LEAP = 1
METHODS = {"direct": DIRECT, "tau_leap": TAU_LEAP}

# Tau-leaping (Cao, Gillespie & Petzold 2006): reactions that can fire fewer than this many
# times before exhausting a reactant are "critical" and fire one at a time; a leap shorter than
# this many mean event intervals is not worth it, and a batch of single SSA steps runs instead.
_CRITICAL_FIRINGS = 10
_LEAP_MIN_EVENTS = 10.0
_SSA_BATCH = 100


@njit(cache=True, error_model="numpy", nogil=True)
def _propensity(kind, k, q1, q2, vol, a_conc, b_conc, omega):
    """Propensity of a non-mass-action reaction from scalars (molecules per time)."""
    if kind == FLOW:
        return omega * k * a_conc / q1
    return omega * vol * saturable_rate(kind, k, q1, q2, a_conc, b_conc)


@njit(cache=True, error_model="numpy", nogil=True, parallel=True)
def ssa_ensemble(
    net,
    aff_ptr,
    aff_idx,
    stoi_int,
    hor,
    p,
    c,
    omega,
    omega_sp,
    x0,
    t0,
    t_out,
    states,
    method,
    epsilon,
    max_events,
    stop,
    out,
    status,
    events,
    t_reached,
    culprit,
):
    """Run an ensemble of stochastic simulations in parallel.

    Parameters
    ----------
    net : NetworkArrays
    aff_ptr, aff_idx : int64
        Reactions whose propensity changes when reaction ``j`` fires, in compressed rows; row
        ``n_reactions`` lists every reaction (used to initialise).
    stoi_int : int64[n_stoichiometry_entries]
        Net stoichiometry as integers (same layout as ``net.stoi_val``).
    hor : int64[n_species]
        Highest reaction order in which each species is a reactant (tau-leaping); negative if
        that reaction takes two or more of the species itself.
    p : float64[n_parameters]
    c : float64[n_reactions]
        Mass-action prefactors ``k omega V_j / prod (omega V_r) ** o_r``; unused for other kinds.
    omega : float
        Molecules per amount unit.
    omega_sp : float64[n_species]
        Molecules per concentration unit of each species (``omega * V_i``).
    x0 : int64[n_runs, n_species]
        Initial copy numbers of each run.
    t0 : float
    t_out : float64[n_times]
        Sorted output times, the first at or after ``t0``.
    states : uint64[n_runs, 4]
        Initial xoshiro256+ state of each run.
    method : int
        :data:`DIRECT` or :data:`TAU_LEAP`.
    epsilon : float
        Tau-leaping error control parameter (relative change of propensities per leap).
    max_events : int
        Limit on events (direct) or leaps (tau-leaping) per run.
    stop : int64[1]
        Stop flag, read every 256 events (non-zero: the run returns :data:`STOPPED`).
    out : int64[n_runs, n_times, n_species]
        Copy numbers at the output times (written).
    status, events, culprit : int64[n_runs]; t_reached : float64[n_runs]
        Per run: status code, events fired, the reaction at fault if any, time reached.
    """
    for r in prange(states.shape[0]):
        st, ev, tr, cul = _run(
            net,
            aff_ptr,
            aff_idx,
            stoi_int,
            hor,
            p,
            c,
            omega,
            omega_sp,
            x0[r],
            t0,
            t_out,
            states[r],
            method,
            epsilon,
            max_events,
            stop,
            out[r],
        )
        status[r] = st
        events[r] = ev
        t_reached[r] = tr
        culprit[r] = cul


@njit(cache=True, error_model="numpy", nogil=True)
def _run(
    net,
    aff_ptr,
    aff_idx,
    stoi_int,
    hor,
    p,
    c,
    omega,
    omega_sp,
    x0,
    t0,
    t_out,
    state,
    method,
    epsilon,
    max_events,
    stop,
    out,
):
    """One run (direct method or tau-leaping). Returns ``(status, events, t_reached, culprit)``."""
    # Local names for the arrays read on every event: indexing a tuple field inside the loop
    # made numba take a reference per event (~10% of the event cost).
    stoi_ptr = net.stoi_ptr
    stoi_sp = net.stoi_sp
    n_sp = x0.shape[0]
    n_r = net.kind.shape[0]
    n_out = t_out.shape[0]
    x = np.empty(n_sp, dtype=np.int64)
    for i in range(n_sp):
        x[i] = x0[i]
    a = np.zeros(n_r)
    conc = np.empty(n_sp)  # concentrations, for expression rate laws
    # both compile-time constants for a built-in network (see kinetics.expression_depth)
    has_expressions = expression_depth(net) > 0
    stack = np.empty(expression_depth(net))
    s0 = state[0]
    s1 = state[1]
    s2 = state[2]
    s3 = state[3]
    t = t0
    k_out = 0
    n_events = 0
    a0 = 0.0
    to_update = n_r  # row of aff_ptr listing every reaction
    since_refresh = 0
    # tau-leaping work arrays
    critical = np.zeros(n_r, dtype=np.bool_)
    mu = np.zeros(n_sp)
    sigma2 = np.zeros(n_sp)
    x_trial = np.empty(n_sp, dtype=np.int64)
    ssa_steps_left = 0
    while True:
        # --- propensities of the reactions the last event touched ---------------------------
        if has_expressions:  # expression laws read concentrations
            for i in range(n_sp):
                conc[i] = x[i] / omega_sp[i]
        for q in range(aff_ptr[to_update], aff_ptr[to_update + 1]):
            j = aff_idx[q]
            kind = net.kind[j]
            if kind == MASS_ACTION:
                w = c[j]
                for m in range(net.reac_ptr[j], net.reac_ptr[j + 1]):
                    count = x[net.reac_sp[m]]
                    for f in range(net.reac_ord[m]):
                        w *= count - f
            elif kind == EXPRESSION:
                w = omega * expression_rate(net, j, p, conc, stack)
            else:
                sa = net.mod[j, 0]
                sb = net.mod[j, 1]
                q1 = 1.0 if net.par[j, 1] < 0 else p[net.par[j, 1]]
                q2 = 0.0 if net.par[j, 2] < 0 else p[net.par[j, 2]]
                vol = 1.0 if net.vol[j] < 0 else p[net.vol[j]]
                b_conc = 0.0 if sb < 0 else x[sb] / omega_sp[sb]
                w = _propensity(kind, p[net.par[j, 0]], q1, q2, vol, x[sa] / omega_sp[sa], b_conc, omega)
            if not (w >= 0.0 and w < math.inf):
                return BAD_PROPENSITY, n_events, t, j
            a0 += w - a[j]
            a[j] = w
        since_refresh += 1
        if since_refresh >= 256 or to_update == n_r:
            # incremental sums drift by round-off; re-add from scratch now and then
            a0 = 0.0
            for j in range(n_r):
                a0 += a[j]
            since_refresh = 0
        if n_events >= max_events:
            return MAX_EVENTS, n_events, t, -1
        if (n_events & 255) == 0 and stop[0] != 0:
            return STOPPED, n_events, t, -1
        # --- tau-leap, when it pays --------------------------------------------------------
        if method == TAU_LEAP and ssa_steps_left == 0 and a0 > 0.0:
            # critical reactions: could exhaust a reactant within a few firings
            a0_critical = 0.0
            for j in range(n_r):
                critical[j] = False
                if a[j] > 0.0:
                    for m in range(stoi_ptr[j], stoi_ptr[j + 1]):
                        if stoi_int[m] < 0 and x[stoi_sp[m]] < -_CRITICAL_FIRINGS * stoi_int[m]:
                            critical[j] = True
                    if critical[j]:
                        a0_critical += a[j]
            # Cao's step: bound the expected and the standard change of each reactant species
            for i in range(n_sp):
                mu[i] = 0.0
                sigma2[i] = 0.0
            for j in range(n_r):
                if not critical[j] and a[j] > 0.0:
                    for m in range(stoi_ptr[j], stoi_ptr[j + 1]):
                        v = stoi_int[m]
                        mu[stoi_sp[m]] += v * a[j]
                        sigma2[stoi_sp[m]] += v * v * a[j]
            tau1 = math.inf
            for i in range(n_sp):
                if hor[i] == 0:
                    continue
                g = abs(hor[i])
                if hor[i] < 0 and x[i] > 1:  # it takes two of itself: g = 2 + 1 / (x - 1)
                    g = g + 1.0 / (x[i] - 1.0)
                bound = max(epsilon * x[i] / g, 1.0)
                if mu[i] != 0.0:
                    tau1 = min(tau1, bound / abs(mu[i]))
                if sigma2[i] > 0.0:
                    tau1 = min(tau1, bound * bound / sigma2[i])
            if tau1 < _LEAP_MIN_EVENTS / a0:
                ssa_steps_left = _SSA_BATCH
            else:
                leaped = False
                while not leaped:
                    if a0_critical > 0.0:
                        e, s0, s1, s2, s3 = exponential(s0, s1, s2, s3)
                        tau2 = e / a0_critical
                    else:
                        tau2 = math.inf
                    tau = min(tau1, tau2)
                    t_next = t + tau
                    while k_out < n_out and t_out[k_out] < t_next:
                        for i in range(n_sp):
                            out[k_out, i] = x[i]
                        k_out += 1
                    if k_out >= n_out:
                        return OK, n_events, t_out[n_out - 1], -1
                    for i in range(n_sp):
                        x_trial[i] = x[i]
                    for j in range(n_r):
                        if a[j] > 0.0 and not critical[j]:
                            fires, s0, s1, s2, s3 = poisson(a[j] * tau, s0, s1, s2, s3)
                            for m in range(stoi_ptr[j], stoi_ptr[j + 1]):
                                x_trial[stoi_sp[m]] += fires * stoi_int[m]
                    if tau2 <= tau1:
                        u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
                        target = u * a0_critical
                        chosen = -1
                        acc = 0.0
                        for j in range(n_r):
                            if critical[j] and a[j] > 0.0:
                                chosen = j
                                acc += a[j]
                                if acc > target:
                                    break
                        for m in range(stoi_ptr[chosen], stoi_ptr[chosen + 1]):
                            x_trial[stoi_sp[m]] += stoi_int[m]
                    negative = False
                    for i in range(n_sp):
                        if x_trial[i] < 0:
                            negative = True
                    if negative:
                        # a leap overshot: halve it and try again (the outputs already written
                        # lie before t + tau1 / 2 or are rewritten with the same state)
                        k_out_back = k_out
                        while k_out_back > 0 and t_out[k_out_back - 1] >= t:
                            k_out_back -= 1
                        k_out = k_out_back
                        tau1 *= 0.5
                        continue
                    leaped = True
                    for i in range(n_sp):
                        x[i] = x_trial[i]
                    t = t_next
                n_events += 1
                to_update = n_r
                continue
        # --- one event of the direct method -----------------------------------------------
        if a0 <= 0.0:
            for k in range(k_out, n_out):
                for i in range(n_sp):
                    out[k, i] = x[i]
            return OK, n_events, t_out[n_out - 1], -1
        e, s0, s1, s2, s3 = exponential(s0, s1, s2, s3)
        t_next = t + e / a0
        while k_out < n_out and t_out[k_out] < t_next:
            for i in range(n_sp):
                out[k_out, i] = x[i]
            k_out += 1
        if k_out >= n_out:
            return OK, n_events, t_out[n_out - 1], -1
        u, s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
        target = u * a0
        fired = -1
        acc = 0.0
        for j in range(n_r):
            if a[j] > 0.0:
                fired = j
                acc += a[j]
                if acc > target:
                    break
        for m in range(stoi_ptr[fired], stoi_ptr[fired + 1]):
            sp = stoi_sp[m]
            x[sp] += stoi_int[m]
            if x[sp] < 0:
                return NEGATIVE_COUNT, n_events, t_next, fired
        t = t_next
        n_events += 1
        to_update = fired
        if ssa_steps_left > 0:
            ssa_steps_left -= 1


@njit(cache=True, error_model="numpy", nogil=True, parallel=True)
def cle_ensemble(net, p, omega, omega_sp, x0, t0, t_out, dt, stop, states, out, status, culprit):
    """Chemical Langevin equation by Euler-Maruyama with step ``dt``, an ensemble in parallel.

    ``dx = sum_j S_j a_j(x) dt + sum_j S_j sqrt(a_j(x) dt) N_j(0, 1)``, with the propensities
    evaluated at ``max(x, 0)``; copy numbers are real. ``out`` is float64[n_runs, n_times,
    n_species]; steps are shortened to land on output times. ``stop`` (int64[1]) is read every 1024
    steps: non-zero returns :data:`STOPPED`.
    """
    for r in prange(states.shape[0]):
        st, cul = _cle_run(net, p, omega, omega_sp, x0, t0, t_out, dt, stop, states[r], out[r])
        status[r] = st
        culprit[r] = cul


@njit(cache=True, error_model="numpy", nogil=True)
def _cle_run(net, p, omega, omega_sp, x0, t0, t_out, dt, stop, state, out):
    n_sp = x0.shape[0]
    n_r = net.kind.shape[0]
    x = np.empty(n_sp)
    for i in range(n_sp):
        x[i] = x0[i]
    y = np.empty(n_sp)
    conc = np.empty(n_sp)
    v = np.empty(n_r)
    stack = np.empty(expression_depth(net))  # for expression laws, shared by every step
    s0 = state[0]
    s1 = state[1]
    s2 = state[2]
    s3 = state[3]
    t = t0
    steps = 0
    for k in range(t_out.shape[0]):
        while t < t_out[k]:
            steps += 1
            if (steps & 1023) == 0 and stop[0] != 0:
                return STOPPED, -1
            h = min(dt, t_out[k] - t)
            for i in range(n_sp):
                y[i] = max(x[i], 0.0)
                conc[i] = y[i] / omega_sp[i]
            for j in range(n_r):
                kind = net.kind[j]
                if kind == MASS_ACTION:
                    w = 1.0
                    for m in range(net.reac_ptr[j], net.reac_ptr[j + 1]):
                        count = y[net.reac_sp[m]]
                        for f in range(net.reac_ord[m]):
                            w *= max(count - f, 0.0)
                    # the same prefactor as the SSA, from the network arrays
                    w *= p[net.par[j, 0]] * omega * (1.0 if net.vol[j] < 0 else p[net.vol[j]])
                    for m in range(net.reac_ptr[j], net.reac_ptr[j + 1]):
                        w /= omega_sp[net.reac_sp[m]] ** net.reac_ord[m]
                elif kind == EXPRESSION:
                    w = omega * expression_rate(net, j, p, conc, stack)
                else:
                    sb = net.mod[j, 1]
                    q1 = 1.0 if net.par[j, 1] < 0 else p[net.par[j, 1]]
                    q2 = 0.0 if net.par[j, 2] < 0 else p[net.par[j, 2]]
                    vol = 1.0 if net.vol[j] < 0 else p[net.vol[j]]
                    w = _propensity(
                        kind, p[net.par[j, 0]], q1, q2, vol, conc[net.mod[j, 0]], 0.0 if sb < 0 else conc[sb], omega
                    )
                if not (w >= 0.0 and w < math.inf):
                    return BAD_PROPENSITY, j
                v[j] = w
            for j in range(n_r):
                z, s0, s1, s2, s3 = normal(s0, s1, s2, s3)
                change = v[j] * h + math.sqrt(v[j] * h) * z
                for m in range(net.stoi_ptr[j], net.stoi_ptr[j + 1]):
                    x[net.stoi_sp[m]] += net.stoi_val[m] * change
            t += h
        for i in range(n_sp):
            out[k, i] = x[i]
    return OK, -1
