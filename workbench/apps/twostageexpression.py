"""The TwoStageExpression app: ``panel serve`` this file."""

from workbench.apps import servable

servable("TwoStageExpression")
