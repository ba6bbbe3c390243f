"""Dose-dependence of exposure: apparent clearance and terminal half-life versus dose."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import ModelError
from ..models import Model
from .nca import nca

__all__ = ["dose_scan", "sampling_grid"]

#: Concentrations below this many absolute tolerances count as below quantification.
_LLOQ_PER_ATOL = 1e4


def sampling_grid(model: Model, t_end: float, n_points: int) -> np.ndarray:
    """Uniform samples plus geometrically spaced ones after every dose.

    Target-mediated disposition has binding phases seconds long in a profile of weeks: a
    uniform grid steps over them and the trapezoidal AUC misses their area.
    """
    starts = {0.0}
    for dose in model.doses():
        starts.update(float(event[0]) for event in dose.events() if 0.0 <= event[0] < t_end)
    pieces = [np.linspace(0.0, t_end, n_points)]
    for start in sorted(starts):
        span = t_end - start
        pieces.append(start + span * np.geomspace(1e-7, 1.0, max(n_points // 4, 50)))
    return np.unique(np.clip(np.concatenate(pieces), 0.0, t_end))


def dose_scan(
    model: Model,
    doses: Sequence[float],
    observable: str | None = None,
    *,
    t_end: float | None = None,
    n_points: int = 2001,
    rtol: float = 1e-8,
    atol: float = 1e-12,
):
    """NCA of the model's profile at each dose: linear PK gives flat CL and t1/2 columns.

    Parameters
    ----------
    model : Model
        A model with a ``dose`` parameter; it is not modified.
    doses : sequence of float
        Doses in the model's dose unit.
    observable : str, optional
        Concentration to analyse; defaults to ``D_free`` for TMDD, ``Cp`` for PBPK and ``C``
        otherwise.
    t_end, n_points : float, int
        Simulated window (default: the model's ``t_end``) and number of uniform samples; a
        geometric set of samples after every dose is added, so that fast binding phases
        count fully in the AUC.
    rtol, atol : float
        Solver tolerances. Concentrations below ``1e4 * atol`` count as below the
        quantification limit (zero) in the NCA.

    Returns
    -------
    pandas.DataFrame
        One row per dose: ``dose``, ``cmax``, ``auc_0_inf``, ``cl_apparent`` (total dose /
        AUC(0-inf)), ``t_half`` (terminal) and ``r2_adjusted``.
    """
    import pandas as pd  # noqa: PLC0415  (pandas is heavy; load it when a table is built)

    if "dose" not in model.param:
        raise ModelError(f"{type(model).__name__} has no 'dose' parameter to scan")
    doses = np.asarray(doses, dtype=float)
    if doses.ndim != 1 or doses.size == 0 or not np.all(np.isfinite(doses)) or np.any(doses <= 0):
        raise ModelError("doses must be a non-empty sequence of positive numbers")
    if observable is None:
        observable = {"TMDD": "D_free", "PBPK": "Cp"}.get(type(model).__name__, "C")
    rows = []
    n_doses = getattr(model, "n_doses", 1)
    grid = sampling_grid(model, float(model.t_end if t_end is None else t_end), n_points)
    lloq = _LLOQ_PER_ATOL * atol
    for dose in doses:
        traj = model.copy(dose=float(dose)).simulate(t=grid, rtol=rtol, atol=atol)
        # below the quantification limit the solver's absolute error dominates: a terminal
        # fit there would measure round-off (nca ignores zeros, as for BLQ samples)
        values = np.where(traj[observable] >= lloq, traj[observable], 0.0)
        result = nca(traj.t, values, dose=float(dose) * n_doses)
        rows.append(
            {
                "dose": float(dose),
                "cmax": result.cmax,
                "auc_0_inf": result.auc_0_inf,
                "cl_apparent": result.cl,
                "t_half": result.t_half,
                "r2_adjusted": result.r2_adjusted,
            }
        )
    return pd.DataFrame(rows)
