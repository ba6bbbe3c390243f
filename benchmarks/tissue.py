"""Hybrid tissue: coupled steps per second with 10,000 agents on a 256 x 256 grid.

The coupled step is: sample the field at every agent (value and gradient), Michaelis-Menten
uptake deposited back onto the grid (limited per cell), the internal signal, motility with
chemotaxis, then one Peaceman-Rachford ADI step of the field with decay and a Dirichlet side.
Beside it, in the same run, a straightforward numpy implementation of the same step
(vectorised over agents; the tridiagonal solves vectorised across lines) for the ratio.
"""

from __future__ import annotations

import math

import numpy as np
from common import fmt_time, interleaved_medians, print_table

import workbench as wb
from workbench.core import tissue as kern
from workbench.models.tissue import _Runner

N_AGENTS = 10_000
GRID = 256
STEPS = 50


def _model() -> wb.HybridTissue:
    return wb.HybridTissue(
        width=2560.0, height=2560.0, nx=GRID, n_cells=N_AGENTS, max_cells=N_AGENTS, chemotaxis=20.0, dt=1.0, seed=1
    )


def _numpy_step(state: dict) -> None:
    """The same coupled step written with plain numpy."""
    c, xs, ys, signal = state["c"], state["xs"], state["ys"], state["signal"]
    m = state["model"]
    h, dt = m.h, m.dt
    nx, ny = c.shape
    # sample: bilinear value and gradient
    gx = np.clip(xs / h - 0.5, 0, nx - 1 - 1e-12)
    gy = np.clip(ys / h - 0.5, 0, ny - 1 - 1e-12)
    i0 = np.minimum(gx.astype(int), nx - 2)
    j0 = np.minimum(gy.astype(int), ny - 2)
    fx = gx - i0
    fy = gy - j0
    c00, c10, c01, c11 = c[i0, j0], c[i0 + 1, j0], c[i0, j0 + 1], c[i0 + 1, j0 + 1]
    value = (1 - fx) * (1 - fy) * c00 + fx * (1 - fy) * c10 + (1 - fx) * fy * c01 + fx * fy * c11
    grad_x = ((1 - fy) * (c10 - c00) + fy * (c11 - c01)) / h
    grad_y = ((1 - fx) * (c01 - c00) + fx * (c11 - c10)) / h
    # uptake, deposited with the same weights and limited per cell
    want = m.Vmax * np.maximum(value, 0) / (m.Km + np.maximum(value, 0)) * dt
    weights = [((1 - fx) * (1 - fy)), (fx * (1 - fy)), ((1 - fx) * fy), (fx * fy)]
    cells = [(i0, j0), (i0 + 1, j0), (i0, j0 + 1), (i0 + 1, j0 + 1)]
    demand = np.zeros_like(c)
    for w, (ii, jj) in zip(weights, cells, strict=True):
        np.add.at(demand, (ii, jj), w * want)
    available = np.maximum(c, 0) * h * h
    fraction = np.where(demand > available, available / np.where(demand > 0, demand, 1), 1.0)
    taken = np.zeros_like(want)
    for w, (ii, jj) in zip(weights, cells, strict=True):
        part = w * want * fraction[ii, jj]
        np.add.at(c, (ii, jj), -part / (h * h))
        taken += part
    decay = math.exp(-m.gamma_signal * dt)
    signal *= decay
    signal += taken / (m.Vmax * dt) * (1 - decay)
    noise = state["rng"].standard_normal((2, xs.size))
    xs += math.sqrt(2 * m.motility * dt) * noise[0] + m.chemotaxis * dt * grad_x
    ys += math.sqrt(2 * m.motility * dt) * noise[1] + m.chemotaxis * dt * grad_y
    np.abs(xs, out=xs)
    np.abs(ys, out=ys)
    np.minimum(xs, 2 * m.width - xs, out=xs)
    np.minimum(ys, 2 * m.height - ys, out=ys)
    # ADI: (I - dt/2 Ax) u* = c + dt/2 Ay c ; (I - dt/2 Ay) c' = u* + dt/2 Ax u*
    cx, cy = state["cx"], state["cy"]
    half = 0.5 * dt
    rhs = c + half * _apply_np(c, cy, axis=1)
    u = _thomas_np(rhs, cx, half, axis=0)
    rhs = u + half * _apply_np(u, cx, axis=0)
    state["c"] = _thomas_np(rhs, cy, half, axis=1)


