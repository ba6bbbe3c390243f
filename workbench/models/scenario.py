"""Scenario files: a model's parameter set as JSON, written atomically, read back exactly.

Format (version 1)::

    {"format": "workbench-scenario", "version": 1, "model": "TMDD",
     "parameters": {"kon": 1.0, ...}}

Floats are written with ``repr`` precision by :mod:`json`, so a round trip is exact.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

from ..core.files import write_atomically
from ..errors import ModelError
from .base import MODELS, Model

__all__ = [
    "FORMAT",
    "MAX_BYTES",
    "VERSION",
    "load_scenario",
    "model_from_scenario",
    "save_scenario",
    "scenario_dict",
    "scenario_json",
]

FORMAT = "workbench-scenario"
VERSION = 1
MAX_BYTES = 1_000_000  # a scenario is a few kB; refuse anything far larger


def scenario_dict(model: Model) -> dict[str, Any]:
    """The scenario of a model as a plain dict."""
    values = {}
    for name, value in model.values().items():
        values[name] = list(value) if isinstance(value, (list, tuple)) else value
    return {"format": FORMAT, "version": VERSION, "model": type(model).__name__, "parameters": values}


def scenario_json(model: Model) -> str:
    """The scenario of a model as JSON text."""
    return json.dumps(scenario_dict(model), indent=2, sort_keys=True)


def model_from_scenario(data: dict[str, Any] | str | bytes) -> Model:
    """Build a model from scenario data (dict or JSON text), validating it.

    Raises
    ------
    ModelError
        Not a scenario, a newer version, an unknown model or parameter, or an invalid value;
        the message says which.
    """
    if isinstance(data, (str, bytes)):
        if len(data) > MAX_BYTES:
            raise ModelError(f"scenario is {len(data)} bytes; the limit is {MAX_BYTES}")
        try:
            data = json.loads(data)
        except (ValueError, RecursionError) as err:  # bad JSON or UTF-8, a 5000-digit int, deep nesting
            raise ModelError(f"scenario is not valid JSON: {err}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ModelError(f"not a workbench scenario (expected format {FORMAT!r})")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelError(f"scenario has an invalid version {version!r}")
    if version > VERSION:
        raise ModelError(
            f"scenario version {version} is newer than this workbench reads ({VERSION}); upgrade workbench"
        )
    name = data.get("model")
    if not isinstance(name, str) or name not in MODELS:
        raise ModelError(f"unknown model {name!r}; known models are {sorted(MODELS)}")
    parameters = data.get("parameters")
    if not isinstance(parameters, dict):
        raise ModelError("scenario parameters must be a JSON object")
    cls = MODELS[name]
    unknown = sorted(set(parameters) - set(cls.param) - {"name"})
    if unknown:
        raise ModelError(f"{name} has no parameter(s) {unknown}")
    values = {}
    for key, value in parameters.items():
        if key == "name":
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise ModelError(f"parameter {key!r} must be finite, got {value}")
        values[key] = value
    try:
        return cls(**values)
    except (ValueError, TypeError) as err:
        raise ModelError(f"invalid scenario for {name}: {err}") from None


def save_scenario(model: Model, path: str | os.PathLike) -> Path:
    """Write the scenario to ``path`` atomically (temporary file, fsync, rename)."""
    return write_atomically(path, scenario_json(model))


def load_scenario(path: str | os.PathLike) -> Model:
    """Read a scenario file; see :func:`model_from_scenario` for the checks."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ModelError(f"{path.name} is {size} bytes; a scenario is at most {MAX_BYTES}")
    return model_from_scenario(path.read_bytes())
