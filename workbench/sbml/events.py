"""Time courses with SBML events: integrate between events, locate triggers, fire them.

The compiled integrator runs each stretch between events. Triggers are evaluated on a grid
inside every stretch; where one changes value, bisection on re-integrations from the last
grid point locates the change to round-off. Events then follow the SBML Level 3 rules:

- an event fires when its trigger goes from false to true (at the start, an initial value
  of false counts as a change);
- it executes after its delay; a non-persistent event whose trigger falls before then is
  cancelled;
- assignment values come from the trigger time or the execution time as the event says;
- of several events due at one time, the highest priority runs first, and every execution
  re-evaluates all triggers before the next is chosen (equal priorities in a seeded random
  order, as the SBML Test Suite expects).
"""

from __future__ import annotations

import math

import numpy as np

from ..core import expression as ex
from ..core import kinetics as kin
from ..core.dosing import events_to_arrays
from ..core.simulate import integrate
from ..errors import SolverError
from .translate import CompiledEvents, Translation

__all__ = ["simulate_translation"]

#: Trigger checks per stretch between output times, on top of the output times themselves.
CHECKS_PER_STRETCH = 64
#: Spans (relative to the time) below which one Heun step replaces the adaptive solver.
_SHORT_SPAN = 1e-7
#: Bisection stops when the bracket is this small relative to the time.
_RESOLUTION = 4.0 * np.finfo(float).eps
#: Times scored per pass when locating a trigger that reads only the clock.
_FAN = 15
#: Limit on event executions in one simulation (a trigger that refires forever).
MAX_EVENT_FIRINGS = 100_000


