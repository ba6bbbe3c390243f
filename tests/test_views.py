"""The app objects: widgets from declarations, views that follow the parameters, messages for
errors, zoom that survives redraws, scenarios and CSV out and back in.

Plots are rendered with HoloViews' Bokeh renderer exactly as a served app renders them, and
what they show is read back from the Bokeh models (data sources, spans, titles).
"""

from __future__ import annotations

import gc
import hashlib
import html
import json
import logging
import math
import threading
import time

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
import pytest
from bokeh.models import ColumnDataSource, CustomJSTickFormatter, Span, Title

import workbench as wb
from workbench.errors import SolverError
from workbench.models import MODELS, Quantity
from workbench.models.scenario import load_scenario, model_from_scenario, save_scenario, scenario_json
from workbench.views import app, base
from workbench.views.base import data_limits, install_exception_handler
from workbench.views.common import IdentifiabilityView
from workbench.views.controls import ParameterControls, label_for
from workbench.views.families import StochasticView

#: For each model, parameters whose change must alter what each of its views shows.
PROBES = {
    "OneCompartment": ["dose", "ka"],
    "TwoCompartment": ["dose", "ka"],
    "PBPK": ["dose"],
    "TMDD": ["ke", "kdeg"],
    "ReceptorBinding": ["kon"],
    "BirthDeath": ["k"],
    "TwoStageExpression": ["kp"],
    "TelegraphExpression": ["kon"],
    "AutoActivation": ["vmax"],
    "HybridTissue": ["D"],
}


def numeric(parameter: param.Parameter) -> bool:
    return isinstance(parameter, param.Number) and not isinstance(parameter, param.Boolean)


def shown(plot) -> str:
    """A fingerprint of what a rendered plot shows: data, marker positions and titles."""
    digest = hashlib.sha1()
    for model in sorted(plot.state.references(), key=lambda m: m.id):
        if isinstance(model, ColumnDataSource):
            for key in sorted(model.data):
                values = model.data[key]
                try:
                    digest.update(np.asarray(values, dtype=float).tobytes())
                except (TypeError, ValueError):
                    digest.update(repr(list(values)).encode())
        elif isinstance(model, Span):
            digest.update(repr(model.location).encode())
        elif isinstance(model, Title):
            digest.update(repr(model.text).encode())
    return digest.hexdigest()


def render(view):
    """Render a view's live plot as a served app would; returns the HoloViews plot."""
    return hv.renderer("bokeh").get_plot(view.dynamic())


def ranges(plot) -> tuple[float, float, float, float]:
    x, y = plot.state.x_range, plot.state.y_range
    return float(x.start), float(x.end), float(y.start), float(y.end)


def test_the_gallery_covers_every_model():
    assert set(PROBES) == set(MODELS)


# --- widgets from declarations -------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_numeric_parameter_declares_hard_and_soft_bounds(name):
    for pname, parameter in MODELS[name].param.objects().items():
        if pname == "name" or not numeric(parameter):
            continue
        assert parameter.bounds is not None and parameter.bounds[0] is not None, f"{name}.{pname}: no hard bounds"
        assert parameter.softbounds is not None, f"{name}.{pname}: no softbounds (Panel would show a bare number box)"
        lo, hi = parameter.softbounds
        assert lo is not None and hi is not None and lo < hi, f"{name}.{pname}: softbounds {parameter.softbounds}"
        hard_lo, hard_hi = parameter.bounds
        assert lo >= hard_lo and (hard_hi is None or hi <= hard_hi), f"{name}.{pname}: softbounds outside bounds"
        assert parameter.doc, f"{name}.{pname}: no doc for the tooltip"


