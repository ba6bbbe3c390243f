"""Kernels of the hybrid tissue model: a 2-D reaction-diffusion field and agents coupled to it.

Field
-----
Cell-centred finite volumes on an ``nx x ny`` grid of spacing ``h``: ``c[i, j]`` is the areal
concentration in cell (i, j) (amount per area), ``dc/dt = div(D grad c) - k c + s``. Face
diffusivities are harmonic means of the two cells (flux continuity across layers, which makes
the perpendicular effective diffusivity of a layered tissue exactly the harmonic mean). Each
side of the domain is no-flux or Dirichlet (a value at the boundary face, half a cell from the
centre). With ``A = Ax + Ay`` (each direction's diffusion, with half the decay), a step is
Peaceman-Rachford ADI, second order and unconditionally stable::

    (I - dt/2 Ax) u* = c + dt/2 (Ay c + s)
    (I - dt/2 Ay) c' = u* + dt/2 (Ax u* + s)

each half step one tridiagonal solve per grid line (Thomas algorithm, lines in parallel). Its
fixed point is the exact discrete steady state. Adding the two halves and summing over cells
(interior fluxes cancel) gives the exact mass change::

    sum(c' - c) h^2 = dt [flux_x(u*) + (flux_y(c) + flux_y(c')) / 2 - k (u* + (c + c') / 2) / 2 + s]

so the ledger (supplied, out through boundaries, decayed) is computed from those three fields,
and mass balance holds to round-off by construction, which the tests check.

Agents
------
Top-down, the field is sampled at each agent by bilinear interpolation; bottom-up, each agent's
uptake is deposited with the same weights (cloud-in-cell kernel) transposed, which sum to one,
so what agents take is exactly what leaves the grid. Removal is limited per grid cell to what
the cell holds, and the agents' uptake is scaled to match.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# boundary kinds and sides
NO_FLUX = 0
DIRICHLET = 1
LEFT = 0  # x = 0
RIGHT = 1  # x = width
BOTTOM = 2  # y = 0
TOP = 3  # y = height

# ledger slots (amounts)
SUPPLIED = 0  # in through Dirichlet faces, plus sources
OUT = 1  # out through Dirichlet faces
DECAYED = 2
TAKEN_UP = 3
N_LEDGER = 4


@njit(cache=True, error_model="numpy", nogil=True)
def _face(d_a, d_b):
    """Harmonic mean of two cell diffusivities: the face value that keeps flux continuous."""
    if d_a <= 0.0 or d_b <= 0.0:
        return 0.0
    return 2.0 * d_a * d_b / (d_a + d_b)


@njit(cache=True, error_model="numpy", nogil=True)
def line_coefficients(diff, decay, inv_h2, bc, bc_val, axis, lower, diag, upper, const):
    """Coefficients of one direction's operator: ``(A c)[i, j] = lower c[prev] + diag c + upper c[next] + const``.

    ``axis`` 0 is x (along i), 1 is y (along j). ``diag`` includes minus half the decay;
    ``const`` carries the Dirichlet boundary values.
    """
    nx, ny = diff.shape
    lo = LEFT if axis == 0 else BOTTOM
    hi = RIGHT if axis == 0 else TOP
    n_along = nx if axis == 0 else ny
    for i in range(nx):
        for j in range(ny):
            lower[i, j] = 0.0
            upper[i, j] = 0.0
            const[i, j] = 0.0
            diag[i, j] = -0.5 * decay
    for i in range(nx):
        for j in range(ny):
            m = i if axis == 0 else j
            if m + 1 < n_along:
                d_next = diff[i + 1, j] if axis == 0 else diff[i, j + 1]
                f = _face(diff[i, j], d_next) * inv_h2
                upper[i, j] = f
                diag[i, j] -= f
                if axis == 0:
                    lower[i + 1, j] = f
                    diag[i + 1, j] -= f
                else:
                    lower[i, j + 1] = f
                    diag[i, j + 1] -= f
            if m == 0 and bc[lo] == DIRICHLET:
                f = 2.0 * diff[i, j] * inv_h2
                diag[i, j] -= f
                const[i, j] += f * bc_val[lo]
            if m == n_along - 1 and bc[hi] == DIRICHLET:
                f = 2.0 * diff[i, j] * inv_h2
                diag[i, j] -= f
                const[i, j] += f * bc_val[hi]


@njit(cache=True, error_model="numpy", nogil=True, parallel=True)
def _apply(c, lower, diag, upper, const, axis, out):
    """Out = A c for one direction's operator."""
    nx, ny = c.shape
    for i in prange(nx):
        for j in range(ny):
            value = diag[i, j] * c[i, j] + const[i, j]
            if axis == 0:
                if i > 0:
                    value += lower[i, j] * c[i - 1, j]
                if i < nx - 1:
                    value += upper[i, j] * c[i + 1, j]
            else:
                if j > 0:
                    value += lower[i, j] * c[i, j - 1]
                if j < ny - 1:
                    value += upper[i, j] * c[i, j + 1]
            out[i, j] = value


