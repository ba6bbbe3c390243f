"""workbench: a Jupyter-native interactive modeling workbench for pharmacometrics and systems biology."""

from typing import Any

from . import analysis
from .analysis import NCAResult, dose_scan, fim, nca, qssa_validity, sensitivities
from .core import (
    Bolus,
    Dose,
    Ensemble,
    Flow,
    Hill,
    Infusion,
    MassAction,
    MichaelisMenten,
    PiecewiseInput,
    QuasiEquilibrium,
    RateLaw,
    Reaction,
    ReactionNetwork,
    Regimen,
    Species,
    Trajectory,
    parse_equation,
)
from .core.control import Stop, limits
from .errors import ModelError, ReactionParseError, SBMLError, SolverError, UnsupportedSBMLError, WorkbenchError
from .models import (
    MODELS,
    PBPK,
    TMDD,
    AutoActivation,
    BirthDeath,
    HybridTissue,
    Model,
    OneCompartment,
    ReceptorBinding,
    TelegraphExpression,
    TwoCompartment,
    TwoStageExpression,
)
from .models.scenario import load_scenario, save_scenario

__version__ = "0.1.0"

# scipy-based analyses load on first use (see workbench.analysis)
_FROM_ANALYSIS = {
    "Allometric",
    "compare_regimens",
    "continuation",
    "lna",
    "lna_trajectory",
    "population",
    "ssa_ensemble",
    "stable_state_count",
    "steady_state",
    "sweep",
}
# the view layer (Panel, HoloViews, Bokeh) loads when an app is first asked for
_FROM_VIEWS = {"app", "serve"}
# SBML import loads libsbml (0.2 s): on first use
_FROM_SBML = {"load_sbml", "network_to_sbml", "SBMLModel"}


def __getattr__(name: str) -> Any:
    if name in _FROM_ANALYSIS:
        value = getattr(analysis, name)
        globals()[name] = value
        return value
    if name in _FROM_SBML:
        from . import sbml  # noqa: PLC0415

        value = getattr(sbml, name)
        globals()[name] = value
        return value
    if name in _FROM_VIEWS:
        from . import views  # noqa: PLC0415

        value = getattr(views, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")


__all__ = [
    "MODELS",
    "PBPK",
    "TMDD",
    "Allometric",
    "AutoActivation",
    "BirthDeath",
    "Bolus",
    "Dose",
    "Ensemble",
    "Flow",
    "Hill",
    "HybridTissue",
    "Infusion",
    "MassAction",
    "MichaelisMenten",
    "Model",
    "ModelError",
    "NCAResult",
    "OneCompartment",
    "PiecewiseInput",
    "QuasiEquilibrium",
    "RateLaw",
    "Reaction",
    "ReactionNetwork",
    "ReactionParseError",
    "ReceptorBinding",
    "Regimen",
    "SBMLError",
    "SBMLModel",
    "SolverError",
    "Species",
    "Stop",
    "TelegraphExpression",
    "Trajectory",
    "TwoCompartment",
    "TwoStageExpression",
    "UnsupportedSBMLError",
    "WorkbenchError",
    "app",
    "compare_regimens",
    "continuation",
    "dose_scan",
    "fim",
    "limits",
    "lna",
    "lna_trajectory",
    "load_sbml",
    "load_scenario",
    "nca",
    "network_to_sbml",
    "parse_equation",
    "population",
    "qssa_validity",
    "save_scenario",
    "sensitivities",
    "serve",
    "ssa_ensemble",
    "stable_state_count",
    "steady_state",
    "sweep",
]
