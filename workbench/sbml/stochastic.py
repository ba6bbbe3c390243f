"""The SSA of imported models whose events are scheduled in time.

A trigger that reads only time and parameters changes value at the same instants in every
run, so the firing times are found once, deterministically, and the SSA runs in stretches
between them: each stretch starts from the counts the last one ended with, changed by the
events, and draws from a further random stream of each run (:func:`core.random.spawn_states`),
independent of the earlier ones. Between firings nothing else happens, so each run is an exact
realisation of the jump process with those events.

Triggers are evaluated on a grid (:data:`.events.CHECKS_PER_STRETCH` points between output
times, as the deterministic event loop does) and each change is located by bisection to
adjacent floating-point numbers. Events follow the SBML rules the deterministic loop follows,
as far as they apply: an event fires when its trigger goes from false to true (an initial value of false counts at
the start); after an execution the triggers are evaluated again, so that an event whose
trigger an assignment makes true fires at the same time.

Refused with :class:`UnsupportedSBMLError`: triggers that read species, delays, events that
fire at the same instant (their order would matter), a parameter set from species counts
(that would differ between runs), and random draws.
"""

from __future__ import annotations

import math

import numpy as np

from ..core import Ensemble
from ..core import expression as ex
from ..core import kinetics as kin
from ..errors import ModelError, UnsupportedSBMLError
from .events import CHECKS_PER_STRETCH, MAX_EVENT_FIRINGS
from .translate import Translation

__all__ = ["check_ssa_events", "firing_schedule", "ssa_with_events"]


def _reads_states(programs: ex.Programs, k: int, allowed: int) -> bool:
    lo, hi = programs.ptr[k], programs.ptr[k + 1]
    read = programs.arg[lo:hi][programs.op[lo:hi] == ex.PUSH_Y]
    return bool(np.any(read != allowed))


def check_ssa_events(tr: Translation) -> None:
    """Raise :class:`UnsupportedSBMLError` unless the SSA can run the model's events exactly.

    Also refused: time in a kinetic law (a propensity that changes between reactions).
    """
    ev = tr.events
    clock = tr.species_index.get(tr.time_name, -1) if tr.uses_time else -1
    if clock >= 0:
        arrays = tr.stochastic_network().arrays
        for j in range(arrays.kind.shape[0]):
            if arrays.kind[j] != kin.EXPRESSION:
                continue
            q = int(arrays.par[j, 0])
            lo, hi = arrays.ex_ptr[q], arrays.ex_ptr[q + 1]
            if ((arrays.ex_op[lo:hi] == ex.PUSH_Y) & (arrays.ex_arg[lo:hi] == clock)).any():
                reaction = tr.network.reactions[j].name or f"reaction {j + 1}"
                raise UnsupportedSBMLError("time in a kinetic law in stochastic simulation", reaction)
    for e, event_id in enumerate(ev.ids):
        name = f"event {event_id!r}" if event_id else f"event {e + 1}"
        if _reads_states(ev.triggers, e, clock):
            raise UnsupportedSBMLError("an event trigger that reads species in stochastic simulation", name)
        delay = ev.delays
        if delay.op[delay.ptr[e] : delay.ptr[e + 1]].tolist() != [ex.PUSH_C] or delay.val[delay.ptr[e]] != 0.0:
            raise UnsupportedSBMLError("event delays in stochastic simulation", name)
        for a in range(ev.assign_ptr[e], ev.assign_ptr[e + 1]):
            lo, hi = ev.assign.ptr[a], ev.assign.ptr[a + 1]
            if (ev.assign.op[lo:hi] == ex.DRAW).any():
                raise UnsupportedSBMLError("distrib draws in a model with reactions (the SSA with random events)", name)
            if ev.target_kind[a] == 1 and (_reads_states(ev.assign, a, clock) or _reads_states(ev.scale, a, clock)):
                raise UnsupportedSBMLError(
                    "an event setting a parameter from species in stochastic simulation (it would differ by run)", name
                )


