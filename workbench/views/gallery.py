"""The gallery: every model's app on one Panel server, one fresh model per browser session."""

from __future__ import annotations

from pathlib import Path

import panel as pn

from ..models import MODELS
from .base import page_template
from .registry import app

__all__ = ["SCREENSHOTS", "gallery_page", "routes", "serve"]

#: Where the browser tests save a screenshot of each app; the gallery shows them when present.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


#: Gallery order: pharmacometrics first, then binding, gene expression, tissue.
_ORDER = [
    "OneCompartment",
    "TwoCompartment",
    "PBPK",
    "TMDD",
    "ReceptorBinding",
    "BirthDeath",
    "TwoStageExpression",
    "TelegraphExpression",
    "AutoActivation",
    "HybridTissue",
]


def _summary(cls) -> str:
    doc = (cls.__doc__ or "").strip().splitlines()
    return doc[0] if doc else cls.__name__


def gallery_page() -> pn.template.BootstrapTemplate:
    """The index: a card per model with its description, a screenshot and a link to its app."""
    cards = []
    for name, cls in sorted(MODELS.items(), key=lambda item: _ORDER.index(item[0]) if item[0] in _ORDER else 99):
        shot = SCREENSHOTS / f"{name}.png"
        body = [pn.pane.Markdown(f"{_summary(cls)}\n\n[Open the {name} app](./{name.lower()})")]
        if shot.exists():
            body.insert(0, pn.pane.PNG(str(shot), width=360, link_url=f"./{name.lower()}"))
        cards.append(pn.Card(*body, title=name, width=400, collapsible=False))
    intro = pn.pane.Markdown(
        "Every model of the workbench as a live app: move a slider and every view recomputes. "
        "Each browser session gets its own model."
    )
    return page_template("model gallery", main=[pn.Column(intro, pn.FlexBox(*cards), sizing_mode="stretch_width")])


def routes() -> dict:
    """Route name -> page factory; called per session, so sessions never share a model."""
    table = {"/": gallery_page}
    for name, cls in MODELS.items():
        table[name.lower()] = lambda cls=cls: app(cls()).page()
    return table


#: Largest websocket message a browser may send (an upload arrives as one, base64-encoded):
#: what one client can make the server buffer. Scenario files are refused past 1 MB anyway.
MAX_MESSAGE_BYTES = 8 * 2**20


def serve(
    port: int = 5006, show: bool = False, address: str = "localhost", allow_origins: list[str] | None = None, **kwargs
):
    """Serve the gallery (at ``/``, each app at ``/<model>``) on ``address:port``.

    Binds to localhost by default; serving on another interface needs an explicit
    ``address`` and the allowed websocket origins.
    """
    origins = allow_origins or [f"localhost:{port}", f"127.0.0.1:{port}"]
    options = {"websocket_max_message_size": MAX_MESSAGE_BYTES, **kwargs}
    return pn.serve(
        routes(),
        port=port,
        address=address,
        show=show,
        title="workbench",
        websocket_origin=origins,
        **options,
    )
