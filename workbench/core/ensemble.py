"""Stochastic ensembles: the Python wrappers around the SSA and CLE kernels, and the result."""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numba
import numpy as np

from ..errors import ModelError, SolverError
from . import control
from . import kinetics as kin
from . import stochastic as sto
from .files import frame_csv
from .random import spawn_states

__all__ = ["Ensemble", "StochasticArrays", "run_cle", "run_ssa", "stochastic_arrays"]


class StochasticArrays:
    """What the SSA kernels need beyond the network arrays (derived once per network)."""

    def __init__(self, aff_ptr: np.ndarray, aff_idx: np.ndarray, stoi_int: np.ndarray, hor: np.ndarray):
        self.aff_ptr = aff_ptr
        self.aff_idx = aff_idx
        self.stoi_int = stoi_int
        self.hor = hor


def stochastic_arrays(arrays: kin.NetworkArrays | kin.ExpressionNetworkArrays, n_species: int) -> StochasticArrays:
    """Dependency graph, integer stoichiometry and highest reactant orders of a network.

    Raises
    ------
    ModelError
        If a stoichiometric coefficient is not an integer.
    """
    n_r = arrays.kind.shape[0]
    if not np.all(arrays.stoi_val == np.round(arrays.stoi_val)):
        raise ModelError("stochastic simulation needs integer stoichiometry")
    readers: list[set[int]] = [set() for _ in range(n_species)]
    hor = np.zeros(n_species, dtype=np.int64)
    for j in range(n_r):
        read = set(arrays.reac_sp[arrays.reac_ptr[j] : arrays.reac_ptr[j + 1]].tolist())
        if arrays.kind[j] == kin.EXPRESSION:  # so arrays is an ExpressionNetworkArrays
            deps = arrays.ex_dep_var[arrays.ex_dep_ptr[j] : arrays.ex_dep_ptr[j + 1]]
            read |= {int(s) for s in deps if s >= 0}
            for s in deps:
                if s >= 0 and hor[s] == 0:
                    hor[s] = 1
        else:
            read |= {int(s) for s in arrays.mod[j] if s >= 0}
        for s in read:
            readers[s].add(j)
        if arrays.kind[j] == kin.MASS_ACTION:
            orders = arrays.reac_ord[arrays.reac_ptr[j] : arrays.reac_ptr[j + 1]]
            species = arrays.reac_sp[arrays.reac_ptr[j] : arrays.reac_ptr[j + 1]]
            total = int(orders.sum())
            for s, o in zip(species, orders, strict=True):
                if total > abs(hor[s]) or (total == abs(hor[s]) and o > 1):
                    hor[s] = -total if o > 1 else total
        else:
            for s in arrays.mod[j]:
                if s >= 0 and hor[s] == 0:
                    hor[s] = 1
    rows: list[list[int]] = []
    for j in range(n_r):
        changed = arrays.stoi_sp[arrays.stoi_ptr[j] : arrays.stoi_ptr[j + 1]]
        affected = {j}
        for s in changed:
            affected |= readers[s]
        rows.append(sorted(affected))
    rows.append(list(range(n_r)))
    aff_ptr = np.zeros(n_r + 2, dtype=np.int64)
    aff_ptr[1:] = np.cumsum([len(r) for r in rows])
    aff_idx = np.array([j for r in rows for j in r], dtype=np.int64)
    return StochasticArrays(aff_ptr, aff_idx, arrays.stoi_val.astype(np.int64), hor)


def _sizes(arrays: kin.NetworkArrays | kin.ExpressionNetworkArrays, p: np.ndarray, volume: float, n_species: int):
    """Molecules per concentration unit of each species, and mass-action prefactors."""
    vols = np.array([1.0 if arrays.sp_vol[i] < 0 else p[arrays.sp_vol[i]] for i in range(n_species)])
    omega_sp = volume * vols
    n_r = arrays.kind.shape[0]
    c = np.zeros(n_r)
    for j in range(n_r):
        if arrays.kind[j] != kin.MASS_ACTION:
            continue
        rx_volume = 1.0 if arrays.vol[j] < 0 else p[arrays.vol[j]]
        value = p[arrays.par[j, 0]] * volume * rx_volume
        for q in range(arrays.reac_ptr[j], arrays.reac_ptr[j + 1]):
            value /= omega_sp[arrays.reac_sp[q]] ** arrays.reac_ord[q]
        c[j] = value
    return omega_sp, c