@pytest.mark.parametrize("name", sorted(MODELS))
def test_widgets_follow_the_declarations(name):
    model = MODELS[name]()
    controls = ParameterControls(model)
    for pname, widget in controls.widgets.items():
        parameter = model.param[pname]
        assert widget.label == label_for(parameter)
        unit = (parameter.metadata or {}).get("unit")
        if unit and unit != "-":
            assert f"[{unit}]" in widget.label
        if not numeric(parameter):
            continue
        lo, hi = parameter.softbounds
        value = getattr(model, pname)
        if isinstance(parameter, Quantity) and parameter.metadata.get("log"):
            lo = lo if lo > 0 else hi * 1e-4
            assert isinstance(widget, pn.widgets.FloatSlider)
            assert isinstance(widget.format, CustomJSTickFormatter)  # ticks show 10**position
            assert widget.start == pytest.approx(math.log10(min(lo, value)))
            assert widget.end == pytest.approx(math.log10(max(hi, value)))
            assert widget.value == pytest.approx(math.log10(value))
        else:
            assert isinstance(widget, (pn.widgets.FloatSlider, pn.widgets.IntSlider))
            assert widget.start == pytest.approx(min(lo, value)) and widget.end == pytest.approx(max(hi, value))
            assert widget.value == pytest.approx(value)
    tooltips = [obj.value for card in controls.cards for obj in card.select(pn.widgets.TooltipIcon)]
    # shown escaped: Bokeh renders tooltip text as HTML
    assert all(html.escape(model.param[p].doc) in tooltips for p in controls.widgets)


def test_parameters_are_grouped_in_cards_dosing_first():
    titles = [card.title for card in ParameterControls(wb.TMDD()).cards]
    assert titles[:4] == ["Dosing", "Drug", "Binding", "Target"]


def test_rate_constants_spanning_decades_get_log_sliders():
    controls = ParameterControls(wb.TMDD())
    for pname in ("kon", "koff", "kint", "ke", "dose"):
        assert isinstance(controls.widgets[pname].format, CustomJSTickFormatter), pname


def release(slider, value) -> None:
    """What the browser does when a slider is let go."""
    slider.value = value
    with param.edit_constant(slider):
        slider.value_throttled = value


def test_slider_release_writes_the_model_and_the_model_writes_back():
    model = wb.TMDD()
    controls = ParameterControls(model)
    kon = controls.widgets["kon"]
    kon.value = math.log10(7.0)  # dragging: nothing recomputes yet
    assert model.kon == 1.0
    release(kon, math.log10(3.0))
    assert model.kon == pytest.approx(3.0, rel=1e-12)
    model.kon = 0.5  # changed elsewhere (a scenario, a click on a diagram)
    assert kon.value == pytest.approx(math.log10(0.5))
    doses = controls.widgets["n_doses"]
    release(doses, 4)
    assert model.n_doses == 4


# --- views follow the parameters -----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MODELS))
def test_a_parameter_change_redraws_every_view(name):
    model = MODELS[name]()
    the_app = app(model)
    plots = [(view, render(view)) for view in the_app.views if not isinstance(view, StochasticView)]
    changed = {view.title: False for view, _ in plots}
    runs = getattr(the_app, "_tissue_runs", None)
    for probe in PROBES[name]:
        if runs is not None:
            runs.wait()  # background runs redraw from their thread here (no event loop): let them finish
        before = [shown(plot) for _, plot in plots]
        parameter = model.param[probe]
        old = getattr(model, probe)
        setattr(model, probe, old * 1.5 if old * 1.5 <= parameter.softbounds[1] else old / 1.5)
        if runs is not None:
            runs.wait()
        for (view, plot), fingerprint in zip(plots, before, strict=True):
            changed[view.title] |= shown(plot) != fingerprint
    assert all(changed.values()), (
        f"views that did not follow {PROBES[name]}: {[t for t, c in changed.items() if not c]}"
    )
    assert not the_app.alert.visible, the_app.alert.object


def test_time_course_matches_the_analytic_one_compartment_curve():
    model = wb.OneCompartment(dose=100.0, CL=5.0, V=50.0)
    view = app(model).views[0]
    render(view)
    model.dose = 250.0
    frame = view.compute()
    t = frame.index.to_numpy()
    np.testing.assert_allclose(frame["C"], 250.0 / 50.0 * np.exp(-5.0 / 50.0 * t), rtol=1e-5, atol=1e-9)


