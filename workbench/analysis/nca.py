"""Non-compartmental analysis (NCA) of a concentration-time profile.

Conventions follow common NCA practice (e.g. PKNCA, Phoenix WinNonlin):

- AUC by the linear-up / log-down trapezoidal rule: linear where the concentration rises or
  stays level, logarithmic where it falls (exact for exponential decline);
- terminal rate constant ``lambda_z`` by log-linear least squares on the last ``k >= 3``
  points after Cmax with positive concentrations, choosing the largest ``k`` whose adjusted
  R² is within 1e-4 of the best;
- ``AUC(0-inf) = AUC(0-tlast) + Clast / lambda_z``; ``CL = dose / AUC(0-inf)`` and
  ``Vz = dose / (lambda_z AUC(0-inf))`` (CL/F and Vz/F after an extravascular dose).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from ..core import Trajectory
from ..errors import ModelError

__all__ = ["NCAResult", "auc_linear_up_log_down", "nca"]

_ADJ_R2_TOLERANCE = 1e-4


@dataclass(frozen=True)
class NCAResult:
    """NCA parameters of one profile. NaN where a quantity is not estimable."""

    cmax: float
    tmax: float
    clast: float
    tlast: float
    auc_0_t: float
    auc_0_inf: float
    auc_extrapolated_percent: float
    lambda_z: float
    t_half: float
    r2_adjusted: float
    n_terminal: int
    cl: float
    vz: float

    def to_dict(self) -> dict[str, float]:
        """The parameters as a plain dict."""
        return asdict(self)

    def __str__(self) -> str:
        rows = [
            ("Cmax", self.cmax),
            ("Tmax", self.tmax),
            ("AUC(0-t)", self.auc_0_t),
            ("AUC(0-inf)", self.auc_0_inf),
            ("AUC extrapolated (%)", self.auc_extrapolated_percent),
            ("lambda_z", self.lambda_z),
            ("t1/2", self.t_half),
            ("CL", self.cl),
            ("Vz", self.vz),
        ]
        return "\n".join(f"{name:>22}  {value:.6g}" for name, value in rows)


def auc_linear_up_log_down(t: np.ndarray, c: np.ndarray) -> float:
    """Area under ``c(t)`` by the linear-up / log-down trapezoidal rule."""
    t = np.asarray(t, dtype=float)
    c = np.asarray(c, dtype=float)
    dt = np.diff(t)
    c1, c2 = c[:-1], c[1:]
    linear = 0.5 * (c1 + c2) * dt
    falling = (c2 < c1) & (c2 > 0) & (c1 > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_down = (c1 - c2) * dt / np.log(c1 / c2)
    return float(np.sum(np.where(falling, log_down, linear)))


def _terminal_phase(t: np.ndarray, c: np.ndarray, i_max: int, n_points: int | None):
    """(lambda_z, adjusted R², number of points) of the terminal log-linear phase.

    Every candidate window (the last k >= 3 positive points after Cmax) is fitted at once from
    suffix sums, so choosing among hundreds of windows costs no more than one pass.
    """
    idx = np.flatnonzero(c > 0)
    idx = idx[idx > i_max]
    if idx.size < 3:
        return math.nan, math.nan, 0
    x = t[idx][::-1]  # latest first: window k is the first k entries
    y = np.log(c[idx])[::-1]
    k = np.arange(1, x.size + 1, dtype=float)
    sx, sy = np.cumsum(x), np.cumsum(y)
    sxx, sxy, syy = np.cumsum(x * x), np.cumsum(x * y), np.cumsum(y * y)
    with np.errstate(divide="ignore", invalid="ignore"):
        var_x = sxx - sx * sx / k
        cov = sxy - sx * sy / k
        ss_tot = syy - sy * sy / k
        slope = cov / var_x
        ss_res = np.maximum(ss_tot - slope * cov, 0.0)
        r2 = np.where(ss_tot > 0, 1.0 - ss_res / ss_tot, 1.0)
        adj = 1.0 - (1.0 - r2) * (k - 1) / (k - 2)
    sizes = np.arange(3, x.size + 1) if n_points is None else np.array([n_points])
    sizes = sizes[sizes <= x.size]
    if sizes.size == 0:
        return math.nan, math.nan, 0
    candidates = adj[sizes - 1]
    best = np.max(candidates)
    chosen = int(sizes[np.flatnonzero(candidates >= best - _ADJ_R2_TOLERANCE)[-1]])
    lam = -float(slope[chosen - 1])
    adj_r2 = float(adj[chosen - 1])
    if not lam > 0:  # the best window does not decline: there is no terminal phase to report
        return math.nan, math.nan, 0
    return lam, adj_r2, chosen


def nca(
    t: np.ndarray | Trajectory,
    c: np.ndarray | str,
    *,
    dose: float | None = None,
    terminal_points: int | None = None,
) -> NCAResult:
    """Non-compartmental analysis of one concentration profile.

    Parameters
    ----------
    t : array or Trajectory
        Sample times (sorted), or a trajectory.
    c : array or str
        Concentrations at ``t``, or the name of a column of the trajectory.
    dose : float, optional
        Total dose (amount) for CL and Vz; without it they are NaN.
    terminal_points : int, optional
        Use exactly this many last points for lambda_z instead of the adjusted-R² rule.

    Returns
    -------
    NCAResult
    """
    if isinstance(t, Trajectory):
        if not isinstance(c, str):
            raise ModelError("with a Trajectory, give the column name as c")
        c = t[c]
        t = t.t
    t = np.asarray(t, dtype=float)
    c = np.asarray(c, dtype=float)
    if t.ndim != 1 or t.shape != c.shape or t.size < 2:
        raise ModelError("nca needs two 1-D arrays of equal length >= 2")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(c))):
        raise ModelError("nca needs finite times and concentrations")
    if np.any(np.diff(t) <= 0):
        raise ModelError("nca needs strictly increasing times")
    if terminal_points is not None and terminal_points < 3:
        raise ModelError("terminal_points must be at least 3")
    i_max = int(np.argmax(c))
    positive = np.flatnonzero(c > 0)
    i_last = int(positive[-1]) if positive.size else len(c) - 1
    auc_0_t = auc_linear_up_log_down(t[: i_last + 1], c[: i_last + 1])
    lambda_z, r2_adj, n_terminal = _terminal_phase(t, c, i_max, terminal_points)
    clast = float(c[i_last])
    auc_inf = auc_0_t + clast / lambda_z if lambda_z > 0 else math.nan
    cl = dose / auc_inf if dose is not None and auc_inf > 0 else math.nan
    vz = cl / lambda_z if lambda_z > 0 else math.nan
    return NCAResult(
        cmax=float(c[i_max]),
        tmax=float(t[i_max]),
        clast=clast,
        tlast=float(t[i_last]),
        auc_0_t=auc_0_t,
        auc_0_inf=auc_inf,
        auc_extrapolated_percent=100.0 * (auc_inf - auc_0_t) / auc_inf if auc_inf > 0 else math.nan,
        lambda_z=lambda_z,
        t_half=math.log(2.0) / lambda_z if lambda_z > 0 else math.nan,
        r2_adjusted=r2_adj,
        n_terminal=n_terminal,
        cl=cl,
        vz=vz,
    )
