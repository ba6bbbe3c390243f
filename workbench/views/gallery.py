"""The gallery: every model's app on one Panel server, one fresh model per browser session.

Besides the built-in models it serves SBML files named on the command line and an upload
page, where a dropped SBML file (size-limited) opens as a live app for that session only.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path

import panel as pn

from ..errors import WorkbenchError
from ..models import MODELS
from ..sbml import SBMLModel, load_sbml
from .base import Alert, page_template
from .registry import app

__all__ = ["SCREENSHOTS", "UploadPage", "gallery_page", "routes", "serve"]

#: Largest SBML file the upload page accepts.
MAX_UPLOAD_BYTES = 4 * 2**20

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


def gallery_page(imported: dict[str, SBMLModel] | None = None) -> pn.template.BootstrapTemplate:
    """The index: a card per model with its description, a screenshot and a link to its app."""
    cards = []
    for route, model in (imported or {}).items():
        title = html.escape(model.description.name)
        text = f"Imported from SBML: {title}\n\n[Open the app](./{route})"
        cards.append(pn.Card(pn.pane.Markdown(text), title=route, width=400, collapsible=False))
    upload = "[Open an SBML file](./upload): drop a model file to explore it as a live app."
    cards.append(pn.Card(pn.pane.Markdown(upload), title="Your own model (SBML)", width=400, collapsible=False))
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


class UploadPage(pn.viewable.Viewer):
    """Drop an SBML file; it opens as a live app in this session (the file is never stored)."""

    def __init__(self, **params):
        super().__init__(**params)
        self.dropper = pn.widgets.FileDropper(
            accepted_filetypes=[".xml", ".sbml"],
            max_file_size=f"{MAX_UPLOAD_BYTES // 2**20}MB",
            multiple=False,
            sizing_mode="stretch_width",
        )
        self.alert = Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self.main = pn.Column(sizing_mode="stretch_width")
        self.dropper.param.watch(self._dropped, "value")

    def _dropped(self, event) -> None:
        files = event.new or {}
        if not files:
            return
        name, data = next(iter(files.items()))
        self.open(name, data)

    def open(self, name: str, data: bytes | str) -> SBMLModel | None:
        """Import ``data`` (the file's bytes) and show its app; a bad file gives a message."""
        if len(data) > MAX_UPLOAD_BYTES:
            return self._refuse(f"{name} is larger than {MAX_UPLOAD_BYTES // 2**20} MB")
        text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
        try:
            model = load_sbml(text)
        except WorkbenchError as error:
            return self._refuse(f"{name}: {error}")
        self.alert.visible = False
        live = app(model)
        self.main[:] = [pn.Row(pn.Column(*live.sidebar(), width=340), pn.Column(live.alert, live.tabs()))]
        return model

    def _refuse(self, message: str) -> None:
        self.alert.object = html.escape(message)
        self.alert.visible = True

    def __panel__(self):
        intro = pn.pane.Markdown(
            "Drop an SBML file (Level 3 core, up to "
            f"{MAX_UPLOAD_BYTES // 2**20} MB). It opens here as a live app; nothing is kept on the server."
        )
        return pn.Column(intro, self.dropper, self.alert, self.main, sizing_mode="stretch_width")


def route_name(path: Path, taken: set[str]) -> str:
    """A URL route for an SBML file: its name, lower case, letters, digits and '_' only."""
    base = re.sub(r"[^a-z0-9_]", "_", path.stem.lower()) or "model"
    name = base
    while name in taken:
        name += "_"
    return name


def routes(models: Sequence[str | Path] = ()) -> dict:
    """Route name -> page factory; called per session, so sessions never share a model.

    ``models`` are SBML files to serve as apps (each read once here, so a bad file fails at
    start-up, and instantiated afresh for every session).
    """
    imported: dict[str, SBMLModel] = {}
    taken = {name.lower() for name in MODELS} | {"upload"}
    for path in models:
        route = route_name(Path(path), taken)
        taken.add(route)
        imported[route] = load_sbml(Path(path))
    table = {"/": lambda: gallery_page(imported)}
    for name, cls in MODELS.items():
        table[name.lower()] = lambda cls=cls: app(cls()).page()
    for route, model in imported.items():
        cls = type(model)
        title = html.escape(model.description.name)
        table[route] = lambda cls=cls, title=title: app(cls()).page(title=title)
    table["upload"] = lambda: page_template("open an SBML model", main=[UploadPage()])
    return table


#: Largest websocket message a browser may send (an upload arrives as one, base64-encoded):
#: what one client can make the server buffer. Scenario files are refused past 1 MB anyway.
MAX_MESSAGE_BYTES = 8 * 2**20


def serve(
    port: int = 5006,
    show: bool = False,
    address: str = "localhost",
    allow_origins: list[str] | None = None,
    models: Sequence[str | Path] = (),
    **kwargs,
):
    """Serve the gallery (at ``/``, each app at ``/<model>``) on ``address:port``.

    Binds to localhost by default; serving on another interface needs an explicit
    ``address`` and the allowed websocket origins. ``models`` are SBML files served as apps
    too (at ``/<file name>``); ``/upload`` opens any SBML file a browser drops.
    """
    origins = allow_origins or [f"localhost:{port}", f"127.0.0.1:{port}"]
    options = {"websocket_max_message_size": MAX_MESSAGE_BYTES, **kwargs}
    return pn.serve(
        routes(models),
        port=port,
        address=address,
        show=show,
        title="workbench",
        websocket_origin=origins,
        **options,
    )
