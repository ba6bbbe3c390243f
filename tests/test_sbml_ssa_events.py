"""The SSA of imported models with events at scheduled times, against closed forms.

Immigration-death (rate ``a``, per-molecule death ``d``) from a fixed count ``n`` after time
``s`` has ``X = Binomial(n, q) + Poisson(a / d (1 - q))`` with ``q = exp(-d (t - s))``; from a
Poisson count with mean ``m`` the survivors are Poisson(``m q``). Each event below is checked
through these laws: mean and variance within ``Z`` standard errors of the seeded ensemble.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sbml_build import sbml
from stats import Z, se_mean, se_variance

import workbench as wb
from workbench.errors import ModelError, UnsupportedSBMLError
from workbench.sbml.stochastic import firing_schedule

A, D = 4.0, 0.25  # immigration rate and death rate: stationary mean 16
N_RUNS = 20_000


def immigration_death(*events: dict, x0: float = 0.0, **extra) -> str:
    return sbml(
        species={"X": {"amount": x0, "only_substance": True}},
        parameters={"a": (A, False), "d": D, **extra.pop("parameters", {})},
        reactions=[("birth", {}, {"X": 1}, "a"), ("death", {"X": 1}, {}, "d * X")],
        events=list(events),
        **extra,
    )


def poisson_mean(t: float, m0: float = 0.0, rate: float = A) -> float:
    """Mean (= variance) of immigration-death from Poisson(m0) after time t."""
    q = math.exp(-D * t)
    return m0 * q + rate / D * (1.0 - q)


def check_moments(samples: np.ndarray, mean: float, variance: float) -> None:
    samples = samples.astype(float)
    assert abs(samples.mean() - mean) <= Z * se_mean(samples), (samples.mean(), mean)
    assert abs(samples.var(ddof=1) - variance) <= Z * se_variance(samples), (samples.var(ddof=1), variance)


def test_a_reset_at_a_time_restarts_the_process_from_the_assigned_count():
    """DSMTS 002-10's design: X = 20 at t >= 7.5, then Binomial(20, q) + Poisson."""
    model = wb.load_sbml(immigration_death({"trigger": "time >= 7.5", "assign": {"X": "20"}}))
    times = np.array([0.0, 5.0, 7.5, 10.0, 20.0])
    ens = model.ssa(N_RUNS, t=times, seed=3)
    assert ens.species == ("X",)
    check_moments(ens["X"][:, 1], poisson_mean(5.0), poisson_mean(5.0))
    assert (ens["X"][:, 2] == 20).all()  # at the firing time the value is the assigned one
    for k in (3, 4):
        q = math.exp(-D * (times[k] - 7.5))
        check_moments(ens["X"][:, k], 20 * q + A / D * (1 - q), 20 * q * (1 - q) + A / D * (1 - q))


def test_an_assignment_reading_the_state_acts_on_each_run():
    """X = X + 10 at t = 4: survivors of Poisson(m4) and of the 10 added, plus new arrivals."""
    model = wb.load_sbml(immigration_death({"trigger": "time >= 4", "assign": {"X": "X + 10"}}))
    ens = model.ssa(N_RUNS, t=[0.0, 3.999, 4.0, 9.0], seed=5)
    before, at, after = (ens["X"][:, k] for k in (1, 2, 3))
    m4 = poisson_mean(4.0)
    # each run's own count jumps by exactly 10 (no reaction in 1e-3 time units in most runs)
    assert np.mean(at - before == 10) > 0.9
    check_moments(at, m4 + 10, m4)
    q = math.exp(-D * 5.0)
    check_moments(after, m4 * q + 10 * q + A / D * (1 - q), m4 * q + 10 * q * (1 - q) + A / D * (1 - q))


def test_the_runs_are_the_plain_ssa_runs_until_the_first_firing():
    with_event = wb.load_sbml(immigration_death({"trigger": "time >= 6", "assign": {"X": "0"}}))
    without = wb.load_sbml(immigration_death())
    t = np.linspace(0.0, 5.5, 12)
    a = with_event.ssa(200, t=np.append(t, 8.0), seed=11)
    b = without.ssa(200, t=t, seed=11)
    np.testing.assert_array_equal(a.counts[:, :-1], b.counts)


