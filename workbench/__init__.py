"""workbench: a Jupyter-native interactive modeling workbench for pharmacometrics and systems biology."""

from .analysis import NCAResult, dose_scan, nca
from .core import (
    Bolus,
    Dose,
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
from .errors import ModelError, ReactionParseError, SolverError, WorkbenchError
from .models import MODELS, PBPK, TMDD, Model, OneCompartment, ReceptorBinding, TwoCompartment

__version__ = "0.1.0"

__all__ = [
    "MODELS",
    "PBPK",
    "TMDD",
    "Bolus",
    "Dose",
    "Flow",
    "Hill",
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
    "SolverError",
    "Species",
    "Trajectory",
    "TwoCompartment",
    "WorkbenchError",
    "dose_scan",
    "nca",
    "parse_equation",
]
