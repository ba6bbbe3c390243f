"""Solver loops stop on a time budget or a cancel, and say so; nothing hangs.

Each long computation here would run for minutes: the checks are that it stops, with a
``SolverError`` whose reason is ``"budget"`` or ``"cancelled"``, well before that, and that
the next computation runs normally.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

import workbench as wb
from workbench.core.control import Stop, current_flag, limits
from workbench.errors import ModelError, SolverError

#: A stopped loop must be back within this many seconds of its budget or cancel (generous:
#: the machines are shared; a loop that ignored the flag would run for minutes).
GRACE = 5.0


def stiff_forever():
    """TMDD with very fast binding, forced onto the explicit method: millions of tiny steps."""
    model = wb.TMDD(kon=1e4, koff=1.0, t_end=5000.0, n_points=11)
    return lambda: model.simulate(method="dopri5", max_steps=10**12, rtol=1e-12, atol=1e-15)


def ssa_forever():
    model = wb.TwoStageExpression(t_end=1e7, n_points=3)
    return lambda: model.ssa(64, seed=1, max_events=10**15)


def cle_forever():
    model = wb.TwoStageExpression(t_end=1e6, n_points=3)
    return lambda: model.cle(64, seed=1, dt=1e-4)


def tissue_forever():
    model = wb.HybridTissue(t_end=1e6, n_points=2)
    return model.simulate


LONG = {"ode": stiff_forever, "ssa": ssa_forever, "cle": cle_forever, "tissue": tissue_forever}


@pytest.fixture(scope="module", autouse=True)
def compiled():
    """Kernels loaded before any clock starts (a kernel edited since ``workbench warmup`` compiles)."""
    wb.TMDD(t_end=1.0, n_points=2).simulate(method="dopri5")
    gene = wb.TwoStageExpression(t_end=1.0, n_points=2)
    gene.ssa(2, seed=1)
    gene.cle(2, seed=1)
    wb.HybridTissue(t_end=1.0, n_points=2).simulate()


@pytest.mark.parametrize("kind", sorted(LONG))
def test_a_time_budget_stops_a_long_run_with_a_message(kind):
    run = LONG[kind]()
    start = time.monotonic()
    with pytest.raises(SolverError, match="time budget ran out") as caught, limits(seconds=0.5):
        run()
    assert caught.value.reason == "budget"
    assert "0.5 s" in str(caught.value)
    assert time.monotonic() - start < 0.5 + GRACE


@pytest.mark.parametrize("kind", ["ode", "ssa", "cle"])
def test_another_thread_cancels_a_running_kernel(kind):
    # the kernels run without the GIL and poll the flag; a cancel must reach a running loop
    run = LONG[kind]()
    stop = Stop()
    outcome: dict = {}

    def work():
        try:
            with limits(stop=stop):
                run()
        except SolverError as err:
            outcome["error"] = err

    worker = threading.Thread(target=work)
    worker.start()
    time.sleep(0.3)
    assert worker.is_alive()
    cancelled = time.monotonic()
    stop.cancel()
    worker.join(timeout=GRACE)
    assert not worker.is_alive(), "the kernel ignored the cancel"
    assert outcome["error"].reason == "cancelled"
    assert "cancelled" in str(outcome["error"]) and time.monotonic() - cancelled < GRACE


def test_continuation_populations_and_sweeps_stop_when_cancelled():
    stop = Stop()
    stop.cancel()
    switch = wb.AutoActivation()
    with limits(stop=stop):
        with pytest.raises(SolverError, match="cancelled") as caught:
            wb.analysis.continuation(switch, "k0", (0.5, 20.0))
        assert caught.value.reason == "cancelled"
        with pytest.raises(SolverError, match="cancelled"):
            wb.population(wb.OneCompartment(), 5000, {"CL": 0.3}, seed=1, progress=False)
        with pytest.raises(SolverError, match="cancelled"):
            wb.sweep(wb.OneCompartment(), {"CL": [1.0, 2.0]}, ["cmax"], chunk_size=1)


def test_after_a_stop_the_next_computation_runs_normally():
    model = wb.OneCompartment()
    expected = model.simulate()["C"]
    with pytest.raises(SolverError), limits(seconds=0.2):
        stiff_forever()()
    np.testing.assert_array_equal(model.simulate()["C"], expected)
    assert current_flag()[0] == 0  # outside any block a kernel gets a fresh, clear flag


def test_nested_limits_share_the_flag_and_the_tighter_budget_names_itself():
    with limits(seconds=30.0) as outer:
        with limits(seconds=0.3) as inner:
            assert inner is outer and outer.seconds == 0.3
            with pytest.raises(SolverError, match=r"0\.3 s time budget"):
                stiff_forever()()
        assert outer.seconds == 30.0
        assert outer.stopped  # the inner budget stopped the block it shares


@pytest.mark.parametrize("seconds", [0.0, -1.0, float("nan"), float("inf")])
def test_a_budget_must_be_a_positive_finite_time(seconds):
    with pytest.raises(ModelError, match="positive number of seconds"), limits(seconds=seconds):
        pass