def test_an_event_setting_a_parameter_changes_every_run_and_can_fire_again():
    """a -> 3a at t >= 5; a second event at a = 12 (read by its trigger) empties X at t >= 10."""
    model = wb.load_sbml(
        immigration_death(
            {"trigger": "time >= 5", "assign": {"a": "3 * a"}},
            {"trigger": "a > 10 && time >= 10", "assign": {"X": "0"}},
        )
    )
    tr = model.translation()
    assert firing_schedule(tr, np.array([0.0, 20.0])) == [(5.0, 0), (10.0, 1)]
    ens = model.ssa(N_RUNS, t=[5.0, 9.0, 10.0, 14.0], seed=2)
    m5 = poisson_mean(5.0)
    check_moments(ens["X"][:, 1], poisson_mean(4.0, m5, 3 * A), poisson_mean(4.0, m5, 3 * A))
    assert (ens["X"][:, 2] == 0).all()
    check_moments(ens["X"][:, 3], poisson_mean(4.0, 0.0, 3 * A), poisson_mean(4.0, 0.0, 3 * A))
    assert model.a == A  # the model's own value is untouched


def test_an_event_at_the_start_and_a_trigger_that_rises_twice():
    """initialValue false fires at t = 0; a trigger on a window of time fires on each rise."""
    model = wb.load_sbml(
        immigration_death(
            {"trigger": "time >= 0", "assign": {"X": "7"}, "initial_value": False},
            {"trigger": "sin(time) > 0.5", "assign": {"X": "X + 1"}},
        )
    )
    tr = model.translation()
    rises = [t for t, e in firing_schedule(tr, np.linspace(0.0, 15.0, 16)) if e == 1]
    expected = [math.pi / 6 + 2 * math.pi * k for k in range(3)]
    np.testing.assert_allclose(rises, expected, rtol=1e-12)
    ens = model.ssa(1000, t=[0.0, 1.0], seed=4)
    assert (ens["X"][:, 0] == 7).all()


def test_chunks_reproduce_the_whole_ensemble_across_stretches():
    model = wb.load_sbml(immigration_death({"trigger": "time >= 2", "assign": {"X": "X + 5"}}))
    whole = model.ssa(6, t=[0.0, 1.0, 3.0, 6.0], seed=9)
    parts = [model.ssa(3, t=[0.0, 1.0, 3.0, 6.0], seed=9, first_run=k) for k in (0, 3)]
    np.testing.assert_array_equal(whole.counts, np.concatenate([p.counts for p in parts]))
    assert (whole.events > 0).all()


@pytest.mark.parametrize(
    ("event", "match"),
    [
        ({"trigger": "X > 5", "assign": {"X": "0"}}, "trigger that reads species"),
        ({"trigger": "time >= 1", "assign": {"X": "0"}, "delay": "1"}, "delays"),
        ({"trigger": "time >= 1", "assign": {"a": "X"}}, "setting a parameter from species"),
    ],
)
def test_events_the_ssa_cannot_run_exactly_are_refused(event, match):
    model = wb.load_sbml(immigration_death(event))
    with pytest.raises(UnsupportedSBMLError, match=match):
        model.ssa(10, t=[0.0, 2.0])
    model.simulate(t_end=2.0)  # the deterministic simulation still runs


def test_simultaneous_events_and_time_in_a_kinetic_law_are_refused():
    both = wb.load_sbml(
        immigration_death(
            {"trigger": "time >= 1", "assign": {"X": "0"}}, {"trigger": "time >= 1", "assign": {"X": "3"}}
        )
    )
    with pytest.raises(UnsupportedSBMLError, match="same instant"):
        both.ssa(10, t=[0.0, 2.0])
    timed = sbml(
        species={"X": {"amount": 0.0, "only_substance": True}},
        parameters={"a": 1.0},
        reactions=[("birth", {}, {"X": 1}, "a * time")],
    )
    with pytest.raises(UnsupportedSBMLError, match="time in a kinetic law"):
        wb.load_sbml(timed).ssa(10, t=[0.0, 2.0])
    with pytest.raises(UnsupportedSBMLError, match="Langevin"):
        both.cle(10, t=[0.0, 2.0])


def test_an_assignment_to_a_fraction_of_a_molecule_is_a_clear_error():
    model = wb.load_sbml(immigration_death({"trigger": "time >= 1", "assign": {"X": "X / 2"}}))
    with pytest.raises(ModelError, match="whole, non-negative molecule numbers"):
        model.ssa(2000, t=[0.0, 2.0], seed=1)
