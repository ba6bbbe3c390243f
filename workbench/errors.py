"""Exceptions raised by workbench.

Every error a user can trigger derives from :class:`WorkbenchError`, so an app can catch one
type and show its message. Errors about bad input also derive from ``ValueError``; errors
about a solver that cannot proceed also derive from ``RuntimeError``.
"""

from __future__ import annotations

__all__ = [
    "ModelError",
    "ReactionParseError",
    "SBMLError",
    "SolverError",
    "UnsupportedSBMLError",
    "WorkbenchError",
]


class WorkbenchError(Exception):
    """Base class of every error raised by workbench."""


class ModelError(WorkbenchError, ValueError):
    """A model, network, parameter value or input is invalid."""


class ReactionParseError(ModelError):
    """A reaction equation could not be parsed."""


class SBMLError(ModelError):
    """An SBML document is malformed or inconsistent (libsbml's messages say where)."""


class UnsupportedSBMLError(SBMLError):
    """An SBML document uses a construct workbench cannot simulate faithfully.

    Attributes
    ----------
    construct : str
        The construct, e.g. ``"AlgebraicRule"``, ``"package comp"``, ``"csymbol delay"``.
    """

    def __init__(self, construct: str, detail: str = ""):
        message = f"unsupported SBML construct: {construct}"
        super().__init__(message + (f" ({detail})" if detail else ""))
        self.construct = construct


class SolverError(WorkbenchError, RuntimeError):
    """A solver could not proceed.

    Attributes
    ----------
    t_reached : float
        The simulation time the solver had reached when it stopped.
    reason : str
        A short machine-readable reason: ``"step_size"``, ``"max_steps"``,
        ``"nonfinite"`` or ``"singular"``.
    """

    def __init__(self, message: str, *, t_reached: float = float("nan"), reason: str = ""):
        super().__init__(message)
        self.t_reached = t_reached
        self.reason = reason
