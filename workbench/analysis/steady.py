"""Steady states of a network: Newton with the analytic Jacobian, conservation laws, stability.

Conservation laws (moieties) are the left null space of the stoichiometry: ``L S = 0`` makes
``L (V * y)`` constant, where ``V * y`` are the amounts. A closed system such as receptor
binding then has a singular Jacobian; we solve the augmented system ``f(y) = 0,
L (V * y) = T`` (consistent, so Gauss-Newton converges quadratically) with the totals ``T``
from the initial state, and judge stability on the compatibility class: the eigenvalues of
the Jacobian restricted to ``ker(L diag(V))``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.linalg import null_space

from ..core import ReactionNetwork
from ..core.kinetics import network_jacobian, network_rhs
from ..errors import ModelError, SolverError
from ..models import Model

__all__ = ["SteadyState", "as_network", "conservation_laws", "steady_state"]


def as_network(model: Model | ReactionNetwork) -> ReactionNetwork:
    """The reaction network of a model (or the network itself)."""
    if isinstance(model, ReactionNetwork):
        return model
    if isinstance(model, Model):
        return model._memoized("network", model.network)
    raise ModelError(f"expected a workbench model or ReactionNetwork, got {type(model).__name__}")


def _volumes(net: ReactionNetwork, p: np.ndarray) -> np.ndarray:
    return np.array([1.0 if i < 0 else p[i] for i in net.arrays.sp_vol])


def conservation_laws(net: ReactionNetwork, p: np.ndarray | None = None) -> np.ndarray:
    """Rows ``l`` with ``l . (V * y)`` constant in time, as a matrix acting on concentrations.

    Returns an array of shape (m, n_species) (``m = 0`` for an open network): an orthonormal
    basis of the left null space of the stoichiometry, scaled by the species volumes.
    """
    p = net.parameter_vector() if p is None else p
    s = net.stoichiometry
    if s.size == 0:
        basis = np.eye(len(net.species))
    else:
        basis = null_space(s.T).T
    return basis * _volumes(net, p)[None, :]


@dataclass(frozen=True)
class SteadyState:
    """A steady state with its Jacobian and stability.

    Attributes
    ----------
    species : tuple of str
    values : float64[n_species]
        Concentrations.
    jacobian : float64[n_species, n_species]
    eigenvalues : complex128[n_species - m]
        Eigenvalues on the compatibility class (conservation directions removed).
    stable : bool
        All those eigenvalues have negative real part.
    conservation : float64[m, n_species]
        Conservation laws acting on concentrations; ``conservation @ values == totals``.
    totals : float64[m]
    residual : float
        Largest abs(dy/dt) at ``values``.
    method : str
        ``"newton"`` or ``"integration + newton"``.
    """

    species: tuple[str, ...]
    values: np.ndarray
    jacobian: np.ndarray
    eigenvalues: np.ndarray
    stable: bool
    conservation: np.ndarray
    totals: np.ndarray
    residual: float
    method: str

    def __getitem__(self, name: str) -> float:
        return float(self.values[self.species.index(name)])

    def as_dict(self) -> dict[str, float]:
        """Species values by name."""
        return dict(zip(self.species, self.values.tolist(), strict=True))

    def __repr__(self) -> str:
        values = ", ".join(f"{s}={v:.6g}" for s, v in zip(self.species, self.values, strict=True))
        verdict = "stable" if self.stable else "unstable"
        return f"SteadyState({values}; {verdict}, max Re(lambda) = {self.eigenvalues.real.max():.4g})"


def _newton(net, p, y, conservation, totals, tol, max_iter):
    """Damped Gauss-Newton on [f(y); C y - T] = 0. Returns (y, converged)."""

    def residual(state):
        return np.concatenate([_rhs(net, p, state), conservation @ state - totals])

    def converged(state, res):
        return np.max(np.abs(res)) < tol * max(1.0, np.max(np.abs(state)))

    g = residual(y)
    for _ in range(max_iter):
        if not np.all(np.isfinite(g)):
            return y, False
        if converged(y, g):
            return y, True
        jac = np.vstack([_jacobian(net, p, y), conservation])
        step = np.linalg.lstsq(jac, -g, rcond=None)[0]
        norm = np.linalg.norm(g)
        damping = 1.0
        while damping > 1e-6:
            trial = y + damping * step
            g_trial = residual(trial)
            if np.all(np.isfinite(g_trial)) and np.linalg.norm(g_trial) < (1 - 1e-4 * damping) * norm:
                break
            damping *= 0.5
        else:
            return y, converged(y, g)
        y, g = trial, g_trial
    return y, converged(y, g)


def _rhs(net, p, y):
    dy = np.empty_like(y)
    network_rhs(net.arrays, p, np.zeros_like(y), np.ascontiguousarray(y), np.empty(len(net.reactions)), dy)
    return dy


def _jacobian(net, p, y):
    jac = np.empty((y.size, y.size))
    network_jacobian(net.arrays, p, np.ascontiguousarray(y), jac)
    return jac


def steady_state(
    model: Model | ReactionNetwork,
    *,
    guess: Mapping[str, float] | Sequence[float] | None = None,
    parameters: Mapping[str, float] | None = None,
    tol: float = 1e-10,
    max_iter: int = 100,
    t_max: float = 1e7,
) -> SteadyState:
    """Find a steady state: Newton from a guess, or integration to equilibrium then Newton.

    Parameters
    ----------
    model : Model or ReactionNetwork
    guess : mapping or sequence, optional
        Starting concentrations (default: the initial state). Conservation totals always come
        from the network's initial state.
    parameters : mapping, optional
        Parameter overrides.
    tol : float
        Relative tolerance on the step and on abs(dy/dt).
    max_iter : int
        Newton iterations per attempt.
    t_max : float
        Longest integration tried when Newton does not converge from the guess.

    Raises
    ------
    SolverError
        When no steady state is found: the solution keeps changing (it grows without bound or
        oscillates) up to ``t_max``.
    """
    net = as_network(model)
    p = net.parameter_vector(parameters)
    y_init = net.initial_vector()
    conservation = conservation_laws(net, p)
    totals = conservation @ y_init
    if guess is None:
        y = y_init.copy()
    elif isinstance(guess, Mapping):
        y = net.initial_vector(guess)
    else:
        y = np.asarray(guess, dtype=float).copy()
        if y.shape != y_init.shape or not np.all(np.isfinite(y)):
            raise ModelError(f"guess must be {y_init.size} finite concentrations")
    method = "newton"
    y_new, ok = _newton(net, p, y, conservation, totals, tol, max_iter)
    if not ok or np.any(y_new < -tol * max(1.0, np.abs(y_new).max())):
        method = "integration + newton"
        y_new = _integrate_to_equilibrium(net, parameters, p, y_init if guess is None else y, t_max)
        y_new, ok = _newton(net, p, y_new, conservation, totals, tol, max_iter)
        if not ok:
            raise SolverError(
                "no steady state found: Newton did not converge even after integrating towards "
                "equilibrium; the solution may oscillate or grow without bound",
                reason="no_steady_state",
            )
    return _classified(net, p, y_new, conservation, totals, method)


def _classified(net, p, y, conservation, totals, method) -> SteadyState:
    jac = _jacobian(net, p, y)
    eigenvalues = _reduced_eigenvalues(jac, conservation)
    return SteadyState(
        species=net.species,
        values=y,
        jacobian=jac,
        eigenvalues=eigenvalues,
        stable=bool(np.all(eigenvalues.real < 0)),
        conservation=conservation,
        totals=totals,
        residual=float(np.max(np.abs(_rhs(net, p, y)))),
        method=method,
    )


def equilibria(
    model: Model | ReactionNetwork,
    *,
    parameters: Mapping[str, float] | None = None,
    factors: Sequence[float] = (0.0, 0.1, 0.3, 3.0, 10.0, 30.0),
    tol: float = 1e-10,
) -> list[SteadyState]:
    """Distinct non-negative equilibria, stable and unstable, on the initial state's class.

    Newton is started from the usual steady state (see :func:`steady_state`), from the initial
    state, and from the steady state scaled by each of ``factors``; the distinct converged
    non-negative solutions are returned in order of their size. A search, not a proof: an
    equilibrium far from every start can be missed.
    """
    net = as_network(model)
    p = net.parameter_vector(parameters)
    y_init = net.initial_vector()
    conservation = conservation_laws(net, p)
    totals = conservation @ y_init
    base = steady_state(net, parameters=parameters, tol=tol).values
    scale = np.maximum(np.abs(base), 1e-3 * max(1.0, float(np.abs(base).max())))
    starts = [base, y_init] + [scale * factor for factor in factors]
    found: list[np.ndarray] = []
    for start in starts:
        y, ok = _newton(net, p, np.array(start, dtype=float), conservation, totals, tol, 50)
        size = max(1.0, float(np.abs(y).max()))
        if not ok or np.any(y < -tol * size):
            continue
        y = np.maximum(y, 0.0)
        if all(np.max(np.abs(y - other)) > 1e-6 * size for other in found):
            found.append(y)
    found.sort(key=lambda y: float(np.linalg.norm(y)))
    return [_classified(net, p, y, conservation, totals, "newton") for y in found]


def tangent_basis(conservation: np.ndarray, n: int) -> np.ndarray:
    """Orthonormal basis (n x (n - m)) of the directions that keep every conserved total."""
    if conservation.shape[0] == 0:
        return np.eye(n)
    return null_space(conservation)


def _reduced_eigenvalues(jac: np.ndarray, conservation: np.ndarray) -> np.ndarray:
    basis = tangent_basis(conservation, jac.shape[0])
    return np.linalg.eigvals(basis.T @ jac @ basis)


def _integrate_to_equilibrium(net, parameters, p, y0, t_max):
    y = np.asarray(y0, dtype=float)
    horizon = 10.0
    while horizon <= t_max:
        start = dict(zip(net.species, np.maximum(y, 0.0), strict=True))
        try:
            traj = net.simulate(t=[0.0, horizon], initial=start, parameters=parameters, rtol=1e-8, atol=1e-12)
        except SolverError as err:
            raise SolverError(
                f"no steady state found: integrating towards equilibrium failed ({err}); the solution may "
                "grow without bound",
                t_reached=err.t_reached,
                reason="no_steady_state",
            ) from None
        y = traj.values[-1]
        if np.max(np.abs(_rhs(net, p, y))) < 1e-6 * max(1.0, np.max(np.abs(y))):
            return y
        horizon *= 10.0
    raise SolverError(
        f"no steady state found: the solution still changes at t = {t_max:g} (it may grow without bound or oscillate)",
        reason="no_steady_state",
    )
