"""SBML import: closed-form time courses, events, rules, unsupported constructs, bad files,
live-model behaviour (sliders, analyses, SSA conventions) and the export round trip."""

from __future__ import annotations

import math

import holoviews as hv
import numpy as np
import panel as pn
import pytest
from sbml_build import sbml
from stats import Z, se_mean, se_variance

import workbench as wb
from workbench.errors import SBMLError, UnsupportedSBMLError
from workbench.models import MODELS
from workbench.views.families import StochasticView

DECAY = sbml(
    compartments={"cell": 2.0},
    species={"S": {"concentration": 3.0}, "P": {"amount": 0.0}},
    parameters={"k": 0.7},
    reactions=[("decay", {"S": 1}, {"P": 1}, "k * S * cell")],
)


# --- closed forms ---------------------------------------------------------------------------------
def test_first_order_decay_matches_the_exponential_in_amounts():
    model = wb.load_sbml(DECAY)
    traj = model.simulate(t_end=5.0, n_points=51, rtol=1e-10, atol=1e-14)
    amount0 = 3.0 * 2.0  # concentration times size
    np.testing.assert_allclose(traj["S"], amount0 * np.exp(-0.7 * traj.t), rtol=1e-8)
    np.testing.assert_allclose(traj["S"] + traj["P"], amount0, rtol=1e-12)  # mass balance


