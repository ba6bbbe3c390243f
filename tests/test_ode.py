"""The integrators: closed forms, agreement with scipy, dense output, events, stiffness, errors."""

import math

import numpy as np
import pytest
from reference import reference_solution, scaled_error
from scipy.special import lambertw

import workbench as wb

METHODS = ["dopri5", "rodas4", "auto"]


def bimolecular(a0=2.0, b0=1.0, k=0.7):
    return wb.ReactionNetwork(
        species={"A": a0, "B": b0, "C": 0.0}, parameters={"k": k}, reactions=[("A + B -> C", "k")]
    )


@pytest.mark.parametrize("method", METHODS)
def test_bimolecular_closed_form(method):
    a0, b0, k = 2.0, 1.0, 0.7
    traj = bimolecular(a0, b0, k).simulate(10, 101, method=method, rtol=1e-10, atol=1e-13)
    # A(t) - B(t) = a0 - b0 = d; dB/dt = -k B (B + d)  =>  B = d b0 / ((b0 + d) e^{k d t} - b0)
    d = a0 - b0
    b_exact = d * b0 / ((b0 + d) * np.exp(k * d * traj.t) - b0)
    np.testing.assert_allclose(traj["B"], b_exact, rtol=1e-7)
    np.testing.assert_allclose(traj["A"] - traj["B"], d, rtol=1e-9)