def _initial_counts(y0: np.ndarray, omega_sp: np.ndarray, species: Sequence[str]) -> np.ndarray:
    counts = y0 * omega_sp
    rounded = np.round(counts)
    bad = np.flatnonzero(np.abs(counts - rounded) > 1e-9 * np.maximum(1.0, np.abs(counts)))
    if bad.size:
        i = int(bad[0])
        raise ModelError(
            f"the initial amount of {species[i]!r} is {counts[i]:g} molecules at volume {omega_sp[i]:g}: "
            "stochastic simulation needs whole molecule numbers (set initial values or the volume so "
            "that initial * volume is an integer)"
        )
    return rounded.astype(np.int64)


def _check_common(n_runs: int, volume: float, times: np.ndarray) -> None:
    if int(n_runs) != n_runs or n_runs < 1:
        raise ModelError(f"n_runs must be a positive integer, got {n_runs}")
    if not (np.isfinite(volume) and volume > 0):
        raise ModelError(f"volume must be a positive finite number, got {volume}")
    if times.size < 1:
        raise ModelError("give at least one output time")


def _with_threads(threads: int | None, call):
    if threads is None:
        return call()
    if int(threads) != threads or not 1 <= threads <= numba.config.NUMBA_NUM_THREADS:
        raise ModelError(f"threads must be between 1 and {numba.config.NUMBA_NUM_THREADS}, got {threads}")
    previous = numba.get_num_threads()
    numba.set_num_threads(int(threads))
    try:
        return call()
    finally:
        numba.set_num_threads(previous)


def run_ssa(
    arrays: kin.NetworkArrays | kin.ExpressionNetworkArrays,
    sarrays: StochasticArrays,
    species: Sequence[str],
    p: np.ndarray,
    y0: np.ndarray,
    times: np.ndarray,
    *,
    t0: float,
    n_runs: int,
    seed: int | np.random.SeedSequence | None,
    method: str,
    volume: float,
    epsilon: float,
    max_events: int,
    threads: int | None,
    first_run: int = 0,
    initial_counts: np.ndarray | None = None,
    stream: int = 0,
) -> Ensemble:
    """Validate, seed, allocate, run the SSA kernel and check each run's status.

    ``initial_counts`` (``n_runs x n_species``), when given, replaces ``y0`` with each run's
    own copy numbers; ``stream`` picks the runs' random streams (see :func:`spawn_states`).
    """
    if method not in sto.METHODS:
        raise ModelError(f"unknown stochastic method {method!r}; choose one of {list(sto.METHODS)}")
    _check_common(n_runs, volume, times)
    if not 0 < epsilon < 1:
        raise ModelError(f"epsilon must be in (0, 1), got {epsilon}")
    if int(max_events) != max_events or max_events < 1:
        raise ModelError(f"max_events must be a positive integer, got {max_events}")
    omega_sp, c = _sizes(arrays, p, volume, len(species))
    n_runs = int(n_runs)
    if initial_counts is None:
        x0 = np.tile(_initial_counts(y0, omega_sp, species), (n_runs, 1))
    else:
        x0 = np.ascontiguousarray(initial_counts, dtype=np.int64)
        if x0.shape != (n_runs, len(species)):
            raise ModelError(f"initial_counts must have shape {(n_runs, len(species))}, got {x0.shape}")
        if (x0 < 0).any():
            raise ModelError("initial_counts must not be negative")
    states = spawn_states(seed, n_runs, first_run, stream)
    out = np.zeros((n_runs, times.size, len(species)), dtype=np.int64)
    status = np.zeros(n_runs, dtype=np.int64)
    events = np.zeros(n_runs, dtype=np.int64)
    t_reached = np.zeros(n_runs)
    culprit = np.full(n_runs, -1, dtype=np.int64)
    stop = control.current_flag()

    def call():
        sto.ssa_ensemble(
            arrays, sarrays.aff_ptr, sarrays.aff_idx, sarrays.stoi_int, sarrays.hor, p, c, float(volume), omega_sp,
            x0, float(t0), times, states, sto.METHODS[method], float(epsilon), int(max_events), stop,
            out, status, events, t_reached, culprit,
        )  # fmt: skip

    _with_threads(threads, call)
    _raise_for_status(status, t_reached, culprit, max_events, stop)
    return Ensemble(times, species, out, volume=volume, omega=omega_sp, method=method, events=events, seed=seed)