def _with_time(tr: Translation, rows: np.ndarray, times: np.ndarray | float) -> np.ndarray:
    """``rows`` (state rows for the programs) with the clock entry set to ``times``."""
    if tr.uses_time:
        rows[:, tr.species_index[tr.time_name]] = times
    return rows


def _triggers(tr: Translation, times: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Trigger values (bool, ``n_times x n_events``) at the given times (they read no species)."""
    rows = _with_time(tr, np.zeros((times.size, len(tr.network.species))), times)
    return ex.run_all(tr.events.triggers, rows, p) != 0.0


def _grid(times: np.ndarray, after: float) -> np.ndarray:
    """Trigger checks after ``after``: the output times and points evenly between them."""
    knots = np.unique(np.concatenate([[after], times[times > after]]))
    fractions = np.arange(1, CHECKS_PER_STRETCH + 1) / CHECKS_PER_STRETCH
    inner = knots[:-1, None] + np.diff(knots)[:, None] * fractions[None, :]
    grid = inner.ravel()
    if grid.size:
        grid[CHECKS_PER_STRETCH - 1 :: CHECKS_PER_STRETCH] = knots[1:]  # the output times exactly
    return grid


def _next_change(tr: Translation, times: np.ndarray, p: np.ndarray, t: float, current: np.ndarray):
    """Earliest time after ``t`` (up to the last output) where a trigger differs; or None."""
    grid = _grid(times, t)
    if not grid.size:
        return None
    values = _triggers(tr, grid, p)
    differs = np.flatnonzero((values != current[None, :]).any(axis=1))
    if not differs.size:
        return None
    k = int(differs[0])
    lo, hi = (t if k == 0 else float(grid[k - 1])), float(grid[k])
    high_values = values[k]
    while True:  # to adjacent floats: ``time >= 10`` fires at 10 exactly
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            break
        at_mid = _triggers(tr, np.array([mid]), p)[0]
        if (at_mid != current).any():
            hi, high_values = mid, at_mid
        else:
            lo = mid
    return hi, high_values


def firing_schedule(tr: Translation, times: np.ndarray, p: np.ndarray | None = None) -> list[tuple[float, int]]:
    """``(time, event)`` of every firing up to the last output time, for time-only triggers.

    Parameters set by the events are applied as they fire (they are the same in every run).
    """
    p = tr.network.parameter_vector().copy() if p is None else p.copy()
    schedule: list[tuple[float, int]] = []
    t = float(tr.t0)
    before = tr.events.initial_value.copy()
    current = _triggers(tr, np.array([t]), p)[0]
    while True:
        rising = np.flatnonzero(current & ~before)
        while rising.size:
            if rising.size > 1:
                ids = ", ".join(repr(tr.events.ids[e]) for e in rising)
                raise UnsupportedSBMLError(
                    "events firing at the same instant in stochastic simulation", f"{ids} at t = {t:g}"
                )
            e = int(rising[0])
            schedule.append((t, e))
            if len(schedule) > MAX_EVENT_FIRINGS:
                raise ModelError(f"more than {MAX_EVENT_FIRINGS} event firings before t = {t:g}")
            _set_parameters(tr, e, t, p)
            before = current
            current = _triggers(tr, np.array([t]), p)[0]
            rising = np.flatnonzero(current & ~before)
        change = _next_change(tr, times, p, t, current)
        if change is None:
            return schedule
        t, values = change
        before, current = current, values


def _set_parameters(tr: Translation, e: int, t: float, p: np.ndarray) -> None:
    """Apply event ``e``'s parameter assignments (they read no species) to ``p`` in place."""
    ev = tr.events
    lo, hi = ev.assign_ptr[e], ev.assign_ptr[e + 1]
    if not (ev.target_kind[lo:hi] == 1).any():
        return
    row = _with_time(tr, np.zeros((1, len(tr.network.species))), t)  # the values read no species
    values = ex.run_all(ev.assign, row, p)[0] * ex.run_all(ev.scale, row, p)[0]
    for a in range(lo, hi):
        if ev.target_kind[a] == 1:
            p[ev.target_index[a]] = values[a]


def _set_counts(tr: Translation, e: int, t: float, p: np.ndarray, counts: np.ndarray, omega: np.ndarray) -> None:
    """Apply event ``e``'s species assignments to every run's counts (values from before it)."""
    ev = tr.events
    lo, hi = ev.assign_ptr[e], ev.assign_ptr[e + 1]
    targets = [a for a in range(lo, hi) if ev.target_kind[a] == 0]
    if not targets:
        return
    rows = _with_time(tr, counts / omega[None, :], t)
    values = ex.run_all(ev.assign, rows, p) * ex.run_all(ev.scale, rows, p)
    species = list(tr.network.species)
    for a in targets:
        i = int(ev.target_index[a])
        new = values[:, a] * omega[i]
        rounded = np.round(new)
        bad = np.flatnonzero(
            ~np.isfinite(new) | (rounded < 0) | (np.abs(new - rounded) > 1e-9 * np.maximum(1.0, np.abs(new)))
        )
        if bad.size:
            r = int(bad[0])
            raise ModelError(
                f"event {ev.ids[e]!r} sets {species[i]!r} to {new[r]:g} molecules in run {r} at t = {t:g}: "
                "stochastic simulation needs whole, non-negative molecule numbers"
            )
        counts[:, i] = rounded.astype(np.int64)


def ssa_with_events(
    tr: Translation,
    times: np.ndarray,
    n_runs: int,
    *,
    seed: int | np.random.SeedSequence | None = None,
    method: str = "direct",
    volume: float = 1.0,
    **options,
) -> Ensemble:
    """SSA ensemble of a translated model with time-scheduled events.

    Parameters
    ----------
    tr : Translation
    times : float64[n_times]
        Sorted output times from ``tr.t0``.
    n_runs, seed, method, volume
        As for :meth:`ReactionNetwork.ssa`; ``options`` are its ``epsilon``, ``max_events``
        and ``threads``. Run ``i`` is the same run as without events up to the first firing.

    Returns
    -------
    Ensemble
        Counts of the model's states (not time), events counted over all stretches.

    Raises
    ------
    UnsupportedSBMLError
        For events the SSA cannot run exactly (see the module docstring).
    """
    check_ssa_events(tr)
    net = tr.stochastic_network()
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    p = net.parameter_vector().copy()
    schedule = firing_schedule(tr, times, p)
    names = list(net.species)
    out = np.zeros((int(n_runs), times.size, len(names)), dtype=np.int64)
    events = np.zeros(int(n_runs), dtype=np.int64)
    counts = None
    start = float(tr.t0)
    stream = 0
    for end, e in [*schedule, (math.inf, -1)]:
        at = np.flatnonzero((times >= start) & (times < end))
        if at.size or e >= 0:  # a stretch of SSA, ending just before `end` (or at the start)
            stretch_times = times[at] if e < 0 else np.append(times[at], end)
            changed = {name: float(value) for name, value in zip(net.parameter_names, p, strict=True)}
            ens = net.ssa(
                t=stretch_times,
                t0=start,
                n_runs=n_runs,
                seed=root,
                method=method,
                volume=volume,
                parameters=changed,
                initial_counts=counts,
                stream=stream,
                **options,
            )
            stream += 1
            out[:, at, :] = ens.counts[:, : at.size, :]
            counts = ens.counts[:, -1, :].copy()
            events += ens.events
        if e < 0:
            break
        _set_counts(tr, e, end, p, counts, ens.omega)
        _set_parameters(tr, e, end, p)
        start = end
    keep = [i for i, name in enumerate(names) if not (tr.uses_time and name == tr.time_name)]
    return Ensemble(
        times,
        [names[i] for i in keep],
        np.ascontiguousarray(out[:, :, keep]),
        volume=volume,
        omega=ens.omega[keep],  # the last stretch's: the loop always ends with one
        method=method,
        events=events,
        seed=seed,
    )
