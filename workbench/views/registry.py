"""Which views each model family gets, and the app factory."""

from __future__ import annotations

from ..models import (
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
from .base import ModelApp, View
from .common import BifurcationView, IdentifiabilityView, SweepView, TimeCourseView
from .families import (
    BindingKineticsView,
    DoseResponseView,
    DoseScanView,
    EffectView,
    NCAView,
    PopulationView,
    ReductionView,
    StochasticView,
    StripView,
    TissueFieldView,
    TissueSummaryView,
)

__all__ = ["FAMILY_VIEWS", "app", "views_for"]

_NETWORK = [BifurcationView, IdentifiabilityView, SweepView]
_PK = [TimeCourseView, EffectView, NCAView, PopulationView, *_NETWORK]
_GENE = [TimeCourseView, StochasticView, *_NETWORK]

FAMILY_VIEWS: dict[type[Model], list[type[View]]] = {
    OneCompartment: _PK,
    TwoCompartment: _PK,
    PBPK: [TimeCourseView, EffectView, NCAView, IdentifiabilityView, SweepView],
    TMDD: [TimeCourseView, ReductionView, DoseScanView, NCAView, *_NETWORK],
    ReceptorBinding: [TimeCourseView, BindingKineticsView, DoseResponseView, *_NETWORK],
    BirthDeath: _GENE,
    TwoStageExpression: _GENE,
    TelegraphExpression: _GENE,
    AutoActivation: _GENE,
    HybridTissue: [TissueFieldView, TissueSummaryView, StripView],
}


def views_for(model: Model) -> list[type[View]]:
    """The view classes of a model: its family's, or the generic network views."""
    for cls in type(model).__mro__:
        if cls in FAMILY_VIEWS:
            return FAMILY_VIEWS[cls]
    if not model.network_based:
        return []
    return [TimeCourseView, StochasticView, *_NETWORK] if model.stochastic_view else [TimeCourseView, *_NETWORK]


def app(model: Model) -> ModelApp:
    """The live app of a model: ``wb.app(model)``; also what displaying a model shows."""
    return ModelApp(model, views_for(model))
