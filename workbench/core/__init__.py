"""The compute core: the reaction-network representation and numba kernels over its arrays.

Imports numpy and numba only (plus workbench.errors); never param, scipy or a plotting library.
"""

from .dosing import Bolus, Dose, Infusion, PiecewiseInput, Regimen
from .ensemble import Ensemble
from .network import Reaction, ReactionNetwork, Species, parse_equation
from .ratelaws import Expression, Flow, Hill, MassAction, MichaelisMenten, QuasiEquilibrium, RateLaw
from .trajectory import Trajectory

__all__ = [
    "Bolus",
    "Dose",
    "Ensemble",
    "Expression",
    "Flow",
    "Hill",
    "Infusion",
    "MassAction",
    "MichaelisMenten",
    "PiecewiseInput",
    "QuasiEquilibrium",
    "RateLaw",
    "Reaction",
    "ReactionNetwork",
    "Regimen",
    "Species",
    "Trajectory",
    "parse_equation",
]
