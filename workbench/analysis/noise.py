"""Noise: LNA, propagation to phenotypes, tissue averaging, total variance and modality.

Linear noise approximation (van Kampen): copy numbers fluctuate about the deterministic state
with a covariance that, at steady state, solves the Lyapunov equation::

    A Sigma + Sigma A^T + B = 0,    B = S diag(v) S^T / Omega

with ``A`` the Jacobian, ``v`` the reaction rates and ``Omega`` the system size (in
concentration units; with compartments, ``B_ik`` is divided by ``V_i V_k`` too). Along a
trajectory ``dSigma/dt = A Sigma + Sigma A^T + B``. For the two-stage model this gives the
protein Fano factor ``1 + kp / (gm + gp)``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp
from scipy.linalg import solve_continuous_lyapunov

from ..core import ReactionNetwork
from ..core.kinetics import network_jacobian, network_rhs, reaction_rates
from ..errors import ModelError
from ..models import Model
from .steady import SteadyState, as_network, steady_state, tangent_basis

__all__ = [
    "LNAResult",
    "LNATrajectory",
    "VarianceDecomposition",
    "cells_for_precision",
    "count_modes",
    "lna",
    "lna_trajectory",
    "propagate",
    "tissue_variance",
    "total_variance",
]


def _diffusion(net: ReactionNetwork, p: np.ndarray, y: np.ndarray, volume: float) -> np.ndarray:
    """B = S diag(v) S^T / (Omega V_i V_k), concentration units."""
    v = np.empty(len(net.reactions))
    reaction_rates(net.arrays, p, np.ascontiguousarray(y), v)
    s = net.stoichiometry
    vols = np.array([1.0 if i < 0 else p[i] for i in net.arrays.sp_vol])
    return (s * v) @ s.T / (volume * np.outer(vols, vols))


@dataclass(frozen=True)
class LNAResult:
    """Stationary linear noise approximation, in copy numbers.

    Attributes
    ----------
    species : tuple of str
    mean : float64[n_species]
        Mean copy numbers (the steady state times the system size).
    covariance : float64[n_species, n_species]
    steady : SteadyState
    volume : float
    """

    species: tuple[str, ...]
    mean: np.ndarray
    covariance: np.ndarray
    steady: SteadyState
    volume: float

    @property
    def variance(self) -> np.ndarray:
        """Variance of each species' copy number."""
        return np.diag(self.covariance).copy()

    @property
    def fano(self) -> np.ndarray:
        """Fano factors variance / mean (NaN where the mean is 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.mean > 0, self.variance / self.mean, np.nan)

    @property
    def cv2(self) -> np.ndarray:
        """Squared coefficients of variation."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.mean > 0, self.variance / self.mean**2, np.nan)

    def __getitem__(self, name: str) -> tuple[float, float]:
        """``(mean, variance)`` of one species."""
        i = self.species.index(name)
        return float(self.mean[i]), float(self.covariance[i, i])


