"""Panel / HoloViews apps. Imports everything above it; nothing imports the views.

``app(model)`` builds a model's live app; displaying a model in a notebook shows it; ``serve``
runs the gallery of every model.
"""

import contextlib

import holoviews as hv
import panel as pn

from .base import ModelApp, View
from .gallery import gallery_page, serve
from .registry import FAMILY_VIEWS, app, views_for

# the Bokeh backend and, in a notebook, HoloViews' display hooks (plain HoloViews elements
# shown after importing the views render as plots, not text). In a notebook the JavaScript
# comes from the Bokeh and HoloViz CDNs unless PANEL_INLINE=1, which puts it in the output
# (offline machines); HoloViews follows Panel's setting so both load the same way.
hv.extension("bokeh", logo=False, inline=pn.config.inline)
pn.extension(notifications=True, loading_indicator=True)

APP_MIME = "application/vnd.holoviews_exec.v0+json"


def renders_app(obj) -> bool:
    """Whether displaying ``obj`` in a notebook yields a live app (Panel's exec payload + HTML).

    The tutorials check their app cells with it: app outputs carry random ids and cannot be
    compared, but their presence can.
    """
    try:
        from IPython.utils.capture import capture_output  # noqa: PLC0415  (only inside IPython)
    except ImportError:
        capture_output = contextlib.nullcontext
    with capture_output():  # Panel's side displays (comm set-up) stay out of the cell's output
        shown = obj._repr_mimebundle_() if hasattr(obj, "_repr_mimebundle_") else pn.panel(obj)._repr_mimebundle_()
    data = shown[0] if isinstance(shown, tuple) else shown
    return bool(data) and APP_MIME in data and "text/html" in data


__all__ = ["APP_MIME", "FAMILY_VIEWS", "ModelApp", "View", "app", "gallery_page", "renders_app", "serve", "views_for"]
