"""Fisher information of TMDD (forward sensitivities) and a bifurcation diagram of the switch.

(a) FIM of the issue-2 TMDD benchmark model (R0 = 10 nM fixed, bolus D0 = 100 nM) in 7
log-parameters: the six rate constants and the dose (D's initial value); observable D at 50
sample times from 5 to 250 h (where free drug is far above atol: beyond ~250 h it falls below
atol = 1e-9 and no solver controls it); 10% proportional noise; rtol 1e-6, atol 1e-9. Beside
it, in the same run: scipy solve_ivp (LSODA, numba right-hand side and Jacobian) with forward
finite differences (relative step 1e-3), and libroadrunner's forward sensitivities (CVODES;
it returns zero sensitivity for a parameter that only sets an initial value, so it gets the
six rate constants). Reference: workbench at rtol 1e-11 with full error control (validated
against central differences in the tests).

(b) A full one-parameter bifurcation diagram of the auto-activation switch (gamma in [0.3, 3],
both folds) and of the two-fold switch dx/dt = a + x^2/(1+x^2) - b x.
"""

from __future__ import annotations

import numpy as np
from common import fmt_time, interleaved_medians, print_table
from scipy.integrate import solve_ivp
from tmdd_ode import PARAMS, roadrunner_instance

import workbench as wb

TIMES = np.linspace(5.0, 250.0, 50)
RTOL, ATOL = 1e-6, 1e-9
RATES = list(PARAMS)


def tmdd_network() -> wb.ReactionNetwork:
    return wb.ReactionNetwork(
        species={"D": 100.0, "R": 10.0, "C": 0.0},
        parameters=dict(PARAMS),
        reactions=[
            ("D ->", "ke"),
            ("D + R <-> C", ("kon", "koff")),
            ("C ->", "kint"),
            ("-> R", "ksyn"),
            ("R ->", "kdeg"),
        ],
    )


def _fim_from(sens_d: np.ndarray, d: np.ndarray) -> np.ndarray:
    weights = 1.0 / (0.1 * d) ** 2
    return np.einsum("tk,t,tj->kj", sens_d, weights, sens_d)


def _cond(matrix: np.ndarray) -> float:
    values = np.linalg.eigvalsh(0.5 * (matrix + matrix.T))
    return float(values[-1] / values[0])


def _scipy_fd_fim() -> np.ndarray:
    theta = np.array([*PARAMS.values(), 100.0])

    def solve(values):
        ke, kon, koff, kint, ksyn, kdeg, d0 = values

        def rhs(_, y):
            d, r, c = y
            bind = kon * d * r - koff * c
            return [-ke * d - bind, ksyn - kdeg * r - bind, bind - kint * c]

        def jac(_, y):
            d, r, _c = y
            return [
                [-ke - kon * r, -kon * d, koff],
                [-kon * r, -kdeg - kon * d, koff],
                [kon * r, kon * d, -koff - kint],
            ]

        sol = solve_ivp(
            rhs, (0.0, TIMES[-1]), [d0, 10.0, 0.0], method="LSODA", jac=jac, t_eval=TIMES, rtol=RTOL, atol=ATOL
        )
        return sol.y[0]

    base = solve(theta)
    columns = []
    for k in range(theta.size):
        step = theta.copy()
        h = 1e-3 * theta[k]
        step[k] += h
        columns.append((solve(step) - base) / h * theta[k])
    return _fim_from(np.array(columns).T, base)


def _roadrunner_fim():
    rr = roadrunner_instance()
    if rr is None:
        return None
    rr.timeCourseSelections = ["time", "D"]

    def compute():
        rr.reset()
        rr.getSensitivitySolver().syncWithModel(rr.model)
        result = rr.timeSeriesSensitivities(0.0, TIMES[-1], 2 * int(TIMES[-1]) + 1, params=RATES, species=["D"])
        times = np.asarray(result[0])
        sens = np.asarray(result[1])  # (n_times, n_params, n_species), rows in the model's order
        names = list(result[2])
        order = [names.index(name) for name in RATES]
        idx = np.searchsorted(times, TIMES)
        s = sens[idx][:, order, 0] * np.array(list(PARAMS.values()))
        rr.reset()
        d = np.asarray(rr.simulate(0.0, TIMES[-1], 2 * int(TIMES[-1]) + 1))[:, 1][idx]
        return _fim_from(s, d)

    return compute


def main() -> dict:
    net = tmdd_network()
    names = [*RATES, "D"]
    ours = lambda: wb.fim(net, ["D"], TIMES, parameters=names, rtol=RTOL, atol=ATOL)  # noqa: E731
    reference = wb.fim(net, ["D"], TIMES, parameters=names, rtol=1e-11, atol=1e-15, full_error_control=True)
    reference6 = wb.fim(net, ["D"], TIMES, parameters=RATES, rtol=1e-11, atol=1e-15, full_error_control=True)
    tasks = {"workbench fim (Rodas4 forward sensitivities)": ours, "scipy LSODA + forward differences": _scipy_fd_fim}
    rr = _roadrunner_fim()
    if rr is not None:
        tasks["libroadrunner forward sensitivities (6 rates)"] = rr
    medians = interleaved_medians(tasks, repeats=100, budget_s=30.0)
    cond_ref = reference.condition_number
    rows = []
    for name, task in tasks.items():
        matrix = task().matrix if name.startswith("workbench") else task()
        ref = reference6.condition_number if "6 rates" in name else cond_ref
        error = abs(_cond(matrix) / ref - 1)
        rows.append(
            [name, fmt_time(medians[name]), f"{medians[name] / medians[next(iter(tasks))]:.1f}x", f"{error:.1e}"]
        )
    print_table(
        f"FIM of TMDD, 7 log-parameters, D at 50 times, 10% proportional noise (reference cond = {cond_ref:.6g})",
        ["tool", "median", "time / workbench", "condition number rel. error"],
        rows,
    )
    # bifurcation diagrams
    switch = wb.ReactionNetwork(
        species={"x": 0.5},
        parameters={"a": 0.1, "v": 1.0, "K": 1.0, "n": 2.0, "b": 0.5},
        reactions=[("-> x", "a"), ("-> x", wb.Hill("v", "K", "n", regulator="x")), ("x ->", "b")],
    )
    auto = wb.AutoActivation()
    diagrams = {
        "AutoActivation, gamma in [0.3, 3]": lambda: wb.continuation(auto, "gamma", (0.3, 3.0)),
        "switch a + x^2/(1+x^2) - b x, b in [0.3, 1]": lambda: wb.continuation(switch, "b", (0.3, 1.0)),
    }
    times = interleaved_medians(diagrams, repeats=50, budget_s=10.0)
    rows = []
    for name, task in diagrams.items():
        diagram = task()
        folds = ", ".join(f"{pt.parameter:.8g}" for pt in diagram.folds)
        rows.append([name, fmt_time(times[name]), str(diagram.values.size), folds])
    print_table("One-parameter bifurcation diagrams (median warm time)", ["system", "median", "points", "folds"], rows)
    return {"fim": medians, "continuation": times}


if __name__ == "__main__":
    main()