def run_cle(
    arrays: kin.NetworkArrays | kin.ExpressionNetworkArrays,
    species: Sequence[str],
    p: np.ndarray,
    y0: np.ndarray,
    times: np.ndarray,
    *,
    t0: float,
    n_runs: int,
    seed: int | np.random.SeedSequence | None,
    volume: float,
    dt: float,
    threads: int | None,
) -> Ensemble:
    """Chemical Langevin ensemble (real-valued copy numbers)."""
    _check_common(n_runs, volume, times)
    if not (np.isfinite(dt) and dt > 0):
        raise ModelError(f"dt must be a positive finite number, got {dt}")
    omega_sp, _ = _sizes(arrays, p, volume, len(species))
    x0 = y0 * omega_sp
    n_runs = int(n_runs)
    states = spawn_states(seed, n_runs)
    out = np.zeros((n_runs, times.size, len(species)))
    status = np.zeros(n_runs, dtype=np.int64)
    culprit = np.full(n_runs, -1, dtype=np.int64)
    stop = control.current_flag()

    def call():
        sto.cle_ensemble(
            arrays, p, float(volume), omega_sp, x0, float(t0), times, float(dt), stop, states, out, status, culprit
        )

    _with_threads(threads, call)
    _raise_for_status(status, np.full(n_runs, math.nan), culprit, 0, stop)
    return Ensemble(times, species, out, volume=volume, omega=omega_sp, method="cle", events=None, seed=seed)


def _raise_for_status(status, t_reached, culprit, max_events, stop) -> None:
    bad = np.flatnonzero(status != sto.OK)
    if not bad.size:
        return
    if np.any(status == sto.STOPPED):
        raise control.stopped_error(stop, "Stochastic simulation")
    run = int(bad[0])
    code = int(status[run])
    at = f"at t = {t_reached[run]:.6g}" if math.isfinite(t_reached[run]) else ""
    if code == sto.MAX_EVENTS:
        message = (
            f"run {run} reached max_events = {max_events} {at}: raise max_events, shorten t_end, "
            "or use method='tau_leap' for large copy numbers"
        )
        reason = "max_events"
    elif code == sto.NEGATIVE_COUNT:
        message = (
            f"run {run}: reaction {int(culprit[run])} fired without the molecules it consumes {at}. Its rate "
            "law does not vanish when a consumed species runs out (e.g. a Hill or Michaelis-Menten law on "
            "another species); make the consumed species its substrate or use mass action"
        )
        reason = "negative_count"
    else:
        message = (
            f"run {run}: the propensity of reaction {int(culprit[run])} became negative, NaN or infinite {at}; "
            "check the parameter values"
        )
        reason = "bad_propensity"
    raise SolverError(f"Stochastic simulation failed: {message}", t_reached=float(t_reached[run]), reason=reason)


