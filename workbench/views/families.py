"""Views of the model families.

PK effect and NCA, TMDD reductions and dose dependence, binding experiments and dose-response,
stochastic gene expression, and the hybrid tissue.
"""

from __future__ import annotations

import html
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn

from .. import analysis  # scipy-based analyses load on first use (see workbench.analysis)
from ..core import Ensemble
from ..core.control import limits
from ..errors import WorkbenchError
from .base import (
    Markdown,
    Superseding,
    View,
    deliver_pending,
    framewise,
    leave_a_core,
    main_thread_delivery,
    overlay_opts,
)
from .common import PD_ONLY

#: Wall-time budget of a background refinement (a larger SSA ensemble, a full-resolution
#: tissue run), in seconds; a newer parameter change cancels it sooner.
REFINE_BUDGET = 60.0

__all__ = [
    "BindingKineticsView",
    "DoseResponseView",
    "DoseScanView",
    "EffectView",
    "NCAView",
    "PopulationView",
    "ReductionView",
    "StochasticView",
    "StripView",
    "TissueFieldView",
    "TissueSummaryView",
]


# --- PK ------------------------------------------------------------------------------------------


class EffectView(View):
    """The linked Emax PD effect over time."""

    title = "Effect (PD)"

    def compute(self) -> pd.DataFrame:
        traj = self.app.trajectory()
        return pd.DataFrame({"t": traj.t, "E": traj["E"]})

    def render(self, frame: pd.DataFrame) -> hv.Element:
        curve = hv.Curve(frame, "t", "E", label="effect").opts(color="#3a9d5d", line_width=2)
        return (curve * hv.HLine(float(self.model.E0)).opts(color="#999999", line_dash="dotted")).opts(
            hv.opts.Curve(xlabel=f"time [{self.model.time_unit}]", ylabel="effect E [%]"),
            overlay_opts("Emax effect (dotted: baseline E0)"),
        )

    def empty(self) -> hv.Element:
        return hv.Curve([]) * hv.HLine(0)


class NCAView(View):
    """Non-compartmental analysis of the plasma (or free drug) profile."""

    title = "NCA"
    ignores = (*PD_ONLY, "effect_compartment", "ke0")
    keeps_zoom = False  # a grid of plots or a table

    def compute(self) -> pd.DataFrame:
        # samples dense after each dose: a uniform grid misses fast early phases and their AUC
        # (PBPK's venous pool, TMDD's binding), overstating exposure and understating CL
        model = self.model
        traj = model.simulate(t=analysis.sampling_grid(model, float(model.t_end), int(model.n_points)))
        column = {"TMDD": "D_free", "PBPK": "Cp"}.get(type(self.model).__name__, "C")
        dose = float(getattr(self.model, "dose", 0.0)) * int(getattr(self.model, "n_doses", 1))
        if getattr(self.model, "route", "") == "oral":
            dose *= float(self.model.F)
        result = analysis.nca(traj, column, dose=dose if dose > 0 else None)
        unit = traj.units.get(column, "")
        t = traj.units.get("t", "")
        dose_unit = self.model.param["dose"].metadata.get("unit", "") if "dose" in self.model.param else ""
        rows = [
            ("Cmax", result.cmax, unit),
            ("Tmax", result.tmax, t),
            ("AUC(0-t)", result.auc_0_t, f"{unit}·{t}"),
            ("AUC(0-inf)", result.auc_0_inf, f"{unit}·{t}"),
            ("AUC extrapolated", result.auc_extrapolated_percent, "%"),
            ("lambda_z", result.lambda_z, f"1/{t}"),
            ("t1/2", result.t_half, t),
            ("CL (systemic: F dose / AUC)", result.cl, f"{dose_unit}/({unit}·{t})"),
            ("Vz (systemic)", result.vz, f"{dose_unit}/({unit})"),
            ("adjusted R² (terminal)", result.r2_adjusted, "-"),
        ]
        return pd.DataFrame(rows, columns=["parameter", "value", "unit"]).assign(observable=column)

    def render(self, frame: pd.DataFrame) -> hv.Element:
        shown = frame.assign(value=frame["value"].map(lambda v: f"{v:.5g}"))
        return hv.Table(shown[["parameter", "value", "unit"]]).opts(
            height=330, width=640, title=f"NCA of {frame['observable'].iloc[0]}"
        )

    def empty(self) -> hv.Element:
        return hv.Table(pd.DataFrame({"parameter": [], "value": [], "unit": []}))


