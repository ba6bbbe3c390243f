"""Continuation, sensitivities, Fisher information and timescale separation."""

import itertools
import math

import numpy as np
import pytest
from scipy.optimize import brentq

import workbench as wb
from workbench.analysis import critical_manifold_stability, equilibria, qssa_validity, stable_state_count


def switch(a=0.1, b=0.5):
    """dx/dt = a + x^2 / (1 + x^2) - b x, a standard bistable switch."""
    return wb.ReactionNetwork(
        species={"x": 0.5},
        parameters={"a": a, "v": 1.0, "K": 1.0, "n": 2.0, "b": b},
        reactions=[("-> x", "a"), ("-> x", wb.Hill("v", "K", "n", regulator="x")), ("x ->", "b")],
    )


def switch_folds(a):
    """Closed form: u = x^2 solves (1 + a) u^2 - (1 - 2a) u + a = 0 and b = 2 x / (1 + u)^2."""
    disc = math.sqrt((1 - 2 * a) ** 2 - 4 * a * (1 + a))
    us = [((1 - 2 * a) + sign * disc) / (2 * (1 + a)) for sign in (-1, 1)]
    return sorted(2 * math.sqrt(u) / (1 + u) ** 2 for u in us)


def brusselator(a):
    return wb.ReactionNetwork(
        species={"X": a, "Y": 1.0},
        parameters={"a": a, "b": 1.5, "one": 1.0},
        reactions=[("-> X", "a"), ("2 X + Y -> 3 X", "one"), ("X -> Y", "b"), ("X ->", "one")],
    )


# --- continuation ------------------------------------------------------------------------------


@pytest.mark.parametrize("a", [0.05, 0.08, 0.1])
def test_switch_folds_match_the_closed_form(a):
    diagram = wb.continuation(switch(a), "b", (0.3, 1.0))
    folds = sorted(pt.parameter for pt in diagram.folds)
    assert len(folds) == 2
    for found, exact in zip(folds, switch_folds(a), strict=True):
        assert found == pytest.approx(exact, rel=1e-6)
    # stability flips at each fold: stable, unstable (middle), stable along the S-curve
    changes = np.flatnonzero(np.diff(diagram.stable.astype(int)))
    assert changes.size == 2
    assert diagram.stable[0] and diagram.stable[-1] and not diagram.stable[changes[0] + 1]


def test_auto_activation_folds_match_root_finding():
    model = wb.AutoActivation()
    diagram = wb.continuation(model, "gamma", (0.3, 3.0))
    k0, v, k, n = model.k0, model.vmax, model.K, model.n

    def h(x):
        return v * x**n / (k**n + x**n)

    def dh(x):
        return v * n * k**n * x ** (n - 1) / (k**n + x**n) ** 2

    # a fold in gamma: k0 + h(x) = gamma x and h'(x) = gamma, so k0 + h(x) - x h'(x) = 0
    def g(x):
        return k0 + h(x) - x * dh(x)

    xs = np.linspace(0.1, 100, 5000)
    roots = [brentq(g, lo, hi, xtol=1e-14) for lo, hi in itertools.pairwise(xs) if g(lo) * g(hi) < 0]
    expected = sorted(dh(x) for x in roots)
    found = sorted(pt.parameter for pt in diagram.folds)
    assert len(found) == len(expected) == 2
    np.testing.assert_allclose(found, expected, rtol=1e-6)


@pytest.mark.parametrize("a", [0.7, 1.0, 1.5])
def test_brusselator_hopf_at_one_plus_a_squared(a):
    diagram = wb.continuation(brusselator(a), "b", (0.5, 4.0))
    assert len(diagram.hopfs) == 1
    hopf = diagram.hopfs[0]
    assert hopf.parameter == pytest.approx(1 + a * a, rel=1e-6)
    assert hopf.frequency == pytest.approx(a, rel=1e-6)  # eigenvalues +-i a at the Hopf point
    assert diagram.stable[diagram.values < 1 + a * a].all()
    assert not diagram.stable[diagram.values > 1 + a * a].any()


def test_diagram_table_and_stable_state_map():
    diagram = wb.continuation(switch(), "b", (0.3, 1.0))
    frame = diagram.to_dataframe()
    assert list(frame.columns) == ["b", "x", "stable", "max_real_eigenvalue"]
    b_values = np.linspace(0.55, 0.65, 21)
    counts = stable_state_count(switch(), "b", b_values, "a", [0.1])
    lo, hi = switch_folds(0.1)
    inside = (b_values > lo) & (b_values < hi)
    assert np.all(counts[0, inside] == 2) and np.all(counts[0, ~inside] == 1)