def test_only_views_that_read_a_parameter_recompute(monkeypatch):
    model = wb.OneCompartment()
    the_app = app(model)
    views = {view.title: view for view in the_app.views}
    calls = dict.fromkeys(views, 0)
    for title, view in views.items():
        compute = view.compute

        def counted(compute=compute, title=title):
            calls[title] += 1
            return compute()

        monkeypatch.setattr(view, "compute", counted)
        render(view)
    start = dict(calls)
    model.Emax = 80.0  # a pure PD parameter: concentrations, NCA and equilibria cannot change
    assert calls["Effect (PD)"] == start["Effect (PD)"] + 1
    for title in ("Time course", "NCA", "Bifurcation"):
        assert calls[title] == start[title], title
    model.dose = 200.0
    assert calls["Time course"] == start["Time course"] + 1
    assert calls["Bifurcation"] == start["Bifurcation"]  # the undosed network's equilibria


def test_views_share_one_simulation_per_parameter_set(monkeypatch):
    model = wb.TMDD()
    the_app = app(model)
    runs = []
    simulate = type(model).simulate
    monkeypatch.setattr(type(model), "simulate", lambda self, *a, **k: runs.append(1) or simulate(self, *a, **k))
    model.ke = 0.02
    first = the_app.trajectory()
    assert the_app.trajectory() is first
    assert len(runs) == 1
    model.ke = 0.03
    the_app.trajectory()
    assert len(runs) == 2


# --- errors become messages ------------------------------------------------------------------------


def test_a_compute_error_becomes_a_message_and_the_next_change_recovers(monkeypatch):
    model = wb.OneCompartment()
    the_app = app(model)
    view = the_app.views[0]
    plot = render(view)
    good = shown(plot)

    def fail():
        raise SolverError("step size underflow at t = 3.2 h")

    monkeypatch.setattr(view, "compute", fail)
    model.dose = 300.0
    assert the_app.alert.visible
    assert "Time course" in the_app.alert.object and "step size underflow" in the_app.alert.object
    assert shown(plot) == good  # the last good drawing stays
    monkeypatch.undo()
    model.dose = 200.0
    assert not the_app.alert.visible
    assert shown(plot) != good


def test_a_real_model_error_is_shown_in_the_identifiability_view():
    the_app = app(wb.TMDD())
    view = next(v for v in the_app.views if isinstance(v, IdentifiabilityView))
    default = view.observables.value
    view.observables.value = []
    view.element()
    assert the_app.alert.visible and "observable" in the_app.alert.object
    view.observables.value = default
    view.element()
    assert not the_app.alert.visible


def test_a_singular_fim_is_reported_with_the_unidentifiable_combination():
    model = wb.OneCompartment(route="iv_bolus")
    view = next(v for v in app(model).views if isinstance(v, IdentifiabilityView))
    view.parameters.value = ["CL", "V", "F"]  # F does not act on an IV bolus
    view.element()
    assert "Singular" in view.summary.object and "F" in view.summary.object


def test_the_exception_handler_logs_and_never_replaces_the_users(monkeypatch, caplog):
    def mine(exc):
        return None

    monkeypatch.setattr(pn.config, "exception_handler", mine)
    install_exception_handler()
    assert pn.config.exception_handler is mine
    monkeypatch.setattr(pn.config, "exception_handler", None)
    install_exception_handler()
    handler = pn.config.exception_handler
    assert handler is not None and handler is not mine
    with caplog.at_level(logging.ERROR, logger="workbench.views"):
        handler(RuntimeError("boom"))
    assert "boom" in caplog.text or any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)


# --- zoom survives redraws --------------------------------------------------------------------------


def test_redraws_follow_the_data_keep_the_users_zoom_and_reset_hands_back():
    model = wb.OneCompartment()
    view = app(model).views[0]
    plot = render(view)
    x0, x1, _, y1 = ranges(plot)
    assert (x0, x1) == (0.0, float(model.t_end))
    model.dose = 400.0
    assert ranges(plot)[3] == pytest.approx(4 * y1, rel=0.05)  # the axis follows the data
    plot.state.x_range.start, plot.state.x_range.end = 5.0, 10.0  # the user zooms (synced from the browser)
    plot.state.y_range.start, plot.state.y_range.end = 1.0, 2.0
    model.dose = 100.0
    assert ranges(plot) == (5.0, 10.0, 1.0, 2.0)
    view._reset_zoom(resetting=True)  # the reset tool: ranges go back to the current data
    assert ranges(plot)[:2] == (0.0, float(model.t_end)) and ranges(plot)[3] == pytest.approx(y1, rel=0.05)


