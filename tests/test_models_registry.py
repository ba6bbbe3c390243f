"""Tests over every registered model: declarations, validation, solver agreement."""

import math

import numpy as np
import param
import pytest
from reference import reference_solution, scaled_error

import workbench as wb
from workbench.models import MODELS, Quantity

MODEL_CLASSES = list(MODELS.values())


NETWORK_CLASSES = [cls for cls in MODEL_CLASSES if cls.network_based]


def variants():
    """Every network model, with each structural option worth exercising."""
    for cls in NETWORK_CLASSES:
        yield cls()
    for route in ("iv_infusion", "oral"):
        for cls in (wb.OneCompartment, wb.TwoCompartment, wb.PBPK):
            yield cls(route=route, n_doses=3, interval=12.0)
    yield wb.OneCompartment(effect_compartment=True)
    yield wb.PBPK(permeability_limited=["liver", "muscle"], effect_compartment=True)
    yield wb.TMDD(reduction="qss", n_doses=2)
    yield wb.TMDD(reduction="mm")
    yield wb.ReceptorBinding(ligand_depletion=True)


VARIANTS = list(variants())


def test_registry_holds_the_issue_models():
    expected = {"OneCompartment", "TwoCompartment", "PBPK", "TMDD", "ReceptorBinding", "BirthDeath"}
    expected |= {"TwoStageExpression", "TelegraphExpression", "AutoActivation", "HybridTissue"}
    assert expected <= set(MODELS)


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda c: c.__name__)
def test_every_parameter_is_fully_declared(cls):
    for name, p in cls.param.objects("existing").items():
        if name == "name":
            continue
        assert p.doc, f"{cls.__name__}.{name} has no doc"
        if isinstance(p, (param.Number, param.Integer)):
            assert p.bounds is not None, f"{cls.__name__}.{name} has no hard bounds"
            assert p.softbounds is not None, f"{cls.__name__}.{name} has no softbounds"
            assert "unit" in p.metadata, f"{cls.__name__}.{name} has no unit"
            lo, hi = p.bounds
            slo, shi = p.softbounds
            assert lo is None or slo >= lo, f"{cls.__name__}.{name} softbounds below bounds"
            assert hi is None or shi <= hi, f"{cls.__name__}.{name} softbounds above bounds"
            assert slo <= p.default <= shi, f"{cls.__name__}.{name} default outside the slider range"
        if isinstance(p, Quantity):
            assert p.metadata.get("group"), f"{cls.__name__}.{name} has no widget group"


@pytest.mark.parametrize("cls", MODEL_CLASSES, ids=lambda c: c.__name__)
@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf, -math.inf])
def test_invalid_parameter_values_are_rejected(cls, bad):
    model = cls()
    for name in cls.model_parameters():
        with pytest.raises(ValueError, match=name):
            setattr(model, name, bad)
        with pytest.raises(ValueError):
            cls(**{name: bad})


@pytest.mark.parametrize("model", VARIANTS, ids=lambda m: f"{type(m).__name__}")
def test_default_simulation_is_finite_with_units(model):
    traj = model.simulate()
    assert np.all(np.isfinite(traj.values))
    for values in traj.observables.values():
        assert np.all(np.isfinite(values))
    assert traj.units["t"] == model.time_unit
    for name in traj.names:
        assert name in traj.units, f"{name} has no unit"


@pytest.mark.parametrize("model", VARIANTS, ids=lambda m: f"{type(m).__name__}")
def test_explicit_stiff_and_scipy_solutions_agree(model):
    """Dormand-Prince, Rodas4 and scipy's Radau agree on every model (tight tolerances).

    Local error control keeps the global error within a small multiple of the tolerance; the
    sharpest transients here (TMDD's target-mediated drop) reach about ten tolerance units.
    """
    rtol, atol = 1e-10, 1e-13
    t = np.linspace(0.0, model.t_end, 101)
    ref = reference_solution(model.network(), t, model.doses(), rtol=1e-12, atol=1e-15)
    for method in ("dopri5", "rodas4"):
        traj = model.simulate(t=t, method=method, rtol=rtol, atol=atol, max_steps=1_000_000)
        assert scaled_error(traj.values, ref, rtol, atol) < 20, method