@pytest.mark.parametrize("start", [0.1, 1.0, 2.0])
def test_continuation_from_any_branch_finds_both_folds(start):
    # From gamma = 0.1 the branch starts on a high state ten times the low one: long steps
    # in those units once jumped across the bends onto the other stable branch.
    model = wb.AutoActivation(n=3.25)
    reference = wb.continuation(model, "gamma", (0.1, 2.0), start=1.0, guess={"X": 4.0})
    diagram = wb.continuation(model, "gamma", (0.1, 2.0), start=start)
    expected = [pt.parameter for pt in reference.folds]
    assert len(expected) == 2
    np.testing.assert_allclose([pt.parameter for pt in diagram.folds], expected, rtol=1e-8)
    assert diagram.values[0] == 0.1 and diagram.values[-1] == 2.0  # both ends, exactly


def test_stable_state_map_agrees_with_counting_stable_equilibria():
    gammas = np.linspace(0.1, 2.0, 9)  # both ends of the interval included
    ns = [1.0, 2.75, 3.25]
    counts = stable_state_count(wb.AutoActivation(), "gamma", gammas, "n", ns)
    for row, n in enumerate(ns):
        for col, gamma in enumerate(gammas):
            states = equilibria(wb.AutoActivation(n=n, gamma=gamma))
            assert counts[row, col] == sum(state.stable for state in states), (n, gamma)
    assert counts.min() >= 1 and counts.max() == 2


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: wb.continuation(switch(), "nope", (0.1, 1.0)), "unknown continuation parameter 'nope'"),
        (lambda: wb.continuation(switch(), "b", (1.0, 0.1)), "lower < upper"),
        (
            lambda: wb.continuation(
                wb.ReactionNetwork(species={"X": 1.0}, parameters={"k": 1.0}, reactions=[("-> X", "k")]),
                "k",
                (0.5, 2.0),
            ),
            "no steady state to start from",
        ),
    ],
)
def test_continuation_bad_input(call, message):
    with pytest.raises(wb.ModelError, match=message):
        call()


# --- sensitivities --------------------------------------------------------------------------------


def _finite_difference(model, name, times):
    value = float(getattr(model, name))
    h = 1e-5 * value
    up = model.copy(**{name: value + h}).simulate(t=times, rtol=1e-12, atol=1e-16, method="rodas4", max_steps=10**6)
    down = model.copy(**{name: value - h}).simulate(t=times, rtol=1e-12, atol=1e-16, method="rodas4", max_steps=10**6)
    return (up.values - down.values) / (2 * h) * value  # d y / d log theta


@pytest.mark.parametrize(
    "model",
    [
        wb.TMDD(),
        wb.OneCompartment(route="oral", F=0.8, n_doses=2, interval=12.0),
        wb.TwoCompartment(route="iv_infusion", infusion_duration=2.0),
    ],
    ids=["TMDD", "OneCompartment-oral", "TwoCompartment-infusion"],
)
def test_sensitivities_match_central_differences(model):
    times = np.linspace(0.0, model.t_end, 41)
    sens = wb.sensitivities(model, t=times, rtol=1e-10, atol=1e-14, full_error_control=True)
    assert "dose" in sens.parameters
    # a species' sensitivities are judged against their own size, floored at 1e-4 of the
    # species' magnitude: where a sensitivity vanishes, the finite differences (step 1e-5,
    # solver rtol 1e-12, amplified by 1/step) show ~1e-10 |y| of noise
    floor = 1e-4 * np.abs(sens.values).max(axis=0) + 1e-300
    for k, name in enumerate(sens.parameters):
        fd = _finite_difference(model, name, times)
        scale = np.maximum(np.abs(fd).max(axis=0), floor)
        error = np.abs(sens.sensitivities[:, :, k] - fd) / scale
        assert error.max() < 1e-5, name