@pytest.mark.parametrize("method", METHODS)
def test_michaelis_menten_depletion_matches_lambert_w(method):
    s0, vmax, km = 5.0, 1.0, 0.5
    net = wb.ReactionNetwork(
        species={"S": s0, "P": 0.0},
        parameters={"vmax": vmax, "km": km},
        reactions=[("S -> P", wb.MichaelisMenten("vmax", "km"))],
    )
    traj = net.simulate(8, 81, method=method, rtol=1e-10, atol=1e-13)
    exact = km * lambertw(s0 / km * np.exp((s0 - vmax * traj.t) / km)).real
    np.testing.assert_allclose(traj["S"], exact, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(traj["S"] + traj["P"], s0, rtol=1e-10)


@pytest.mark.parametrize("method", METHODS)
def test_methods_agree_with_scipy_radau_on_a_mixed_network(method):
    from workbench.core.warmup import _zoo

    net = _zoo()
    doses = [wb.Bolus("A", 1.0, 0.5), wb.Infusion("B", rate=1.0, duration=1.0, start=0.2)]
    t = np.linspace(0, 5, 53)
    ref = reference_solution(net, t, doses)
    traj = net.simulate(t=t, doses=doses, method=method, rtol=1e-9, atol=1e-12)
    assert scaled_error(traj.values, ref, 1e-9, 1e-12) < 10


@pytest.mark.parametrize("method", ["dopri5", "rodas4"])
def test_dense_output_between_steps_is_accurate(method):
    """Outputs far denser than the steps still carry the solver's accuracy."""
    net = wb.ReactionNetwork(species={"X": 1.0}, parameters={"k": 0.5}, reactions=[("X ->", "k")])
    t = np.linspace(0, 20, 4001)
    traj = net.simulate(t=t, method=method, rtol=1e-8, atol=1e-12)
    assert traj.info["accepted_steps"] < 400  # far fewer steps than outputs
    np.testing.assert_allclose(traj["X"], np.exp(-0.5 * t), rtol=2e-6, atol=1e-12)


def test_bolus_output_at_dose_time_is_after_the_dose():
    net = wb.ReactionNetwork(species={"X": 0.0}, parameters={"k": 0.1}, reactions=[("X ->", "k")])
    traj = net.simulate(t=[0.0, 1.0, 2.0, 3.0], doses=[wb.Bolus("X", 10.0, 0.0), wb.Bolus("X", 5.0, 2.0)], rtol=1e-10)
    expected = np.array(
        [10.0, 10 * math.exp(-0.1), 10 * math.exp(-0.2) + 5, (10 * math.exp(-0.2) + 5) * math.exp(-0.1)]
    )
    np.testing.assert_allclose(traj["X"], expected, rtol=1e-8)


def test_infusion_and_piecewise_input():
    net = wb.ReactionNetwork(species={"X": 0.0}, parameters={"k": 0.5}, reactions=[("X ->", "k")])
    t = np.linspace(0, 10, 101)
    inf = net.simulate(t=t, doses=[wb.Infusion("X", rate=2.0, duration=4.0, start=1.0)], rtol=1e-10, atol=1e-12)
    pw = net.simulate(t=t, doses=[wb.PiecewiseInput("X", times=[1.0, 5.0], rates=[2.0])], rtol=1e-10, atol=1e-12)
    on = (t >= 1) & (t <= 5)
    expected = np.zeros_like(t)
    expected[on] = 4.0 * (1 - np.exp(-0.5 * (t[on] - 1)))
    after = t > 5
    expected[after] = 4.0 * (1 - np.exp(-2.0)) * np.exp(-0.5 * (t[after] - 5))
    np.testing.assert_allclose(inf["X"], expected, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(pw["X"], inf["X"], rtol=1e-12, atol=1e-14)


def test_stiff_method_handles_tmdd_with_fast_binding_without_step_collapse():
    net = wb.ReactionNetwork(
        species={"D": 0.0, "R": 10.0, "C": 0.0},
        parameters=dict(ke=0.01, kon=1e3, koff=0.01, kint=0.05, ksyn=1.0, kdeg=0.1),
        reactions=[
            ("D ->", "ke"),
            ("D + R <-> C", ("kon", "koff")),
            ("C ->", "kint"),
            ("-> R", "ksyn"),
            ("R ->", "kdeg"),
        ],
    )
    doses = [wb.Bolus("D", 100.0)]
    t = np.linspace(0, 500, 501)
    traj = net.simulate(t=t, doses=doses, method="rodas4", rtol=1e-6, atol=1e-9)
    # an explicit method needs ~1e5 steps here (|lambda| ~ kon * D ~ 1e5 /h); Rodas4 a few hundred
    assert traj.info["accepted_steps"] < 2000
    ref = reference_solution(net, t, doses)
    assert scaled_error(traj.values, ref, 1e-6, 1e-9) < 10
    auto = net.simulate(t=t, doses=doses, method="auto")
    assert auto.info["stiff_from"] == 0.0  # recognised as stiff from the start
    np.testing.assert_allclose(auto.values, traj.values, rtol=1e-12, atol=1e-15)


def test_auto_switches_when_stiffness_appears_later():
    # P accumulates slowly; P + P -> Q is fast, so the problem stiffens as P grows.
    net = wb.ReactionNetwork(
        species={"S": 1.0, "P": 0.0, "Q": 0.0},
        parameters={"k": 0.1, "kd": 1e5},
        reactions=[("S -> P", "k"), ("2 P -> Q", "kd")],
    )
    t = np.linspace(0, 20, 21)
    traj = net.simulate(t=t, method="auto", rtol=1e-7, atol=1e-12)
    assert 0.0 < traj.info["stiff_from"] < 20.0
    ref = reference_solution(net, t)
    assert scaled_error(traj.values, ref, 1e-7, 1e-12) < 10


def test_blow_up_raises_solver_error_naming_time_and_cause():
    net = wb.ReactionNetwork(species={"X": 1.0}, parameters={"k": 1.0}, reactions=[("2 X -> 3 X", "k")])
    # dX/dt = X^2 from 1 blows up at t = 1
    for method in METHODS:
        with pytest.raises(wb.SolverError) as excinfo:
            net.simulate(2.0, 11, method=method)
        err = excinfo.value
        assert abs(err.t_reached - 1.0) < 1e-3
        assert "at t = " in str(err)
        assert err.reason in ("nonfinite", "step_size")
        assert "blow" in str(err)


def test_max_steps_raises_with_advice():
    net = wb.ReactionNetwork(species={"X": 1.0}, parameters={"k": 1.0}, reactions=[("X ->", "k")])
    with pytest.raises(wb.SolverError, match="max_steps = 3") as excinfo:
        net.simulate(100.0, 11, max_steps=3)
    assert excinfo.value.reason == "max_steps"
    assert "method='rodas4'" in str(excinfo.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "euler"}, "unknown method 'euler'"),
        ({"rtol": 0.0}, "rtol must be in"),
        ({"atol": -1.0}, "atol must be positive"),
        ({"max_steps": 0}, "max_steps must be a positive integer"),
        ({"t": [0.0, 2.0, 1.0]}, "sorted"),
        ({"t": [0.0, math.nan]}, "finite"),
        ({"t_end": -1.0}, "t_end must be a finite time after t0"),
        ({"n_points": 1}, "n_points must be an integer >= 2"),
        ({"doses": [wb.Bolus("Y", 1.0)]}, "unknown species 'Y'"),
        ({"doses": ["aspirin"]}, "expected a dose"),
    ],
)
def test_bad_solver_input_raises(kwargs, message):
    net = wb.ReactionNetwork(species={"X": 1.0}, parameters={"k": 1.0}, reactions=[("X ->", "k")])
    call = {"t_end": 1.0, **kwargs}
    if "t" in call:
        call.pop("t_end")
    with pytest.raises(wb.ModelError, match=message):
        net.simulate(**call)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: wb.Bolus("X", -1.0), "bolus amount must be non-negative"),
        (lambda: wb.Bolus("X", math.nan), "bolus amount must be a finite number"),
        (lambda: wb.Infusion("X", rate=1.0, duration=0.0), "infusion duration must be positive"),
        (lambda: wb.Regimen("X", 1.0, interval=12.0, n_doses=0), "number of doses must be a positive integer"),
        (lambda: wb.PiecewiseInput("X", times=[0.0, 1.0], rates=[1.0, 2.0]), "one more breakpoint"),
        (lambda: wb.PiecewiseInput("X", times=[1.0, 0.0], rates=[1.0]), "increase strictly"),
    ],
)
def test_bad_doses_raise(make, message):
    with pytest.raises(wb.ModelError, match=message):
        make()


def test_a_state_starting_just_above_zero_takes_a_resolvable_first_step():
    """0.01 |y0| / |f| is far below round-off for y0 = 3e-15 and a unit rate: the first step is
    raised to a few ulps of t, not refused as too small (found by the SBML Test Suite, case 1531)."""
    for t0 in (0.0, 5.3):
        net = wb.ReactionNetwork({"X": 3e-15}, {"k": 1.0}, [("-> X", "k")])
        for method in ("dopri5", "rodas4", "auto"):
            traj = net.simulate(t=[t0 + 0.25, t0 + 0.7], t0=t0, method=method, rtol=1e-10, atol=1e-10)
            np.testing.assert_allclose(traj["X"], [0.25, 0.7], rtol=1e-12)
