"""Kernels over many subjects at once: one network integrated per parameter row, and NCA.

A virtual population integrates the same compiled network for thousands of parameter vectors.
:func:`integrate_batch` runs :func:`~workbench.core.ode.integrate_network` for each row in
parallel threads (each subject's solve is independent and deterministic, so the result does
not depend on the thread count). :func:`nca_batch` computes the non-compartmental parameters
of every profile with the rules of :func:`workbench.analysis.nca` (linear-up/log-down AUC,
lambda_z from the largest terminal window within 1e-4 of the best adjusted R²), compiled,
because a per-profile Python call would cost more than the simulation.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from .ode import N_INFO, integrate_network

__all__ = ["NCA_COLUMNS", "integrate_batch", "nca_batch"]

#: Columns written by :func:`nca_batch`, in order.
NCA_COLUMNS = ("cmax", "tmax", "clast", "tlast", "auc_0_t", "cmin_after_last_dose", "lambda_z", "t_half")

_ADJ_R2_TOLERANCE = 1e-4


@njit(cache=True, error_model="numpy", nogil=True, parallel=True)
def integrate_batch(
    net,
    p_rows,
    y0,
    t0,
    t_out,
    ev_t,
    ev_sp,
    ev_kind,
    ev_val_rows,
    method,
    rtol,
    atol,
    max_steps,
    stop,
    observed,
    out,
    status,
):
    """Integrate one network for every row of ``p_rows``; keep the ``observed`` species.

    Parameters
    ----------
    net : NetworkArrays
    p_rows : float64[n_subjects, n_parameters]
    y0 : float64[n_species]
    t0 : float
    t_out : float64[n_out]
    ev_t, ev_sp, ev_kind : float64, int64, int64 [n_events]
        The shared dosing schedule.
    ev_val_rows : float64[n_subjects, n_events]
        Each subject's event values (amounts or rates).
    method, rtol, atol, max_steps, stop : as in :func:`~workbench.core.ode.integrate_network`
    observed : int64[n_observed]
        Species indices to keep.
    out : float64[n_subjects, n_out, n_observed]
        Written.
    status : int64[n_subjects]
        Each subject's solver status (written).
    """
    n_species = y0.shape[0]
    for i in prange(p_rows.shape[0]):
        full = np.empty((t_out.shape[0], n_species))
        info = np.zeros(N_INFO)
        status[i] = integrate_network(
            net, p_rows[i], y0.copy(), t0, t_out, ev_t, ev_sp, ev_kind, ev_val_rows[i], method, rtol, atol,
            max_steps, stop, full, info,
        )  # fmt: skip
        for j in range(t_out.shape[0]):
            for k in range(observed.shape[0]):
                out[i, j, k] = full[j, observed[k]]


@njit(cache=True, error_model="numpy", nogil=True)
def _terminal_phase(t, c, i_max):
    """(lambda_z, points) by the adjusted-R² rule; NaN when fewer than 3 positive points follow Cmax."""
    n = c.shape[0]
    count = 0
    for j in range(i_max + 1, n):
        if c[j] > 0:
            count += 1
    if count < 3:
        return math.nan, 0
    sx = sy = sxx = sxy = syy = 0.0
    k = 0
    best = -math.inf
    best_k = 0
    best_slope = math.nan
    adj_values = np.empty(count + 1)
    slopes = np.empty(count + 1)
    for j in range(n - 1, i_max, -1):  # latest first: window k holds the last k positive points
        if not c[j] > 0:
            continue
        x = t[j]
        y = math.log(c[j])
        k += 1
        sx += x
        sy += y
        sxx += x * x
        sxy += x * y
        syy += y * y
        if k < 3:
            continue
        var_x = sxx - sx * sx / k
        cov = sxy - sx * sy / k
        ss_tot = syy - sy * sy / k
        slope = cov / var_x
        ss_res = max(ss_tot - slope * cov, 0.0)
        r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
        adj = 1.0 - (1.0 - r2) * (k - 1) / (k - 2)
        adj_values[k] = adj
        slopes[k] = slope
        best = max(best, adj)
    for size in range(count, 2, -1):  # the largest window within the tolerance of the best
        if adj_values[size] >= best - _ADJ_R2_TOLERANCE:
            best_k = size
            best_slope = slopes[size]
            break
    lam = -best_slope
    if not lam > 0:
        return math.nan, best_k
    return lam, best_k


@njit(cache=True, error_model="numpy", nogil=True, parallel=True)
def nca_batch(t, c_rows, last_dose_time, out):
    """NCA of every row of ``c_rows`` (profiles sampled at ``t``); columns :data:`NCA_COLUMNS`.

    ``cmin_after_last_dose`` is the lowest concentration sampled at or after ``last_dose_time``
    (the trough of the last dosing interval when sampling runs to its end).
    """
    n_t = t.shape[0]
    for i in prange(c_rows.shape[0]):
        c = c_rows[i]
        i_max = 0
        for j in range(1, n_t):
            if c[j] > c[i_max]:
                i_max = j
        i_last = n_t - 1
        while i_last > 0 and not c[i_last] > 0:
            i_last -= 1
        auc = 0.0
        for j in range(i_last):
            dt = t[j + 1] - t[j]
            c1 = c[j]
            c2 = c[j + 1]
            if c2 < c1 and c2 > 0 and c1 > 0:
                auc += (c1 - c2) * dt / math.log(c1 / c2)
            else:
                auc += 0.5 * (c1 + c2) * dt
        cmin = math.inf
        for j in range(n_t):
            if t[j] >= last_dose_time and c[j] < cmin:
                cmin = c[j]
        lam, _ = _terminal_phase(t, c, i_max)
        out[i, 0] = c[i_max]
        out[i, 1] = t[i_max]
        out[i, 2] = c[i_last]
        out[i, 3] = t[i_last]
        out[i, 4] = auc
        out[i, 5] = cmin if cmin < math.inf else math.nan
        out[i, 6] = lam
        out[i, 7] = math.log(2.0) / lam if lam > 0 else math.nan