def test_data_limits_pad_y_and_handle_log_axes():
    curve = hv.Curve(([0.0, 1.0, 2.0], [0.0, 5.0, 10.0]))
    (x0, x1), (y0, y1) = data_limits(curve)
    assert (x0, x1) == (0.0, 2.0) and y0 == pytest.approx(-0.5) and y1 == pytest.approx(10.5)
    (_, _), (y0, y1) = data_limits(curve, logy=True)
    assert y0 > 0 and y0 < 5.0 and y1 > 10.0  # the zero is skipped on a log axis
    assert data_limits(hv.Table(pd.DataFrame({"a": [1]}))) is None


# --- stochastic views refine progressively ----------------------------------------------------------


def test_ssa_view_refines_in_the_background_and_a_newer_change_wins():
    model = wb.BirthDeath(k=10.0, gamma=1.0)
    view = next(v for v in app(model).views if isinstance(v, StochasticView))
    delivered = []
    view.pipe.add_subscriber(lambda data: delivered.append((data.n_runs, float(view.model.k))))
    model.k = 20.0
    model.k = 40.0  # supersedes the refinement for k = 20
    view.wait()
    assert delivered[-1] == (view.large, 40.0)
    assert (view.large, 20.0) not in delivered
    ensemble = view.pipe.data
    # the delivered ensemble is the k = 40 one: stationary Poisson mean 40 (a 99.9% interval)
    x = ensemble[ensemble.species[0]][:, -1]
    assert abs(x.mean() - 40.0) < 3.3 * math.sqrt(40.0 / x.size)


@pytest.mark.parametrize("pane", [base.Markdown, base.Alert])
def test_a_pane_updated_in_a_hidden_tab_keeps_the_servers_stylesheets(pane):
    # the model of a hidden dynamic tab has no document; Panel's own panes then point their
    # stylesheets at its CDN, which an offline browser cannot load when the tab comes back
    from bokeh.document import Document
    from panel.io.state import set_curdoc

    doc = Document()
    doc._template_variables["dist_url"] = "static/extensions/panel/"
    shown = pane("first")
    tabs = pn.Tabs(("a", pn.pane.Markdown("a")), ("b", pn.Column(shown)), dynamic=True, active=1)
    with set_curdoc(doc):
        root = tabs.get_root(doc)
        tabs.active = 0
        shown.object = "second"
        tabs.active = 1
    model = shown._models[root.ref["id"]][0]
    assert "second" in model.text
    urls = [str(sheet.url) for sheet in model.stylesheets if hasattr(sheet, "url")]
    assert urls and all(url.startswith("static/extensions/panel/") for url in urls), urls


# --- scenarios and data -------------------------------------------------------------------------------


def _perturbed(name: str, seed: int = 3):
    model = MODELS[name]()
    rng = np.random.default_rng(seed)
    for pname, parameter in model.param.objects().items():
        if isinstance(parameter, Quantity) and parameter.metadata.get("group") != "simulation":
            lo, hi = parameter.softbounds
            setattr(model, pname, float(lo + (hi - lo) * rng.uniform(0.3, 0.7)))
    return model


@pytest.mark.parametrize("name", sorted(MODELS))
def test_scenario_files_round_trip_exactly(name, tmp_path):
    model = _perturbed(name)
    loaded = load_scenario(save_scenario(model, tmp_path / "scenario.json"))
    assert type(loaded) is type(model)
    assert loaded.values() == model.values()


