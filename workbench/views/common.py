"""Views every network model gets: time courses, a bifurcation diagram, identifiability."""

from __future__ import annotations

from typing import Any

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn

from .. import analysis  # scipy-based analyses load on first use (see workbench.analysis)
from ..core import Trajectory
from ..core.dosing import EVENT_BOLUS
from ..errors import ModelError
from ..models import Quantity
from .base import Markdown, View, overlay_opts

__all__ = [
    "PD_ONLY",
    "SWEEP_OUTPUTS",
    "BifurcationView",
    "IdentifiabilityView",
    "SweepView",
    "TimeCourseView",
    "unit_label",
]

#: Parameters that only map a concentration to an effect: no species depends on them.
PD_ONLY = ("E0", "Emax", "EC50", "hill")

PALETTE = ["#1f6f8b", "#e07a1f", "#3a9d5d", "#b8403a", "#7d5ba6", "#8c6d31", "#d45d9a", "#5f6b73"]


def unit_label(traj: Trajectory, name: str) -> str:
    """``name [unit]`` from the trajectory's units."""
    unit = traj.units.get(name)
    return f"{name} [{unit}]" if unit and unit != "-" else name


def primary_columns(model, traj: Trajectory) -> list[str]:
    """The columns a time-course plot shows by default for a model (one unit on the axis)."""
    choices = getattr(model, "plot_columns", None)
    if callable(choices):
        return [c for c in choices(traj) if c in traj]
    return list(traj.species)


class TimeCourseView(View):
    """Concentration-time curves of the model's main quantities, doses marked, log-y toggle."""

    title = "Time course"
    ignores = PD_ONLY

    def __init__(self, app, **params: Any):
        super().__init__(app, **params)
        self.logy = pn.widgets.Toggle(label="log y", value=False, width=80)

    def compute(self) -> pd.DataFrame:
        traj = self.app.trajectory()
        columns = primary_columns(self.model, traj)
        frame = pd.DataFrame({name: traj[name] for name in columns}, index=pd.Index(traj.t, name="t"))
        frame.attrs["units"] = {name: traj.units.get(name, "") for name in columns}
        frame.attrs["time_unit"] = traj.units.get("t", "")
        frame.attrs["doses"] = sorted(
            {ev[0] for dose in self.model.doses() for ev in dose.events() if ev[2] == EVENT_BOLUS or ev[3] > 0}
        )  # boluses and infusion starts
        return frame

    def render(self, frame: pd.DataFrame) -> hv.Element:
        units = frame.attrs.get("units", {})
        unit_set = {u for u in units.values() if u}
        unit = unit_set.pop() if len(unit_set) == 1 else None
        quantity = "copy number" if unit == "molecules" else "concentration"
        y_label = f"{quantity} [{unit}]" if unit else "value"
        t_label = f"time [{frame.attrs.get('time_unit', '')}]"
        curves = {}
        for name in frame.columns:
            y = frame[name].to_numpy()
            if self.logy.value:
                y = np.where(y > 0, y, np.nan)
            curves[name] = hv.Curve((frame.index.to_numpy(), y), t_label, y_label, label=name)
        # one options call for all curves (a call per curve costs ~1.5 ms each)
        overlay = hv.NdOverlay(curves, kdims="series").opts(hv.opts.Curve(color=hv.Cycle(PALETTE), line_width=2))
        doses = hv.VLines(frame.attrs.get("doses", [])).opts(color="#999999", line_dash="dotted", line_width=1)
        return (overlay * doses).opts(
            overlay_opts(
                f"{type(self.model).__name__}: {y_label.split(' [', maxsplit=1)[0]} versus time"
                + (" (dotted lines: doses)" if frame.attrs.get("doses") else ""),
                height=420,
                logy=self.logy.value,
            )
        )

    def empty(self) -> hv.Element:
        return hv.NdOverlay({"": hv.Curve([])}, kdims="series") * hv.VLines([])

    def controls(self) -> list:
        return [self.logy]

    def log_y(self) -> bool:
        return bool(self.logy.value)

    def __panel__(self):
        # a log-axis switch redraws the plot; parameter changes update it in place
        return pn.Column(
            self.logy,
            pn.bind(lambda _: pn.pane.HoloViews(self.dynamic(), sizing_mode="stretch_width"), self.logy),
            sizing_mode="stretch_width",
        )


