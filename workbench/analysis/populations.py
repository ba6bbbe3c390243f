"""Virtual populations: subjects drawn with between-subject variability, simulated in chunks.

Subject ``i``'s parameters are ``theta_pop * exp(eta_i) * covariate effects``, with
``eta_i ~ N(0, Omega)``, ``Omega = diag(omega) R diag(omega)``; a parameter bounded on both
sides (a bioavailability F in (0, 1)) is logit-normal instead: ``logit`` of its position in
its bounds is normal around the typical value's, so every subject stays inside. Random numbers come in blocks
of :data:`BLOCK` subjects, each block from its own generator keyed by the block index
(``SeedSequence(seed)`` with spawn key ``(block,)``), so a subject's draws depend only on the
seed and its index: any chunking, any number of workers and any regimen give the same
subjects. Chunks are whole blocks; their results are combined in block order, so streamed
moments are bit-identical too.

Concentrations are kept per subject when they fit (``keep_trajectories``); otherwise only
streamed statistics are kept: moments per block, and per time point a histogram on 8192
log-spaced bins (integer counts, exact for any chunking) from which percentiles are read,
within one bin (about 0.3% of the value).
Memory then grows by ~100 bytes per subject (parameters and NCA), not by the trajectory.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core import batch, control, ode
from ..core.dosing import events_to_arrays
from ..core.files import frame_csv
from ..core.network import ReactionNetwork
from ..distributed import KERNEL_LOCK, chunk_ranges, map_chunks
from ..errors import ModelError, SolverError
from ..models import Model

__all__ = [
    "BLOCK",
    "Allometric",
    "PTAResult",
    "PopulationResult",
    "RegimenComparison",
    "compare_regimens",
    "population",
]

#: Subjects per random-number block (and the unit of chunking).
BLOCK = 1000
#: Histogram bins per time point for streamed percentiles, and the decades added on each
#: side of the first block's range.
HIST_BINS = 8192
_HIST_PAD_DECADES = 3.0
#: Keep per-subject trajectories up to this many values (n subjects x n times) by default.
KEEP_LIMIT = 20_000_000


@dataclass(frozen=True)
class Allometric:
    """Allometric weight scaling: ``theta_i *= (WT_i / reference) ** exponent``.

    Weights are log-normal with the given median and coefficient of variation, drawn per
    subject after the random effects (same generator), unless ``weights`` gives them.

    Parameters
    ----------
    exponents : mapping
        Parameter name to exponent (e.g. ``{"CL": 0.75, "V": 1.0}``).
    median : float
        Median body weight (kg).
    cv : float
        Coefficient of variation of weight.
    reference : float
        Reference weight (kg) at which the typical values apply.
    weights : array, optional
        Given weights, one per subject (overrides the distribution).
    """

    exponents: Mapping[str, float]
    median: float = 70.0
    cv: float = 0.2
    reference: float = 70.0
    weights: Sequence[float] | None = None

    def __post_init__(self):
        for name, value in (("median", self.median), ("reference", self.reference)):
            if not (np.isfinite(value) and value > 0):
                raise ModelError(f"Allometric {name} must be a positive number, got {value!r}")
        if not (np.isfinite(self.cv) and self.cv >= 0):
            raise ModelError(f"Allometric cv must be >= 0, got {self.cv!r}")
        for name, exponent in self.exponents.items():
            if not np.isfinite(exponent):
                raise ModelError(f"allometric exponent of {name!r} must be finite, got {exponent!r}")


@dataclass(frozen=True)
class PTAResult:
    """Probability of target attainment with its 95% Wilson score interval."""

    metric: str
    target: float
    probability: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return (
            f"P({self.metric} >= {self.target:g}) = {self.probability:.4f} "
            f"(95% CI {self.low:.4f}-{self.high:.4f}, n = {self.n})"
        )


@dataclass
class PopulationResult:
    """A simulated virtual population.

    Attributes
    ----------
    times : ndarray
        Sample times.
    observable : str
        The simulated species (e.g. ``"C"``).
    parameters : pandas.DataFrame
        Each subject's varied parameters and covariates.
    nca : pandas.DataFrame
        Each subject's NCA (:data:`workbench.core.batch.NCA_COLUMNS`).
    trajectories : ndarray or None
        ``[n_subjects, n_times]`` concentrations, or None when only statistics were kept.
    mean, sd : ndarray
        Mean and standard deviation over subjects at each time.
    """

    times: np.ndarray
    observable: str
    parameters: Any
    nca: Any
    trajectories: np.ndarray | None
    mean: np.ndarray
    sd: np.ndarray
    histogram: np.ndarray | None = field(default=None, repr=False)
    edges: np.ndarray | None = field(default=None, repr=False)
    settings: dict = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        """Number of subjects."""
        return len(self.nca)

    def percentiles(self, q: Sequence[float] = (5.0, 50.0, 95.0)):
        """Percentile bands over time, a DataFrame indexed by time with one column per ``q``.

        Exact (``numpy.percentile``, linear interpolation) when trajectories were kept;
        otherwise read from the streamed histograms, within one bin (about 0.3% of the value).
        """
        import pandas as pd  # noqa: PLC0415  (pandas loads on first table)

        q = np.asarray(q, dtype=float)
        if np.any((q < 0) | (q > 100)):
            raise ModelError(f"percentiles must be in [0, 100], got {q.tolist()}")
        if self.trajectories is not None:
            values = np.percentile(self.trajectories, q, axis=0).T
        else:
            values = _histogram_percentiles(self.histogram, self.edges, q / 100.0, self.n)
        return pd.DataFrame(values, index=pd.Index(self.times, name="time"), columns=[f"p{x:g}" for x in q])

    def pta(self, metric: str, target: float) -> PTAResult:
        """Probability that a subject's NCA ``metric`` (e.g. ``"cmin_after_last_dose"``) reaches ``target``."""
        if metric not in self.nca.columns:
            raise ModelError(f"unknown metric {metric!r}; choose one of {list(self.nca.columns)}")
        values = self.nca[metric].to_numpy()
        hits = int(np.sum(values >= target))
        low, high = _wilson(hits, values.size)
        return PTAResult(metric, float(target), hits / values.size, low, high, values.size)

    def summary(self, q: Sequence[float] = (5.0, 50.0, 95.0)):
        """Percentiles of every NCA metric over subjects (a DataFrame, metrics as rows)."""
        return self.nca.quantile(np.asarray(q) / 100.0).T.rename(columns=lambda x: f"p{100 * x:g}")

    def subjects(self):
        """One row per subject: its varied parameters and covariates, then its NCA."""
        return self.parameters.join(self.nca)

    def to_dataframe(self, table: str = "trajectories"):
        """A tidy table of the population.

        Parameters
        ----------
        table : {"trajectories", "subjects", "percentiles"}
            ``"trajectories"``: long format, columns ``subject``, ``time`` and the observable
            (needs ``keep_trajectories``); ``"subjects"``: :meth:`subjects`;
            ``"percentiles"``: :meth:`percentiles` (5/50/95) with ``time`` as a column.
        """
        import pandas as pd  # noqa: PLC0415

        if table == "subjects":
            return self.subjects().rename_axis("subject").reset_index()
        if table == "percentiles":
            return self.percentiles().reset_index()
        if table != "trajectories":
            raise ModelError(f"table must be 'trajectories', 'subjects' or 'percentiles', got {table!r}")
        if self.trajectories is None:
            raise ModelError(
                "this population kept statistics only; export table='percentiles' or 'subjects', "
                "or simulate with keep_trajectories=True"
            )
        n, n_t = self.trajectories.shape
        return pd.DataFrame(
            {
                "subject": np.repeat(np.asarray(self.nca.index), n_t),
                "time": np.tile(self.times, n),
                self.observable: self.trajectories.reshape(-1),
            }
        )

    def to_csv(self, path=None, table: str = "trajectories"):
        """CSV of :meth:`to_dataframe` (no index column), written atomically to ``path`` or returned."""
        return frame_csv(self.to_dataframe(table), path, index=False)

    def __repr__(self) -> str:
        kept = "trajectories kept" if self.trajectories is not None else "statistics only"
        return f"PopulationResult: {self.n} subjects, {self.times.size} times of {self.observable!r} ({kept})"


