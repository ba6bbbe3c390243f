"""Analyses over any model: NCA and dose dependence.

Noise, steady states, continuation and identifiability join them as they are built.

Imports the core and the models, never the view layer.
"""

from .nca import NCAResult, auc_linear_up_log_down, nca
from .pk import dose_scan

__all__ = ["NCAResult", "auc_linear_up_log_down", "dose_scan", "nca"]