def _passes_through(diagram, value: float, state: np.ndarray) -> bool:
    """Whether a branch crosses ``value`` at (about) ``state``."""
    x = diagram.values - value
    size = max(1.0, float(np.abs(state).max()))
    for i in np.flatnonzero(np.sign(x[:-1]) != np.sign(x[1:])):
        w = x[i] / (x[i] - x[i + 1])
        at = (1 - w) * diagram.states[i] + w * diagram.states[i + 1]
        if np.max(np.abs(at - state)) < 1e-3 * size:
            return True
    return bool(np.any((x == 0) & (np.max(np.abs(diagram.states - state), axis=1) < 1e-3 * size)))


def _joined(segments: list[np.ndarray]) -> np.ndarray:
    """Segments as one line broken by NaN rows (one legend entry, however many pieces)."""
    if not segments:
        return np.empty((0, 2))
    gap = np.full((1, 2), np.nan)
    return np.vstack([part for segment in segments for part in (segment, gap)][:-1])


def _continuable(model) -> list[str]:
    """Numeric model parameters that are network parameters themselves (continuation handles them)."""
    try:
        net = model._memoized("network", model.network)
    except Exception:
        return []
    names = []
    for name, p in model.param.objects("existing").items():
        if isinstance(p, Quantity) and p.metadata.get("group") != "simulation" and name in net.parameter_names:
            if np.isclose(net.parameters[name], float(getattr(model, name)), rtol=1e-12):
                names.append(name)
    return names


class BifurcationView(View):
    """Equilibrium branch versus a parameter; a click on the diagram sets the parameter.

    Stable parts solid, unstable dashed, folds and Hopf points marked, the current value a
    moving line.
    """

    title = "Bifurcation"
    ignores = PD_ONLY
    ignores_groups = ("dosing", "simulation")  # equilibria of the undosed network

    def __init__(self, app, **params: Any):
        super().__init__(app, **params)
        choices = _continuable(self.model)
        species = list(self.model._memoized("network", self.model.network).species)
        parameter, shown = self._defaults(choices, species)
        self.parameter = pn.widgets.Select(label="parameter", options=choices, value=parameter, width=200)
        self.species = pn.widgets.Select(label="species", options=species, value=shown, width=200)
        self.tap = hv.streams.Tap(x=None, y=None)
        self.tap.add_subscriber(self._tapped)

    def _defaults(self, choices: list[str], species: list[str]) -> tuple[str | None, str | None]:
        """The model's declared opening pair, else the first parameter and the main species."""
        hint = type(self.model).bifurcation_default
        if hint is not None and hint[0] in choices and hint[1] in species:
            return hint
        plotted = [c for c in self.model.plot_columns(self.app.trajectory()) if c in species]
        main = plotted[0] if plotted and len(plotted) < len(species) else (species[-1] if species else None)
        return (choices[0] if choices else None), main

    def dependencies(self) -> list[str]:
        names = super().dependencies()
        chosen = self.parameter.value
        return names if chosen is None or chosen in names else [*names, chosen]  # the moving marker

    def _tapped(self, x=None, y=None, **_) -> None:
        name = self.parameter.value
        if x is None or name is None:
            return
        p = self.model.param[name]
        lo, hi = p.bounds
        value = float(x)
        if (lo is not None and value <= lo) or (hi is not None and value > hi):
            return
        setattr(self.model, name, value)

    def compute(self):
        name = self.parameter.value
        if name is None:
            raise ModelError("this model has no parameter to continue in")
        lo, hi = self.model.param[name].softbounds
        if self.model.param[name].metadata.get("log") and lo <= 0:
            lo = hi * 1e-4
        value = float(getattr(self.model, name))
        diagrams = [analysis.continuation(self.model, name, (lo, hi), start=value)]
        # every branch through the current value, not only the one the default state is on
        for state in analysis.equilibria(self.model):
            if not any(_passes_through(d, value, state.values) for d in diagrams):
                diagrams.append(analysis.continuation(self.model, name, (lo, hi), start=value, guess=state.values))
        return diagrams

    def render(self, diagrams) -> hv.Element:
        name = self.parameter.value
        species = self.species.value
        stable_paths, unstable_paths = [], []
        for diagram in diagrams:
            x, y = diagram.values, diagram[species]
            start = 0
            for i in range(1, x.size + 1):
                if i == x.size or diagram.stable[i] != diagram.stable[start]:
                    segment = np.column_stack([x[start : min(i + 1, x.size)], y[start : min(i + 1, x.size)]])
                    (stable_paths if diagram.stable[start] else unstable_paths).append(segment)
                    start = i
        y = np.concatenate([d[species] for d in diagrams])
        unit = self.model.param[name].metadata.get("unit", "")
        x_label = f"{name} [{unit}]" if unit and unit != "-" else name
        y_label = f"{species} at equilibrium"
        dims = [x_label, y_label]
        folds = [(pt.parameter, pt.state[species]) for d in diagrams for pt in d.folds]
        hopfs = [(pt.parameter, pt.state[species]) for d in diagrams for pt in d.hopfs]
        if np.ptp(y) <= 1e-9 * max(1.0, float(np.abs(y).max())):
            title = f"{species} at equilibrium does not depend on {name} (it rests at {y[0]:.4g})"
        else:
            title = "click the diagram to set the parameter"
        diagram_layers = (
            hv.Curve(_joined(stable_paths), x_label, y_label, group="Stable", label="stable")
            * hv.Curve(_joined(unstable_paths), x_label, y_label, group="Unstable", label="unstable")
            * hv.Points(folds, dims, group="Fold", label="fold")
            * hv.Points(hopfs, dims, group="Hopf", label="Hopf")
            * hv.VLine(float(getattr(self.model, name)), group="Current")
        )
        # one options call for every layer (a call per layer costs milliseconds each)
        return diagram_layers.opts(
            hv.opts.Curve("Stable", color="#1f6f8b", line_width=3),
            hv.opts.Curve("Unstable", color="#1f6f8b", line_width=2, line_dash="dashed"),
            hv.opts.Points("Fold", color="#b8403a", size=10, marker="square"),
            hv.opts.Points("Hopf", color="#7d5ba6", size=10, marker="triangle"),
            hv.opts.VLine("Current", color="#e07a1f", line_width=2),
            overlay_opts(title, height=420, logx=bool(self.model.param[name].metadata.get("log"))),
        )

    def empty(self) -> hv.Element:
        return hv.Curve([]) * hv.Curve([]) * hv.Points([]) * hv.Points([]) * hv.VLine(0)

    def __panel__(self):
        def plot(_parameter, _species):
            return pn.pane.HoloViews(self.dynamic(self.tap), sizing_mode="stretch_width")

        return pn.Column(
            pn.Row(self.parameter, self.species),
            pn.bind(plot, self.parameter, self.species),
            sizing_mode="stretch_width",
        )