@dataclass
class RegimenComparison:
    """Populations of the same virtual subjects under several regimens."""

    results: dict[str, PopulationResult]

    def summary(self, metric: str = "cmin_after_last_dose", target: float | None = None):
        """Per regimen: median and 5-95% range of each exposure metric, and PTA if ``target``."""
        import pandas as pd  # noqa: PLC0415

        rows = []
        for name, result in self.results.items():
            row = {"regimen": name}
            for column in ("cmax", "cmin_after_last_dose", "auc_0_t"):
                values = result.nca[column].to_numpy()
                row[f"{column} p5"], row[f"{column} p50"], row[f"{column} p95"] = np.percentile(values, [5, 50, 95])
            if target is not None:
                pta = result.pta(metric, target)
                row[f"PTA {metric} >= {target:g}"] = pta.probability
                row["PTA low"], row["PTA high"] = pta.low, pta.high
            rows.append(row)
        return pd.DataFrame(rows).set_index("regimen")


# -- the plan: everything a chunk needs, small and picklable ------------------------------


@dataclass(frozen=True)
class _Plan:
    arrays: Any
    p_base: np.ndarray
    y0: np.ndarray
    times: np.ndarray
    events: tuple
    dose_scaling: np.ndarray  # [n_varied, n_events]: 1 where the parameter scales the event
    columns: np.ndarray  # [n_varied] network parameter index, -1 for dose-scaling parameters
    typical: np.ndarray  # [n_varied]
    lower: np.ndarray  # [n_varied] lower bound of logit-normal parameters (NaN: log-normal)
    upper: np.ndarray  # [n_varied]
    cholesky: np.ndarray  # [n_varied, n_varied]
    allometric: np.ndarray  # [n_varied] exponents (0 without covariates)
    weight_median: float
    weight_sd_log: float
    weight_reference: float
    given_weights: np.ndarray | None
    has_weight: bool
    entropy: int
    observed: int
    last_dose_time: float
    method: int
    rtol: float
    atol: float
    max_steps: int
    keep: bool
    edges: np.ndarray | None  # [n_times, 2] log10 range of the streamed histograms


