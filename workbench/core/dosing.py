"""Doses: boluses, zero-order infusions, regimens and piecewise inputs.

Amounts are in the species' amount unit (the integrator divides by the compartment volume).
Each dose expands to events ``(time, species, kind, value)`` for the integrator kernel.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ModelError
from .ode import EVENT_BOLUS, EVENT_RATE

__all__ = ["Bolus", "Dose", "Infusion", "PiecewiseInput", "Regimen", "events_to_arrays"]

Event = tuple[float, str, int, float]


def _check(name: str, value: float, *, positive: bool = False) -> float:
    value = float(value)
    if not math.isfinite(value):
        raise ModelError(f"{name} must be a finite number, got {value}")
    if value < 0 or (positive and value == 0):
        raise ModelError(f"{name} must be {'positive' if positive else 'non-negative'}, got {value}")
    return value


@dataclass(frozen=True)
class Dose:
    """Base class: something that adds drug to a species."""

    species: str

    def events(self) -> list[Event]:
        """Events ``(time, species, kind, value)`` of this dose."""
        raise NotImplementedError


@dataclass(frozen=True)
class Bolus(Dose):
    """An instantaneous dose of ``amount`` into ``species`` at ``time``."""

    amount: float = 0.0
    time: float = 0.0

    def __post_init__(self):
        _check("bolus amount", self.amount)
        _check("bolus time", self.time)

    def events(self) -> list[Event]:
        return [(float(self.time), self.species, EVENT_BOLUS, float(self.amount))]


@dataclass(frozen=True)
class Infusion(Dose):
    """A zero-order infusion at ``rate`` (amount per time) for ``duration`` from ``start``."""

    rate: float = 0.0
    duration: float = 1.0
    start: float = 0.0

    def __post_init__(self):
        _check("infusion rate", self.rate)
        _check("infusion duration", self.duration, positive=True)
        _check("infusion start", self.start)

    @classmethod
    def of_amount(cls, species: str, amount: float, duration: float, start: float = 0.0) -> Infusion:
        """An infusion delivering ``amount`` over ``duration``."""
        duration = _check("infusion duration", duration, positive=True)
        return cls(species, rate=_check("infusion amount", amount) / duration, duration=duration, start=start)

    @property
    def amount(self) -> float:
        """Total amount delivered."""
        return self.rate * self.duration

    def events(self) -> list[Event]:
        end = float(self.start) + float(self.duration)
        return [
            (float(self.start), self.species, EVENT_RATE, float(self.rate)),
            (end, self.species, EVENT_RATE, -float(self.rate)),
        ]


@dataclass(frozen=True)
class Regimen(Dose):
    """``n_doses`` doses of ``amount`` every ``interval`` from ``start``.

    Each dose is a bolus, or an infusion of length ``duration`` when one is given.
    """

    amount: float = 0.0
    interval: float = 24.0
    n_doses: int = 1
    start: float = 0.0
    duration: float | None = None

    def __post_init__(self):
        _check("regimen amount", self.amount)
        _check("dosing interval", self.interval, positive=True)
        _check("regimen start", self.start)
        if int(self.n_doses) != self.n_doses or self.n_doses < 1:
            raise ModelError(f"number of doses must be a positive integer, got {self.n_doses}")
        if self.duration is not None:
            _check("infusion duration", self.duration, positive=True)

    def doses(self) -> list[Dose]:
        """The individual doses."""
        times = [self.start + k * self.interval for k in range(int(self.n_doses))]
        if self.duration is None:
            return [Bolus(self.species, self.amount, t) for t in times]
        return [Infusion.of_amount(self.species, self.amount, self.duration, t) for t in times]

    def events(self) -> list[Event]:
        return [ev for dose in self.doses() for ev in dose.events()]


@dataclass(frozen=True)
class PiecewiseInput(Dose):
    """A zero-order input that is ``rates[k]`` on ``[times[k], times[k + 1])`` and 0 after."""

    times: Sequence[float] = ()
    rates: Sequence[float] = ()

    def __post_init__(self):
        if len(self.times) != len(self.rates) + 1:
            raise ModelError("a piecewise input needs one more breakpoint than rates")
        times = [_check("input breakpoint", t) for t in self.times]
        if any(b <= a for a, b in itertools.pairwise(times)):
            raise ModelError("input breakpoints must increase strictly")
        for r in self.rates:
            _check("input rate", r)

    def events(self) -> list[Event]:
        out: list[Event] = []
        previous = 0.0
        for t, rate in zip(self.times, [*self.rates, 0.0], strict=True):
            out.append((float(t), self.species, EVENT_RATE, float(rate) - previous))
            previous = float(rate)
        return out


def events_to_arrays(doses: Iterable[Dose], species_index: dict[str, int]):
    """Expand doses into the sorted event arrays the integrator takes."""
    events: list[Event] = []
    for dose in doses:
        if not isinstance(dose, Dose):
            raise ModelError(f"expected a dose (Bolus, Infusion, Regimen, PiecewiseInput), got {dose!r}")
        if dose.species not in species_index:
            raise ModelError(f"dose into unknown species {dose.species!r}; species are {list(species_index)}")
        events.extend(dose.events())
    events.sort(key=lambda e: e[0])
    n = len(events)
    ev_t = np.empty(n)
    ev_sp = np.empty(n, dtype=np.int64)
    ev_kind = np.empty(n, dtype=np.int64)
    ev_val = np.empty(n)
    for i, (t, sp, kind, value) in enumerate(events):
        ev_t[i] = t
        ev_sp[i] = species_index[sp]
        ev_kind[i] = kind
        ev_val[i] = value
    return ev_t, ev_sp, ev_kind, ev_val