class IdentifiabilityView(View):
    """Fisher information for chosen observables, parameters and sample times.

    Eigenvalue spectrum, eigenvectors over parameters, condition number, standard errors and
    the named sloppy combinations.
    """

    title = "Identifiability"
    keeps_zoom = False  # a grid of plots or a table

    def __init__(self, app, **params: Any):
        super().__init__(app, **params)
        net = self.model._memoized("network", self.model.network)
        species = list(net.species)
        shown = [c for c in self.model.plot_columns(self.app.trajectory()) if c in species]
        self.observables = pn.widgets.MultiChoice(
            label="observables", options=species, value=(shown or species)[:1], width=260
        )
        candidates = analysis.default_parameters(self.model)
        if len(candidates) > 10:  # large models (PBPK): start with the drug's parameters
            drug = [n for n in candidates if self.model.param[n].metadata.get("group") in ("drug", "dosing")]
            candidates = drug or candidates[:10]
        self.parameters = pn.widgets.MultiChoice(
            label="parameters", options=analysis.default_parameters(self.model), value=candidates, width=320
        )
        t_end = float(self.model.t_end)
        self.window = pn.widgets.RangeSlider(
            label="sample window", start=0.0, end=t_end, value=(0.05 * t_end, t_end), step=t_end / 200, width=260
        )
        self.n_samples = pn.widgets.IntSlider(label="samples", start=3, end=100, value=20, width=200)
        self.noise = pn.widgets.Select(
            label="noise", options=["proportional", "additive"], value="proportional", width=140
        )
        self.sigma = pn.widgets.FloatInput(label="sigma (relative or absolute)", value=0.1, start=1e-6, width=180)
        self.summary = Markdown("", sizing_mode="stretch_width")

    def compute(self):
        if not self.observables.value:
            raise ModelError("choose at least one observable")
        lo, hi = self.window.value
        times = np.linspace(max(lo, 1e-9 * max(hi, 1.0)), hi, self.n_samples.value)
        if len(self.parameters.value) < 1:
            raise ModelError("choose at least one parameter")
        result = analysis.fim(
            self.model,
            list(self.observables.value),
            times,
            parameters=list(self.parameters.value),
            noise=self.noise.value,
            sigma=self.sigma.value,
        )
        return result

    def render(self, result) -> hv.Element:
        names = [f"log {p}" if result.log else p for p in result.parameters]
        values = np.maximum(result.eigenvalues, 1e-300)
        n = len(names)
        # the sloppy-model spectrum: one level per eigenvalue on a log axis (numeric x with
        # labelled ticks: categorical axes are recomputed on every redraw)
        levels = [(k + 0.6, v, k + 1.4, v) for k, v in enumerate(values)]
        spectrum = hv.Segments(levels, ["eigen-direction", "eigenvalue", "x1", "y1"]).opts(
            logy=True,
            ylim=(values.min() / 10, values.max() * 10),
            xlim=(0.4, n + 0.6),
            xticks=[(k + 1, f"λ{k + 1}") for k in range(n)],
            line_width=4,
            height=360,
            responsive=True,
            color="#1f6f8b",
            title="FIM eigenvalues (log scale)",
        )
        # an Image with labelled ticks, not a HeatMap: HoloViews recomputes a HeatMap's
        # categorical factors on every redraw (~25 ms for 10 parameters)
        heat = hv.Image(
            result.eigenvectors[::-1], bounds=(0, 0, n, n), kdims=["eigen-direction", "parameter"], vdims=["component"]
        ).opts(
            cmap="RdBu_r",
            clim=(-1, 1),
            colorbar=True,
            height=360,
            responsive=True,
            tools=["hover"],
            xticks=[(j + 0.5, f"λ{j + 1}") for j in range(n)],
            yticks=[(n - i - 0.5, name) for i, name in enumerate(names)],
            title="eigenvectors (columns) over parameters",
        )
        lines = [f"**Condition number:** {result.condition_number:.4g}"]
        if result.singular:
            lines.append(
                "**Singular:** the data carry no information on "
                + "; ".join(t for _, t in result.sloppy_directions(1e-12))
            )
        else:
            errors = result.standard_errors()
            lines.append(
                "**Cramér-Rao standard errors** (relative): "
                + ", ".join(f"{p} {e:.2%}" for p, e in zip(result.parameters, errors, strict=True))
            )
        sloppy = result.sloppy_directions(1e-6)
        if sloppy:
            lines.append("**Sloppy combinations:** " + "; ".join(f"`{t}` (λ = {v:.2g})" for v, t in sloppy))
        self.summary.object = "\n\n".join(lines)
        return (spectrum + heat).opts(hv.opts.Layout(shared_axes=False))

    def empty(self) -> hv.Element:
        return (hv.Segments([]) + hv.Image(np.zeros((1, 1)))).opts(hv.opts.Layout(shared_axes=False))

    def __panel__(self):
        controls = pn.Column(
            pn.Row(self.observables, self.parameters, sizing_mode="stretch_width"),
            pn.Row(self.window, self.n_samples, self.noise, self.sigma, sizing_mode="stretch_width"),
        )
        return self.with_controls(
            controls,
            self.summary,
            self.observables,
            self.parameters,
            self.window.param.value_throttled,
            self.n_samples.param.value_throttled,
            self.noise,
            self.sigma,
        )


