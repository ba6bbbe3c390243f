"""Analyses over any model: NCA, dose dependence, steady states, noise (LNA and friends).

Continuation and identifiability join them as they are built.

Imports the core and the models, never the view layer.
"""

import importlib
from typing import Any

from .nca import NCAResult, auc_linear_up_log_down, nca
from .pk import dose_scan

# Analyses built on scipy load it when first used, so that ``import workbench`` stays light
# (scipy.integrate, scipy.linalg and scipy.signal cost ~0.6 s to import).
_LAZY = {
    "LNAResult": ".noise",
    "LNATrajectory": ".noise",
    "VarianceDecomposition": ".noise",
    "cells_for_precision": ".noise",
    "count_modes": ".noise",
    "lna": ".noise",
    "lna_trajectory": ".noise",
    "propagate": ".noise",
    "tissue_variance": ".noise",
    "total_variance": ".noise",
    "SteadyState": ".steady",
    "conservation_laws": ".steady",
    "steady_state": ".steady",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "LNAResult",
    "LNATrajectory",
    "NCAResult",
    "SteadyState",
    "VarianceDecomposition",
    "auc_linear_up_log_down",
    "cells_for_precision",
    "conservation_laws",
    "count_modes",
    "dose_scan",
    "lna",
    "lna_trajectory",
    "nca",
    "propagate",
    "steady_state",
    "tissue_variance",
    "total_variance",
]


def __dir__() -> list[str]:
    return sorted(__all__)