# --- TMDD -------------------------------------------------------------------------------------------


class ReductionView(View):
    """Full TMDD beside its QSS and Michaelis-Menten reductions."""

    title = "Reductions"

    def log_y(self) -> bool:
        return True

    def compute(self) -> pd.DataFrame:
        frames = {}
        for reduction in ("full", "qss", "mm"):
            traj = self.model.copy(reduction=reduction).simulate()
            frames[reduction] = traj["D_free"]
        return pd.DataFrame(frames, index=pd.Index(traj.t, name="t"))

    def render(self, frame: pd.DataFrame) -> hv.Element:
        # below 1e-9 of the peak a log axis shows only solver round-off
        floor = 1e-9 * float(np.nanmax(frame.to_numpy()))
        styles = {"full": ("#1f6f8b", "solid"), "qss": ("#e07a1f", "dashed"), "mm": ("#3a9d5d", "dotted")}
        curves = {
            name: hv.Curve(
                (frame.index.to_numpy(), np.where(frame[name] > floor, frame[name], np.nan)),
                "time [h]",
                "free drug D [nM]",
                label=name,
            ).opts(color=styles[name][0], line_dash=styles[name][1], line_width=2)
            for name in frame.columns
        }
        return hv.NdOverlay(curves, kdims="reduction").opts(
            hv.opts.NdOverlay(
                logy=True,
                height=400,
                responsive=True,
                legend_position="right",
                title="free drug: full model vs QSS and MM reductions",
            )
        )

    def empty(self) -> hv.Element:
        return hv.NdOverlay({"full": hv.Curve([])}, kdims="reduction")


class DoseScanView(View):
    """Apparent clearance and terminal half-life versus dose: flat for linear PK."""

    title = "Dose dependence"
    keeps_zoom = False  # a grid of plots or a table

    def compute(self) -> pd.DataFrame:
        doses = float(self.model.dose) * np.logspace(-2, 2, 9)
        return analysis.dose_scan(self.model, doses, n_points=801, rtol=1e-7, atol=1e-11)

    def render(self, frame: pd.DataFrame) -> hv.Element:
        unit = self.model.param["dose"].metadata.get("unit", "")
        current = float(self.model.dose)
        cl = hv.Curve(frame, "dose", "cl_apparent").opts(
            color="#1f6f8b",
            line_width=2,
            logx=True,
            logy=True,
            xlabel=f"dose [{unit}]",
            ylabel="apparent clearance (dose/AUC)",
        )
        th = hv.Curve(frame, "dose", "t_half").opts(
            color="#e07a1f",
            line_width=2,
            logx=True,
            xlabel=f"dose [{unit}]",
            ylabel=f"terminal t1/2 [{self.model.time_unit}]",
        )
        marker = hv.VLine(current).opts(color="#999999", line_dash="dotted")
        return (
            (cl * marker).opts(height=380, responsive=True, title="apparent clearance")
            + (th * marker).opts(height=380, responsive=True, title="terminal half-life")
        ).opts(hv.opts.Layout(shared_axes=False))

    def empty(self) -> hv.Element:
        return (hv.Curve([]) * hv.VLine(1) + hv.Curve([]) * hv.VLine(1)).opts(hv.opts.Layout(shared_axes=False))


# --- receptor binding ------------------------------------------------------------------------------


class BindingKineticsView(View):
    """Association (ligand added) and dissociation (ligand washed out) experiments."""

    title = "Binding kinetics"
    depends = ("kon", "koff", "L", "R_total", "ligand_depletion", "t_end", "n_points")

    def compute(self) -> pd.DataFrame:
        assoc = self.model.association()
        dissoc = self.model.dissociation()
        return pd.DataFrame({"t": assoc.t, "association": assoc["occupancy"], "dissociation": dissoc["occupancy"]})

    def render(self, frame: pd.DataFrame) -> hv.Element:
        a = hv.Curve(
            frame,
            "t",
            "association",
            label=(
                f"association, k_obs = {float(self.model.k_obs()):.3g}/min"
                if not self.model.ligand_depletion
                else "association (depleting ligand)"
            ),
        ).opts(color="#1f6f8b", line_width=2)
        d = hv.Curve(frame, "t", "dissociation", label=f"dissociation, koff = {self.model.koff:.3g}/min").opts(
            color="#e07a1f", line_width=2
        )
        eq = hv.HLine(self.model.equilibrium_occupancy()).opts(color="#999999", line_dash="dotted")
        return (a * d * eq).opts(
            hv.opts.Curve(xlabel="time [min]", ylabel="fractional occupancy"),
            overlay_opts("occupancy (dotted: equilibrium at L)"),
        )

    def empty(self) -> hv.Element:
        return hv.Curve([]) * hv.Curve([]) * hv.HLine(0)