def _apply_np(c, co, axis):
    lower, diag, upper, const = co
    out = diag * c + const
    if axis == 0:
        out[1:] += lower[1:] * c[:-1]
        out[:-1] += upper[:-1] * c[1:]
    else:
        out[:, 1:] += lower[:, 1:] * c[:, :-1]
        out[:, :-1] += upper[:, :-1] * c[:, 1:]
    return out


def _thomas_np(rhs, co, half, axis):
    lower, diag, upper, const = (np.moveaxis(a, axis, 0) for a in co)
    r = np.moveaxis(rhs, axis, 0) + half * const
    a = -half * lower
    b = 1.0 - half * diag
    cc = -half * upper
    n = r.shape[0]
    w = np.empty_like(r)
    sol = np.empty_like(r)
    beta = b[0].copy()
    sol[0] = r[0] / beta
    for k in range(1, n):
        w[k] = cc[k - 1] / beta
        beta = b[k] - a[k] * w[k]
        sol[k] = (r[k] - a[k] * sol[k - 1]) / beta
    for k in range(n - 2, -1, -1):
        sol[k] -= w[k + 1] * sol[k + 1]
    return np.moveaxis(sol, 0, axis)


def main() -> dict:
    model = _model()
    runner = _Runner(model)
    for _ in range(3):
        runner.step()  # warm

    def ours():
        for _ in range(STEPS):
            runner.step()

    def field_only():
        for _ in range(STEPS):
            kern.adi_step(
                runner.c, runner.diff, model.decay, model.dt, runner.h, runner.bc, runner.bc_val, runner.source,
                runner.cx, runner.cy, runner.work_a, runner.work_b, runner.ledger,
            )  # fmt: skip

    np_state = {
        "model": model,
        "c": runner.c.copy(),
        "xs": runner.xs[: runner.n].copy(),
        "ys": runner.ys[: runner.n].copy(),
        "signal": np.zeros(runner.n),
        "rng": np.random.default_rng(2),
        "cx": runner.cx,
        "cy": runner.cy,
    }

    def numpy_steps():
        for _ in range(5):
            _numpy_step(np_state)

    medians = interleaved_medians({"ours": ours, "field": field_only, "numpy": numpy_steps}, repeats=10, budget_s=40.0)
    per_step = medians["ours"] / STEPS
    field = medians["field"] / STEPS
    numpy_per_step = medians["numpy"] / 5
    field_bytes = sum(
        a.nbytes
        for a in (
            runner.c,
            runner.diff,
            runner.cx,
            runner.cy,
            runner.work_a,
            runner.work_b,
            runner.demand,
            runner.source,
        )
    )
    agent_bytes = sum(
        a.nbytes for a in (runner.xs, runner.ys, runner.signal, runner.taken, runner.value, runner.gx, runner.gy)
    )
    rows = [
        ["workbench coupled step (field + agents + both couplings)", fmt_time(per_step), f"{1 / per_step:.0f}", "1.0x"],
        [
            "  of which the field (ADI, 256 x 256)",
            fmt_time(field),
            f"{1 / field:.0f}",
            f"{field / per_step:.0%} of the step",
        ],
        [
            "  of which agents and couplings",
            fmt_time(per_step - field),
            "",
            f"{(per_step - field) / per_step:.0%} of the step",
        ],
        [
            "numpy implementation of the same step",
            fmt_time(numpy_per_step),
            f"{1 / numpy_per_step:.0f}",
            f"{numpy_per_step / per_step:.1f}x",
        ],
    ]
    print_table(
        f"Hybrid tissue, {N_AGENTS} agents on a {GRID} x {GRID} grid (median over runs of {STEPS} steps)",
        ["", "per step", "steps per second", "ratio"],
        rows,
    )
    print(f"  memory: field arrays {field_bytes / 2**20:.1f} MiB, agent arrays {agent_bytes / 2**20:.2f} MiB")
    return {"per_step": per_step, "field": field, "numpy": numpy_per_step}


if __name__ == "__main__":
    main()
