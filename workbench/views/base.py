"""The model app: generated controls, the family's views, messages, scenarios and CSV export.

A :class:`View` is one panel of an app. It computes data from the model (``compute``, pure and
testable) and draws it (``render``, a HoloViews element). Its plot is a DynamicMap driven by a
``Params`` stream over exactly the parameters the view depends on, so a change recomputes only
the views that read it and Bokeh updates the plot in place. Errors raised by the compute layer
(``WorkbenchError``: a solver failure, no steady state, a singular FIM) become a visible message
and the view keeps its last good drawing; the next change recovers.
"""

from __future__ import annotations

import asyncio
import html
import io
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import holoviews as hv
import numba
import numpy as np
import panel as pn
import param

from ..core import Trajectory
from ..core.control import Stop, limits
from ..errors import WorkbenchError
from ..models import Model
from ..models.scenario import model_from_scenario, scenario_json
from .controls import ParameterControls

__all__ = ["ModelApp", "View", "install_exception_handler"]

log = logging.getLogger("workbench.views")

#: Header colour of every page.
ACCENT = "#1f6f8b"
#: Panel's icon, by a relative URL: right under any URL prefix (Binder, JupyterHub).
FAVICON = "static/extensions/panel/images/favicon.ico"


class _LocalStylesheets:
    """Keep a markup pane's stylesheets on the server when it is updated off-screen.

    Panel rebuilds a markup pane's stylesheets on every update, resolving them against
    ``model.document``. The model of a pane in a hidden tab of dynamic ``Tabs`` has no
    document, and Panel then points the stylesheets at its CDN, which a browser without
    internet access cannot load when the tab is shown again (the model is reused). During a
    session callback the session's document is ``pn.state.curdoc``: resolve against it instead.
    """

    def _update(self, ref: str, model) -> None:
        if model.document is None and pn.state.curdoc is not None:
            model.update(**self._get_properties(pn.state.curdoc))
        else:
            super()._update(ref, model)


class Markdown(_LocalStylesheets, pn.pane.Markdown):
    """A Markdown pane that may be updated while its tab is hidden (see ``_LocalStylesheets``)."""


class Alert(_LocalStylesheets, pn.pane.Alert):
    """An alert that may be updated while hidden (see ``_LocalStylesheets``)."""


def install_exception_handler() -> None:
    """Log and notify unexpected errors in callbacks, unless the user set a handler already."""
    if pn.config.exception_handler is not None:
        return

    def handler(exc: BaseException) -> None:
        log.error("error in a workbench app callback", exc_info=exc)
        notifications = getattr(pn.state, "notifications", None)
        if notifications is not None:
            notifications.error(f"{type(exc).__name__}: {exc}", duration=8000)

    pn.config.exception_handler = handler


def page_template(title: str, main: list, sidebar: list | None = None) -> pn.template.BootstrapTemplate:
    """The page every served app uses.

    Bootstrap rather than FAST: the FAST design pulls a web font from Google at page load,
    which fails offline and shows as a console error; Bootstrap's assets are all bundled.
    """
    return pn.template.BootstrapTemplate(
        title=title,
        site="workbench",
        main=main,
        sidebar=sidebar or [],
        sidebar_width=360,
        header_background=ACCENT,
        site_url="./",
        favicon=FAVICON,
    )


_RANGED = (hv.Curve, hv.Path, hv.Points, hv.Scatter, hv.Area, hv.Spread, hv.Image, hv.Histogram, hv.ErrorBars)


