"""Widgets generated from parameter declarations.

Every numeric parameter becomes a slider over its softbounds (a logarithmic slider when its
metadata says it spans decades), labelled with its unit, with its doc as a tooltip, grouped in
cards by its metadata group. Sliders write to the model on release (``value_throttled``), so a
drag recomputes once, not on every pixel; the model writes back to the widget when changed
elsewhere (a loaded scenario, a click on a bifurcation diagram).
"""

from __future__ import annotations

import html
import math
from typing import Any

import panel as pn
import param
from bokeh.models import CustomJSTickFormatter

from ..errors import WorkbenchError
from ..models import Model, Quantity

__all__ = ["LogSlider", "ParameterControls", "label_for", "parameter_widget"]

_GROUP_ORDER = [
    "dosing",
    "drug",
    "absorption",
    "physiology",
    "binding",
    "target",
    "ligand",
    "receptor",
    "response",
    "effect",
    "expression",
    "transcription",
    "translation",
    "promoter",
    "production",
    "degradation",
    "initial",
    "domain",
    "field",
    "cells",
    "uptake",
    "mechanics",
    "model",
    "parameters",
    "simulation",
]


def label_for(parameter: param.Parameter) -> str:
    """``name [unit]``, without a unit for dimensionless parameters."""
    unit = parameter.metadata.get("unit") if parameter.metadata else None
    return f"{parameter.name} [{unit}]" if unit and unit != "-" else str(parameter.name)


class _Link:
    """Two-way link between a widget property and a model parameter, without echo loops."""

    def __init__(self, widget, prop: str, model: Model, name: str, to_model, to_widget, on_reject=None):
        self.widget, self.prop, self.model, self.name = widget, prop, model, name
        self.to_model, self.to_widget = to_model, to_widget
        self.on_reject = on_reject or (lambda message: None)
        self._busy = False
        widget.param.watch(self._widget_changed, prop)
        model.param.watch(self._model_changed, name)

    def _widget_changed(self, event) -> None:
        if self._busy or event.new is None:
            return
        self._busy = True
        try:
            setattr(self.model, self.name, self.to_model(event.new))
        except (ValueError, TypeError, OverflowError, WorkbenchError) as err:
            # A browser sends whatever it likes (NaN, a value past the slider, a hand-made
            # message): the model keeps its value, the widget shows it again, the app says why.
            self.widget.value = self.to_widget(getattr(self.model, self.name))
            self.on_reject(f"{self.name} = {event.new!r} was refused: {err}")
        else:
            self.on_reject("")
        finally:
            self._busy = False

    def _model_changed(self, event) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            self.widget.value = self.to_widget(event.new)
        finally:
            self._busy = False


def _from_log10(exponent: float) -> float:
    exponent = float(exponent)
    if not (math.isfinite(exponent) and exponent < 308.0):  # 10^308.3 is past the largest float
        raise ValueError(f"10^{exponent:g} is not a finite number")
    return 10.0**exponent


class LogSlider(pn.viewable.Viewer):
    """A slider over the logarithm of a positive parameter (Panel has none built in)."""

    def __init__(self, model: Model, name: str, on_reject=None, **params: Any):
        super().__init__(**params)
        parameter = model.param[name]
        lo, hi = parameter.softbounds
        value = float(getattr(model, name))
        if lo <= 0:
            lo = hi * 1e-4
        lo = min(lo, value) if value > 0 else lo
        hi = max(hi, value)
        formatter = CustomJSTickFormatter(code="return Number(Math.pow(10, tick).toPrecision(3)).toString()")
        self.slider = pn.widgets.FloatSlider(
            label=label_for(parameter),
            start=math.log10(lo),
            end=math.log10(hi),
            step=(math.log10(hi) - math.log10(lo)) / 200,
            value=math.log10(max(value, lo)),
            format=formatter,
            sizing_mode="stretch_width",
        )
        self.link = _Link(
            self.slider,
            "value_throttled",
            model,
            name,
            _from_log10,
            lambda v: math.log10(max(v, 10**self.slider.start)),
            on_reject,
        )

    def __panel__(self):
        return self.slider