def test_sensitivity_errors():
    with pytest.raises(wb.ModelError, match="unknown parameter"):
        wb.sensitivities(wb.TMDD(), ["kon", "knockout"])
    with pytest.raises(wb.ModelError, match="moves dosing times"):
        wb.sensitivities(wb.OneCompartment(n_doses=2), ["interval"])
    with pytest.raises(wb.ModelError, match="need non-zero values"):
        wb.sensitivities(wb.PBPK(), ["CL_hepatic"], log=True) if wb.PBPK().CL_hepatic == 0 else wb.sensitivities(
            wb.PBPK(CL_hepatic=0.0), ["CL_hepatic"]
        )


# --- Fisher information ------------------------------------------------------------------------


LIGANDS = [{"L": ligand} for ligand in (0.03, 0.1, 0.3, 1.0, 3.0)]


def test_equilibrium_binding_identifies_only_kd():
    model = wb.ReceptorBinding()
    equilibrium = wb.fim(
        model,
        ["LR"],
        [3000.0, 4000.0, 5000.0],
        parameters=["kon", "koff"],
        experiments=LIGANDS,
        noise="additive",
        sigma=0.01,
    )
    assert equilibrium.singular and math.isinf(equilibrium.condition_number)
    ((_, sloppy),) = equilibrium.sloppy_directions()
    assert sloppy == "log kon + log koff"  # scaling both leaves KD = koff / kon, and the data, unchanged
    assert equilibrium.stiff_directions()[0][1] == "-log kon + log koff"  # log KD
    with pytest.raises(wb.ModelError, match="no information on log kon \\+ log koff"):
        equilibrium.standard_errors()
    kinetic = wb.fim(
        model,
        ["LR"],
        np.linspace(1.0, 60.0, 30),
        parameters=["kon", "koff"],
        experiments=LIGANDS,
        noise="additive",
        sigma=0.01,
    )
    assert not kinetic.singular and kinetic.condition_number < 1e3
    assert np.all(kinetic.standard_errors() < 0.1)


def test_scaled_observation_identifies_only_s_over_v():
    net = wb.ReactionNetwork(
        species={"C": wb.Species(0.0, "central")},
        parameters={"k": 0.2, "V": 10.0},
        compartments={"central": "V"},
        reactions=[("C ->", "k")],
    )
    result = wb.fim(
        net, ["C"], np.linspace(1, 24, 24), parameters=["k", "V"], scales={"C": "s"}, doses=[wb.Bolus("C", 100.0)]
    )
    assert result.parameters == ("k", "V", "s")
    assert result.singular
    assert [text for _, text in result.sloppy_directions()] == ["log V + log s"]


def test_observing_another_scale_improves_tmdd_conditioning():
    model = wb.TMDD()
    times = np.linspace(10.0, 240.0, 50)
    free_drug = wb.fim(model, ["D"], times)
    with_complex = wb.fim(model, ["D", "C"], times)
    with_target = wb.fim(model, ["D", "R"], times)
    assert free_drug.parameters == ("ke", "kon", "koff", "kint", "ksyn", "kdeg", "dose")
    assert with_complex.condition_number < free_drug.condition_number / 3
    assert with_target.condition_number < free_drug.condition_number / 3


def test_fim_equals_the_sum_over_samples():
    # additive noise, one parameter, linear decay: FIM = sum (dC/dlog k)^2 / sigma^2, closed form
    net = wb.ReactionNetwork(species={"C": 5.0}, parameters={"k": 0.3}, reactions=[("C ->", "k")])
    times = np.array([1.0, 2.0, 4.0, 8.0])
    result = wb.fim(net, ["C"], times, parameters=["k"], noise="additive", sigma=0.2, rtol=1e-10, atol=1e-14)
    derivative = -0.3 * times * 5.0 * np.exp(-0.3 * times)
    assert result.matrix[0, 0] == pytest.approx(np.sum(derivative**2) / 0.04, rel=1e-7)
    assert result.standard_errors()[0] == pytest.approx(1 / math.sqrt(result.matrix[0, 0]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"observables": ["Q"]}, "unknown species 'Q'"),
        ({"parameters": ["kon", "kx"]}, "unknown parameter"),
        ({"observables": ["C"], "times": [0.0, 10.0]}, "proportional noise needs positive values"),
        ({"sigma": 0.0}, "sigma of 'D' must be positive"),
        ({"noise": "gaussian"}, "noise must be 'additive' or 'proportional'"),
        ({"times": [10.0, 5.0]}, "sorted"),
    ],
)
def test_fim_bad_input(kwargs, message):
    call = {"observables": ["D"], "times": [10.0, 20.0], **kwargs}
    with pytest.raises(wb.ModelError, match=message):
        wb.fim(wb.TMDD(), call.pop("observables"), call.pop("times"), **call)