def test_the_app_loads_scenarios_and_rejects_bad_ones_without_losing_state():
    model = wb.TMDD()
    the_app = app(model)
    the_app.scenario_upload.value = scenario_json(wb.TMDD(kon=0.123456789, dose=42.0)).encode()
    assert model.kon == 0.123456789 and model.dose == 42.0 and not the_app.alert.visible
    assert the_app.parameter_controls.widgets["kon"].value == pytest.approx(math.log10(0.123456789))
    before = model.values()
    good = json.loads(scenario_json(model))
    bad_files = {
        "not valid JSON": b"{not json",
        "not TMDD": scenario_json(wb.OneCompartment()).encode(),
        "kon": json.dumps({**good, "parameters": {**good["parameters"], "kon": -1.0}}).encode(),
        "no parameter": json.dumps({**good, "parameters": {**good["parameters"], "bogus": 1}}).encode(),
    }
    for expected, data in bad_files.items():
        the_app.scenario_upload.value = data
        assert the_app.alert.visible and expected in the_app.alert.object, the_app.alert.object
        assert model.values() == before
    saved = the_app._scenario_file().getvalue()
    assert model_from_scenario(saved).values() == before


def test_csv_download_holds_the_simulation():
    model = wb.OneCompartment()
    frame = pd.read_csv(app(model)._csv_file(), index_col=0)
    traj = model.simulate()
    np.testing.assert_allclose(frame.index.to_numpy(), traj.t, rtol=1e-15)
    np.testing.assert_allclose(frame["C"].to_numpy(), traj["C"], rtol=1e-15)


# --- display ------------------------------------------------------------------------------------------------


def test_panel_shows_a_model_as_its_app():
    model = wb.TMDD()
    shown_app = pn.panel(model)
    widgets = shown_app.select(pn.widgets.FloatSlider)
    assert any(w.label.startswith("kon") for w in widgets)
    assert shown_app.select(pn.Tabs)


def test_tissue_views_show_a_preview_then_the_full_run():
    from workbench.views.families import TissueRuns

    model = wb.HybridTissue(t_end=200.0, nx=40)
    the_app = app(model)
    view = the_app.views[0]
    plot = render(view)
    runs = TissueRuns.of(the_app)
    runs.wait()
    assert runs.full and "preview" not in plot.state.title.text
    gate = threading.Event()
    runs._executor.submit(gate.wait)  # hold the background run until the preview is checked
    try:
        model.D = 700.0
        preview = runs.result
        title = plot.state.title.text
        full = runs.full
    finally:
        gate.set()
    assert not full and "preview" in title, title
    np.testing.assert_allclose(np.diff(preview.summary["t"]), TissueRuns.PREVIEW * model.dt)
    assert preview.mass_balance_error() < 1e-9  # the coarse step keeps the exact ledger
    runs.wait()
    assert runs.full and "preview" not in plot.state.title.text
    np.testing.assert_allclose(np.diff(runs.result.summary["t"]), model.dt)
    expected = model.simulate()
    np.testing.assert_array_equal(runs.result.fields[-1], expected.fields[-1])  # the same seeded run


def test_a_click_on_the_bifurcation_diagram_sets_the_parameter():
    from workbench.views.common import BifurcationView

    model = wb.AutoActivation()
    view = next(v for v in app(model).views if isinstance(v, BifurcationView))
    name = view.parameter.value
    lo, hi = model.param[name].softbounds
    view._tapped(x=0.5 * (lo + hi), y=1.0)
    assert getattr(model, name) == pytest.approx(0.5 * (lo + hi))
    before = getattr(model, name)
    view._tapped(x=-1.0, y=1.0)  # outside the hard bounds: ignored, nothing breaks
    assert getattr(model, name) == before


def test_serving_beyond_localhost_needs_explicit_origins(capsys):
    from workbench.cli import main

    assert main(["serve", "--address", "0.0.0.0"]) == 2
    assert "--allow-origin" in capsys.readouterr().out


def test_the_bifurcation_view_draws_every_branch_through_the_current_value():
    from workbench.views.common import BifurcationView

    model = wb.AutoActivation()
    view = next(v for v in app(model).views if isinstance(v, BifurcationView))
    diagrams = view.compute()
    value = float(getattr(model, view.parameter.value))
    crossings = sorted(
        float(np.interp(value, d.values[order], d["X"][order]))
        for d in diagrams
        for order in [np.argsort(d.values)]
        if d.values.min() <= value <= d.values.max() and np.all(np.diff(d.values[order]) > 0)
    )
    # the upper stable branch (about 42 molecules at the defaults) is drawn, not only the lower one
    assert any(abs(x - 42.05) < 0.1 for x in crossings)
    assert sum(len(d.folds) for d in diagrams) >= 1