class _Run:
    def __init__(self, tr: Translation, *, method: str, rtol: float, atol: float, max_steps: int, seed: int):
        self.tr = tr
        self.net = tr.network
        self.ev: CompiledEvents = tr.events
        self.opts = dict(method=method, rtol=rtol, atol=atol, max_steps=max_steps)
        self.no_doses = events_to_arrays([], self.net.species_index)
        self.clock = self.net.species_index.get(tr.time_name, -1) if tr.uses_time else -1
        # triggers that read only time and parameters are located without integrating
        leaves = {(int(op), int(arg)) for op, arg in zip(self.ev.triggers.op, self.ev.triggers.arg, strict=True)}
        self.time_only = all(op != ex.PUSH_Y or arg == self.clock for op, arg in leaves)
        self.random = np.random.default_rng(seed)
        self.pending: list[list] = []  # [time, sequence, event, values or None]
        self.sequence = 0
        self.fired = 0

    def integrate(self, p, y, t0, times):
        times = np.asarray(times, dtype=float)
        # spans too short for the adaptive solver's round-off guard take one Heun step each,
        # whose error (span^3 |f''|) is far below round-off there
        near = times - t0 <= _SHORT_SPAN * max(1.0, abs(t0))
        out = np.empty((times.size, y.size))
        for k in np.flatnonzero(near):
            out[k] = self._heun(p, y, times[k] - t0)
        if not near.all():
            far, _ = integrate(self.net.arrays, p, y, times[~near], self.no_doses, t0=t0, **self.opts)
            out[~near] = far
        if self.clock >= 0:  # the solver's clock drifts by round-off; floor(time) must not
            out[:, self.clock] = times
        return out

    def _heun(self, p, y, h):
        arrays, u, v = self.net.arrays, np.zeros_like(y), np.empty(len(self.net.reactions))
        k1, k2 = np.empty_like(y), np.empty_like(y)
        kin.network_rhs(arrays, p, u, y, v, k1)
        kin.network_rhs(arrays, p, u, y + h * k1, v, k2)
        return y + 0.5 * h * (k1 + k2)

    def triggers(self, rows, p) -> np.ndarray:
        return ex.run_all(self.ev.triggers, rows, p) != 0.0

    def _values(self, e: int, y, p) -> np.ndarray:
        ev = self.ev
        lo, hi = ev.assign_ptr[e], ev.assign_ptr[e + 1]
        if hi == lo:
            return np.zeros(0)
        return ex.run_all(ev.assign, y, p)[0, lo:hi]

    def process(self, t, y, p, prev) -> None:
        """Fire and execute every event due at time ``t`` (changes y, p, prev in place)."""
        ev = self.ev
        while True:
            now = self.triggers(y, p)[0]
            for e in range(ev.n):
                if now[e] and not prev[e]:
                    delay = float(ex.run_all(ev.delays, y, p)[0, e])
                    if not delay >= 0.0:
                        raise SolverError(f"event {ev.ids[e]!r}: its delay is {delay:g} at t = {t:g}")
                    values = self._values(e, y, p) if ev.use_trigger_values[e] else None
                    self.pending.append([t + delay, self.sequence, e, values])
                    self.sequence += 1
                elif prev[e] and not now[e] and not ev.persistent[e]:
                    self.pending = [x for x in self.pending if x[2] != e]
                prev[e] = now[e]
            due = [x for x in self.pending if x[0] <= t]
            if not due:
                return
            priority = ex.run_all(ev.priorities, y, p)[0]
            top = max(priority[x[2]] for x in due)
            ties = [x for x in due if priority[x[2]] == top]
            # SBML leaves the order of equal priorities open; the Test Suite expects it random
            chosen = ties[0] if len(ties) == 1 else ties[int(self.random.integers(len(ties)))]
            self.pending.remove(chosen)
            self.fired += 1
            if self.fired > MAX_EVENT_FIRINGS:
                raise SolverError(
                    f"events fired {MAX_EVENT_FIRINGS} times by t = {t:g}: a trigger keeps refiring", t_reached=t
                )
            self.execute(chosen[2], chosen[3], y, p)

    def execute(self, e: int, values, y, p) -> None:
        ev = self.ev
        if values is None:
            values = self._values(e, y, p)
        lo, hi = ev.assign_ptr[e], ev.assign_ptr[e + 1]
        # an assigned concentration converts to an amount at the size before this event: all
        # of an event's assignments act at once (what the SBML Test Suite expects, case 1506)
        sizes = ex.run_all(ev.scale, y, p)[0] if ev.concentration[lo:hi].any() else None
        for a in range(lo, hi):
            if ev.target_kind[a] == 1:
                p[ev.target_index[a]] = values[a - lo]
            elif ev.concentration[a]:
                y[ev.target_index[a]] = values[a - lo] * sizes[a]
            else:
                y[ev.target_index[a]] = values[a - lo]

    def locate(self, t_lo, y_lo, t_hi, y_hi, p, prev):
        """Earliest time in (t_lo, t_hi] where some trigger differs from ``prev``, and the state.

        The state is the one the difference was seen in, so that processing sees it too.
        """
        if self.time_only and self.clock >= 0:
            return self._locate_in_time(t_lo, y_lo, t_hi, y_hi, p, prev)
        while t_hi - t_lo > _RESOLUTION * max(1.0, abs(t_hi)):
            mid = 0.5 * (t_lo + t_hi)
            if mid <= t_lo or mid >= t_hi:
                break
            y_mid = self.integrate(p, y_lo, t_lo, [mid])[0]
            if np.any(self.triggers(y_mid, p)[0] != prev):
                t_hi, y_hi = mid, y_mid
            else:
                t_lo, y_lo = mid, y_mid
        return t_hi, y_hi

    def _locate_in_time(self, t_lo, y_lo, t_hi, y_hi, p, prev):
        """The same for triggers that read only the clock and parameters.

        Each pass scores a fan of times at once (no integration), narrowing the bracket 16-fold.
        """
        t_start, y_start = t_lo, y_lo
        fan = np.repeat(y_lo[None, :], _FAN, axis=0)
        while t_hi - t_lo > _RESOLUTION * max(1.0, abs(t_hi)):
            times = np.linspace(t_lo, t_hi, _FAN + 2)[1:-1]
            fan[:, self.clock] = times
            hits = np.flatnonzero((self.triggers(fan, p) != prev).any(axis=1))
            new_lo = times[hits[0] - 1] if hits.size and hits[0] > 0 else (t_lo if hits.size else times[-1])
            new_hi = times[hits[0]] if hits.size else t_hi
            if new_lo == t_lo and new_hi == t_hi:
                break  # round-off: the bracket cannot shrink
            t_lo, t_hi = new_lo, new_hi
        if t_hi != t_start:
            y_hi = self.integrate(p, y_start, t_start, [t_hi])[0]
        return t_hi, y_hi