def test_every_free_quantity_is_a_declared_slider_and_moves_the_result():
    model = wb.load_sbml(DECAY)
    assert {"k", "cell", "S_0", "P_0"} <= set(model.param)
    k = model.param["k"]
    assert k.bounds == (0.0, None) and k.softbounds == pytest.approx((0.07, 7.0)) and k.metadata["log"]
    assert model.param["S_0"].doc.startswith("initial concentration of species")
    model.k = 1.4
    model.cell = 4.0
    traj = model.simulate(t_end=2.0, n_points=5, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(traj["S"], 3.0 * 4.0 * np.exp(-1.4 * traj.t), rtol=1e-8)


def test_hill_langmuir_occupancy_at_equilibrium():
    doc = sbml(
        species={"L": {"concentration": 2.0, "boundary": True}, "R": {"concentration": 1.0}, "LR": {}},
        parameters={"kon": 3.0, "koff": 1.5},
        reactions=[
            ("bind", {"L": 1, "R": 1}, {"LR": 1}, "kon * L * R"),
            ("unbind", {"LR": 1}, {"L": 1, "R": 1}, "koff * LR"),
        ],
    )
    model = wb.load_sbml(doc)
    traj = model.simulate(t_end=50.0, n_points=3, rtol=1e-10, atol=1e-14)
    kd = 1.5 / 3.0
    assert traj["LR"][-1] / (traj["LR"][-1] + traj["R"][-1]) == pytest.approx(2.0 / (2.0 + kd), rel=1e-8)
    assert traj["L"][-1] == 2.0  # a boundary species is not consumed
    steady = wb.steady_state(model)
    assert steady["LR"] == pytest.approx(2.0 / (2.0 + kd), rel=1e-9)


def test_rate_rule_assignment_rule_function_and_initial_assignment():
    doc = sbml(
        parameters={"a": 0.5, "x": (1.0, False), "y": (0.0, False), "b": (0.0, True)},
        functions={"twice": "lambda(u, 2 * u)"},
        rate_rules={"x": "a"},
        assignment_rules={"y": "twice(x) + b"},
        initial_assignments={"b": "a * 10"},
    )
    model = wb.load_sbml(doc)
    traj = model.simulate(t_end=4.0, n_points=9, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(traj["x"], 1.0 + 0.5 * traj.t, rtol=1e-10)
    np.testing.assert_allclose(traj.observables["y"], 2 * (1.0 + 0.5 * traj.t) + 5.0, rtol=1e-10)


def test_a_linear_algebraic_rule_is_solved_for_the_variable_it_fixes():
    """0 = A + B - total with A decaying into nothing and B fixed by the rule: B = total - A."""
    doc = sbml(
        species={"A": {"amount": 3.0}, "B": {"amount": 0.0, "boundary": True}},
        parameters={"k": 0.5, "total": 5.0},
        reactions=[("decay", {"A": 1}, {}, "k * A")],
        algebraic_rules=["A + B - total"],
    )
    traj = wb.load_sbml(doc).simulate(t_end=4.0, n_points=9, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(traj.observables["B"], 5.0 - 3.0 * np.exp(-0.5 * traj.t), rtol=1e-9)


def test_an_event_resets_a_decaying_species_at_the_exact_crossing():
    doc = sbml(
        species={"S": {"amount": 1.0}},
        parameters={"k": 1.0},
        reactions=[("decay", {"S": 1}, {}, "k * S")],
        events=[{"trigger": "S < 0.25", "assign": {"S": "1"}}],
    )
    model = wb.load_sbml(doc)
    t = np.linspace(0.0, 4.0, 401)
    traj = model.simulate(t=t, rtol=1e-10, atol=1e-14)
    period = math.log(4.0)  # S falls from 1 to 0.25 in ln 4
    expected = np.exp(-(t % period))
    np.testing.assert_allclose(traj["S"], expected, atol=1e-7)


def test_delayed_event_uses_trigger_time_values_and_priorities_order_execution():
    doc = sbml(
        parameters={"x": (0.0, False), "y": (0.0, False), "z": (0.0, False)},
        rate_rules={"x": "1"},
        events=[
            {"trigger": "x >= 1", "delay": "0.5", "assign": {"y": "x"}, "use_trigger_values": True},
            {"trigger": "x >= 2", "priority": "1", "assign": {"z": "z * 10"}, "use_trigger_values": False},
            {"trigger": "x >= 2", "priority": "2", "assign": {"z": "z + 1"}, "use_trigger_values": False},
        ],
    )
    model = wb.load_sbml(doc)
    traj = model.simulate(t=[0.0, 1.2, 1.6, 3.0], rtol=1e-10, atol=1e-14)
    values = {name: traj[name] for name in ("x", "y", "z")}
    assert values["y"][1] == 0.0  # not yet executed at t = 1.2
    assert values["y"][2] == pytest.approx(1.0, abs=1e-9)  # executed at 1.5 with x(1) = 1
    assert values["z"][3] == pytest.approx(10.0)  # priority 2 first, values at execution: (0 + 1) * 10


def test_non_persistent_event_is_cancelled_when_its_trigger_falls():
    doc = sbml(
        parameters={"x": (0.0, False), "hit": (0.0, False)},
        rate_rules={"x": "1"},
        events=[{"trigger": "x >= 1 && x < 1.2", "delay": "0.5", "persistent": False, "assign": {"hit": "1"}}],
    )
    traj = wb.load_sbml(doc).simulate(t=[0.0, 2.0], rtol=1e-10, atol=1e-14)
    assert traj["hit"][-1] == 0.0
    persistent = doc.replace('persistent="false"', 'persistent="true"')
    assert wb.load_sbml(persistent).simulate(t=[0.0, 2.0])["hit"][-1] == 1.0


# --- refused input ----------------------------------------------------------------------------------
def test_unsupported_constructs_are_named():
    with pytest.raises(UnsupportedSBMLError, match="nonlinear") as info:
        wb.load_sbml(sbml(parameters={"x": (1.0, False)}, algebraic_rules=["x^2 - 1"]))
    assert info.value.construct == "AlgebraicRule"
    delayed = sbml(parameters={"x": (1.0, False)}, rate_rules={"x": "delay(x, 1)"})
    with pytest.raises(UnsupportedSBMLError, match="csymbol delay"):
        wb.load_sbml(delayed)
    comp = DECAY.replace(
        'xmlns="http://www.sbml.org/sbml/level3/version2/core"',
        'xmlns="http://www.sbml.org/sbml/level3/version2/core" '
        'xmlns:comp="http://www.sbml.org/sbml/level3/version1/comp/version1" comp:required="true"',
    )
    with pytest.raises(UnsupportedSBMLError, match="package comp"):
        wb.load_sbml(comp)


@pytest.mark.parametrize(
    "text",
    [DECAY[: len(DECAY) // 2], "<sbml/>", "not xml at all <", DECAY.replace('id="k"', 'id="k" value="x"')],
)
def test_malformed_documents_raise_a_clear_error(text):
    with pytest.raises(SBMLError):
        wb.load_sbml(text)


def test_a_missing_file_and_a_huge_file_are_refused(tmp_path):
    with pytest.raises(SBMLError, match="no SBML file"):
        wb.load_sbml(tmp_path / "absent.xml")
    big = tmp_path / "big.xml"
    with big.open("wb") as handle:
        handle.truncate(33 * 2**20)
    with pytest.raises(SBMLError, match="larger than"):
        wb.load_sbml(big)


def test_a_solver_failure_is_an_error_not_a_wrong_result():
    blowup = sbml(parameters={"x": (1.0, False)}, rate_rules={"x": "x^2"})
    with pytest.raises(wb.SolverError):
        wb.load_sbml(blowup).simulate(t_end=2.0)


# --- stochastic conventions -------------------------------------------------------------------------
def test_ssa_uses_amounts_and_the_kinetic_law_as_written():
    """Immigration-death with amounts as counts (hasOnlySubstanceUnits, compartment size 5
    not entering the laws): the stationary law is Poisson(b / d)."""
    doc = sbml(
        compartments={"cell": 5.0},
        species={"X": {"amount": 0.0, "only_substance": True}},
        parameters={"b": 20.0, "d": 0.5},
        reactions=[("birth", {}, {"X": 1}, "b"), ("death", {"X": 1}, {}, "d * X")],
    )
    model = wb.load_sbml(doc)
    ens = model.ssa(n_runs=4000, t=[0.0, 30.0], seed=7)
    counts = ens["X"][:, -1].astype(float)
    assert abs(counts.mean() - 40.0) <= Z * se_mean(counts)
    assert abs(counts.var(ddof=1) - 40.0) <= Z * se_variance(counts)  # Poisson: variance = mean


def test_stochastic_simulation_refuses_events_and_rate_rules():
    doc = sbml(parameters={"x": (1.0, False)}, rate_rules={"x": "1"})
    with pytest.raises(UnsupportedSBMLError, match="rate rules"):
        wb.load_sbml(doc).ssa(n_runs=10)


# --- export round trip ------------------------------------------------------------------------------
NETWORK_MODELS = sorted(name for name, cls in MODELS.items() if cls.network_based)


@pytest.mark.parametrize("name", NETWORK_MODELS)
def test_export_import_simulate_reproduces_every_built_in_model(name):
    model = MODELS[name]()
    expected = model.simulate(rtol=1e-10, atol=1e-13)
    imported = wb.load_sbml(model.to_sbml())
    got = imported.simulate(t=expected.t, rtol=1e-10, atol=1e-13)
    tr = imported.translation()
    for species in expected.species:
        compartment = tr.desc.symbols[species].compartment
        concentration = got[species] / tr.initial[compartment]
        scale = max(np.abs(expected[species]).max(), 1e-12)
        np.testing.assert_allclose(concentration, expected[species], rtol=1e-6, atol=1e-6 * scale, err_msg=species)


def test_an_imported_model_exports_valid_sbml_that_reimports_identically():
    model = wb.load_sbml(DECAY)
    again = wb.load_sbml(model.to_sbml())
    a = model.simulate(t_end=3.0, n_points=7, rtol=1e-10, atol=1e-14)
    b = again.simulate(t_end=3.0, n_points=7, rtol=1e-10, atol=1e-14)
    for species in a.species:
        np.testing.assert_allclose(b[species], a[species], rtol=1e-9)


def test_a_level_2_file_imports_as_its_level_3_version():
    """libsbml gives every Level 2 document the (drawing-only) layout and render plugins."""
    import libsbml

    document = libsbml.readSBMLFromString(DECAY)
    assert document.setLevelAndVersion(2, 4, False)
    level_2 = libsbml.writeSBMLToString(document)
    plugins = libsbml.readSBMLFromString(level_2)
    assert "layout" in [plugins.getPlugin(i).getPackageName() for i in range(plugins.getNumPlugins())]
    a = wb.load_sbml(level_2).simulate(t_end=2.0, n_points=5, rtol=1e-10, atol=1e-14)
    b = wb.load_sbml(DECAY).simulate(t_end=2.0, n_points=5, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(a["S"], b["S"], rtol=1e-12)


def test_the_export_of_an_imported_model_keeps_its_events_rules_and_current_values():
    """The file as read, with the sliders' values: events, rules and local parameters included."""
    import libsbml

    doc = sbml(
        species={"X": {"amount": 5.0, "only_substance": True}},
        parameters={"a": (2.0, False), "d": 0.5, "t_on": 3.0, "y": (0.0, False)},
        reactions=[("birth", {}, {"X": 1}, "a"), ("death", {"X": 1}, {}, "d * X")],
        assignment_rules={"y": "2 * X"},
        events=[{"trigger": "time >= t_on", "assign": {"a": "4 * a"}}],
    )
    # a local parameter in the death law, and the document in Level 2 Version 4
    document = libsbml.readSBMLFromString(doc)
    law = document.getModel().getReaction("death").getKineticLaw()
    local = law.createLocalParameter()
    local.setId("h")
    local.setValue(2.0)
    law.setMath(libsbml.parseL3Formula("d * X / h"))
    assert document.setLevelAndVersion(2, 4, False)
    model = wb.load_sbml(libsbml.writeSBMLToString(document))
    model.t_on, model.a, model.death_h = 1.5, 3.0, 4.0
    text = model.to_sbml()
    exported = libsbml.readSBMLFromString(text)
    assert (exported.getLevel(), exported.getVersion()) == (3, 2) and exported.getModel().getNumEvents() == 1
    again = wb.load_sbml(text)
    assert (again.t_on, again.a, again.death_h) == (1.5, 3.0, 4.0)
    a = model.simulate(t_end=4.0, n_points=9, rtol=1e-10, atol=1e-14)
    b = again.simulate(t_end=4.0, n_points=9, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(b["X"], a["X"], rtol=1e-12)
    np.testing.assert_allclose(b["y"], 2 * b["X"], rtol=1e-12)  # the rule came along
    # after t_on the birth rate is 12: X -> 12 / (d / h) = 96, reached from below
    k = 12.0 / (0.5 / 4.0)
    assert a["X"][-1] < k and np.all(np.diff(a["X"][3:]) > 0)


# --- a live model -----------------------------------------------------------------------------------
def test_analyses_run_on_an_imported_model():
    doc = sbml(
        species={"X": {"amount": 10.0, "only_substance": True}},
        parameters={"b": 20.0, "d": 0.5},
        reactions=[("birth", {}, {"X": 1}, "b"), ("death", {"X": 1}, {}, "d * X")],
    )
    model = wb.load_sbml(doc)
    assert wb.steady_state(model)["X"] == pytest.approx(40.0, rel=1e-10)
    lna = wb.lna(model)
    assert lna.variance[lna.species.index("X")] == pytest.approx(40.0, rel=1e-8)  # Poisson
    info = wb.fim(model, ["X"], [1.0, 2.0, 4.0, 8.0], parameters=["b", "d"])
    assert np.all(np.isfinite(info.matrix)) and info.matrix.shape == (2, 2)


def _labels(drawing) -> set[str]:
    return {element.label for element in drawing.traverse(lambda e: e, [hv.Curve, hv.Area, hv.Histogram])}


def test_an_imported_model_gets_the_ssa_view_and_the_lna_only_where_it_applies():
    birth_death = dict(
        species={"X": {"amount": 10.0, "only_substance": True}},
        parameters={"b": 20.0, "d": 0.5},
        reactions=[("birth", {}, {"X": 1}, "b"), ("death", {"X": 1}, {}, "d * X")],
    )
    plain = wb.app(wb.load_sbml(sbml(**birth_death)))
    view = next(v for v in plain.views if isinstance(v, StochasticView))
    view.refresh()
    view.wait()
    assert "LNA mean" in _labels(view.render(view.pipe.data)) and "No LNA" not in view.status.object
    # with a reset at t = 5 the SSA runs the event and the LNA (which would miss it) is left out
    reset = wb.load_sbml(sbml(**birth_death, events=[{"trigger": "time >= 5", "assign": {"X": "0"}}]))
    reset.t_end = 10.0
    the_app = wb.app(reset)
    view = next(v for v in the_app.views if isinstance(v, StochasticView))
    assert view.species.options == ["X"]  # not the clock
    view.refresh()
    view.wait()
    ensemble = view.pipe.data
    k = int(np.searchsorted(ensemble.t, 5.0))
    assert ensemble.t[k] == 5.0 and (ensemble["X"][:, k] == 0).all()
    labels = _labels(view.render(ensemble))
    assert "LNA mean" not in labels and "median" in labels
    assert "No LNA curves" in view.status.object and "events" in view.status.object
    assert not the_app.alert.visible
    with pytest.raises(wb.ModelError, match="linear noise approximation does not describe"):
        wb.lna_trajectory(reset, [0.0, 1.0])


def test_file_names_are_escaped_in_the_app():
    doc = sbml(
        species={"X": {"amount": 1.0, "name": "<img src=x onerror=alert(1)>"}},
        parameters={"k": 1.0},
        reactions=[("death", {"X": 1}, {}, "k * X")],
    )
    model = wb.load_sbml(doc)
    the_app = wb.app(model)
    the_app.report(the_app.views[0], ValueError("<script>alert(1)</script>"))
    assert "<script>" not in the_app.alert.object and "&lt;script&gt;" in the_app.alert.object
    # Bokeh renders tooltip text as HTML: the file's name must reach it escaped
    tooltips = [icon.value for card in the_app.parameter_controls.cards for icon in card.select(pn.widgets.TooltipIcon)]
    assert any("&lt;img src=x" in text for text in tooltips)
    assert not any("<img" in text for text in tooltips)