def test_the_nca_view_resolves_the_early_phase_of_a_pbpk_bolus():
    from workbench.views.families import NCAView

    model = wb.PBPK()
    view = next(v for v in app(model).views if isinstance(v, NCAView))
    cl = view.compute().set_index("parameter").loc["CL (systemic: F dose / AUC)", "value"]

    # well-stirred organ clearances (the intrinsic clearance acts on the blood leaving the organ)
    def organ(q, cl_int):
        return q * cl_int / (q + cl_int)

    expected = organ(model.Q_liver, model.CL_hepatic) + organ(model.Q_kidney, model.CL_renal)
    assert cl == pytest.approx(expected, rel=2e-3)


def test_the_population_view_shows_the_population_and_follows_the_model():
    from workbench.views.families import PopulationView

    model = wb.OneCompartment(n_doses=3, interval=12.0)
    view = next(v for v in app(model).views if isinstance(v, PopulationView))
    bands, typical, observable = view.compute()
    direct = wb.population(model, 500, {"CL": 0.3, "V": 0.2}, seed=0).percentiles([5, 50, 95])
    np.testing.assert_array_equal(bands.to_numpy(), direct.to_numpy())
    np.testing.assert_array_equal(typical[observable], model.simulate()["C"])
    assert "Trough after the last dose" in view.summary.object
    width = (bands["p95"] - bands["p5"]).to_numpy()[1:]
    view.omega_cl.value, view.omega_v.value = 0.6, 0.4
    wider, _, _ = view.compute()
    assert np.all((wider["p95"] - wider["p5"]).to_numpy()[1:] > width)
    model.V = 100.0  # the typical subject moves and the band with it
    moved, _, _ = view.compute()
    assert moved["p50"].iloc[0] == pytest.approx(wider["p50"].iloc[0] / 2, rel=0.1)
    assert isinstance(view.render(view.compute()), hv.Overlay)


def _sweep_view(model):
    from workbench.views.common import SweepView

    return next(v for v in app(model).views if isinstance(v, SweepView))


def test_every_network_model_app_has_a_sweep_view():
    for name, cls in MODELS.items():
        model = cls()
        if model.network_based:
            assert _sweep_view(model).x.value is not None, name


def test_the_sweep_view_spans_its_range_and_matches_closed_forms():
    model = wb.OneCompartment(dose=100.0, CL=5.0, V=50.0, t_end=24.0, n_points=49)
    view = _sweep_view(model)
    assert (view.x.value, view.colour.value, view.observable.value) == ("CL", "V", "C")
    view.output.value, view.fold.value, view.n_points.value = "cmax", 4.0, 40
    table = view.compute()
    assert len(table) == 40 and (table["error"] == "").all()
    # Latin hypercube, log-uniform for the log-declared CL and V: one point in each of 40 strata
    for name, value in (("CL", 5.0), ("V", 50.0)):
        strata = np.floor(40 * np.log(table[name] / (value / 4)) / np.log(16.0)).astype(int)
        assert sorted(strata) == list(range(40))
    # an IV bolus peaks at t = 0: Cmax = dose / V whatever CL is
    np.testing.assert_allclose(table["cmax"], 100.0 / table["V"], rtol=1e-9)
    # Cmax falls strictly with V: rank correlation exactly -1; with CL as the points fall
    from scipy.stats import spearmanr

    r_cl = spearmanr(table["cmax"], table["CL"]).statistic
    assert f"Rank correlation with CL {r_cl:+.2f}, V -1.00." in view.summary.object
    drawing = view.render(table)
    assert isinstance(drawing, hv.Overlay)
    # the range follows the model: the sweep is centred on the current value
    model.CL = 10.0
    assert view.ranges()["CL"] == pytest.approx((2.5, 40.0))


def test_the_sweep_view_of_a_birth_death_process_finds_k_over_gamma():
    model = wb.BirthDeath(k=10.0, gamma=1.0)
    view = _sweep_view(model)
    assert view.output.value == "steady_state"
    table = view.compute()
    np.testing.assert_allclose(table["steady_state"], table["k"] / table["gamma"], rtol=1e-6)