def _draws(plan: _Plan, block: int) -> tuple[np.ndarray, np.ndarray]:
    """(eta [BLOCK, k], weights [BLOCK]) of one block: its own generator, keyed by its index."""
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(plan.entropy, spawn_key=(block,))))
    eta = rng.standard_normal((BLOCK, plan.typical.size)) @ plan.cholesky.T
    weights = plan.weight_median * np.exp(plan.weight_sd_log * rng.standard_normal(BLOCK))
    if plan.given_weights is not None:
        first = block * BLOCK
        weights = np.full(BLOCK, np.nan)
        given = plan.given_weights[first : first + BLOCK]
        weights[: given.size] = given
    return eta, weights


def _subjects(plan: _Plan, first: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Varied parameter values [count, k] and weights [count] of subjects first..first+count-1."""
    thetas, weights = [], []
    for block in range(first // BLOCK, (first + count - 1) // BLOCK + 1):
        eta, w = _draws(plan, block)
        lo = max(first - block * BLOCK, 0)
        hi = min(first + count - block * BLOCK, BLOCK)
        theta = plan.typical * np.exp(eta[lo:hi])
        bounded = ~np.isnan(plan.lower)
        if bounded.any():  # logit-normal inside (lower, upper), e.g. a bioavailability
            span = plan.upper[bounded] - plan.lower[bounded]
            x = (plan.typical[bounded] - plan.lower[bounded]) / span
            theta[:, bounded] = plan.lower[bounded] + span / (1.0 + (1.0 - x) / x * np.exp(-eta[lo:hi, bounded]))
        if plan.has_weight:
            theta = theta * (w[lo:hi, None] / plan.weight_reference) ** plan.allometric
        thetas.append(theta)
        weights.append(w[lo:hi])
    return np.concatenate(thetas), np.concatenate(weights)


def _simulate_chunk(plan: _Plan, chunk: tuple[int, int]) -> dict:
    """Simulate one chunk of whole blocks; returns per-subject tables and block statistics."""
    first, count = chunk
    theta, weights = _subjects(plan, first, count)
    p_rows = np.repeat(plan.p_base[None, :], count, axis=0)
    ev_t, ev_sp, ev_kind, ev_val = plan.events
    ev_rows = np.repeat(ev_val[None, :], count, axis=0)
    for j, column in enumerate(plan.columns):
        if column >= 0:
            p_rows[:, column] = theta[:, j]
        else:  # a dose-scaling parameter (F, dose): the events it scales, relative to typical
            factor = theta[:, j] / plan.typical[j]
            ev_rows *= np.where(plan.dose_scaling[j][None, :] > 0, factor[:, None], 1.0)
    out = np.empty((count, plan.times.size, 1))
    status = np.zeros(count, dtype=np.int64)
    stop = control.current_flag()
    with KERNEL_LOCK:
        batch.integrate_batch(
            plan.arrays, p_rows, plan.y0, 0.0, plan.times, ev_t, ev_sp, ev_kind, ev_rows, plan.method,
            plan.rtol, plan.atol, plan.max_steps, stop, np.array([plan.observed]), out, status,
        )  # fmt: skip
    if np.any(status == ode.STOPPED):
        raise control.stopped_error(stop, "The population")
    failed = np.flatnonzero(status != ode.OK)
    if failed.size:
        i = int(failed[0])
        raise SolverError(
            f"subject {first + i} could not be simulated (solver status {int(status[i])}); its parameters: "
            f"{theta[i].tolist()}",
            t_reached=math.nan,
            reason="population",
        )
    conc = out[:, :, 0]
    nca = np.empty((count, len(batch.NCA_COLUMNS)))
    with KERNEL_LOCK:
        batch.nca_batch(plan.times, conc, plan.last_dose_time, nca)
    # moments per whole block, so that any chunking combines the same numbers in the same order
    moments = []
    for lo in range(0, count, BLOCK):
        part = conc[lo : lo + BLOCK]
        mean = part.mean(axis=0)
        moments.append((part.shape[0], mean, ((part - mean) ** 2).sum(axis=0)))
    histogram = None if plan.edges is None else _trim(_histogram(conc, plan.edges))
    return {
        "theta": theta,
        "weights": weights,
        "nca": nca,
        "trajectories": conc if plan.keep else None,
        "moments": moments,
        "histogram": histogram,
    }


# -- streamed percentiles -------------------------------------------------------------------


def _histogram_range(first_block: np.ndarray) -> np.ndarray:
    """Per time: (log10 low, log10 high) around the first block's positive values, padded."""
    ranges = np.empty((first_block.shape[1], 2))
    for j in range(first_block.shape[1]):
        positive = first_block[:, j][first_block[:, j] > 0]
        if positive.size == 0:
            ranges[j] = (-300.0, -299.0)
        else:
            ranges[j] = (math.log10(positive.min()) - _HIST_PAD_DECADES, math.log10(positive.max()) + _HIST_PAD_DECADES)
    return ranges


def _histogram(conc: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """Counts [n_t, HIST_BINS + 2] on log-spaced bins: bin 0 holds values below the range (and zeros)."""
    lo, hi = ranges[:, 0], ranges[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        position = (np.log10(conc) - lo) / (hi - lo) * HIST_BINS
    index = np.where(conc > 0, np.floor(np.clip(position, -1.0, HIST_BINS)) + 1, 0).astype(np.int64)
    counts = np.zeros((conc.shape[1], HIST_BINS + 2), dtype=np.int64)
    for j in range(conc.shape[1]):
        counts[j] = np.bincount(index[:, j], minlength=HIST_BINS + 2)
    return counts


def _trim(counts: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """Per time, (first occupied bin, int32 counts up to the last occupied one): what a chunk sends back."""
    trimmed = []
    for row in counts:
        occupied = np.flatnonzero(row)
        first, last = (int(occupied[0]), int(occupied[-1]) + 1) if occupied.size else (0, 0)
        trimmed.append((first, row[first:last].astype(np.int32)))
    return trimmed


def _untrim(trimmed: list[tuple[int, np.ndarray]], total: np.ndarray | None) -> np.ndarray:
    """Add a chunk's trimmed counts into the running int64 histogram (integers: order does not matter)."""
    if total is None:
        total = np.zeros((len(trimmed), HIST_BINS + 2), dtype=np.int64)
    for j, (first, counts) in enumerate(trimmed):
        total[j, first : first + counts.size] += counts
    return total


def _histogram_percentiles(counts: np.ndarray, ranges: np.ndarray, q: np.ndarray, n: int) -> np.ndarray:
    """Percentiles from binned counts, interpolated geometrically inside the bin (NaN outside the range)."""
    out = np.full((counts.shape[0], q.size), np.nan)
    for j in range(counts.shape[0]):
        cumulative = np.cumsum(counts[j])
        width = (ranges[j, 1] - ranges[j, 0]) / HIST_BINS
        for m, fraction in enumerate(q):
            rank = fraction * (n - 1)  # numpy's linear-interpolation rank
            b = int(np.searchsorted(cumulative, rank + 1, side="left"))
            if b == 0:
                out[j, m] = 0.0 if counts[j, 0] == n else np.nan  # all at or below the range
                continue
            if b >= HIST_BINS + 1:
                continue
            inside = min(max((rank + 1 - cumulative[b - 1]) / counts[j, b], 0.0), 1.0)
            out[j, m] = 10.0 ** (ranges[j, 0] + (b - 1 + inside) * width)
    return out


def _wilson(hits: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    p = hits / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if hits == 0 else max(0.0, centre - half)
    high = 1.0 if hits == n else min(1.0, centre + half)
    return low, high


# -- building the plan ------------------------------------------------------------------------


def _correlation_matrix(names: list[str], correlation) -> np.ndarray:
    k = len(names)
    if correlation is None:
        return np.eye(k)
    if isinstance(correlation, Mapping):
        matrix = np.eye(k)
        for pair, value in correlation.items():
            if not (isinstance(pair, tuple) and len(pair) == 2 and all(p in names for p in pair)):
                raise ModelError(f"correlation keys must be pairs of varied parameters {names}, got {pair!r}")
            a, b = names.index(pair[0]), names.index(pair[1])
            matrix[a, b] = matrix[b, a] = float(value)
    else:
        matrix = np.asarray(correlation, dtype=float)
    if matrix.shape != (k, k):
        raise ModelError(f"correlation must be {k} x {k} (one row per varied parameter {names}), got {matrix.shape}")
    if not np.all(np.isfinite(matrix)) or not np.allclose(matrix, matrix.T) or not np.allclose(np.diag(matrix), 1):
        raise ModelError("correlation must be a finite symmetric matrix with ones on the diagonal")
    if np.any(np.abs(matrix) > 1):
        raise ModelError("correlations must lie in [-1, 1]")
    return matrix


_PROBE = 1.375  # a factor no parameter is likely to sit at a bound of


def _parameter_mapping(model: Model, net: ReactionNetwork, events: tuple, names: list[str]):
    """Network column (or -1 and the events it scales) of each varied parameter, checked by probing."""
    p_base = net.parameter_vector()
    columns, scaling = [], []
    for name in names:
        value = getattr(model, name)
        hi = (model.param[name].bounds or (None, None))[1]
        factor = _PROBE if hi is None or value * _PROBE <= hi else 1.0 / _PROBE
        probe = model.copy(**{name: value * factor})
        probe_net = probe.network()
        probe_p = probe_net.parameter_vector()
        probe_events = events_to_arrays(probe.doses(), probe_net.species_index)
        same_structure = probe_net.species == net.species and probe_p.size == p_base.size
        changed = np.flatnonzero(probe_p != p_base) if same_structure else np.array([])
        if (
            same_structure
            and name in net.parameter_names
            and changed.tolist() == [net.parameter_names.index(name)]
            and np.array_equal(probe_events[3], events[3])
        ):
            columns.append(changed[0])
            scaling.append(np.zeros(events[0].size))
            continue
        ratio = np.divide(probe_events[3], events[3], out=np.ones_like(events[3]), where=events[3] != 0)
        scaled = np.isclose(ratio, factor)
        if (
            same_structure
            and changed.size == 0
            and np.array_equal(probe_events[0], events[0])
            and scaled.any()
            and np.all(scaled | np.isclose(ratio, 1.0))
        ):
            columns.append(-1)
            scaling.append(scaled.astype(float))
            continue
        raise ModelError(
            f"variability on {name!r} is not supported for {type(model).__name__}: it neither maps to one "
            "network parameter nor scales the doses"
        )
    return np.array(columns, dtype=np.int64), np.array(scaling).reshape(len(names), events[0].size)


def _bounds(model: Model, name: str) -> tuple[float, float]:
    """(lower, upper) of a parameter bounded on both sides (logit-normal), else (NaN, NaN)."""
    lo, hi = model.param[name].bounds or (None, None)
    return (float(lo), float(hi)) if lo is not None and hi is not None else (math.nan, math.nan)


def _plan(model, n, variability, correlation, covariates, seed, observable, times, keep, rtol, atol, max_steps):
    if not isinstance(model, Model):
        raise ModelError(f"population needs a workbench model, got {type(model).__name__}")
    if not isinstance(variability, Mapping) or not variability:
        raise ModelError("variability must map parameter names to their omega (SD of log), e.g. {'CL': 0.3}")
    declared = set(model.model_parameters())
    names = list(variability)
    for name in names:
        if name not in declared:
            raise ModelError(
                f"variability on {name!r}: {type(model).__name__} has no such parameter; it has {sorted(declared)}"
            )
        omega = variability[name]
        if not (isinstance(omega, int | float) and np.isfinite(omega) and omega >= 0):
            raise ModelError(f"omega of {name!r} must be a finite number >= 0, got {omega!r}")
        lo, hi = model.param[name].bounds or (None, None)
        value = getattr(model, name)
        if lo is not None and hi is not None:
            if not lo < value < hi:
                raise ModelError(
                    f"{name!r} varies logit-normally inside its bounds ({lo:g}, {hi:g}): its typical value "
                    f"{value:g} must lie strictly inside"
                )
        elif not value > 0:
            raise ModelError(f"log-normal variability needs a positive typical value of {name!r}")
    omegas = np.array([float(variability[name]) for name in names])
    matrix = _correlation_matrix(names, correlation)
    try:
        cholesky = np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        cholesky = None
    if cholesky is None or np.min(np.linalg.eigvalsh(matrix)) <= 1e-12:
        raise ModelError(
            f"the correlation matrix of {names} is not positive definite (eigenvalues "
            f"{np.round(np.linalg.eigvalsh(matrix), 6).tolist()})"
        )
    allometric = np.zeros(len(names))
    has_weight = covariates is not None
    given_weights = None
    if has_weight:
        if not isinstance(covariates, Allometric):
            raise ModelError(f"covariates must be an Allometric model, got {covariates!r}")
        for name, exponent in covariates.exponents.items():
            if name not in names:
                raise ModelError(f"allometric scaling of {name!r}: give it in variability too (omega may be 0)")
            allometric[names.index(name)] = exponent
        if covariates.weights is not None:
            given_weights = np.asarray(covariates.weights, dtype=float)
            if given_weights.shape != (int(n),) or not np.all(np.isfinite(given_weights) & (given_weights > 0)):
                raise ModelError(f"weights must be {int(n)} positive numbers, one per subject")
    net = model.network()
    if observable is None:
        observable = getattr(model, "central", net.species[0])
    if observable not in net.species:
        raise ModelError(f"observable must be a species of the model, one of {list(net.species)}; got {observable!r}")
    times = np.linspace(0.0, model.t_end, model.n_points) if times is None else np.asarray(times, dtype=float).ravel()
    if times.size < 2 or not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0) or times[0] < 0:
        raise ModelError("times must be at least two increasing, finite, non-negative values")
    events = events_to_arrays(model.doses(), net.species_index)
    columns, scaling = _parameter_mapping(model, net, events, names)
    entropy = np.random.SeedSequence(seed).entropy
    dose_times = events[0][events[0] <= times[-1]]
    return _Plan(
        arrays=net.arrays,
        p_base=net.parameter_vector(),
        y0=net.initial_vector(),
        times=times,
        events=events,
        dose_scaling=scaling,
        columns=columns,
        typical=np.array([float(getattr(model, name)) for name in names]),
        lower=np.array([_bounds(model, name)[0] for name in names]),
        upper=np.array([_bounds(model, name)[1] for name in names]),
        cholesky=cholesky * omegas[:, None],  # of Omega = diag(omega) R diag(omega)
        allometric=allometric,
        weight_median=covariates.median if has_weight else 70.0,
        weight_sd_log=math.sqrt(math.log1p(covariates.cv**2)) if has_weight else 0.0,
        weight_reference=covariates.reference if has_weight else 70.0,
        given_weights=given_weights,
        has_weight=has_weight,
        entropy=entropy,
        observed=net.species.index(observable),
        last_dose_time=float(dose_times.max()) if dose_times.size else 0.0,
        method=ode.METHODS["auto"],
        rtol=float(rtol),
        atol=float(atol),
        max_steps=int(max_steps),
        keep=bool(keep),
        edges=None,
    ), names


def population(
    model: Model,
    n: int,
    variability: Mapping[str, float],
    *,
    correlation: Any = None,
    covariates: Allometric | None = None,
    seed: int | None = None,
    observable: str | None = None,
    times: Sequence[float] | None = None,
    keep_trajectories: bool | None = None,
    chunk_size: int = 10 * BLOCK,
    client: Any = None,
    progress: bool | None = None,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    max_steps: int = 100_000,
) -> PopulationResult:
    """Simulate ``n`` virtual subjects of ``model`` with log-normal between-subject variability.

    Parameters
    ----------
    model : Model
        The typical subject: its parameter values are the typical values, its regimen is
        everyone's.
    n : int
        Number of subjects.
    variability : mapping
        Parameter name to omega, the standard deviation of its log (about the CV when small),
        or of its logit for parameters bounded on both sides (F). Parameters that enter the
        network, and dose-scaling ones such as ``F`` or ``dose``.
    correlation : array or mapping, optional
        Correlation matrix of the random effects, in the order of ``variability``, or a
        mapping of pairs to correlations (``{("CL", "V"): 0.5}``). Must be positive definite.
    covariates : Allometric, optional
        Body-weight scaling of chosen parameters.
    seed : int, optional
        Subject ``i``'s draws depend only on ``seed`` and ``i``.
    observable : str, optional
        The species recorded (default: the model's plasma concentration).
    times : sequence, optional
        Sample times (default: the model's ``t_end`` and ``n_points``).
    keep_trajectories : bool, optional
        Keep every subject's profile (default: when ``n x len(times)`` is at most 2e7).
        Without them, percentiles come from streamed histograms.
    chunk_size : int
        Subjects per chunk, rounded up to a multiple of :data:`BLOCK`. Results do not depend on it.
    client : distributed.Client or str, optional
        Run the chunks on this Dask cluster; ``None`` runs here (numba threads).
    progress : bool, optional
        Progress bar (default: in a terminal or notebook when there are several chunks).
    rtol, atol, max_steps : solver settings, as in :meth:`Model.simulate`.

    Returns
    -------
    PopulationResult

    Raises
    ------
    ModelError
        ``n < 1``, variability on a parameter the model does not have (or that does not enter
        its network or doses), a correlation matrix that is not positive definite, bad times.
    SolverError
        A subject could not be simulated (the message gives its parameters).
    """
    import pandas as pd  # noqa: PLC0415

    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ModelError(f"n must be a positive integer (number of subjects), got {n!r}")
    n = int(n)
    keep = keep_trajectories
    if keep is None:
        n_times = model.n_points if times is None else len(times)
        keep = n * n_times <= KEEP_LIMIT
    plan, names = _plan(
        model, n, variability, correlation, covariates, seed, observable, times, keep, rtol, atol, max_steps
    )
    if int(chunk_size) != chunk_size or chunk_size < 1:
        raise ModelError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    chunk = BLOCK * math.ceil(int(chunk_size) / BLOCK)
    if not keep:
        # histogram edges from the first block: the same whatever the chunking
        pilot = _simulate_chunk(_replace(plan, keep=True), (0, min(BLOCK, n)))
        plan = _replace(plan, edges=_histogram_range(pilot["trajectories"]))
    ranges = chunk_ranges(n, chunk)
    thetas, weights, ncas, trajectories, moments = [], [], [], [], []
    histogram = None
    parts = map_chunks(_simulate_chunk, ranges, shared=plan, client=client, progress=progress, description="population")
    for part in parts:
        thetas.append(part["theta"])
        weights.append(part["weights"])
        ncas.append(part["nca"])
        moments.extend(part["moments"])
        if keep:
            trajectories.append(part["trajectories"])
        else:
            histogram = _untrim(part["histogram"], histogram)
    count, mean, m2 = 0, np.zeros(plan.times.size), np.zeros(plan.times.size)
    for block_count, block_mean, block_m2 in moments:  # Chan et al.'s pairwise update, in block order
        total = count + block_count
        delta = block_mean - mean
        mean = mean + delta * (block_count / total)
        m2 = m2 + block_m2 + delta * delta * (count * block_count / total)
        count = total
    sd = np.sqrt(m2 / (count - 1)) if count > 1 else np.full(plan.times.size, np.nan)
    table = pd.DataFrame(np.concatenate(thetas), columns=names)
    if covariates is not None:
        table["WT"] = np.concatenate(weights)
    table.index.name = "subject"
    nca = pd.DataFrame(np.concatenate(ncas), columns=list(batch.NCA_COLUMNS))
    nca.index.name = "subject"
    return PopulationResult(
        times=plan.times,
        observable=model.network().species[plan.observed],
        parameters=table,
        nca=nca,
        trajectories=np.concatenate(trajectories) if keep else None,
        mean=mean,
        sd=sd,
        histogram=histogram,
        edges=plan.edges,
        settings={"seed": seed, "variability": dict(variability), "model": type(model).__name__, "chunk_size": chunk},
    )


def _replace(plan: _Plan, **changes) -> _Plan:
    from dataclasses import replace  # noqa: PLC0415

    return replace(plan, **changes)


def compare_regimens(
    model: Model, regimens: Mapping[str, Mapping[str, Any]], n: int, variability: Mapping[str, float], **options: Any
) -> RegimenComparison:
    """The same virtual subjects under several regimens.

    ``regimens`` maps a label to the model settings that define it, e.g.
    ``{"q3w": {"dose": 200, "interval": 504}, "q6w": {"dose": 400, "interval": 1008}}``. The
    subjects are identical across regimens (same seed, same indices). Other options as in
    :func:`population`.
    """
    if not regimens:
        raise ModelError("give at least one regimen")
    options.setdefault("seed", 0)
    return RegimenComparison(
        {label: population(model.copy(**settings), n, variability, **options) for label, settings in regimens.items()}
    )