def data_limits(drawing: hv.Element, logy: bool = False, padding: float = 0.05) -> tuple | None:
    """X and y limits enclosing every ranged element of ``drawing``, y padded on each side.

    On a logarithmic y axis the lower limit is the smallest positive value. None when nothing
    in the drawing has a numeric range (tables, bars, annotations only).
    """
    x_lo, x_hi, y_lo, y_hi = np.inf, -np.inf, np.inf, -np.inf
    for element in drawing.traverse(lambda e: e, list(_RANGED)):
        if not len(element):
            continue
        x = np.asarray(element.dimension_values(0), dtype=float)
        if isinstance(element, (hv.Area, hv.Spread, hv.ErrorBars)):
            y = np.concatenate([element.dimension_values(k) for k in range(1, len(element.dimensions()))])
        else:
            y = element.dimension_values(1)
        y = np.asarray(y, dtype=float)
        x, y = x[np.isfinite(x)], y[np.isfinite(y) & (y > 0 if logy else True)]
        if x.size:
            x_lo, x_hi = min(x_lo, x.min()), max(x_hi, x.max())
        if y.size:
            y_lo, y_hi = min(y_lo, y.min()), max(y_hi, y.max())
    if not all(np.isfinite([x_lo, x_hi, y_lo, y_hi])):
        return None
    x_pad = 0.0 if x_hi > x_lo else 0.5 * max(abs(x_lo), 1.0)  # curves span x exactly: no padding
    x_limits = (float(x_lo - x_pad), float(x_hi + x_pad))
    if logy:
        factor = (y_hi / y_lo) ** padding if y_hi > y_lo else 2.0
        return x_limits, (float(y_lo / factor), float(y_hi * factor))
    y_pad = padding * (y_hi - y_lo) if y_hi > y_lo else 0.5 * max(abs(y_lo), 1.0)
    return x_limits, (float(y_lo - y_pad), float(y_hi + y_pad))


class Superseding:
    """The stop flag of a view's newest background run: starting a new one cancels the last.

    A parameter change calls :meth:`cancel` at once (the stale run stops within a step of its
    kernel instead of finishing unseen), then :meth:`renew` when the next run starts.
    """

    def __init__(self) -> None:
        self._stop: Stop | None = None
        self._lock = threading.Lock()

    def renew(self) -> Stop:
        """Cancel the current run, if any, and return the flag for the next one."""
        with self._lock:
            if self._stop is not None:
                self._stop.cancel()
            self._stop = Stop()
            return self._stop

    def cancel(self) -> None:
        """Cancel the current run, if any."""
        with self._lock:
            if self._stop is not None:
                self._stop.cancel()


def main_thread_delivery() -> Callable[[Callable[[], None]], None]:
    """How a background thread hands a result back to the thread that draws; call it there.

    Served, a result is delivered on the session's next tick, under the document lock (the one
    thread-safe Bokeh document method); in a notebook, on the kernel's event loop; in a plain
    script (no event loop), when the script waits for it (:func:`deliver_pending`, called by the
    views' ``wait``). A Bokeh document is never touched from a worker thread.
    """
    doc = pn.state.curdoc
    if doc is not None and doc.session_context is not None:
        return lambda callback: doc.add_next_tick_callback(_logged(callback))
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return lambda callback: _PENDING.put(_logged(callback))
    return lambda callback: loop.call_soon_threadsafe(_logged(callback))


#: Results waiting for a script's main thread (see :func:`main_thread_delivery`).
_PENDING: queue.SimpleQueue = queue.SimpleQueue()


def deliver_pending() -> None:
    """Run the deliveries queued for this (main) thread, in order."""
    while True:
        try:
            callback = _PENDING.get_nowait()
        except queue.Empty:
            return
        callback()


def _logged(callback: Callable[[], None]) -> Callable[[], None]:
    def run() -> None:
        try:
            callback()
        except Exception as err:  # a failed delivery must not kill the event loop
            handler = pn.config.exception_handler
            if handler is not None:
                handler(err)
            else:
                log.error("error delivering a background result", exc_info=err)

    return run


def leave_a_core() -> None:
    """Run this (background) thread's parallel kernels on all cores but one.

    Background refinements then never starve the interactive redraws. Numba's thread count is
    per calling thread, so this affects only the thread that calls it.
    """
    numba.set_num_threads(max(1, numba.config.NUMBA_NUM_THREADS - 1))


def overlay_opts(title: str = "", height: int = 400, **options: Any) -> hv.Options:
    """The look every overlay plot shares: full width, legend on the right, axes following the data."""
    return hv.opts.Overlay(
        height=height, responsive=True, legend_position="right", framewise=True, title=title, **options
    )


def with_options(drawing: hv.Element, **options: Any) -> hv.Element:
    """Axes that rescale to each new frame (``framewise``), plus ``options``, on every level.

    HoloViews reads ``framewise`` from each element (not from an overlay or layout), and a
    plot keeps the previous frame's limits when a frame sets none, so both go everywhere.
    One ``opts`` call with a spec per element type, in place: ``drawing`` is a fresh frame, and
    per-element cloning costs tens of milliseconds on a busy overlay.
    """
    types = {type(element).__name__ for element in drawing.traverse(lambda e: e, [hv.Element])}
    if isinstance(drawing, (hv.Overlay, hv.NdOverlay)):
        types.add(type(drawing).__name__)
    hooks = options.pop("hooks", None)
    specs = [getattr(hv.opts, name)(framewise=True, **options) for name in sorted(types)]
    if hooks is not None:
        top = type(drawing).__name__
        specs.append(getattr(hv.opts, top)(hooks=hooks))
    drawing.opts(*specs, clone=False)
    return drawing