class DoseResponseView(View):
    """Equilibrium occupancy and response versus ligand, KD and EC50 marked: affinity is not potency."""

    title = "Dose-response"
    depends = ("kon", "koff", "tau", "Em", "n_transducer", "L")

    def compute(self) -> pd.DataFrame:
        kd = self.model.KD
        ligand = kd * np.logspace(-3, 3, 121)
        return pd.DataFrame(
            {
                "L": ligand,
                "occupancy": self.model.occupancy(ligand),
                "response": self.model.response(ligand) / self.model.Em,
            }
        )

    def render(self, frame: pd.DataFrame) -> hv.Element:
        occ = hv.Curve(frame, "L", "occupancy", label="occupancy").opts(color="#1f6f8b", line_width=2)
        resp = hv.Curve(frame, "L", "response", label="response / Em").opts(color="#3a9d5d", line_width=2)
        kd = hv.VLine(self.model.KD).opts(color="#1f6f8b", line_dash="dashed")
        ec50 = hv.VLine(self.model.EC50).opts(color="#3a9d5d", line_dash="dashed")
        current = hv.VLine(float(self.model.L)).opts(color="#e07a1f")
        title = f"KD = {self.model.KD:.3g} nM (blue dashed), EC50 = {self.model.EC50:.3g} nM (green dashed)"
        return (occ * resp * kd * ec50 * current).opts(
            hv.opts.Curve(logx=True, xlabel="ligand L [nM]", ylabel="fraction"), overlay_opts(title)
        )

    def empty(self) -> hv.Element:
        return hv.Curve([]) * hv.Curve([]) * hv.VLine(1) * hv.VLine(1) * hv.VLine(1)


# --- stochastic gene expression --------------------------------------------------------------------


