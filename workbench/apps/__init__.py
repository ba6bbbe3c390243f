"""One module per model app, for ``panel serve``.

``workbench serve`` serves them all behind a gallery; each also runs on its own::

    panel serve "$(python -c 'import workbench.apps as a; print(a.path("TMDD"))')"

Every browser session builds its own model, so sessions never share state.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["path", "servable", "server_proxy"]


def path(model: str) -> Path:
    """The file of a model's app module (what ``panel serve`` takes)."""
    return Path(__file__).with_name(f"{model.lower()}.py")


def servable(model: str):
    """Mark a fresh app of ``model`` servable in the current session; returns its page."""
    from ..models import MODELS  # noqa: PLC0415  (the app modules run under panel serve only)
    from ..views import app  # noqa: PLC0415

    return app(MODELS[model]()).page().servable(title=f"workbench · {model}")


def server_proxy() -> dict:
    """The gallery as a jupyter-server-proxy server (Binder, JupyterHub, a local JupyterLab).

    Registered under the ``jupyter_serverproxy_servers`` entry point: JupyterLab's launcher
    gets a "workbench gallery" tile, served at ``<base_url>workbench/``. The proxy runs
    behind Jupyter's authentication, so any websocket origin is accepted.
    """
    return {
        "command": ["workbench", "serve", "--port", "{port}", "--prefix", "{base_url}workbench", "--allow-origin", "*"],
        "absolute_url": True,
        "timeout": 120,
        "launcher_entry": {"enabled": True, "title": "workbench gallery"},
    }
