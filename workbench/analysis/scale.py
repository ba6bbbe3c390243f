"""Parameter sweeps and large SSA ensembles, in chunks, here or on a Dask cluster.

A sweep evaluates chosen outputs at each point of a grid or a Latin hypercube; an ensemble
runs SSA runs in chunks of consecutive run indices. Every point and every run is computed
from its own index (run ``i`` of an ensemble draws from ``SeedSequence(seed)``'s child ``i``),
so the results do not depend on the chunking or the cluster.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..core import Ensemble
from ..distributed import KERNEL_LOCK, chunk_ranges, map_chunks
from ..errors import ModelError, WorkbenchError
from ..models import Model

__all__ = ["OUTPUTS", "ssa_ensemble", "sweep"]

#: Outputs a sweep can compute at each point.
OUTPUTS = {
    "cmax": "maximum of the observable",
    "auc": "AUC(0-t_end) of the observable (linear-up/log-down)",
    "cmin": "lowest value of the observable after the last dose",
    "t_half": "terminal half-life (NCA)",
    "final": "the observable at t_end",
    "steady_state": "the observable at the steady state (without doses)",
    "stable_states": "number of stable equilibria found",
    "fim_condition": "condition number of the Fisher information of the swept parameters (log scale) from the "
    "observable at the model's sample times, 10% proportional error",
}


def _grid(parameters: Mapping[str, Sequence[float]]) -> tuple[list[str], np.ndarray]:
    names = list(parameters)
    axes = []
    for name in names:
        values = np.asarray(parameters[name], dtype=float).ravel()
        if values.size == 0 or not np.all(np.isfinite(values)):
            raise ModelError(f"sweep values of {name!r} must be finite numbers, got {parameters[name]!r}")
        axes.append(values)
    return names, np.array(list(itertools.product(*axes)), dtype=float)


def _latin_hypercube(model: Model, ranges: Mapping[str, tuple[float, float]], n: int, seed) -> np.ndarray:
    from scipy.stats import qmc  # noqa: PLC0415  (scipy loads with the first sweep)

    unit = qmc.LatinHypercube(d=len(ranges), seed=np.random.default_rng(seed)).random(n)
    columns = []
    for k, (name, bounds) in enumerate(ranges.items()):
        lo, hi = (float(b) for b in bounds)
        if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
            raise ModelError(f"range of {name!r} must be (low, high) with low < high, got {bounds!r}")
        log = model.param[name].metadata.get("log", False) and lo > 0
        columns.append(np.exp(np.log(lo) + unit[:, k] * np.log(hi / lo)) if log else lo + unit[:, k] * (hi - lo))
    return np.column_stack(columns)


def _evaluate(model: Model, outputs: Sequence[str], observable: str, swept: Sequence[str]) -> dict[str, float]:
    from . import equilibria, fim, steady_state  # noqa: PLC0415  (lazy analyses)
    from .nca import nca  # noqa: PLC0415

    row: dict[str, float] = {}
    needs_profile = {"cmax", "auc", "cmin", "t_half", "final"} & set(outputs)
    if needs_profile:
        traj = model.simulate()
        c = traj[observable]
        result = nca(traj.t, c)
        doses = [t for dose in model.doses() for t, *_ in dose.events()]
        last_dose = max(doses) if doses else 0.0
        values = {
            "cmax": result.cmax,
            "auc": result.auc_0_t,
            "cmin": float(np.min(c[traj.t >= last_dose])),
            "t_half": result.t_half,
            "final": float(c[-1]),
        }
        row.update({key: values[key] for key in outputs if key in values})
    if "steady_state" in outputs:
        row["steady_state"] = float(steady_state(model)[observable])
    if "stable_states" in outputs:
        row["stable_states"] = float(sum(state.stable for state in equilibria(model)))
    if "fim_condition" in outputs:
        times = np.linspace(0.0, model.t_end, model.n_points)[1:]
        row["fim_condition"] = float(fim(model, [observable], times, parameters=list(swept)).condition_number)
    return row


def _sweep_chunk(shared: tuple, chunk: tuple) -> list[dict]:
    cls, values, names, outputs, observable = shared
    points, first = chunk
    rows = []
    for k, point in enumerate(points):
        row = {"point": first + k, **dict(zip(names, point.tolist(), strict=True))}
        try:
            model = cls(**{**values, **dict(zip(names, point.tolist(), strict=True))})
            row.update(_evaluate(model, outputs, observable, names))
            row["error"] = ""
        except WorkbenchError as err:  # one bad point is reported, not fatal
            row.update(dict.fromkeys(outputs, math.nan))
            row["error"] = str(err).splitlines()[0]
        rows.append(row)
    return rows


def sweep(
    model: Model,
    parameters: Mapping[str, Any],
    outputs: Sequence[str] = ("cmax", "auc"),
    *,
    method: str = "grid",
    n: int | None = None,
    seed: int | None = None,
    observable: str | None = None,
    chunk_size: int = 64,
    client: Any = None,
    progress: bool | None = None,
):
    """Evaluate ``outputs`` over a grid or a Latin hypercube of parameter values.

    Parameters
    ----------
    model : Model
        Values of the parameters not swept.
    parameters : mapping
        ``method="grid"``: name to a sequence of values (the full product is evaluated).
        ``method="lhs"``: name to ``(low, high)``; parameters declared on a log scale are
        sampled uniformly in their logarithm.
    outputs : sequence of str
        Keys of :data:`OUTPUTS`.
    n : int
        Number of Latin-hypercube points (``method="lhs"``).
    seed : int, optional
        Seed of the Latin hypercube.
    observable : str, optional
        The species or observable the profile outputs read (default: the plasma concentration
        of PK models, else the first species).
    chunk_size : int
        Points per chunk. The result does not depend on it.
    client : distributed.Client or str, optional
        Run the chunks on this Dask cluster.

    Returns
    -------
    pandas.DataFrame
        One row per point: ``point``, the parameter values, the outputs, and ``error`` (empty,
        or why the point failed; its outputs are then NaN).
    """
    import pandas as pd  # noqa: PLC0415

    if not isinstance(model, Model):
        raise ModelError(f"sweep needs a workbench model, got {type(model).__name__}")
    if not parameters:
        raise ModelError("give at least one parameter to sweep")
    declared = set(model.model_parameters()) | set(model.param)
    for name in parameters:
        if name not in declared or name == "name":
            raise ModelError(f"{type(model).__name__} has no parameter {name!r}")
    unknown = [o for o in outputs if o not in OUTPUTS]
    if unknown or not outputs:
        raise ModelError(f"unknown outputs {unknown}; choose from {list(OUTPUTS)}")
    if method == "grid":
        names, points = _grid(parameters)
    elif method == "lhs":
        if n is None or isinstance(n, bool) or int(n) != n or n < 1:
            raise ModelError(f"a Latin-hypercube sweep needs n >= 1 points, got {n!r}")
        names, points = list(parameters), _latin_hypercube(model, parameters, int(n), seed)
    else:
        raise ModelError(f"method must be 'grid' or 'lhs', got {method!r}")
    if observable is None:
        observable = getattr(model, "central", None) or model.network().species[0]
    values = model.values()
    shared = (type(model), values, names, tuple(outputs), observable)
    tasks = [(points[first : first + count], first) for first, count in chunk_ranges(len(points), chunk_size)]
    parts = map_chunks(_sweep_chunk, tasks, shared=shared, client=client, progress=progress, description="sweep")
    rows = [row for part in parts for row in part]
    return pd.DataFrame(rows).set_index("point")


def _ensemble_chunk(shared: tuple, chunk: tuple[int, int]) -> Ensemble:
    model, options = shared
    first, count = chunk
    with KERNEL_LOCK:  # the model's own ssa: an imported model's events fire in it
        return model.ssa(
            count, t=options["times"], seed=options["seed"], method=options["method"],
            volume=options["volume"], max_events=options["max_events"], first_run=first,
        )  # fmt: skip


def ssa_ensemble(
    model: Model,
    n_runs: int,
    *,
    seed: int | np.random.SeedSequence | None = 0,
    method: str = "direct",
    volume: float = 1.0,
    times: Sequence[float] | None = None,
    chunk_size: int = 10_000,
    max_events: int = 100_000_000,
    client: Any = None,
    progress: bool | None = None,
) -> Ensemble:
    """An SSA ensemble of ``model`` computed in chunks of runs, here or on a Dask cluster.

    Identical to ``model.ssa(n_runs, seed=seed, ...)`` for any ``chunk_size`` and cluster:
    run ``i`` always draws from ``SeedSequence(seed)``'s child ``i``. ``seed=None`` takes
    fresh entropy once, for every chunk.
    """
    if isinstance(n_runs, bool) or not isinstance(n_runs, int | np.integer) or n_runs < 1:
        raise ModelError(f"n_runs must be a positive integer, got {n_runs!r}")
    if seed is None:
        seed = np.random.SeedSequence()
    times = np.linspace(0.0, model.t_end, model.n_points) if times is None else np.asarray(times, dtype=float)
    options = {"times": times, "seed": seed, "method": method, "volume": float(volume), "max_events": int(max_events)}
    ranges = chunk_ranges(int(n_runs), chunk_size)
    chunks = map_chunks(
        _ensemble_chunk, ranges, shared=(model, options), client=client, progress=progress, description="SSA ensemble"
    )
    parts = list(chunks)
    first = parts[0]
    return Ensemble(
        first.t, first.species, np.concatenate([part.counts for part in parts]), volume=first.volume,
        omega=first.omega, method=method, events=np.concatenate([part.events for part in parts]), seed=seed,
    )  # fmt: skip
