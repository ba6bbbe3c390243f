"""Model families: param-declared models over the reaction-network core.

Imports the core, never the view layer.
"""

from .base import MODELS, Model, Quantity, quantity
from .binding import ReceptorBinding
from .gene import AutoActivation, BirthDeath, TelegraphExpression, TwoStageExpression
from .pk import ORGANS, PBPK, OneCompartment, PKModel, TwoCompartment
from .tmdd import TMDD

__all__ = [
    "MODELS",
    "ORGANS",
    "PBPK",
    "TMDD",
    "AutoActivation",
    "BirthDeath",
    "Model",
    "OneCompartment",
    "PKModel",
    "Quantity",
    "ReceptorBinding",
    "TelegraphExpression",
    "TwoCompartment",
    "TwoStageExpression",
    "quantity",
]
