"""Pseudo-arclength continuation of equilibria of a network in one parameter, as numba kernels.

The equilibria are followed in reduced coordinates ``y = y_ref + Q z`` (``Q``: orthonormal basis
of the directions that keep every conserved total), where ``G(z, lam) = Q^T f(y_ref + Q z;
p[k] = lam)`` is square and regular away from bifurcations. Each step predicts along the unit
tangent ``t`` and corrects with Newton on ``[G(X); t . (X - X_pred)] = 0`` (Keller's
pseudo-arclength condition), so the branch is followed around folds. A fold (saddle-node) is
where the tangent's parameter component changes sign; it is located by a secant search in
arclength, where the parameter is stationary, so its value is accurate to the square of the
arclength error. Eigenvalues (stability, Hopf points) are computed by the Python wrapper.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .kinetics import network_dfdp, network_jacobian
from .linalg import lu_factor, lu_solve

# Status codes.
OK = 0  # reached a bound of the parameter interval, or max_points
STEP_TOO_SMALL = 1  # the corrector kept failing: a singular point it cannot pass
LEFT_DOMAIN = 2  # a concentration became negative
STOPPED = 3  # the stop flag was set: cancelled, or over its time budget (see core.control)

# info slots
INFO_POINTS = 0
INFO_FOLDS = 1
INFO_NEWTON = 2
N_INFO = 3

# Step acceptance (besides Newton converging): the tangent turns by at most ~11 degrees and
# the corrector lands within 0.3 ds of the predictor.
MIN_TURN_COSINE = 0.98
MAX_DRIFT = 0.3


@njit(cache=True, error_model="numpy", nogil=True)
def _residual_and_jacobian(net, p, k_par, lam_scale, y_ref, q_basis, x, y, u, v, f, jac, dfdp, g, a):
    """G(x) into ``g`` and its Jacobian [G_z, G_lam] into the first N rows of ``a``.

    The parameter is ``x[N] * lam_scale``: continuing in a scaled parameter keeps arclength
    steps balanced between state and parameter.
    """
    n = y_ref.shape[0]
    big_n = q_basis.shape[1]
    for i in range(n):
        acc = y_ref[i]
        for m in range(big_n):
            acc += q_basis[i, m] * x[m]
        y[i] = acc
    p[k_par] = x[big_n] * lam_scale
    network_jacobian(net, p, y, jac)
    network_dfdp(net, p, u, y, v, f, dfdp)
    for r in range(big_n):
        acc = 0.0
        for i in range(n):
            acc += q_basis[i, r] * f[i]
        g[r] = acc
        for m in range(big_n):
            acc = 0.0
            for i in range(n):
                qi = q_basis[i, r]
                if qi != 0.0:
                    for j in range(n):
                        acc += qi * jac[i, j] * q_basis[j, m]
            a[r, m] = acc
        acc = 0.0
        for i in range(n):
            acc += q_basis[i, r] * dfdp[i, k_par]
        a[r, big_n] = acc * lam_scale


@njit(cache=True, error_model="numpy", nogil=True)
def correct(net, p, k_par, lam_scale, y_ref, q_basis, x_start, tangent, ds, tol, max_newton, x_out, t_out):
    """Predict ``ds`` along ``tangent`` from ``x_start`` and correct onto the branch.

    Writes the point into ``x_out`` and the new unit tangent (oriented like ``tangent``) into
    ``t_out``. Returns the number of Newton iterations, or -1 if Newton failed.
    """
    n = y_ref.shape[0]
    dim = q_basis.shape[1] + 1
    y = np.empty(n)
    u = np.zeros(n)
    v = np.empty(net.kind.shape[0])
    f = np.empty(n)
    jac = np.empty((n, n))
    dfdp = np.empty((n, p.shape[0]))
    g = np.empty(dim - 1)
    a = np.empty((dim, dim))
    piv = np.empty(dim, dtype=np.int64)
    rhs = np.empty(dim)
    x_pred = np.empty(dim)
    for i in range(dim):
        x_pred[i] = x_start[i] + ds * tangent[i]
        x_out[i] = x_pred[i]
    iterations = 0
    converged = False
    while iterations < max_newton:
        _residual_and_jacobian(net, p, k_par, lam_scale, y_ref, q_basis, x_out, y, u, v, f, jac, dfdp, g, a)
        scale = 1.0
        constraint = 0.0
        for i in range(dim):
            a[dim - 1, i] = tangent[i]
            constraint += tangent[i] * (x_out[i] - x_pred[i])
            scale = max(scale, abs(x_out[i]))
        resid = abs(constraint)
        for i in range(dim - 1):
            rhs[i] = -g[i]
            resid = max(resid, abs(g[i]))
        rhs[dim - 1] = -constraint
        if not resid < 1e300:
            return -1
        if lu_factor(a, piv) != 0:
            return -1
        lu_solve(a, piv, rhs)
        step = 0.0
        for i in range(dim):
            x_out[i] += rhs[i]
            step = max(step, abs(rhs[i]))
        iterations += 1
        if step <= tol * scale and resid <= tol * scale:
            converged = True
            break
    if not converged:
        return -1
    # new tangent: [G_x; t_old] t_new = [0; 1]
    _residual_and_jacobian(net, p, k_par, lam_scale, y_ref, q_basis, x_out, y, u, v, f, jac, dfdp, g, a)
    for i in range(dim):
        a[dim - 1, i] = tangent[i]
        rhs[i] = 0.0
    rhs[dim - 1] = 1.0
    if lu_factor(a, piv) != 0:
        return -1
    lu_solve(a, piv, rhs)
    norm = 0.0
    for i in range(dim):
        norm += rhs[i] * rhs[i]
    norm = np.sqrt(norm)
    for i in range(dim):
        t_out[i] = rhs[i] / norm
    return iterations


@njit(cache=True, error_model="numpy", nogil=True)
def continue_branch(
    net,
    p,
    k_par,
    lam_scale,
    y_ref,
    q_basis,
    x0,
    t0,
    lam_min,
    lam_max,
    ds0,
    ds_min,
    ds_max,
    tol,
    max_newton,
    stop_negative,
    stop,
    points,
    tangents,
    folds,
    info,
):
    """Follow a branch from ``x0`` along the unit tangent ``t0``.

    Stops when the scaled parameter ``x[N]`` leaves ``[lam_min, lam_max]`` or ``points`` is full,
    or with :data:`STOPPED` when the flag ``stop`` (int64[1], read every step) is set.

    ``points`` and ``tangents`` (max_points x (N + 1)) receive the branch; ``folds``
    (max_folds x (N + 1)) the located folds. ``info`` gets the counts. Returns a status code.
    """
    dim = q_basis.shape[1] + 1
    n = y_ref.shape[0]
    max_points = points.shape[0]
    x = np.empty(dim)
    t = np.empty(dim)
    x_new = np.empty(dim)
    t_new = np.empty(dim)
    x_try = np.empty(dim)
    t_try = np.empty(dim)
    for i in range(dim):
        x[i] = x0[i]
        t[i] = t0[i]
        points[0, i] = x0[i]
        tangents[0, i] = t0[i]
    count = 1
    n_folds = 0
    ds = ds0
    lam = dim - 1
    status = OK
    while count < max_points:
        if stop[0] != 0:
            status = STOPPED
            break
        its = correct(net, p, k_par, lam_scale, y_ref, q_basis, x, t, ds, tol, max_newton, x_new, t_new)
        info[INFO_NEWTON] += max(its, 0)
        # Accept a step only if the branch turned little and the corrector stayed near the
        # predictor: a long step across a tight bend may converge onto another branch.
        turn = 0.0
        drift = 0.0
        for i in range(dim):
            turn += t[i] * t_new[i]
            d = x_new[i] - x[i] - ds * t[i]
            drift += d * d
        if its < 0 or turn < MIN_TURN_COSINE or np.sqrt(drift) > MAX_DRIFT * ds:
            ds *= 0.5
            if ds < ds_min:
                status = STEP_TOO_SMALL
                break
            continue
        # left the physical domain?
        if stop_negative:
            negative = False
            for i in range(n):
                acc = y_ref[i]
                for m in range(dim - 1):
                    acc += q_basis[i, m] * x_new[m]
                if acc < -1e-9 * (1.0 + abs(y_ref[i])):
                    negative = True
            if negative:
                status = LEFT_DOMAIN
                break
        # a fold between x and x_new: the parameter direction of the tangent changes sign
        if t[lam] * t_new[lam] < 0.0 and n_folds < folds.shape[0]:
            lo = 0.0
            hi = ds
            f_lo = t[lam]
            f_hi = t_new[lam]
            s_mid = ds
            for _ in range(60):
                s_mid = hi - f_hi * (hi - lo) / (f_hi - f_lo)  # secant
                if not (lo < s_mid < hi):
                    s_mid = 0.5 * (lo + hi)
                if correct(net, p, k_par, lam_scale, y_ref, q_basis, x, t, s_mid, tol, max_newton, x_try, t_try) < 0:
                    break
                if abs(t_try[lam]) < 1e-13:
                    break
                if t_try[lam] * f_lo > 0.0:
                    lo = s_mid
                    f_lo = t_try[lam]
                else:
                    hi = s_mid
                    f_hi = t_try[lam]
                if hi - lo < 1e-14 * (1.0 + ds):
                    break
            for i in range(dim):
                folds[n_folds, i] = x_try[i]
            n_folds += 1
        # crossed a bound of the interval: land on it and stop
        if x_new[lam] > lam_max or x_new[lam] < lam_min:
            bound = lam_max if x_new[lam] > lam_max else lam_min
            frac = (bound - x[lam]) / (x_new[lam] - x[lam])
            its = correct(net, p, k_par, lam_scale, y_ref, q_basis, x, t, frac * ds, tol, max_newton, x_try, t_try)
            if its >= 0:
                for i in range(dim):
                    points[count, i] = x_try[i]
                    tangents[count, i] = t_try[i]
                points[count, lam] = bound
                count += 1
            break
        for i in range(dim):
            points[count, i] = x_new[i]
            tangents[count, i] = t_new[i]
            x[i] = x_new[i]
            t[i] = t_new[i]
        count += 1
        if its <= 3:
            ds = min(ds * 1.5, ds_max)
        elif its >= 6:
            ds = max(ds * 0.6, ds_min)
    info[INFO_POINTS] = count
    info[INFO_FOLDS] = n_folds
    return status


@njit(cache=True, error_model="numpy", nogil=True)
def reduced_jacobian(net, p, y, q_basis, out):
    """Q^T J(y) Q into ``out`` (the Jacobian on the compatibility class)."""
    n = y.shape[0]
    big_n = q_basis.shape[1]
    jac = np.empty((n, n))
    network_jacobian(net, p, y, jac)
    for r in range(big_n):
        for m in range(big_n):
            acc = 0.0
            for i in range(n):
                for j in range(n):
                    acc += q_basis[i, r] * jac[i, j] * q_basis[j, m]
            out[r, m] = acc