class Ensemble:
    """Copy numbers of every run at every output time.

    Attributes
    ----------
    t : float64[n_times]
    species : tuple of str
    counts : int64 or float64 [n_runs, n_times, n_species]
        Integer copy numbers (SSA) or real ones (CLE).
    volume : float
        System size (molecules per amount unit).
    omega : float64[n_species]
        Molecules per concentration unit of each species; ``counts / omega`` are concentrations.
    method : str
    events : int64[n_runs] or None
        Events (SSA) or steps (tau-leaping) of each run.
    """

    def __init__(self, t, species, counts, *, volume=1.0, omega=None, method="direct", events=None, seed=None):
        self.t = np.asarray(t, dtype=float)
        self.species = tuple(species)
        self.counts = counts
        self.volume = float(volume)
        self.omega = np.ones(len(self.species)) if omega is None else np.asarray(omega, dtype=float)
        self.method = method
        self.events = events
        self.seed = seed
        self._index = {s: i for i, s in enumerate(self.species)}

    @property
    def n_runs(self) -> int:
        """Number of runs."""
        return self.counts.shape[0]

    def _column(self, species: str | None):
        if species is None:
            return self.counts.astype(float, copy=False)
        if species not in self._index:
            raise KeyError(f"{species!r} is not in this ensemble; it has {list(self.species)}")
        return self.counts[:, :, self._index[species]].astype(float)

    def __getitem__(self, species: str) -> np.ndarray:
        """Copy numbers of one species, shape (n_runs, n_times)."""
        return self._column(species)

    def mean(self, species: str | None = None) -> np.ndarray:
        """Ensemble mean per time (and species when ``species`` is None)."""
        return self._column(species).mean(axis=0)

    def var(self, species: str | None = None) -> np.ndarray:
        """Unbiased ensemble variance (ddof = 1)."""
        return (
            self._column(species).var(axis=0, ddof=1) if self.n_runs > 1 else np.full_like(self.mean(species), np.nan)
        )

    def std(self, species: str | None = None) -> np.ndarray:
        """Ensemble standard deviation."""
        return np.sqrt(self.var(species))

    def fano(self, species: str | None = None) -> np.ndarray:
        """Fano factor variance / mean (NaN where the mean is 0)."""
        mean = self.mean(species)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(mean > 0, self.var(species) / mean, np.nan)

    def mean_ci(self, species: str | None = None, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Normal-approximation confidence interval of the mean: ``(lower, upper)``."""
        z = NormalDist().inv_cdf(0.5 + level / 2)
        mean = self.mean(species)
        half = z * self.std(species) / math.sqrt(self.n_runs)
        return mean - half, mean + half

    def fano_ci(self, species: str | None = None, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Delta-method confidence interval of the Fano factor: ``(lower, upper)``.

        Uses the sample central moments: Var(s²) ≈ (m4 - (n-3)/(n-1) m2²)/n, Cov(mean, s²) ≈
        m3/n and Var(mean) = m2/n for F = s² / mean.
        """
        x = self._column(species)
        n = self.n_runs
        mean = x.mean(axis=0)
        dev = x - mean
        m2 = (dev**2).mean(axis=0)
        m3 = (dev**3).mean(axis=0)
        m4 = (dev**4).mean(axis=0)
        s2 = m2 * n / (n - 1)
        var_s2 = (m4 - (n - 3) / (n - 1) * m2**2) / n
        with np.errstate(divide="ignore", invalid="ignore"):
            fano = s2 / mean
            var_f = var_s2 / mean**2 + s2**2 * (m2 / n) / mean**4 - 2 * s2 * (m3 / n) / mean**3
            half = NormalDist().inv_cdf(0.5 + level / 2) * np.sqrt(np.maximum(var_f, 0.0))
        return fano - half, fano + half

    def concentration_mean(self, species: str | None = None) -> np.ndarray:
        """Ensemble mean as a concentration (copy number / omega), comparable with the ODE."""
        if species is None:
            return self.mean() / self.omega
        return self.mean(species) / self.omega[self._index[species]]

    def histogram(self, species: str, time: float) -> tuple[np.ndarray, np.ndarray]:
        """Distribution of ``species`` at the output time closest to ``time``.

        Returns ``(values, probabilities)``: every integer from 0 to the largest count for an
        SSA ensemble, or 50 equal bins for a CLE ensemble.
        """
        k = int(np.argmin(np.abs(self.t - time)))
        column = self._column(species)[:, k]
        if np.issubdtype(self.counts.dtype, np.integer):
            counts = np.bincount(column.astype(np.int64), minlength=1)
            return np.arange(counts.size), counts / self.n_runs
        density, edges = np.histogram(column, bins=50)
        return 0.5 * (edges[:-1] + edges[1:]), density / self.n_runs

    @property
    def nbytes(self) -> int:
        """Memory held by the copy numbers."""
        return int(self.counts.nbytes)

    def to_dataframe(self):
        """Long table: one row per run and time, columns ``run``, ``t`` and each species."""
        import pandas as pd  # noqa: PLC0415  (pandas is heavy; loaded only for tables)

        n_runs, n_t, _ = self.counts.shape
        data = {"run": np.repeat(np.arange(n_runs), n_t), "t": np.tile(self.t, n_runs)}
        for i, name in enumerate(self.species):
            data[name] = self.counts[:, :, i].reshape(-1)
        return pd.DataFrame(data)

    def to_csv(self, path=None):
        """CSV of :meth:`to_dataframe` (columns ``run``, ``t``, each species; no index).

        Written atomically to ``path`` (returns the path), or returned as text without one.
        """
        return frame_csv(self.to_dataframe(), path, index=False)

    def __repr__(self) -> str:
        lines = [
            f"Ensemble ({self.method}): {self.n_runs} runs x {self.t.size} times x {len(self.species)} species, "
            f"volume {self.volume:g}"
        ]
        if self.t.size:
            mean = self.mean()[-1]
            fano = self.fano()[-1]
            for i, name in enumerate(self.species):
                lines.append(f"  {name}: mean {mean[i]:.4g}, Fano {fano[i]:.4g} at t = {self.t[-1]:g}")
        return "\n".join(lines)