@njit(cache=True, error_model="numpy", nogil=True, parallel=True)
def _solve_lines(rhs, lower, diag, upper, const, dt_half, axis, out):
    """Out solves (I - dt/2 A) out = rhs + dt/2 const along every line of ``axis``."""
    nx, ny = rhs.shape
    n_lines = ny if axis == 0 else nx
    n = nx if axis == 0 else ny
    for parallel_line in prange(n_lines):
        line = np.int64(parallel_line)  # the prange index is unsigned; keep index arithmetic signed
        work = np.empty(n)
        sol = np.empty(n)
        beta = 0.0
        for m in range(n):
            i = m if axis == 0 else line
            j = line if axis == 0 else m
            a = -dt_half * lower[i, j]
            b = 1.0 - dt_half * diag[i, j]
            r = rhs[i, j] + dt_half * const[i, j]
            if m == 0:
                beta = b
                sol[0] = r / beta
            else:
                beta = b - a * work[m]
                sol[m] = (r - a * sol[m - 1]) / beta
            if m + 1 < n:
                work[m + 1] = -dt_half * upper[i, j] / beta
        for m in range(n - 2, -1, -1):
            sol[m] -= work[m + 1] * sol[m + 1]
        for m in range(n):
            i = m if axis == 0 else line
            j = line if axis == 0 else m
            out[i, j] = sol[m]


@njit(cache=True, error_model="numpy", nogil=True)
def _boundary_flux(c, diff, bc, bc_val, inv_h2, axis, weight, ledger):
    """Add ``weight *`` the inflow through the Dirichlet faces of ``axis`` to the ledger (per area)."""
    nx, ny = c.shape
    if axis == 0:
        for j in range(ny):
            for side, i in ((LEFT, 0), (RIGHT, nx - 1)):
                if bc[side] == DIRICHLET:
                    flow = weight * 2.0 * diff[i, j] * inv_h2 * (bc_val[side] - c[i, j])
                    if flow >= 0.0:
                        ledger[SUPPLIED] += flow
                    else:
                        ledger[OUT] -= flow
    else:
        for i in range(nx):
            for side, j in ((BOTTOM, 0), (TOP, ny - 1)):
                if bc[side] == DIRICHLET:
                    flow = weight * 2.0 * diff[i, j] * inv_h2 * (bc_val[side] - c[i, j])
                    if flow >= 0.0:
                        ledger[SUPPLIED] += flow
                    else:
                        ledger[OUT] -= flow