#: Outputs a sweep view offers, by label (the keys of ``analysis.scale.OUTPUTS``).
SWEEP_OUTPUTS = {
    "AUC(0-t_end)": "auc",
    "Cmax": "cmax",
    "trough after the last dose": "cmin",
    "terminal half-life": "t_half",
    "value at t_end": "final",
    "steady state": "steady_state",
    "stable states": "stable_states",
    "FIM condition number": "fim_condition",
}


class SweepView(View):
    """A Latin-hypercube sweep of two parameters around their current values (``wb.sweep``).

    An output (AUC, Cmax, steady state, number of stable states, FIM conditioning, ...)
    against one parameter, coloured by the other, with the current value marked and the rank
    correlation of the output with each parameter: which parameter drives the output, and
    over what range.
    """

    title = "Sweep"
    keeps_zoom = False  # the axes change meaning with the chosen parameters and output

    def __init__(self, app, **params: Any):
        super().__init__(app, **params)
        model = self.model
        candidates = [n for n in analysis.default_parameters(model) if isinstance(model.param[n], Quantity)]
        candidates = [n for n in candidates if not isinstance(model.param[n].default, int)] or candidates
        preferred = [n for n in ("CL", "CL_hepatic", "V", "V1", "Kp_liver") if n in candidates]
        first, second = ([*preferred, *candidates, *candidates][:2]) if candidates else (None, None)
        self.x = pn.widgets.Select(label="x parameter", options=candidates, value=first, width=150)
        self.colour = pn.widgets.Select(label="colour parameter", options=candidates, value=second, width=150)
        net = model._memoized("network", model.network)
        species = list(net.species)
        dosed = bool(model.doses())
        # the drug's central compartment; without doses, the last species (the expressed
        # product, the complex of a binding model), as the SSA view shows
        default = getattr(model, "central", None) or (species[0] if dosed else species[-1])
        self.observable = pn.widgets.Select(label="observable", options=species, value=default, width=150)
        self.output = pn.widgets.Select(
            label="output", options=SWEEP_OUTPUTS, value="auc" if dosed else "steady_state", width=200
        )
        self.fold = pn.widgets.FloatSlider(
            label="range: current value ÷/× fold", start=1.2, end=10.0, step=0.1, value=3.0, width=220
        )
        self.n_points = pn.widgets.IntSlider(label="points", start=10, end=200, step=10, value=60, width=180)
        self.summary = Markdown("", sizing_mode="stretch_width")

    def ranges(self) -> dict[str, tuple[float, float]]:
        """The swept ranges: current value ÷/× fold, inside the parameters' hard bounds."""
        names = list(dict.fromkeys([self.x.value, self.colour.value]))
        out = {}
        for name in names:
            value = float(getattr(self.model, name))
            lo, hi = value / float(self.fold.value), value * float(self.fold.value)
            bound_lo, bound_hi = self.model.param[name].bounds or (None, None)
            lo = max(lo, bound_lo) if bound_lo is not None else lo
            hi = min(hi, bound_hi) if bound_hi is not None else hi
            out[name] = (lo, hi)
        return out

    def compute(self):
        if self.x.value is None:
            raise ModelError("this model has no parameter to sweep")
        output = self.output.value
        table = analysis.sweep(
            self.model, self.ranges(), [output], method="lhs", n=int(self.n_points.value), seed=0,
            observable=self.observable.value, progress=False,
        )  # fmt: skip
        failed = table[table["error"] != ""]
        ok = table[table["error"] == ""]
        label = next(k for k, v in SWEEP_OUTPUTS.items() if v == output)
        lines = [f"{len(table)} Latin-hypercube points (seed 0) of {label} of {self.observable.value}."]
        if len(ok) > 2 and ok[output].nunique() > 1:
            ranks = ", ".join(f"{name} {ok[output].corr(ok[name], method='spearman'):+.2f}" for name in self.ranges())
            lines.append(f"Rank correlation with {ranks}.")
        if len(failed):
            lines.append(f"**{len(failed)} points failed**, e.g. {failed['error'].iloc[0]}")
        self.summary.object = " ".join(lines)
        return table

    def render(self, table) -> hv.Element:
        output, x, colour = self.output.value, self.x.value, self.colour.value
        ok = table[table["error"] == ""]
        columns = list(dict.fromkeys([x, output, colour]))
        points = hv.Points(ok[columns], kdims=[x, output], vdims=[c for c in columns[2:]])
        log_x = bool(self.model.param[x].metadata.get("log"))
        options = {"size": 7, "tools": ["hover"], "logx": log_x, "responsive": True, "height": 420}
        if colour != x:
            options.update(
                color=colour, cmap="viridis", colorbar=True, logz=bool(self.model.param[colour].metadata.get("log"))
            )
        label = next(k for k, v in SWEEP_OUTPUTS.items() if v == output)
        unit = self.model.param[x].metadata.get("unit", "")
        current = hv.VLine(float(getattr(self.model, x))).opts(color="#c2542d", line_dash="dashed", line_width=1.5)
        return (points.opts(**options) * current).opts(
            hv.opts.Points(xlabel=f"{x} [{unit}]" if unit else x, ylabel=f"{label} of {self.observable.value}"),
            hv.opts.Overlay(title=f"Sweep: {label} against {x}" + (f", coloured by {colour}" if colour != x else "")
                            + " (dashed: current value)"),
        )  # fmt: skip

    def empty(self) -> hv.Element:
        return hv.Points([]) * hv.VLine(0.0)

    def __panel__(self):
        controls = pn.Row(
            self.x, self.colour, self.observable, self.output, self.fold, self.n_points, sizing_mode="stretch_width"
        )
        return self.with_controls(
            controls,
            self.summary,
            self.x,
            self.colour,
            self.observable,
            self.output,
            self.fold.param.value_throttled,
            self.n_points.param.value_throttled,
        )