# --- timescale separation -------------------------------------------------------------------


def test_qssa_holds_when_binding_is_fast_and_the_manifold_attracts():
    model = wb.TMDD(t_end=300.0, n_points=301)
    validity = qssa_validity(
        model,
        ["kon", "koff"],
        [1.0, 0.1, 0.01, 0.001],
        reduction={"reduction": "qss"},
        observable="D_total",
        tolerance=1e-3,
        skip_transient=5.0,
    )
    errors = validity.max_relative_error
    assert np.all(np.diff(errors) < 0)  # faster binding, better reduction
    assert validity.holds[-1] and not validity.holds[0]
    assert validity.largest_valid_epsilon <= 0.01
    frame = validity.to_dataframe()
    assert list(frame.columns) == ["epsilon", "max_relative_error", "holds"]
    # the critical manifold of the binding subsystem is attracting along the whole trajectory
    assert critical_manifold_stability(model, ["binding"]) < 0


def test_equilibria_finds_all_three_states_of_the_bistable_switch():
    from scipy.optimize import brentq

    from workbench.analysis import equilibria

    model = wb.AutoActivation()
    k0, vmax, K, n, gamma = model.k0, model.vmax, model.K, model.n, model.gamma

    def f(x):
        return k0 + vmax * x**n / (K**n + x**n) - gamma * x

    grid = np.linspace(0.0, 2 * (k0 + vmax) / gamma, 20001)
    signs = np.sign(f(grid))
    roots = [brentq(f, grid[i], grid[i + 1], xtol=1e-14) for i in np.flatnonzero(signs[:-1] != signs[1:])]
    found = equilibria(model)
    assert len(roots) == 3 and len(found) == 3
    np.testing.assert_allclose([e.values[0] for e in found], roots, rtol=1e-9)
    assert [e.stable for e in found] == [True, False, True]
    for e in found:  # stability from the analytic slope: f'(x) < 0 is stable
        h = 1e-6 * e.values[0]
        assert e.stable == ((f(e.values[0] + h) - f(e.values[0] - h)) / (2 * h) < 0)


def test_equilibria_of_a_monostable_network_is_its_steady_state():
    from workbench.analysis import equilibria

    model = wb.TwoStageExpression()
    (only,) = equilibria(model)
    np.testing.assert_allclose(
        only.values, [model.km / model.gm, model.km * model.kp / (model.gm * model.gp)], rtol=1e-10
    )


@pytest.mark.parametrize("dose", [1.0, 10.0, 1000.0])
def test_dose_scan_clearance_resolves_the_binding_phase(dose):
    # reference: the TMDD equations with an AUC accumulator, integrated by scipy's LSODA
    from scipy.integrate import solve_ivp

    from workbench.analysis import dose_scan

    m = wb.TMDD()

    def rhs(t, y):
        d, r, c, _ = y
        bind = m.kon * d * r - m.koff * c
        return [-m.ke * d - bind, m.ksyn - m.kdeg * r - bind, bind - m.kint * c, d]

    ref = solve_ivp(rhs, (0, m.t_end), [dose, m.ksyn / m.kdeg, 0.0, 0.0], method="LSODA", rtol=1e-11, atol=1e-14)
    cl_reference = dose / ref.y[3, -1]  # D(t_end) is ~e^-25 of its start: no extrapolation needed
    # the default grid (801 uniform samples in the app) once missed the seconds-long binding phase
    row = dose_scan(m, [dose], n_points=801).iloc[0]
    assert row["cl_apparent"] == pytest.approx(cl_reference, rel=1e-3)


def test_dose_scan_terminal_half_life_ignores_round_off_tails():
    from workbench.analysis import dose_scan, steady_state

    # a 1000 h window runs the low dose far below the solver's absolute tolerance; the true
    # terminal rate is the slowest eigenvalue of the model linearised at baseline
    lam = -max(steady_state(wb.TMDD()).eigenvalues.real)
    half_lives = dose_scan(wb.TMDD(t_end=1000.0), [0.01], n_points=4001)["t_half"]
    assert half_lives.iloc[0] == pytest.approx(math.log(2) / lam, rel=0.01)
