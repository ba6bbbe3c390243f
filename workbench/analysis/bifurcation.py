"""One-parameter bifurcation diagrams: branches of equilibria, stability, folds and Hopf points.

The branch is followed by the compiled pseudo-arclength kernel (:mod:`workbench.core.continuation`)
in both directions from a steady state, until the parameter leaves the requested interval.
Stability comes from the eigenvalues of the Jacobian on the compatibility class at every point;
a Hopf point is where a complex pair crosses the imaginary axis, located by a secant search in
arclength on the real part of that pair. Folds are located by the kernel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..core import ReactionNetwork, control
from ..core import continuation as cont
from ..core.kinetics import network_dfdp
from ..errors import ModelError, SolverError
from ..models import Model
from .steady import as_network, steady_state, tangent_basis

__all__ = ["BifurcationDiagram", "SpecialPoint", "continuation", "stable_state_count"]


@dataclass(frozen=True)
class SpecialPoint:
    """A located bifurcation: ``kind`` is ``"fold"`` or ``"hopf"``."""

    kind: str
    parameter: float
    state: dict[str, float]
    frequency: float = float("nan")  # imaginary part of the critical pair at a Hopf point


@dataclass(frozen=True)
class BifurcationDiagram:
    """A branch of equilibria in one parameter.

    Attributes
    ----------
    parameter : str
    values : float64[n_points]
        Parameter value along the branch (in arclength order).
    species : tuple of str
    states : float64[n_points, n_species]
    stable : bool[n_points]
    max_real : float64[n_points]
        Largest real part of the eigenvalues on the compatibility class.
    points : list of SpecialPoint
    status : str
        How each end of the branch stopped.
    """

    parameter: str
    values: np.ndarray
    species: tuple[str, ...]
    states: np.ndarray
    stable: np.ndarray
    max_real: np.ndarray
    points: list[SpecialPoint] = field(default_factory=list)
    status: str = ""

    def __getitem__(self, species: str) -> np.ndarray:
        return self.states[:, self.species.index(species)]

    @property
    def folds(self) -> list[SpecialPoint]:
        """The fold (saddle-node) points."""
        return [pt for pt in self.points if pt.kind == "fold"]

    @property
    def hopfs(self) -> list[SpecialPoint]:
        """The Hopf points."""
        return [pt for pt in self.points if pt.kind == "hopf"]

    def to_dataframe(self):
        """One row per branch point: the parameter, each species, stability."""
        import pandas as pd  # noqa: PLC0415  (pandas is heavy; loaded only for tables)

        data = {self.parameter: self.values}
        for i, name in enumerate(self.species):
            data[name] = self.states[:, i]
        data["stable"] = self.stable
        data["max_real_eigenvalue"] = self.max_real
        return pd.DataFrame(data)

    def __repr__(self) -> str:
        lines = [
            f"BifurcationDiagram in {self.parameter}: {self.values.size} points, "
            f"{self.values.min():.6g} .. {self.values.max():.6g}"
        ]
        for pt in self.points:
            lines.append(f"  {pt.kind} at {self.parameter} = {pt.parameter:.10g}")
        return "\n".join(lines)


def _network_parameter(model, parameter: str) -> tuple[ReactionNetwork, int]:
    net = as_network(model)
    if parameter not in net.parameter_names:
        choices = list(net.parameter_names)
        raise ModelError(f"unknown continuation parameter {parameter!r}; the network's parameters are {choices}")
    if isinstance(model, Model) and parameter in model.param:
        # the model parameter must be the network parameter itself, not a derived value
        if not np.isclose(net.parameters[parameter], float(getattr(model, parameter)), rtol=1e-12):
            raise ModelError(f"{parameter!r} enters the network through derived values; continue in another parameter")
    return net, net.parameter_names.index(parameter)


def continuation(
    model: Model | ReactionNetwork,
    parameter: str,
    bounds: tuple[float, float],
    *,
    start: float | None = None,
    guess: Mapping[str, float] | Sequence[float] | None = None,
    ds: float | None = None,
    max_points: int = 2000,
    tol: float = 1e-10,
    stop_negative: bool = True,
) -> BifurcationDiagram:
    """Follow the branch of equilibria through ``start`` as ``parameter`` sweeps ``bounds``.

    Parameters
    ----------
    model : Model or ReactionNetwork
    parameter : str
        A parameter of the (model's) network.
    bounds : (float, float)
        The interval of the parameter.
    start : float, optional
        Where the branch starts (default: the current value, clipped into ``bounds``).
    guess : mapping or sequence, optional
        A state near the equilibrium to start from (picks one of several).
    ds : float, optional
        Initial arclength step (default: 1% of the interval).
    max_points : int
        Points per direction.
    tol : float
        Newton tolerance (relative).
    stop_negative : bool
        Stop where a concentration turns negative (a non-physical branch).

    Raises
    ------
    ModelError
        Unknown parameter or invalid bounds; no steady state at the start (the message says
        where it looked).
    """
    lo, hi = float(bounds[0]), float(bounds[1])
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ModelError(f"bounds must be two finite numbers, lower < upper; got {bounds}")
    net, k_par = _network_parameter(model, parameter)
    p = net.parameter_vector().copy()
    value = p[k_par] if start is None else float(start)
    value = min(max(value, lo), hi)
    try:
        state = steady_state(net, guess=guess, parameters={parameter: value})
    except (SolverError, ModelError) as err:
        raise ModelError(
            f"no steady state to start from at {parameter} = {value:g} (within bounds {bounds}): {err}"
        ) from None
    p[k_par] = value
    y_ref = state.values
    # Continue in scaled variables: the parameter in units of the interval, the state in
    # units of its size at the start, so that arclength steps weigh both alike.
    lam_scale = hi - lo
    state_scale = max(float(np.max(np.abs(y_ref))), 1e-12)
    q_unit = np.ascontiguousarray(tangent_basis(state.conservation, y_ref.size))
    q_basis = np.ascontiguousarray(q_unit * state_scale)
    dim = q_basis.shape[1] + 1
    ds0 = 0.02 if ds is None else float(ds)
    x0 = np.zeros(dim)
    x0[-1] = value / lam_scale
    # initial tangent: [G_z, G_lam] t = 0 with t_lam = 1, then normalised
    g_z = np.empty((dim - 1, dim - 1))
    cont.reduced_jacobian(net.arrays, p, y_ref, q_basis, g_z)
    dfdp = _dfdp_column(net, p, y_ref, k_par)
    g_lam = q_basis.T @ dfdp * lam_scale
    try:
        t_z = -np.linalg.solve(g_z, g_lam)
    except np.linalg.LinAlgError:
        raise ModelError(f"the start point at {parameter} = {value:g} is singular (a fold); start elsewhere") from None
    t0 = np.append(t_z, 1.0)
    t0 /= np.linalg.norm(t0)
    branches = []
    statuses = []
    folds: list[np.ndarray] = []
    for direction in (1.0, -1.0):
        points = np.zeros((max_points, dim))
        tangents = np.zeros((max_points, dim))
        fold_buf = np.zeros((20, dim))
        info = np.zeros(cont.N_INFO)
        stop = control.current_flag()
        status = cont.continue_branch(
            net.arrays, p.copy(), k_par, lam_scale, y_ref, q_basis, x0, direction * t0, lo / lam_scale, hi / lam_scale,
            ds0, 1e-10, 0.2, tol, 12, stop_negative, stop, points, tangents, fold_buf, info,
        )  # fmt: skip
        if status == cont.STOPPED:
            raise control.stopped_error(stop, "Continuation")
        count = int(info[cont.INFO_POINTS])
        branches.append(points[:count])
        folds.extend(fold_buf[: int(info[cont.INFO_FOLDS])])
        statuses.append(
            {
                cont.OK: "reached a bound",
                cont.STEP_TOO_SMALL: "step size collapsed",
                cont.LEFT_DOMAIN: "left the positive orthant",
            }[status]
        )
    branch = np.vstack([branches[1][::-1], branches[0][1:]])
    states = y_ref + branch[:, :-1] @ q_basis.T
    values = branch[:, -1] * lam_scale
    # a branch that reached a bound ends exactly on it (the scaling round trip is inexact)
    for bound in (lo, hi):
        values[np.abs(values - bound) <= 1e-12 * lam_scale] = bound
    eig = _eigenvalues(net, p, k_par, values, states, q_unit)
    max_real = eig.real.max(axis=1) if eig.shape[1] else np.full(values.size, -np.inf)
    stable = max_real < 0
    points_out = [
        SpecialPoint(
            "fold", float(f[-1] * lam_scale), dict(zip(net.species, (y_ref + q_basis @ f[:-1]).tolist(), strict=True))
        )
        for f in folds
    ]
    points_out += _hopf_points(net, p, k_par, lam_scale, y_ref, q_basis, q_unit, branch, eig, tol)
    points_out.sort(key=lambda pt: pt.parameter)
    return BifurcationDiagram(
        parameter,
        values,
        net.species,
        states,
        stable,
        max_real,
        points_out,
        status=f"backward: {statuses[1]}; forward: {statuses[0]}",
    )


def _dfdp_column(net, p, y, k_par):
    n = y.size
    dfdp = np.empty((n, p.size))
    network_dfdp(net.arrays, p, np.zeros(n), np.ascontiguousarray(y), np.empty(len(net.reactions)), np.empty(n), dfdp)
    return dfdp[:, k_par]


def _eigenvalues(net, p, k_par, values, states, q_basis):
    big_n = q_basis.shape[1]
    out = np.empty((values.size, big_n), dtype=complex)
    g_z = np.empty((big_n, big_n))
    q = p.copy()
    for i in range(values.size):
        q[k_par] = values[i]
        cont.reduced_jacobian(net.arrays, q, np.ascontiguousarray(states[i]), q_basis, g_z)
        out[i] = np.linalg.eigvals(g_z)
    return out


def _critical_real(eigs: np.ndarray) -> float:
    """Real part of the complex pair closest to the imaginary axis (NaN if none)."""
    pairs = eigs[np.abs(eigs.imag) > 1e-9]
    if pairs.size == 0:
        return float("nan")
    return float(pairs.real[np.argmin(np.abs(pairs.real))])


def _hopf_points(net, p, k_par, lam_scale, y_ref, q_basis, q_unit, branch, eig, tol):
    dim = branch.shape[1]
    found = []
    crit = np.array([_critical_real(e) for e in eig])
    for i in range(branch.shape[0] - 1):
        a, b = crit[i], crit[i + 1]
        if not (np.isfinite(a) and np.isfinite(b)) or a * b > 0:
            continue
        # secant in arclength from point i towards point i + 1
        x = branch[i].copy()
        step = branch[i + 1] - branch[i]
        length = float(np.linalg.norm(step))
        tangent = step / length
        lo, hi, f_lo, f_hi = 0.0, length, a, b
        x_try = np.empty(dim)
        t_try = np.empty(dim)
        g_z = np.empty((dim - 1, dim - 1))
        q = p.copy()
        value = float("nan")
        frequency = float("nan")
        for _ in range(60):
            s = hi - f_hi * (hi - lo) / (f_hi - f_lo) if f_hi != f_lo else 0.5 * (lo + hi)
            if not lo < s < hi:
                s = 0.5 * (lo + hi)
            if cont.correct(net.arrays, q, k_par, lam_scale, y_ref, q_basis, x, tangent, s, tol, 12, x_try, t_try) < 0:
                break
            q[k_par] = x_try[-1] * lam_scale
            cont.reduced_jacobian(net.arrays, q, np.ascontiguousarray(y_ref + q_basis @ x_try[:-1]), q_unit, g_z)
            eigs = np.linalg.eigvals(g_z)
            f_s = _critical_real(eigs)
            value = float(x_try[-1] * lam_scale)
            pairs = eigs[np.abs(eigs.imag) > 1e-9]
            frequency = float(np.abs(pairs.imag[np.argmin(np.abs(pairs.real))])) if pairs.size else float("nan")
            if not np.isfinite(f_s) or abs(f_s) < 1e-13 or hi - lo < 1e-14 * (1 + length):
                break
            if f_s * f_lo > 0:
                lo, f_lo = s, f_s
            else:
                hi, f_hi = s, f_s
        if np.isfinite(value):
            state = dict(zip(net.species, (y_ref + q_basis @ x_try[:-1]).tolist(), strict=True))
            found.append(SpecialPoint("hopf", value, state, frequency))
    return found


def stable_state_count(
    model: Model | ReactionNetwork,
    parameter: str,
    values: Sequence[float],
    second: str,
    second_values: Sequence[float],
) -> np.ndarray:
    """Number of stable equilibria on a grid of two parameters (brute force).

    For each value of ``second`` the branch in ``parameter`` is continued across
    ``values``; a grid point counts the stable branch segments crossing it. Equilibria on
    branches not connected to the one found at the lowest ``parameter`` value (isolas) are
    missed.

    Returns
    -------
    int64[len(second_values), len(values)]
    """
    values = np.asarray(values, dtype=float)
    second_values = np.asarray(second_values, dtype=float)
    if values.ndim != 1 or values.size < 2 or np.any(np.diff(values) <= 0):
        raise ModelError("values must be an increasing sequence of at least two numbers")
    counts = np.zeros((second_values.size, values.size), dtype=np.int64)
    net = as_network(model)
    if second not in net.parameter_names:
        raise ModelError(f"unknown parameter {second!r}; the network's parameters are {list(net.parameter_names)}")
    for row, value in enumerate(second_values):
        varied = _with_parameter(net, second, float(value))
        diagram = continuation(varied, parameter, (values[0], values[-1]), start=values[0])
        for lo, hi in _stable_ranges(diagram):
            counts[row] += (values >= lo) & (values <= hi)
    return counts


def _stable_ranges(diagram: BifurcationDiagram) -> list[tuple[float, float]]:
    """Parameter ranges covered by the stable runs of a branch.

    A run that ends where stability changes is extended to the special point (fold or Hopf)
    there, since the change lies between two branch points.
    """
    lam = diagram.values
    stable = diagram.stable
    specials = np.array([pt.parameter for pt in diagram.points])
    ranges = []
    i = 0
    while i < lam.size:
        if not stable[i]:
            i += 1
            continue
        j = i
        while j + 1 < lam.size and stable[j + 1]:
            j += 1
        lo, hi = float(lam[i : j + 1].min()), float(lam[i : j + 1].max())
        for end, neighbour in ((i, i - 1), (j, j + 1)):
            if 0 <= neighbour < lam.size and specials.size:
                nearest = float(specials[np.argmin(np.abs(specials - lam[end]))])
                lo, hi = min(lo, nearest), max(hi, nearest)
        ranges.append((lo, hi))
        i = j + 1
    return ranges


def _with_parameter(net: ReactionNetwork, name: str, value: float) -> ReactionNetwork:
    return ReactionNetwork(
        species=net._species,
        parameters={**net.parameters, name: value},
        reactions=net.reactions,
        compartments=net.compartments,
        units=net.units,
        name=net.name,
    )