def _lyapunov(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The stationary covariance ``X`` of ``A X + X A^T + B = 0``, or a clear error.

    scipy warns (and perturbs ``A``) when two eigenvalues nearly cancel, i.e. when the steady
    state is nearly marginal: the covariance is then dominated by round-off. That is an error
    here, not a number.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        try:
            x = solve_continuous_lyapunov(a, -b)
        except (RuntimeWarning, np.linalg.LinAlgError, ValueError):
            rates = np.abs(np.linalg.eigvals(a).real) if a.size else np.zeros(0)
            slow = f" (slowest relaxation rate {rates.min():.3g}, fastest {rates.max():.3g})" if rates.size else ""
            raise ModelError(
                "the LNA covariance cannot be computed accurately here: the steady state is nearly "
                f"marginal{slow}, so fluctuations relax on a time scale round-off dominates"
            ) from None
    if not np.all(np.isfinite(x)):
        raise ModelError("the LNA covariance is not finite here: the steady state is (nearly) marginal")
    return x


def _lna_network(model: Model | ReactionNetwork) -> ReactionNetwork:
    """The network whose reactions the LNA expands; refused for what it would leave out."""
    if isinstance(model, Model):
        reason = model.lna_refusal()
        if reason:
            raise ModelError(f"the linear noise approximation does not describe {type(model).__name__}: {reason}")
    return as_network(model)


def lna(
    model: Model | ReactionNetwork,
    *,
    volume: float = 1.0,
    parameters: Mapping[str, float] | None = None,
    steady: SteadyState | None = None,
) -> LNAResult:
    """Stationary covariance of copy numbers by the linear noise approximation.

    Parameters
    ----------
    model : Model or ReactionNetwork
    volume : float
        System size Omega (molecules per amount unit), as in ``ssa``.
    parameters : mapping, optional
    steady : SteadyState, optional
        A steady state to expand about (default: :func:`steady_state`).

    Raises
    ------
    ModelError
        If the steady state is not stable (the LNA has no stationary covariance there), or
        the model has what the LNA leaves out (doses, an imported model's events or rules).
    """
    if not (np.isfinite(volume) and volume > 0):
        raise ModelError(f"volume must be a positive finite number, got {volume}")
    net = _lna_network(model)
    p = net.parameter_vector(parameters)
    steady = steady_state(net, parameters=parameters) if steady is None else steady
    if not steady.stable:
        raise ModelError("the LNA needs a stable steady state; this one is unstable")
    y = steady.values
    basis = tangent_basis(steady.conservation, y.size)
    a_red = basis.T @ steady.jacobian @ basis
    b_red = basis.T @ _diffusion(net, p, y, volume) @ basis
    sigma = basis @ _lyapunov(a_red, b_red) @ basis.T
    sizes = volume * np.array([1.0 if i < 0 else p[i] for i in net.arrays.sp_vol])
    covariance = sigma * np.outer(sizes, sizes)
    return LNAResult(net.species, y * sizes, 0.5 * (covariance + covariance.T), steady, float(volume))


@dataclass(frozen=True)
class LNATrajectory:
    """Mean and covariance of copy numbers along a trajectory (linear noise approximation)."""

    t: np.ndarray
    species: tuple[str, ...]
    mean: np.ndarray  # (n_times, n_species)
    covariance: np.ndarray  # (n_times, n_species, n_species)

    def variance(self, species: str) -> np.ndarray:
        """Variance of one species over time."""
        i = self.species.index(species)
        return self.covariance[:, i, i]

    def fano(self, species: str) -> np.ndarray:
        """Fano factor of one species over time (NaN where the mean is 0)."""
        i = self.species.index(species)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.mean[:, i] > 0, self.covariance[:, i, i] / self.mean[:, i], np.nan)


def lna_trajectory(
    model: Model | ReactionNetwork,
    t: Sequence[float],
    *,
    volume: float = 1.0,
    parameters: Mapping[str, float] | None = None,
    rtol: float = 1e-8,
    atol: float = 1e-10,
) -> LNATrajectory:
    """Time-dependent LNA from the (deterministic) initial state: mean and covariance over ``t``.

    Integrates the mean ODE together with ``dSigma/dt = A Sigma + Sigma A^T + B`` (Sigma = 0
    at ``t[0]``) with scipy's LSODA. Refused, with a ModelError, for models with what the LNA
    leaves out (as :func:`lna`).
    """
    net = _lna_network(model)
    p = net.parameter_vector(parameters)
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or t.size < 1 or np.any(np.diff(t) < 0):
        raise ModelError("t must be a sorted 1-D sequence of times")
    n = len(net.species)
    y0 = net.initial_vector()
    zeros = np.zeros(n)
    rates = np.empty(len(net.reactions))
    s = net.stoichiometry
    vols = np.array([1.0 if i < 0 else p[i] for i in net.arrays.sp_vol])
    inv_vv = 1.0 / (volume * np.outer(vols, vols))

    def rhs(_, state):
        y = np.ascontiguousarray(state[:n])
        sigma = state[n:].reshape(n, n)
        dy = np.empty(n)
        network_rhs(net.arrays, p, zeros, y, rates, dy)
        jac = np.empty((n, n))
        network_jacobian(net.arrays, p, y, jac)
        b = (s * rates) @ s.T * inv_vv
        d_sigma = jac @ sigma + sigma @ jac.T + b
        return np.concatenate([dy, d_sigma.ravel()])

    state0 = np.concatenate([y0, np.zeros(n * n)])
    if t.size == 1 or t[-1] == t[0]:
        values = np.tile(state0, (t.size, 1))
    else:
        sol = solve_ivp(rhs, (t[0], t[-1]), state0, method="LSODA", t_eval=t, rtol=rtol, atol=atol)
        if not sol.success:
            raise ModelError(f"LNA integration failed: {sol.message}")
        values = sol.y.T
    sizes = volume * vols
    mean = values[:, :n] * sizes
    covariance = values[:, n:].reshape(-1, n, n) * np.outer(sizes, sizes)
    return LNATrajectory(t, net.species, mean, covariance)