def test_the_sweep_view_keeps_inside_hard_bounds_and_reports_failed_points(monkeypatch):
    model = wb.OneCompartment(F=0.9, route="oral")
    view = _sweep_view(model)
    view.x.value, view.fold.value = "F", 3.0
    lo, hi = view.ranges()["F"]
    assert lo == pytest.approx(0.3) and hi == model.param["F"].bounds[1]
    real = wb.analysis.sweep

    def failing(*args, **kwargs):
        table = real(*args, **kwargs)
        table.loc[table.index[:3], "error"] = "the solver gave up"
        return table

    monkeypatch.setattr(wb.analysis, "sweep", failing)
    view.compute()
    assert "**3 points failed**, e.g. the solver gave up" in view.summary.object


# --- budgets and cancellation ---------------------------------------------------------------------


def test_a_view_over_the_apps_time_budget_says_so_and_the_app_recovers(monkeypatch):
    model = wb.TMDD()
    live = app(model)
    live.budget = 0.3
    view = live.views[0]
    view.element()  # a first drawing
    slow = wb.TMDD(kon=1e4, koff=1.0, t_end=5000.0, n_points=11)
    monkeypatch.setattr(view, "compute", lambda: slow.simulate(method="dopri5", max_steps=10**12, rtol=1e-12))
    start = time.monotonic()
    kept = view.element()
    assert time.monotonic() - start < 5.3
    assert kept is view._last  # the last good drawing stays
    assert "0.3 s time budget ran out" in live.alert.object and live.alert.visible
    monkeypatch.undo()
    model.kon = 2.0
    view.element()
    assert not live.alert.visible


def test_a_newer_change_cancels_the_running_ssa_refinement():
    model = wb.BirthDeath(k=1000.0, gamma=1.0, t_end=1000.0)
    view = next(v for v in app(model).views if isinstance(v, StochasticView))
    view.small, view.large = 2, 3000  # the large ensemble: ~6e9 events, minutes
    from workbench.views.base import deliver_pending

    model.k = 900.0
    deliver_pending()  # starts the background refinement (a script has no event loop)
    running = view._pending
    time.sleep(0.3)
    assert not running.done()
    model.k = 800.0  # supersedes it
    running.result(timeout=5.0)  # the stale refinement stopped within a few of its steps
    deliver_pending()  # the refinement for k = 800 starts
    assert view._pending is not running
    view._refining.cancel()  # and is cancelled too, to end the test
    view._pending.result(timeout=5.0)


def test_values_a_browser_should_never_send_are_refused_with_a_message():
    model = wb.OneCompartment()
    the_app = app(model)
    before = model.values()
    widgets = the_app.parameter_controls.widgets
    hostile = [
        ("CL", 1e6, "CL"),  # 10**1e6 overflows
        ("CL", float("nan"), "finite"),
        ("F", 7.0, "F"),  # past the hard bound 1
        ("n_doses", -3, "n_doses"),
        ("route", "<img src=x onerror=alert(1)>", "route"),
    ]
    for name, value, expected in hostile:
        if name == "route":
            widgets[name].value = value
        else:
            release(widgets[name], value)
        assert model.values() == before, name
        assert the_app.alert.visible and expected in the_app.alert.object, the_app.alert.object
        assert "<img" not in the_app.alert.object  # shown escaped, never as markup
    assert widgets["F"].value == model.F  # the widget shows the value the model kept
    release(widgets["F"], 0.5)
    assert model.F == 0.5 and not the_app.alert.visible


def test_a_closed_apps_views_are_not_kept_alive_by_plot_hooks():
    # HoloViews keeps elements' options (plot hooks among them) in its global Store: a hook
    # bound to the view kept every served session's app, model and plots alive after it closed
    import weakref

    def render_and_drop():
        the_app = app(wb.TMDD())
        view = the_app.views[0]
        plot = hv.renderer("bokeh").get_plot(view.dynamic())
        the_app.model.kon = 0.3
        plot.cleanup()  # what Panel does when the session is destroyed
        return weakref.ref(the_app)

    ref = render_and_drop()
    gc.collect()
    assert ref() is None
