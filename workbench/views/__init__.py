"""Panel / HoloViews apps. Imports everything above it; nothing imports the views.

``app(model)`` builds a model's live app; displaying a model in a notebook shows it; ``serve``
runs the gallery of every model.
"""

import holoviews as hv
import panel as pn

from .base import ModelApp, View
from .gallery import gallery_page, serve
from .registry import FAMILY_VIEWS, app, views_for

# the Bokeh backend and its plot options, without a second notebook extension load:
# pn.extension below loads everything the browser needs once
hv.renderer("bokeh")
hv.Store.set_current_backend("bokeh")
pn.extension(notifications=True, loading_indicator=True)

__all__ = ["FAMILY_VIEWS", "ModelApp", "View", "app", "gallery_page", "serve", "views_for"]