def propagate(
    g: Callable[[np.ndarray], np.ndarray],
    mean: float,
    variance: float,
    *,
    derivative: Callable[[np.ndarray], np.ndarray] | None = None,
) -> tuple[float, float]:
    """Noise propagated to a phenotype ``Y = g(P)`` to first order (the delta method).

    Returns ``(E[Y], Var(Y)) ≈ (g(E[P]), g'(E[P])² Var(P))``; ``g'`` by central differences
    when ``derivative`` is not given.
    """
    if not (math.isfinite(mean) and math.isfinite(variance) and variance >= 0):
        raise ModelError("mean and variance must be finite, the variance non-negative")
    if derivative is None:
        h = 1e-6 * max(abs(mean), 1.0)
        slope = (float(g(mean + h)) - float(g(mean - h))) / (2 * h)
    else:
        slope = float(derivative(mean))
    return float(g(mean)), slope**2 * variance


def tissue_variance(cell_variance: float | np.ndarray, n_cells: int) -> float | np.ndarray:
    """Variance of the mean over ``n_cells`` independent cells: ``Var / N``."""
    if int(n_cells) != n_cells or n_cells < 1:
        raise ModelError(f"n_cells must be a positive integer, got {n_cells}")
    return np.asarray(cell_variance) / n_cells


def cells_for_precision(mean: float, variance: float, epsilon: float) -> int:
    """Smallest N with relative fluctuation of the tissue mean ``sqrt(Var / N) / mean <= epsilon``."""
    if not epsilon > 0:
        raise ModelError(f"epsilon must be positive, got {epsilon}")
    if not mean > 0:
        raise ModelError(f"the mean must be positive, got {mean}")
    return max(1, math.ceil(variance / (mean**2 * epsilon**2) - 1e-12))


@dataclass(frozen=True)
class VarianceDecomposition:
    """Law of total variance: total = aleatory (mean within) + epistemic (variance of means)."""

    aleatory: float
    epistemic: float

    @property
    def total(self) -> float:
        """Total variance."""
        return self.aleatory + self.epistemic

    @property
    def epistemic_fraction(self) -> float:
        """Share of the total variance due to parameter uncertainty."""
        return self.epistemic / self.total if self.total > 0 else math.nan


def total_variance(conditional_means: Sequence[float], conditional_variances: Sequence[float]) -> VarianceDecomposition:
    """Split variance over parameter draws: ``Var Y = E[Var(Y | theta)] + Var(E[Y | theta])``.

    Parameters
    ----------
    conditional_means, conditional_variances : sequences
        ``E[Y | theta_k]`` and ``Var(Y | theta_k)`` for parameter draws ``theta_k`` (e.g. from
        :func:`lna` per draw).
    """
    means = np.asarray(conditional_means, dtype=float)
    variances = np.asarray(conditional_variances, dtype=float)
    if means.shape != variances.shape or means.ndim != 1 or means.size < 2:
        raise ModelError("give matching 1-D sequences of at least two conditional means and variances")
    if np.any(variances < 0) or not (np.all(np.isfinite(means)) and np.all(np.isfinite(variances))):
        raise ModelError("conditional variances must be finite and non-negative")
    return VarianceDecomposition(float(variances.mean()), float(means.var()))


def count_modes(
    values: np.ndarray,
    probabilities: np.ndarray | None = None,
    *,
    depth: float = 0.2,
    min_height: float = 0.01,
) -> int:
    """Number of modes of a copy-number distribution.

    The distribution (``values`` with ``probabilities``, or raw samples when ``probabilities``
    is None) is smoothed with a Gaussian kernel of width ``0.5 sqrt(mean)`` (half the Poisson
    spread, at least one molecule). A mode is a peak at least ``min_height`` times the highest
    one whose valleys on both sides dip by at least ``depth`` of its own height (topographic
    prominence); a peak at zero counts when the density falls away from it.
    """
    if probabilities is None:
        samples = np.asarray(values, dtype=float)
        if samples.size == 0:
            raise ModelError("no samples")
        counts = np.bincount(np.maximum(np.round(samples), 0).astype(np.int64))
        support = np.arange(counts.size, dtype=float)
        probabilities = counts / counts.sum()
    else:
        support = np.asarray(values, dtype=float)
        probabilities = np.asarray(probabilities, dtype=float)
    mean = float(np.sum(support * probabilities))
    width = max(1.0, 0.5 * math.sqrt(max(mean, 1.0)))
    grid = np.arange(0.0, support.max() + 4 * width + 1)
    density = np.exp(-0.5 * ((grid[:, None] - support[None, :]) / width) ** 2) @ probabilities
    padded = np.concatenate([[0.0], density, [0.0]])  # lets a peak at 0 (or at the end) count
    from scipy.signal import find_peaks  # noqa: PLC0415  (scipy.signal costs ~0.3 s to import; only this needs it)

    _, properties = find_peaks(padded, height=min_height * density.max(), prominence=0.0)
    relative = properties["prominences"] / properties["peak_heights"]
    return int(np.sum(relative >= depth))