@njit(cache=True, error_model="numpy", nogil=True)
def adi_step(c, diff, decay, dt, h, bc, bc_val, source, cx, cy, work_a, work_b, ledger):
    """Advance the field ``c`` by one Peaceman-Rachford step in place, updating the ledger.

    ``cx``, ``cy``: float64[4, nx, ny] operator coefficients (lower, diag, upper, const) from
    :func:`line_coefficients` for x and y; ``work_a``, ``work_b``: float64[nx, ny] scratch;
    ``ledger``: float64[N_LEDGER] amounts (multiplied by the cell area here).
    """
    nx, ny = c.shape
    inv_h2 = 1.0 / (h * h)
    half = 0.5 * dt
    area = h * h
    # first half: implicit in x
    _apply(c, cy[0], cy[1], cy[2], cy[3], 1, work_a)  # Ay c
    for i in range(nx):
        for j in range(ny):
            work_a[i, j] = c[i, j] + half * (work_a[i, j] + source[i, j])
    _solve_lines(work_a, cx[0], cx[1], cx[2], cx[3], half, 0, work_b)  # u*
    # ledger terms that use c and u*
    step_ledger = np.zeros(N_LEDGER)
    _boundary_flux(work_b, diff, bc, bc_val, inv_h2, 0, dt, step_ledger)
    _boundary_flux(c, diff, bc, bc_val, inv_h2, 1, half, step_ledger)
    decayed = 0.0
    supplied = 0.0
    for i in range(nx):
        for j in range(ny):
            decayed += 0.5 * decay * dt * (work_b[i, j] + 0.5 * c[i, j])
            supplied += dt * source[i, j]
    # second half: implicit in y
    _apply(work_b, cx[0], cx[1], cx[2], cx[3], 0, work_a)  # Ax u*
    for i in range(nx):
        for j in range(ny):
            work_a[i, j] = work_b[i, j] + half * (work_a[i, j] + source[i, j])
    _solve_lines(work_a, cy[0], cy[1], cy[2], cy[3], half, 1, c)
    _boundary_flux(c, diff, bc, bc_val, inv_h2, 1, half, step_ledger)
    for i in range(nx):
        for j in range(ny):
            decayed += 0.25 * decay * dt * c[i, j]
    ledger[SUPPLIED] += area * (step_ledger[SUPPLIED] + supplied)
    ledger[OUT] += area * step_ledger[OUT]
    ledger[DECAYED] += area * decayed


@njit(cache=True, error_model="numpy", nogil=True)
def _cell_weights(x, y, h, nx, ny):
    """Bilinear (cloud-in-cell) weights: lower-left cell (i0, j0) and fractions (fx, fy).

    Cell centres sit at ((i + 1/2) h, (j + 1/2) h); positions beyond the outermost centres use
    the edge cells (constant extrapolation).
    """
    gx = x / h - 0.5
    gy = y / h - 0.5
    i0 = int(np.floor(gx))
    j0 = int(np.floor(gy))
    fx = gx - i0
    fy = gy - j0
    if i0 < 0:
        i0 = 0
        fx = 0.0
    elif i0 >= nx - 1:
        i0 = nx - 2
        fx = 1.0
    if j0 < 0:
        j0 = 0
        fy = 0.0
    elif j0 >= ny - 1:
        j0 = ny - 2
        fy = 1.0
    return i0, j0, fx, fy


@njit(cache=True, error_model="numpy", nogil=True, parallel=True)
def sample_field(c, h, xs, ys, n, values, grad_x, grad_y):
    """Field value and gradient (of the bilinear interpolant) at each of the first ``n`` agents."""
    nx, ny = c.shape
    for a in prange(n):
        i0, j0, fx, fy = _cell_weights(xs[a], ys[a], h, nx, ny)
        c00 = c[i0, j0]
        c10 = c[i0 + 1, j0]
        c01 = c[i0, j0 + 1]
        c11 = c[i0 + 1, j0 + 1]
        values[a] = (1 - fx) * (1 - fy) * c00 + fx * (1 - fy) * c10 + (1 - fx) * fy * c01 + fx * fy * c11
        grad_x[a] = ((1 - fy) * (c10 - c00) + fy * (c11 - c01)) / h
        grad_y[a] = ((1 - fx) * (c01 - c00) + fx * (c11 - c10)) / h


