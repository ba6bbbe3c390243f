"""SBML import and export, and a runner for the SBML Test Suite.

``load_sbml`` reads SBML (Level 3 core; Level 2 where it means the same) into a live model;
``network_to_sbml`` and every network model's ``to_sbml()`` write SBML Level 3 Version 2.
libsbml loads when this package is imported, not with ``import workbench``.
"""

from ..errors import SBMLError, UnsupportedSBMLError
from .export import network_to_sbml, tree_to_ast
from .reader import SBMLModel, load_sbml

__all__ = ["SBMLError", "SBMLModel", "UnsupportedSBMLError", "load_sbml", "network_to_sbml", "tree_to_ast"]
