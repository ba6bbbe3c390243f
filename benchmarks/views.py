"""Per-view recompute time of every app, driven through the app objects.

Each model's app is built and every view rendered by HoloViews' Bokeh renderer, exactly as a
served session renders it. A parameter the views read is then moved back and forth; each
change recomputes the views that depend on it (data, drawing, Bokeh model update). The table
reports, per view, the median over changes after warm-up (the first view to run after a
change also pays for the simulation the views share). The target is 50 ms per deterministic view.
Views with long work refine in the background: the SSA view (its small first ensemble is
reported) and the tissue views (timed on their preview; the full run redraws them later).
Changes are driven inside an asyncio loop, so background results are delivered on it as in a
notebook kernel (served sessions deliver on the document's next tick likewise).

    python benchmarks/run.py views
"""

from __future__ import annotations

import asyncio
import statistics
import time

import holoviews as hv
from holoviews.plotting.plot import DimensionedPlot

from workbench.models import MODELS
from workbench.views import app
from workbench.views.families import StochasticView, _TissueBase

#: The parameter each app's benchmark moves (one every view of the app reads).
PROBES = {
    "OneCompartment": "CL",
    "TwoCompartment": "CL",
    "PBPK": "CL_hepatic",
    "TMDD": "kdeg",
    "ReceptorBinding": "kon",
    "BirthDeath": "gamma",
    "TwoStageExpression": "gp",
    "TelegraphExpression": "koff",
    "AutoActivation": "vmax",
    "HybridTissue": "D",
}
TARGET_S = 0.050
WARMUP, CHANGES = 3, 15

#: Which plots are being timed, and whether a change is in progress.
recording: dict = {"on": False, "titles": {}, "change": {}}
_refresh = DimensionedPlot.refresh


def _timed_refresh(self, **kwargs):
    """A plot's whole update after a change: the view's compute and drawing, and the Bokeh models."""
    start = time.perf_counter()
    _refresh(self, **kwargs)
    title = recording["titles"].get(id(self))
    if recording["on"] and title is not None:  # a layout's panels refresh one by one: add them up
        change = recording["change"]
        change[title] = change.get(title, 0.0) + time.perf_counter() - start


# before any plot exists: streams subscribe the (then patched) bound method
DimensionedPlot.refresh = _timed_refresh


def measure(name: str) -> tuple[dict[str, float], float | None]:
    """Median seconds per view, and of the SSA view's first (small) ensemble."""
    model = MODELS[name]()
    the_app = app(model)
    views = [view for view in the_app.views if not isinstance(view, StochasticView)]
    stochastic = [view for view in the_app.views if isinstance(view, StochasticView)]
    times: dict[str, list[float]] = {view.title: [] for view in views}
    plots = [hv.renderer("bokeh").get_plot(view.dynamic()) for view in views]  # kept alive while timed
    titles = {
        id(part): view.title for plot, view in zip(plots, views, strict=True) for part in plot.traverse(lambda p: p)
    }
    recording.update(titles=titles, on=False)
    probe = PROBES[name]
    base = float(getattr(model, probe))
    tissue = [view for view in views if isinstance(view, _TissueBase)][:1]

    async def settle() -> None:
        # background refinements start, finish and deliver on this loop, as in a notebook kernel
        await asyncio.sleep(0.001)
        for pending in [view._pending for view in stochastic] + [view.runs._pending for view in tissue]:
            while pending is not None and not pending.done():
                await asyncio.sleep(0.002)
        await asyncio.sleep(0.02)

    async def drive() -> None:
        for k in range(WARMUP + CHANGES):
            if k == WARMUP:
                for series in times.values():
                    series.clear()
            recording.update(on=True, change={})  # the redraws this change causes, not later refinements
            setattr(model, probe, base * (1.1 if k % 2 == 0 else 1.0 / 1.1))
            recording["on"] = False
            for title, seconds in recording["change"].items():
                times[title].append(seconds)
            await settle()

    asyncio.run(drive())
    medians = {title: statistics.median(series) for title, series in times.items() if series}
    ssa = None
    for view in stochastic:
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            view.compute(view.small)
            samples.append(time.perf_counter() - start)
        ssa = statistics.median(samples)
    return medians, ssa


def main() -> None:
    print("\n## Per-view recompute after a parameter change (median of", CHANGES, "changes, warm)\n")
    print(f"| model | view | median ms | within {TARGET_S * 1e3:.0f} ms |")
    print("|---|---|---:|:---:|")
    misses = []
    for name in MODELS:
        medians, ssa = measure(name)
        for title, seconds in medians.items():
            ok = seconds < TARGET_S
            if not ok:
                misses.append(f"{name}/{title}")
            print(f"| {name} | {title} | {seconds * 1e3:.1f} | {'yes' if ok else 'no'} |")
        if ssa is not None:
            title = f"Stochastic (SSA), first {StochasticView.small} cells"
            print(f"| {name} | {title} | {ssa * 1e3:.1f} | (refines in background) |")
    print("\nviews over target:", ", ".join(misses) if misses else "none")


if __name__ == "__main__":
    main()