@njit(cache=True, error_model="numpy", nogil=True)
def agent_uptake(c, h, xs, ys, n, vmax, km, dt, demand, taken, ledger):
    """Michaelis-Menten uptake by the first ``n`` agents, removed from the field (cloud-in-cell).

    ``demand`` (float64[nx, ny]) is scratch. Each agent wants ``vmax c / (km + c) dt`` with
    ``c`` sampled at its position; a grid cell gives at most what it holds, and every agent
    drawing on it gets the same fraction. ``taken[a]`` receives each agent's actual uptake
    (amount); the total goes to ``ledger[TAKEN_UP]``.
    """
    nx, ny = c.shape
    area = h * h
    for i in range(nx):
        for j in range(ny):
            demand[i, j] = 0.0
    for a in range(n):
        i0, j0, fx, fy = _cell_weights(xs[a], ys[a], h, nx, ny)
        conc = (1 - fx) * (1 - fy) * c[i0, j0] + fx * (1 - fy) * c[i0 + 1, j0]
        conc += (1 - fx) * fy * c[i0, j0 + 1] + fx * fy * c[i0 + 1, j0 + 1]
        conc = max(conc, 0.0)
        want = vmax * conc / (km + conc) * dt
        taken[a] = want
        demand[i0, j0] += (1 - fx) * (1 - fy) * want
        demand[i0 + 1, j0] += fx * (1 - fy) * want
        demand[i0, j0 + 1] += (1 - fx) * fy * want
        demand[i0 + 1, j0 + 1] += fx * fy * want
    # fraction of each cell's demand it can meet
    for i in range(nx):
        for j in range(ny):
            available = max(c[i, j], 0.0) * area
            need = demand[i, j]
            demand[i, j] = 1.0 if need <= available or need == 0.0 else available / need
    total = 0.0
    for a in range(n):
        i0, j0, fx, fy = _cell_weights(xs[a], ys[a], h, nx, ny)
        want = taken[a]
        w00 = (1 - fx) * (1 - fy) * want * demand[i0, j0]
        w10 = fx * (1 - fy) * want * demand[i0 + 1, j0]
        w01 = (1 - fx) * fy * want * demand[i0, j0 + 1]
        w11 = fx * fy * want * demand[i0 + 1, j0 + 1]
        c[i0, j0] -= w00 / area
        c[i0 + 1, j0] -= w10 / area
        c[i0, j0 + 1] -= w01 / area
        c[i0 + 1, j0 + 1] -= w11 / area
        taken[a] = w00 + w10 + w01 + w11
        total += taken[a]
    ledger[TAKEN_UP] += total


@njit(cache=True, error_model="numpy", nogil=True, parallel=True)
def density_uptake(c, h, density, vmax, km, dt, ledger):
    """The homogenized sink: cells at ``density`` (per area) each taking ``vmax c / (km + c)``."""
    nx, ny = c.shape
    area = h * h
    removed = np.zeros(nx)
    for i in prange(nx):
        acc = 0.0
        for j in range(ny):
            conc = max(c[i, j], 0.0)
            take = min(density[i, j] * vmax * conc / (km + conc) * dt, conc)
            c[i, j] -= take
            acc += take * area
        removed[i] = acc
    ledger[TAKEN_UP] += removed.sum()


@njit(cache=True, error_model="numpy", nogil=True, parallel=True)
def move_agents(xs, ys, n, grad_x, grad_y, noise, step_sd, chemotaxis_dt, width, height):
    """Random motility plus chemotaxis up the gradient; reflecting walls."""
    for a in prange(n):
        x = xs[a] + step_sd * noise[0, a] + chemotaxis_dt * grad_x[a]
        y = ys[a] + step_sd * noise[1, a] + chemotaxis_dt * grad_y[a]
        # reflect (repeatedly, for a step longer than the domain)
        for _ in range(4):
            if x < 0.0:
                x = -x
            elif x > width:
                x = 2.0 * width - x
            if y < 0.0:
                y = -y
            elif y > height:
                y = 2.0 * height - y
        xs[a] = min(max(x, 0.0), width)
        ys[a] = min(max(y, 0.0), height)


@njit(cache=True, error_model="numpy", nogil=True)
def explicit_step(c, diff, decay, dt, h, bc, bc_val, source, cx, cy, work_a, work_b, ledger):
    """Forward-Euler step ``c' = c + dt (A c + s)``, stable only for dt <= h^2 / (4 D_max).

    Same arguments and ledger as :func:`adi_step`.
    """
    nx, ny = c.shape
    inv_h2 = 1.0 / (h * h)
    area = h * h
    _apply(c, cx[0], cx[1], cx[2], cx[3], 0, work_a)
    _apply(c, cy[0], cy[1], cy[2], cy[3], 1, work_b)
    step_ledger = np.zeros(N_LEDGER)
    _boundary_flux(c, diff, bc, bc_val, inv_h2, 0, dt, step_ledger)
    _boundary_flux(c, diff, bc, bc_val, inv_h2, 1, dt, step_ledger)
    decayed = 0.0
    supplied = 0.0
    for i in range(nx):
        for j in range(ny):
            decayed += decay * dt * c[i, j]
            supplied += dt * source[i, j]
            c[i, j] += dt * (work_a[i, j] + work_b[i, j] + source[i, j])
    ledger[SUPPLIED] += area * (step_ledger[SUPPLIED] + supplied)
    ledger[OUT] += area * step_ledger[OUT]
    ledger[DECAYED] += area * decayed