class StochasticView(View):
    """SSA ensemble, refined progressively (a small ensemble now, a large one in the background).

    Sample paths with quantile bands, the histogram at a chosen time with the LNA Gaussian,
    mean and Fano factor with confidence bands and the LNA (left out, with a note, where the
    model has what the LNA does not describe: an imported model's events, say).
    """

    title = "Stochastic (SSA)"
    small = 200
    large = 3000

    def __init__(self, app, **params: Any):
        super().__init__(app, **params)
        species = self.model.counted_species()
        self.species = pn.widgets.Select(label="species", options=species, value=species[-1], width=160)
        self.time = pn.widgets.FloatSlider(
            label="histogram time", start=0.0, end=float(self.model.t_end), value=float(self.model.t_end), width=260
        )
        self.status = Markdown("", width=320)
        self.pipe = hv.streams.Pipe(data=None)
        self._generation = 0
        self._pending = None
        self._lock = threading.Lock()
        self._refining = Superseding()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbench-ssa")
        self.model.param.watch(self._changed, [n for n in self.model.param if n != "name"])
        self.species.param.watch(lambda _: self.pipe.send(self.pipe.data), "value")
        self.time.param.watch(lambda _: self.pipe.send(self.pipe.data), "value_throttled")

    def _changed(self, *_events) -> None:
        self.refresh()

    def compute(self, n_runs: int | None = None) -> Ensemble:
        return self.model.ssa(n_runs or self.small, seed=1, n_points=101)

    def refresh(self) -> None:
        """A small ensemble now, a larger one in the background; a newer change supersedes both."""
        with self._lock:
            self._generation += 1
            generation = self._generation
        self._refining.cancel()  # a larger ensemble for the old parameters stops now
        try:
            with limits(seconds=self.app.budget):
                ensemble = self.compute(self.small)
        except WorkbenchError as err:
            self.app.report(self, err)
            return
        self.app.clear(self)
        self.status.object = f"{self.small} cells; refining to {self.large} in the background…{self._lna_note()}"
        self.pipe.send(ensemble)
        # the larger ensemble starts once this change's redraws are done, and must not slow them
        deliver_to = main_thread_delivery()
        deliver_to(lambda: self._start_refining(generation, deliver_to))

    def _start_refining(self, generation: int, deliver_to) -> None:
        if generation == self._generation:
            self._pending = self._executor.submit(self._refine, generation, deliver_to, self._refining.renew())

    def wait(self, timeout: float | None = None) -> None:
        """Block until the background refinement (if any) has finished and been delivered."""
        deliver_pending()  # a refinement queued to start (scripts without an event loop)
        if self._pending is not None:
            self._pending.result(timeout)
        deliver_pending()

    def _refine(self, generation: int, deliver_to, stop) -> None:
        leave_a_core()
        try:
            with limits(seconds=REFINE_BUDGET, stop=stop):
                ensemble = self.compute(self.large)
        except WorkbenchError:
            return  # superseded, over its budget, or failed: the small ensemble stays
        with self._lock:
            if generation != self._generation:
                return  # a newer change superseded this one

        def deliver():
            if generation == self._generation:
                self.status.object = f"{self.large} cells{self._lna_note()}"
                self.pipe.send(ensemble)

        deliver_to(deliver)

    def _lna_note(self) -> str:
        reason = self.model.lna_refusal()
        return f"  \nNo LNA curves: {html.escape(reason)}." if reason else ""

    def render(self, ensemble: Ensemble | None) -> hv.Element:
        if ensemble is None:
            return self.empty()
        name = self.species.value
        t = ensemble.t
        x = ensemble[name]
        # server-side reductions: quantile band, mean, five paths; never the raw ensemble
        q05, q50, q95 = np.quantile(x, [0.05, 0.5, 0.95], axis=0)
        count = hv.Dimension("q05", label=f"{name} [molecules]")  # the y-axis label
        band = hv.Area((t, q05, q95), "time [h]", vdims=[count, "q95"], label="5-95% of cells").opts(
            color="#1f6f8b", alpha=0.2
        )
        paths = hv.NdOverlay(
            {
                f"cell {k}": hv.Curve((t, x[k]), "time [h]", f"{name} [molecules]").opts(
                    color="#5f6b73", alpha=0.6, line_width=1
                )
                for k in range(min(5, ensemble.n_runs))
            },
            kdims="path",
        )
        median = hv.Curve((t, q50), "time [h]", f"{name} [molecules]", label="median").opts(
            color="#1f6f8b", line_width=3
        )
        panel_paths = (band * paths * median).opts(
            overlay_opts(f"{name}: sample paths and ensemble band ({ensemble.n_runs} cells)", 300)
        )
        # histogram at the chosen time, with the LNA Gaussian
        k = int(np.argmin(np.abs(t - self.time.value)))
        values, probs = ensemble.histogram(name, t[k])
        hist = hv.Histogram(
            (np.append(values - 0.5, values[-1] + 0.5), probs),
            kdims=[f"{name} [molecules]"],
            vdims=["probability"],
            label=f"SSA at t = {t[k]:.3g} h",
        ).opts(color="#1f6f8b", alpha=0.6)
        # the LNA where it describes the model (not an imported model's events, say)
        traj = None if self.model.lna_refusal() else analysis.lna_trajectory(self.model, t)
        if traj is not None:
            i = traj.species.index(name)
            mean, var = traj.mean[k, i], max(traj.covariance[k, i, i], 1e-12)
            grid = np.linspace(max(0, values.min() - 1), values.max() + 1, 200)
            gauss = hv.Curve(
                (grid, np.exp(-0.5 * (grid - mean) ** 2 / var) / np.sqrt(2 * np.pi * var)),
                [f"{name} [molecules]"],
                ["probability"],
                label="LNA Gaussian",
            ).opts(color="#e07a1f", line_width=2)
        panel_hist = hv.Overlay([hist]) if traj is None else hist * gauss
        panel_hist = panel_hist.opts(overlay_opts("distribution at the chosen time", 300))
        # mean and Fano with confidence bands, and the LNA
        m_lo, m_hi = ensemble.mean_ci(name)
        f_lo, f_hi = ensemble.fano_ci(name)
        mean_dim = hv.Dimension("lo", label=f"mean {name} [molecules]")
        mean_band = hv.Area((t, m_lo, m_hi), "time [h]", vdims=[mean_dim, "hi"], label="mean, 95% CI").opts(
            color="#1f6f8b", alpha=0.3
        )
        fano_dim = hv.Dimension("lo", label="Fano factor")
        fano_band = hv.Area(
            (t, np.nan_to_num(f_lo), np.nan_to_num(f_hi)), "time [h]", vdims=[fano_dim, "hi"], label="Fano, 95% CI"
        ).opts(color="#3a9d5d", alpha=0.3)
        panel_mean, panel_fano = hv.Overlay([mean_band]), hv.Overlay([fano_band])
        if traj is not None:
            dashed = {"color": "#e07a1f", "line_dash": "dashed"}
            panel_mean *= hv.Curve((t, traj.mean[:, i]), "time [h]", f"mean {name}", label="LNA mean").opts(**dashed)
            panel_fano *= hv.Curve((t, traj.fano(name)), "time [h]", "Fano factor", label="LNA Fano").opts(**dashed)
        layout = (
            panel_paths
            + panel_hist
            + panel_mean.opts(overlay_opts("mean", 280))
            + panel_fano.opts(overlay_opts("Fano factor", 280))
        )
        return layout.opts(hv.opts.Layout(shared_axes=False)).cols(2)

    def empty(self) -> hv.Element:
        return hv.Layout([hv.Curve([])])

    def element(self) -> hv.Element:  # the pipe carries the data; render it, reporting errors
        try:
            drawing = framewise(self.render(self.pipe.data))
        except WorkbenchError as err:
            self.app.report(self, err)
            return self._last if self._last is not None else self.empty()
        self._last = drawing
        return drawing

    def __panel__(self):
        if self.pipe.data is None:
            self.refresh()
        dmap = hv.DynamicMap(lambda data: self.element(), streams=[self.pipe])
        return pn.Column(
            pn.Row(self.species, self.time, self.status),
            pn.pane.HoloViews(dmap, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )


# --- hybrid tissue ------------------------------------------------------------------------------------


class TissueRuns:
    """The tissue simulation the views of one app share, refined progressively.

    A change first runs a preview with a ``PREVIEW``-times longer coupled step (the ADI field
    step is stable for any step, and the mass ledger stays exact), so the views redraw at
    once; the full-resolution run follows in a background thread and redraws them again. A
    newer change supersedes a stale run.
    """

    PREVIEW = 5

    def __init__(self, app):
        self.app = app
        self.key: tuple | None = None
        self.result = None
        self.full = False
        self.views: list[_TissueBase] = []
        self._pending = None
        self._refining = Superseding()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="workbench-tissue")

    @classmethod
    def of(cls, app) -> TissueRuns:
        """The runs shared by the views of ``app``."""
        runs = getattr(app, "_tissue_runs", None)
        if runs is None:
            runs = app._tissue_runs = cls(app)
        return runs

    def current(self):
        """The result for the current parameters: the full run if done, else the preview."""
        key = self.app._key()
        if key != self.key:
            model = self.app.model
            self.key, self.full = key, False
            self._refining.cancel()  # the full run for the old parameters stops now
            previewable = model.scheme == "adi" and model.dt * self.PREVIEW <= model.t_end / 20
            if previewable:
                self.result = model.copy(dt=model.dt * self.PREVIEW).simulate()
                # the full run starts once this change's redraws are done, and must not slow them
                deliver_to, full = main_thread_delivery(), model.copy()
                deliver_to(lambda: self._start_refining(key, full, deliver_to))
            else:
                self.result, self.full = model.simulate(), True
        return self.result

    def _start_refining(self, key: tuple, model, deliver_to) -> None:
        if key == self.key:
            self._pending = self._executor.submit(self._refine, key, model, deliver_to, self._refining.renew())

    def _refine(self, key: tuple, model, deliver_to, stop) -> None:
        leave_a_core()
        try:
            with limits(seconds=REFINE_BUDGET, stop=stop):
                result = model.simulate()
        except WorkbenchError:
            return  # superseded, over its budget, or failed (the preview reported a failure)

        def deliver() -> None:
            if key == self.key:
                self.result, self.full = result, True
                for view in self.views:
                    view.redraw()

        deliver_to(deliver)

    def wait(self, timeout: float | None = None) -> None:
        """Block until the background run (if any) has finished and been delivered."""
        deliver_pending()  # a run queued to start (scripts without an event loop)
        if self._pending is not None:
            self._pending.result(timeout)
        deliver_pending()