def simulate_translation(
    tr: Translation,
    times: np.ndarray,
    outputs: ex.Programs,
    *,
    method: str = "auto",
    rtol: float = 1e-8,
    atol: float = 1e-12,
    max_steps: int = 100_000,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate a translated model with its events.

    ``seed`` seeds the random order of simultaneous events of equal priority.

    Returns
    -------
    states : float64[n_times, n_states]
        The network state at each output time (after the events at that time).
    values : float64[n_times, n_outputs]
        The output programs at each output time.
    """
    run = _Run(tr, method=method, rtol=rtol, atol=atol, max_steps=max_steps, seed=seed)
    net = tr.network
    times = np.asarray(times, dtype=float)
    t = tr.t0
    y = net.initial_vector().copy()
    p = net.parameter_vector().copy()
    n_events = run.ev.n
    states = np.full((times.size, y.size), math.nan)
    values = np.full((times.size, outputs.ptr.shape[0] - 1), math.nan)
    k = 0  # next output to record

    def record_through(t_now, y_now, p_now):
        nonlocal k
        while k < times.size and times[k] <= t_now:
            states[k] = y_now
            values[k] = ex.run_all(outputs, y_now, p_now)[0]
            k += 1

    prev = run.ev.initial_value.copy()
    if n_events:
        run.process(t, y, p, prev)
    record_through(t, y, p)
    t_final = times[-1]
    while k < times.size:
        next_due = min((x[0] for x in run.pending), default=math.inf)
        t_stop = min(t_final, next_due)
        if t_stop > t:
            inside = times[(times > t) & (times < t_stop)]
            if n_events:
                checks = np.linspace(t, t_stop, CHECKS_PER_STRETCH + 1)[1:-1]
                inside = np.union1d(inside, checks)
            grid = np.append(inside[inside < t_stop], t_stop)
            rows = run.integrate(p, y, t, grid)
            changed = -1
            if n_events:
                flags = run.triggers(rows, p) != prev
                hits = np.flatnonzero(flags.any(axis=1))
                changed = int(hits[0]) if hits.size else -1
            if changed >= 0:
                t_lo, y_lo = (grid[changed - 1], rows[changed - 1]) if changed > 0 else (t, y)
                for r in range(changed):
                    record_row(grid[r], rows[r], p, times, states, values, outputs, k)
                    k = _advance(times, k, grid[r])
                t_new, y_new = run.locate(t_lo, y_lo, grid[changed], rows[changed], p, prev)
            else:
                for r in range(grid.size - 1):
                    record_row(grid[r], rows[r], p, times, states, values, outputs, k)
                    k = _advance(times, k, grid[r])
                t_new, y_new = t_stop, rows[-1]
            t, y = t_new, y_new.copy()
        if n_events:
            run.process(t, y, p, prev)
        record_through(t, y, p)
        if t >= t_final and not any(x[0] <= t for x in run.pending):
            break
    return states, values


def record_row(t_row, y_row, p, times, states, values, outputs, k) -> None:
    """Record a grid row if it is the next output time."""
    if k < times.size and times[k] == t_row:
        states[k] = y_row
        values[k] = ex.run_all(outputs, y_row, p)[0]


def _advance(times, k, t_row) -> int:
    return k + 1 if k < times.size and times[k] == t_row else k