def parameter_widget(model: Model, name: str, on_reject=None):
    """The widget for one declared parameter, linked both ways to the model.

    ``on_reject(message)`` is called with the reason when a value from the browser is refused
    (the model keeps its value), and with ``""`` when a value is accepted.
    """
    parameter = model.param[name]
    value = getattr(model, name)
    label = label_for(parameter)
    if isinstance(parameter, Quantity) and parameter.metadata.get("log"):
        return LogSlider(model, name, on_reject).slider
    if isinstance(parameter, (param.Integer,)) and not isinstance(parameter, param.Boolean):
        lo, hi = parameter.softbounds
        widget = pn.widgets.IntSlider(
            label=label,
            start=int(min(lo, value)),
            end=int(max(hi, value)),
            value=int(value),
            sizing_mode="stretch_width",
        )
        _Link(widget, "value_throttled", model, name, int, int, on_reject)
        return widget
    if isinstance(parameter, param.Number):
        lo, hi = parameter.softbounds
        lo, hi = min(lo, value), max(hi, value)
        step = parameter.step or (hi - lo) / 200 or 1.0
        widget = pn.widgets.FloatSlider(
            label=label, start=lo, end=hi, step=step, value=float(value), sizing_mode="stretch_width"
        )
        _Link(widget, "value_throttled", model, name, float, float, on_reject)
        return widget
    if isinstance(parameter, param.Boolean):
        widget = pn.widgets.Checkbox(label=label, value=bool(value))
        _Link(widget, "value", model, name, bool, bool, on_reject)
        return widget
    if isinstance(parameter, param.ListSelector):
        widget = pn.widgets.MultiChoice(
            label=label, options=list(parameter.objects), value=list(value), sizing_mode="stretch_width"
        )
        _Link(widget, "value", model, name, list, list, on_reject)
        return widget
    if isinstance(parameter, param.Selector):
        widget = pn.widgets.Select(
            label=label, options=list(parameter.objects), value=value, sizing_mode="stretch_width"
        )
        _Link(widget, "value", model, name, lambda v: v, lambda v: v, on_reject)
        return widget
    raise TypeError(f"no widget for parameter {name!r} of type {type(parameter).__name__}")


class ParameterControls(pn.viewable.Viewer):
    """All of a model's parameters as widgets, grouped in cards."""

    rejected = param.String(default="", doc="Why the last value sent by the browser was refused ('' if none).")

    def __init__(self, model: Model, **params: Any):
        super().__init__(**params)
        self.model = model
        self.widgets: dict[str, Any] = {}
        groups: dict[str, list] = {}
        for name, parameter in model.param.objects("existing").items():
            if name == "name" or (parameter.precedence is not None and parameter.precedence < 0):
                continue
            widget = parameter_widget(model, name, self._set_rejected)
            self.widgets[name] = widget
            row = pn.Row(
                widget,
                # Bokeh renders a tooltip's text as HTML; docs of imported models quote the file
                pn.widgets.TooltipIcon(value=html.escape(parameter.doc or name), width=20, margin=(22, 4, 0, 0)),
                sizing_mode="stretch_width",
            )
            group = (parameter.metadata or {}).get("group", "parameters")
            groups.setdefault(group, []).append(row)
        order = sorted(groups, key=lambda g: _GROUP_ORDER.index(g) if g in _GROUP_ORDER else len(_GROUP_ORDER))
        self.cards = [
            pn.Card(*groups[g], title=g.capitalize(), collapsed=(g == "simulation"), sizing_mode="stretch_width")
            for g in order
        ]

    def _set_rejected(self, message: str) -> None:
        self.rejected = message

    def __panel__(self):
        return pn.Column(*self.cards, sizing_mode="stretch_width")
