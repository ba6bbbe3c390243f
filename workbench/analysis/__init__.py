"""Analyses over any model.

NCA and dose scans, steady states and continuation, noise (SSA statistics, LNA), sensitivities
and Fisher information, timescale separation.

Imports the core and the models, never the view layer.
"""

import importlib
from typing import Any

from .fim import FIMResult, fim
from .nca import NCAResult, auc_linear_up_log_down, nca
from .pk import dose_scan, sampling_grid
from .sensitivity import Sensitivities, default_parameters, sensitivities
from .timescales import QSSAValidity, critical_manifold_stability, qssa_validity

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
    "BifurcationDiagram": ".bifurcation",
    "SpecialPoint": ".bifurcation",
    "continuation": ".bifurcation",
    "stable_state_count": ".bifurcation",
    "SteadyState": ".steady",
    "HomogenizationReport": ".tissue",
    "StripMechanics": ".tissue",
    "compare_to_continuum": ".tissue",
    "effective_diffusivity": ".tissue",
    "strip_mechanics": ".tissue",
    "conservation_laws": ".steady",
    "steady_state": ".steady",
    "equilibria": ".steady",
    "Allometric": ".populations",
    "PTAResult": ".populations",
    "PopulationResult": ".populations",
    "RegimenComparison": ".populations",
    "compare_regimens": ".populations",
    "population": ".populations",
    "ssa_ensemble": ".scale",
    "sweep": ".scale",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "Allometric",
    "BifurcationDiagram",
    "FIMResult",
    "HomogenizationReport",
    "LNAResult",
    "LNATrajectory",
    "NCAResult",
    "PTAResult",
    "PopulationResult",
    "QSSAValidity",
    "RegimenComparison",
    "Sensitivities",
    "SpecialPoint",
    "SteadyState",
    "StripMechanics",
    "VarianceDecomposition",
    "auc_linear_up_log_down",
    "cells_for_precision",
    "compare_regimens",
    "compare_to_continuum",
    "conservation_laws",
    "continuation",
    "count_modes",
    "critical_manifold_stability",
    "default_parameters",
    "dose_scan",
    "effective_diffusivity",
    "equilibria",
    "fim",
    "lna",
    "lna_trajectory",
    "nca",
    "population",
    "propagate",
    "qssa_validity",
    "sampling_grid",
    "sensitivities",
    "ssa_ensemble",
    "stable_state_count",
    "steady_state",
    "strip_mechanics",
    "sweep",
    "tissue_variance",
    "total_variance",
]


def __dir__() -> list[str]:
    return sorted(__all__)