class _TissueBase(View):
    """Tissue views share one (costly) simulation per parameter set, refined progressively."""

    def __init__(self, app, **params: Any):
        super().__init__(app, **params)
        self.runs = TissueRuns.of(app)
        self.runs.views.append(self)

    def compute(self):
        return self.runs.current()

    def status(self) -> str:
        """Title suffix while the full-resolution run is computing."""
        return "" if self.runs.full else f" — preview (step ×{TissueRuns.PREVIEW}), refining…"


class TissueFieldView(_TissueBase):
    """The ligand field as an image with the cells as points, over the snapshots (a player)."""

    title = "Field and cells"

    def __init__(self, app, **params: Any):
        super().__init__(app, **params)
        self.player = pn.widgets.Player(
            label="snapshot",
            start=0,
            end=max(int(self.model.n_points) - 1, 0),
            value=max(int(self.model.n_points) - 1, 0),
            loop_policy="once",
            interval=400,
            width=400,
            margin=(5, 10, 25, 10),  # room for the loop-policy buttons below the controls
        )

    def render(self, result) -> hv.Element:
        k = min(self.player.value, len(result.fields) - 1)
        field = result.fields[k]
        h = self.model.h
        bounds = (0, 0, field.shape[0] * h, field.shape[1] * h)
        image = hv.Image(field.T, bounds=bounds, kdims=["x [µm]", "y [µm]"], vdims=["c [molecules/µm²]"]).opts(
            cmap="viridis", colorbar=True
        )
        agents = result.agents[k]
        points = hv.Points((agents["x"], agents["y"]), ["x [µm]", "y [µm]"]).opts(
            color="white", size=3, alpha=0.7, line_color="black"
        )
        return (image * points).opts(
            hv.opts.Overlay(
                height=520,
                responsive=True,
                aspect=None,
                title=f"t = {result.times[k]:.4g} min, {agents['x'].size} cells{self.status()}",
                framewise=True,
            )
        )

    def empty(self) -> hv.Element:
        return hv.Image(np.zeros((2, 2))) * hv.Points([])

    def __panel__(self):
        self.player.end = max(int(self.model.n_points) - 1, 0)
        frame = hv.streams.Params(self.player, parameters=["value"])
        return pn.Column(
            self.player,
            pn.pane.HoloViews(self.dynamic(frame), sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )


class TissueSummaryView(_TissueBase):
    """Total uptake, mean internal signal and cell count over time."""

    title = "Summary series"
    keeps_zoom = False  # a grid of plots or a table

    def render(self, result) -> hv.Element:
        s = result.summary
        uptake = hv.Curve((s["t"], s["uptake_rate"]), "time [min]", "uptake [molecules/min]").opts(
            color="#1f6f8b", line_width=2, height=260, responsive=True, title="total uptake rate"
        )
        signal = hv.Curve((s["t"], s["mean_signal"]), "time [min]", "mean signal [-]").opts(
            color="#3a9d5d", line_width=2, height=260, responsive=True, title="mean internal signal"
        )
        count = hv.Curve((s["t"], s["cell_count"]), "time [min]", "cells").opts(
            color="#e07a1f", line_width=2, height=260, responsive=True, title="cell count"
        )
        amount = hv.Curve((s["t"], s["field_amount"]), "time [min]", "ligand in field [molecules]").opts(
            color="#5f6b73",
            line_width=2,
            height=260,
            responsive=True,
            title=f"ligand in the field (mass balance error {result.mass_balance_error():.1e}){self.status()}",
        )
        return (uptake + signal + count + amount).opts(hv.opts.Layout(shared_axes=False)).cols(2)

    def empty(self) -> hv.Element:
        return hv.Layout([hv.Curve([])])


class StripView(_TissueBase):
    """Active-stress mechanics of a strip driven by the cells' mean signal along x."""

    title = "Strip mechanics"
    keeps_zoom = False  # a grid of plots or a table

    def render(self, result) -> hv.Element:
        agents = result.agents[-1]
        bins = np.linspace(0.0, self.model.width, 41)
        index = np.clip(np.digitize(agents["x"], bins) - 1, 0, 39)
        counts = np.bincount(index, minlength=40)
        sums = np.bincount(index, weights=agents["signal"], minlength=40)
        profile = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
        mech = analysis.strip_mechanics(
            profile, self.model.width, self.model.stiffness, self.model.active_coupling, bc=self.model.strip_bc
        )
        centres = 0.5 * (bins[:-1] + bins[1:])
        strain = hv.Curve((centres, mech.strain), "x [µm]", "strain [-]", label="strain").opts(
            color="#1f6f8b", line_width=2
        )
        signal = hv.Curve((centres, profile), "x [µm]", "signal [-]", label="mean signal").opts(
            color="#3a9d5d", line_width=2
        )
        title = f"{self.model.strip_bc} end: shortening {mech.shortening:.4g} µm, stress {mech.stress:.3g} kPa"
        title += self.status()
        return (
            strain.opts(height=300, responsive=True, title=title)
            + signal.opts(height=300, responsive=True, title="signal profile")
        ).opts(hv.opts.Layout(shared_axes=False))

    def empty(self) -> hv.Element:
        return hv.Curve([]) + hv.Curve([])


class PopulationView(View):
    """A virtual population of the current model: percentile bands and target attainment.

    Log-normal between-subject variability on the clearance and the volume (omegas set here),
    the model's regimen for everyone; the band is the chosen central interval of the plasma
    concentration, with the median and the typical subject.
    """

    title = "Population"
    ignores = (*PD_ONLY, "effect_compartment", "ke0")

    def __init__(self, app, **params: Any):
        super().__init__(app, **params)
        names = [n for n in ("CL", "V", "V1", "ka") if n in self.model.param]
        self.clearance, self.volume = names[0], names[1]
        self.n_subjects = pn.widgets.IntSlider(label="subjects", start=100, end=5000, step=100, value=500, width=200)
        self.omega_cl = pn.widgets.FloatSlider(
            label=f"omega {self.clearance} (SD of log)", start=0.0, end=1.0, step=0.05, value=0.3, width=200
        )
        self.omega_v = pn.widgets.FloatSlider(
            label=f"omega {self.volume} (SD of log)", start=0.0, end=1.0, step=0.05, value=0.2, width=200
        )
        self.interval = pn.widgets.Select(label="band", options={"90%": 5.0, "80%": 10.0, "50%": 25.0}, width=100)
        self.target = pn.widgets.FloatInput(label="target trough", value=0.1, start=0.0, width=140)
        self.summary = Markdown("", sizing_mode="stretch_width")

    def compute(self):
        lower = float(self.interval.value)
        result = analysis.population(
            self.model,
            int(self.n_subjects.value),
            {self.clearance: float(self.omega_cl.value), self.volume: float(self.omega_v.value)},
            seed=0,
            progress=False,
        )
        bands = result.percentiles([lower, 50.0, 100.0 - lower])
        typical = self.app.trajectory()
        pta = result.pta("cmin_after_last_dose", float(self.target.value))
        self.summary.object = (
            f"{result.n} subjects (seed 0). Trough after the last dose at or above {pta.target:g}: "
            f"**{100 * pta.probability:.1f}%** (95% CI {100 * pta.low:.1f}-{100 * pta.high:.1f}%). "
            f"Median Cmax {result.nca['cmax'].median():.3g}, median AUC(0-t) {result.nca['auc_0_t'].median():.3g}."
        )
        return bands, typical, result.observable

    def render(self, data) -> hv.Element:
        bands, typical, observable = data
        t = bands.index.to_numpy()
        low, median, high = (bands.iloc[:, k].to_numpy() for k in range(3))
        unit = typical.units.get(observable, "")
        label = f"{bands.columns[0][1:]}-{bands.columns[2][1:]} percentile"
        area = hv.Area((t, low, high), "t", ["low", "high"], label=label)
        area = area.opts(color="#1f6f8b", alpha=0.25, line_alpha=0)
        mid = hv.Curve((t, median), "t", "C", label="median").opts(color="#1f6f8b", line_width=2)
        typ = hv.Curve((typical.t, typical[observable]), "t", "C", label="typical subject").opts(
            color="#c2542d", line_width=1.5, line_dash="dashed"
        )
        return (area * mid * typ).opts(
            hv.opts.Curve(xlabel=f"time [{self.model.time_unit}]", ylabel=f"{observable} [{unit}]"),
            overlay_opts("Virtual population: percentile band, median and the typical subject"),
        )

    def empty(self) -> hv.Element:
        return hv.Area([]) * hv.Curve([]) * hv.Curve([])

    def __panel__(self):
        controls = pn.Row(
            self.n_subjects, self.omega_cl, self.omega_v, self.interval, self.target, sizing_mode="stretch_width"
        )
        return self.with_controls(
            controls,
            self.summary,
            self.n_subjects.param.value_throttled,
            self.omega_cl.param.value_throttled,
            self.omega_v.param.value_throttled,
            self.interval,
            self.target,
        )