def framewise(drawing: hv.Element) -> hv.Element:
    """Make the axes rescale to each new frame (see :func:`with_options`)."""
    return with_options(drawing)


def _weak_hook(method: Callable) -> Callable:
    """A plot hook that calls ``method`` without keeping its object alive.

    HoloViews keeps every element's options (hooks included) in the global ``Store`` until the
    element is collected; a hook bound to the view would tie the view, its app and model, and
    the element itself to that global: every closed session would stay in memory.
    """
    ref = weakref.WeakMethod(method)

    def hook(plot, element) -> None:
        bound = ref()
        if bound is not None:
            bound(plot, element)

    return hook


class View(pn.viewable.Viewer):
    """One panel of an app: compute data from the model, render it, recompute on change."""

    #: Tab title.
    title = "View"
    #: Model parameters the view reads (None: all of them).
    depends: Sequence[str] | None = None
    #: Parameters (by name, or by metadata group) that cannot change what the view shows.
    ignores: Sequence[str] = ()
    ignores_groups: Sequence[str] = ()
    #: Whether redraws keep the user's pan/zoom (off for views whose axes change meaning).
    keeps_zoom = True

    def __init__(self, app: ModelApp, **params: Any):
        super().__init__(**params)
        self.app = app
        self.model = app.model
        self._last: Any = None
        self.timings: list[float] = []
        #: The user's (x_range, y_range) after a pan or zoom; None while ranges follow the data.
        self.zoom: tuple | None = None
        self._forget_zoom()

    # -- what a view defines -----------------------------------------------------------------
    def compute(self) -> Any:
        """The data behind the view (a DataFrame, arrays, a result object)."""
        raise NotImplementedError

    def render(self, data: Any) -> hv.Element:
        """The drawing of ``data``."""
        raise NotImplementedError

    def empty(self) -> hv.Element:
        """What to draw before any successful computation."""
        return hv.Curve([])

    # -- machinery --------------------------------------------------------------------------
    def dependencies(self) -> list[str]:
        """Names of the parameters whose change triggers a recompute."""
        names = [n for n in self.model.param if n != "name"]
        if self.depends is not None:
            return [n for n in self.depends if n in names]
        return [
            n
            for n in names
            if n not in self.ignores and (self.model.param[n].metadata or {}).get("group") not in self.ignores_groups
        ]

    def element(self) -> hv.Element:
        """Compute and render now; on a compute-layer error, report it and keep the last drawing.

        The computation runs under the app's time budget: past it, the solver stops and the
        view shows why, instead of freezing the session.
        """
        start = time.perf_counter()
        try:
            with limits(seconds=self.app.budget):
                data = self.compute()
            drawing = self.render(data)
        except WorkbenchError as err:
            self.app.report(self, err)
            return self._last if self._last is not None else self.empty()
        self.app.clear(self)
        self._last = drawing
        self.timings.append(time.perf_counter() - start)
        return drawing

    def dynamic(self, *streams: hv.streams.Stream) -> hv.DynamicMap:
        """A DynamicMap that redraws when a dependency changes, keeping the user's zoom.

        Plots rescale to each new drawing (``framewise``) until the user pans or zooms; from
        then on redraws keep the user's ranges, until the reset tool hands ranging back to the
        data. A pan or zoom is seen by comparing the plot's ranges (synchronised from the
        browser) with the ones the last redraw set; it never triggers a recompute.
        """
        self._forget_zoom()  # a new plot starts from the data's ranges
        parameters = hv.streams.Params(self.model, parameters=self.dependencies())
        extra = [*streams, self._redraw]
        if self.keeps_zoom:
            reset = hv.streams.PlotReset()
            reset.add_subscriber(self._reset_zoom, precedence=-1)  # runs before the redraw
            extra.append(reset)
        return hv.DynamicMap(self._frame, streams=[parameters, *extra])

    def _forget_zoom(self) -> None:
        self.zoom = None
        self._plot_ranges: tuple | None = None
        self._drawn_ranges: tuple | None = None
        self._reset_pending = False
        self._redraw = hv.streams.Counter()  # a fresh key, so a redraw is never served from cache

    def log_y(self) -> bool:
        """Whether the y axis is logarithmic (the automatic limits skip non-positive values)."""
        return False

    def redraw(self) -> None:
        """Draw again now (new data arrived from elsewhere, e.g. a background run)."""
        self._redraw.event()

    def with_controls(self, controls: pn.viewable.Viewable, summary: Markdown, *triggers: Any) -> pn.Column:
        """The view's own controls, a summary line and the plot, drawn afresh when a trigger changes.

        ``triggers`` are widgets or their ``param.value_throttled`` (sliders: on release).
        """

        def plot(*_: Any) -> pn.pane.HoloViews:
            return pn.pane.HoloViews(self.dynamic(), sizing_mode="stretch_width")

        return pn.Column(controls, summary, pn.bind(plot, *triggers), sizing_mode="stretch_width")

    def _frame(self, **_: Any) -> hv.Element:
        if self._reset_pending and self._last is not None:
            # HoloViews leaves ranges alone in the frame a browser event triggers; the redraw
            # scheduled by the reset hands them back to the data
            drawing = self._last
        else:
            drawing = self.element()
        if (
            not self.keeps_zoom
            or isinstance(drawing, hv.Table)
            or not isinstance(drawing, (hv.Element, hv.Overlay, hv.NdOverlay))
        ):
            return framewise(drawing)
        current = self._read_ranges()
        if self._reset_pending:
            self.zoom, self._reset_pending = None, False
        elif (
            current is not None
            and self._drawn_ranges is not None
            and not np.allclose(current, self._drawn_ranges, rtol=1e-9)
        ):
            self.zoom = ((current[0], current[1]), (current[2], current[3]))
        # explicit limits on every frame: HoloViews' framewise ranging does not reach into
        # overlays, and a plot keeps the previous frame's limits when a frame sets none
        limits = self.zoom if self.zoom is not None else data_limits(drawing, logy=self.log_y())
        if limits is None:
            return drawing
        return with_options(drawing, xlim=limits[0], ylim=limits[1], hooks=[_weak_hook(self._remember_ranges)])

    def _remember_ranges(self, plot, element) -> None:
        """Plot hook: keep the Bokeh ranges and the values this redraw gave them."""
        self._plot_ranges = (plot.state.x_range, plot.state.y_range)
        self._drawn_ranges = self._read_ranges()

    def _read_ranges(self) -> tuple | None:
        if self._plot_ranges is None:
            return None
        x, y = self._plot_ranges
        values = (
            getattr(x, "start", None),
            getattr(x, "end", None),
            getattr(y, "start", None),
            getattr(y, "end", None),
        )
        if any(not isinstance(v, (int, float)) for v in values):
            return None  # categorical axes: nothing to keep
        return tuple(float(v) for v in values)

    def _reset_zoom(self, resetting: bool = False, **_: Any) -> None:
        if not resetting:
            return
        self._reset_pending = True
        # HoloViews leaves ranges alone in the frame a browser event triggers: redraw after it
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None:
            pn.state.execute(self._redraw.event, schedule=True)  # served: next tick, under the document lock
            return
        try:
            asyncio.get_running_loop().call_soon(self._redraw.event)  # notebook: after this message
        except RuntimeError:
            self._redraw.event()  # no event loop: nothing to wait for

    def controls(self) -> list:
        """Extra widgets of the view (shown above its plot)."""
        return []

    def __panel__(self):
        return pn.Column(
            *self.controls(),
            pn.pane.HoloViews(self.dynamic(), sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )


class ModelApp(pn.viewable.Viewer):
    """The live app of one model."""

    budget = param.Number(
        default=10.0,
        bounds=(0.1, None),
        doc="Wall-time budget of one view's recomputation, in seconds: past it the solver stops and "
        "the view says so (a served session must not freeze).",
    )

    def __init__(self, model: Model, views: Sequence[type[View]], **params: Any):
        super().__init__(**params)
        install_exception_handler()
        self.model = model
        self.parameter_controls = ParameterControls(model)
        self.alert = Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self._errors: dict[int, str] = {}
        self.parameter_controls.param.watch(self._input_rejected, "rejected")
        self._cache_key: tuple | None = None
        self._cache: Trajectory | None = None
        self.views = [cls(self) for cls in views]
        self.scenario_download = pn.widgets.FileDownload(
            callback=self._scenario_file,
            filename=f"{type(model).__name__}.json",
            color="primary",
            label="Save scenario (JSON)",
            sizing_mode="stretch_width",
        )
        self.scenario_upload = pn.widgets.FileInput(accept=".json", sizing_mode="stretch_width")
        self.scenario_upload.param.watch(self._load_scenario, "value")
        self.csv_download = pn.widgets.FileDownload(
            callback=self._csv_file,
            filename=f"{type(model).__name__}.csv",
            label="Download data (CSV)",
            sizing_mode="stretch_width",
        )

    # -- shared computation ----------------------------------------------------------------------
    def _key(self) -> tuple:
        return tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in sorted(self.model.values().items()))

    def trajectory(self) -> Trajectory:
        """The model's deterministic simulation, shared by every view of this app."""
        key = self._key()
        if key != self._cache_key:
            self._cache = self.model.simulate()
            self._cache_key = key
        return self._cache

    # -- messages -----------------------------------------------------------------------------
    def report(self, view: View, error: BaseException) -> None:
        """Show a compute-layer error for ``view``."""
        # messages may quote names from an imported file: never let them be markup
        self._errors[id(view)] = f"**{view.title}:** {html.escape(str(error))}"
        self._refresh_alert()

    def clear(self, view: View) -> None:
        """A view recomputed fine: drop its message."""
        if self._errors.pop(id(view), None) is not None:
            self._refresh_alert()

    def _input_rejected(self, event) -> None:
        if event.new:
            self._errors[id(self.parameter_controls)] = f"**Input:** {html.escape(event.new)}"
        else:
            self._errors.pop(id(self.parameter_controls), None)
        self._refresh_alert()

    def _refresh_alert(self) -> None:
        self.alert.object = "\n\n".join(self._errors.values())
        self.alert.visible = bool(self._errors)

    # -- scenarios and data -------------------------------------------------------------------------
    def _scenario_file(self) -> io.StringIO:
        return io.StringIO(scenario_json(self.model))

    def _load_scenario(self, event) -> None:
        if not event.new:
            return
        try:
            loaded = model_from_scenario(event.new)
            if type(loaded) is not type(self.model):
                raise WorkbenchError(f"this scenario is for {type(loaded).__name__}, not {type(self.model).__name__}")
        except WorkbenchError as err:
            self._errors[id(self)] = f"**Scenario:** {err}"
            self._refresh_alert()
            return
        self._errors.pop(id(self), None)
        self._refresh_alert()
        self.model.param.update(**loaded.values())

    def _csv_file(self) -> io.StringIO:
        frame = self.csv_frame()
        return io.StringIO(frame.to_csv())

    def csv_frame(self):
        """The data offered as CSV: the main simulation of the model."""
        result = self.model.simulate() if not self.model.network_based else self.trajectory()
        if isinstance(result, Trajectory):
            return result.to_dataframe()
        return result.summary_table()

    # -- layout ---------------------------------------------------------------------------------------
    def sidebar(self) -> list:
        """Controls, scenario and export widgets."""
        return [
            self.parameter_controls,
            pn.Card(
                self.scenario_download,
                pn.pane.Markdown("Load a scenario:"),
                self.scenario_upload,
                self.csv_download,
                title="Scenario and data",
                collapsed=True,
                sizing_mode="stretch_width",
            ),
        ]

    def tabs(self) -> pn.Tabs:
        """The views as tabs."""
        return pn.Tabs(*[(view.title, view) for view in self.views], dynamic=True, sizing_mode="stretch_width")

    def __panel__(self):
        return pn.Row(
            pn.Column(*self.sidebar(), width=340),
            pn.Column(self.alert, self.tabs(), sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    def page(self, title: str | None = None) -> pn.template.BootstrapTemplate:
        """A full page for serving."""
        name = title or type(self.model).__name__
        return page_template(
            name,
            sidebar=self.sidebar(),
            main=[pn.Column(self.alert, self.tabs(), sizing_mode="stretch_width")],
        )


def timed(views: Sequence[View], change: Callable[[], None]) -> dict[str, float]:
    """Seconds each view takes to recompute after ``change`` (for the benchmark)."""
    change()
    out = {}
    for view in views:
        start = time.perf_counter()
        view.element()
        out[view.title] = time.perf_counter() - start
    return out
