"""Model families: param-declared models over the reaction-network core.

Imports the core, never the view layer.
"""

from .base import MODELS, Model, Quantity, quantity
from .binding import ReceptorBinding
from .gene import AutoActivation, BirthDeath, TelegraphExpression, TwoStageExpression
from .pk import ORGANS, PBPK, OneCompartment, PKModel, TwoCompartment
from .tissue import HybridTissue, TissueResult
from .tmdd import TMDD

__all__ = [
    "MODELS",
    "ORGANS",
    "PBPK",
    "TMDD",
    "AutoActivation",
    "BirthDeath",
    "HybridTissue",
    "Model",
    "OneCompartment",
    "PKModel",
    "Quantity",
    "ReceptorBinding",
    "TelegraphExpression",
    "TissueResult",
    "TwoCompartment",
    "TwoStageExpression",
    "quantity",
]
