"""Timescale separation: where a quasi-steady-state reduction holds.

A network with a fast subsystem (binding in TMDD, receptor-ligand exchange in tissue uptake)
is compared with its QSSA reduction over a grid of the timescale ratio ``epsilon``: the fast
rate constants are divided by ``epsilon`` (their ratios, e.g. KD, unchanged) and the largest
relative difference of an observable is recorded. The reduction also needs an attracting
critical manifold: the fast subsystem's Jacobian, restricted to the directions its reactions
move, must have eigenvalues with negative real part along the trajectory (``df/dy < 0`` for a
single fast variable).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..core import ReactionNetwork
from ..core.kinetics import network_jacobian
from ..errors import ModelError
from ..models import Model

__all__ = ["QSSAValidity", "critical_manifold_stability", "qssa_validity"]


@dataclass(frozen=True)
class QSSAValidity:
    """Error of a reduction over a grid of timescale ratios."""

    epsilons: np.ndarray
    max_relative_error: np.ndarray
    tolerance: float
    observable: str
    fast_parameters: tuple[str, ...]

    @property
    def holds(self) -> np.ndarray:
        """Where the reduction is within tolerance."""
        return self.max_relative_error <= self.tolerance

    @property
    def largest_valid_epsilon(self) -> float:
        """The largest ratio on the grid at or below which the reduction holds (NaN if none)."""
        ok = self.holds
        order = np.argsort(self.epsilons)
        best = float("nan")
        for i in order:
            if not ok[i]:
                break
            best = float(self.epsilons[i])
        return best

    def to_dataframe(self):
        """Table of epsilon, error and verdict."""
        import pandas as pd  # noqa: PLC0415  (pandas is heavy; loaded only for tables)

        return pd.DataFrame(
            {"epsilon": self.epsilons, "max_relative_error": self.max_relative_error, "holds": self.holds}
        )


def _relative_error(a: np.ndarray, b: np.ndarray, floor: float = 1e-3) -> float:
    mask = np.abs(b) > floor * np.abs(b).max()
    return float(np.max(np.abs(a[mask] - b[mask]) / np.abs(b[mask])))


def qssa_validity(
    model: Model,
    fast_parameters: Sequence[str],
    epsilons: Sequence[float],
    *,
    reduction: Mapping[str, object],
    observable: str,
    tolerance: float = 0.01,
    t: Sequence[float] | None = None,
    skip_transient: float = 0.0,
    rtol: float = 1e-9,
    atol: float = 1e-12,
) -> QSSAValidity:
    """Compare a model with its reduction as the fast rates speed up.

    Parameters
    ----------
    model : Model
    fast_parameters : sequence of str
        Rate constants of the fast subsystem; each is divided by ``epsilon``.
    epsilons : sequence of float
        Timescale ratios (1 = the model as declared).
    reduction : mapping
        Parameter settings selecting the reduced model, e.g. ``{"reduction": "qss"}``.
    observable : str
        A column present in both trajectories (e.g. ``"D_total"``).
    tolerance : float
        Largest acceptable relative error.
    t : sequence of float, optional
        Output times (default: the model's window).
    skip_transient : float
        Ignore times before this (the fast transient itself is what a QSSA removes).

    Notes
    -----
    The relative error is taken where the full model's ``observable`` exceeds 1/1000 of its
    peak: below that the relative error of a tail (and the solver's) says little about the
    reduction. A reduction that fails only in the far tail passes; compare the trajectories
    directly to judge the tail.
    """
    if not fast_parameters:
        raise ModelError("name at least one fast parameter")
    for name in fast_parameters:
        if name not in model.model_parameters():
            raise ModelError(f"unknown parameter {name!r}; {type(model).__name__} has {model.model_parameters()}")
    epsilons = np.asarray(epsilons, dtype=float)
    if epsilons.ndim != 1 or epsilons.size == 0 or np.any(epsilons <= 0):
        raise ModelError("epsilons must be positive")
    times = np.linspace(0.0, model.t_end, model.n_points) if t is None else np.asarray(t, dtype=float)
    keep = times >= skip_transient
    errors = []
    for eps in epsilons:
        scaled = {name: float(getattr(model, name)) / eps for name in fast_parameters}
        full = model.copy(**scaled).simulate(t=times, rtol=rtol, atol=atol)
        reduced = model.copy(**scaled, **reduction).simulate(t=times, rtol=rtol, atol=atol)
        if observable not in full or observable not in reduced:
            raise ModelError(f"{observable!r} is not in both trajectories")
        errors.append(_relative_error(reduced[observable][keep], full[observable][keep]))
    return QSSAValidity(epsilons, np.array(errors), float(tolerance), observable, tuple(fast_parameters))


def critical_manifold_stability(
    model: Model | ReactionNetwork,
    fast_reactions: Sequence[str],
    t: Sequence[float] | None = None,
) -> float:
    """Largest real part of the fast subsystem's eigenvalues along the trajectory.

    Negative means the critical manifold of the QSSA is attracting everywhere on the
    trajectory. ``fast_reactions`` are reaction names of the network (a reversible reaction
    ``name`` expands to ``name_fwd`` and ``name_rev``; either spelling is accepted).
    """
    net = model._memoized("network", model.network) if isinstance(model, Model) else model
    names = [r.name for r in net.reactions]
    chosen = []
    for name in fast_reactions:
        matches = [i for i, n in enumerate(names) if n == name or n in (f"{name}_fwd", f"{name}_rev")]
        if not matches:
            raise ModelError(f"unknown reaction {name!r}; reactions are {names}")
        chosen.extend(matches)
    fast = ReactionNetwork(
        species=net._species,
        parameters=net.parameters,
        reactions=[net.reactions[i] for i in sorted(set(chosen))],
        compartments=net.compartments,
        name="fast subsystem",
    )
    traj = model.simulate(t=t) if isinstance(model, Model) else net.simulate(t=t)
    p = fast.parameter_vector()
    vols = np.array([1.0 if i < 0 else p[i] for i in fast.arrays.sp_vol])
    directions = fast.stoichiometry / vols[:, None]
    u_basis, singular, _ = np.linalg.svd(directions, full_matrices=False)
    u_basis = u_basis[:, singular > 1e-12 * singular.max()]
    worst = -np.inf
    jac = np.empty((len(fast.species), len(fast.species)))
    for row in traj.values:
        network_jacobian(fast.arrays, p, np.ascontiguousarray(row), jac)
        worst = max(worst, float(np.linalg.eigvals(u_basis.T @ jac @ u_basis).real.max()))
    return worst
