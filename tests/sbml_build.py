"""Small SBML documents for the tests, built with libsbml's API (math from L3 formulas)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import libsbml


def _math(formula: str) -> libsbml.ASTNode:
    node = libsbml.parseL3Formula(formula)
    if node is None:
        raise ValueError(f"bad formula {formula!r}: {libsbml.getLastParseL3Error()}")
    return node


def sbml(
    *,
    compartments: Mapping[str, float] | None = None,
    species: Mapping[str, dict] | None = None,
    parameters: Mapping[str, float | tuple[float, bool]] | None = None,
    reactions: Iterable[tuple[str, dict, dict, str]] = (),
    assignment_rules: Mapping[str, str] | None = None,
    rate_rules: Mapping[str, str] | None = None,
    algebraic_rules: Iterable[str] = (),
    initial_assignments: Mapping[str, str] | None = None,
    events: Iterable[dict] = (),
    functions: Mapping[str, str] | None = None,
    model_id: str = "test_model",
) -> str:
    """An SBML L3V2 document.

    ``species`` maps ids to keyword dicts: ``compartment``, ``amount`` or ``concentration``,
    ``only_substance``, ``boundary``, ``constant``, ``name``. ``parameters`` map to a value or
    ``(value, constant)``. Reactions are ``(id, {reactant: stoich}, {product: stoich}, law)``.
    Events are dicts with ``trigger``, ``assign`` ({var: formula}) and optional ``delay``,
    ``priority``, ``persistent``, ``initial_value``, ``use_trigger_values``.
    """
    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    model.setId(model_id)
    for fid, lam in (functions or {}).items():
        fd = model.createFunctionDefinition()
        fd.setId(fid)
        fd.setMath(_math(lam))
    for cid, size in (compartments or {"cell": 1.0}).items():
        c = model.createCompartment()
        c.setId(cid)
        c.setSize(size)
        c.setConstant(cid not in (rate_rules or {}) and cid not in (assignment_rules or {}))
        c.setSpatialDimensions(3)
    first_compartment = next(iter(compartments or {"cell": 1.0}))
    for sid, spec in (species or {}).items():
        s = model.createSpecies()
        s.setId(sid)
        s.setName(spec.get("name", sid))
        s.setCompartment(spec.get("compartment", first_compartment))
        if "concentration" in spec:
            s.setInitialConcentration(spec["concentration"])
        else:
            s.setInitialAmount(spec.get("amount", 0.0))
        s.setHasOnlySubstanceUnits(spec.get("only_substance", False))
        s.setBoundaryCondition(spec.get("boundary", False))
        s.setConstant(spec.get("constant", False))
    for pid, given in (parameters or {}).items():
        value, constant = given if isinstance(given, tuple) else (given, True)
        p = model.createParameter()
        p.setId(pid)
        p.setValue(value)
        p.setConstant(constant)
    for rid, reactants, products, law in reactions:
        r = model.createReaction()
        r.setId(rid)
        r.setReversible(False)
        for side, create in ((reactants, r.createReactant), (products, r.createProduct)):
            for sid, stoich in side.items():
                ref = create()
                ref.setSpecies(sid)
                ref.setStoichiometry(stoich)
                ref.setConstant(True)
        r.createKineticLaw().setMath(_math(law))
    for var, formula in (assignment_rules or {}).items():
        rule = model.createAssignmentRule()
        rule.setVariable(var)
        rule.setMath(_math(formula))
    for var, formula in (rate_rules or {}).items():
        rule = model.createRateRule()
        rule.setVariable(var)
        rule.setMath(_math(formula))
    for formula in algebraic_rules:
        model.createAlgebraicRule().setMath(_math(formula))
    for var, formula in (initial_assignments or {}).items():
        ia = model.createInitialAssignment()
        ia.setSymbol(var)
        ia.setMath(_math(formula))
    for number, spec in enumerate(events):
        e = model.createEvent()
        e.setId(f"event{number}")
        e.setUseValuesFromTriggerTime(spec.get("use_trigger_values", True))
        trigger = e.createTrigger()
        trigger.setMath(_math(spec["trigger"]))
        trigger.setPersistent(spec.get("persistent", True))
        trigger.setInitialValue(spec.get("initial_value", True))
        if "delay" in spec:
            e.createDelay().setMath(_math(spec["delay"]))
        if "priority" in spec:
            e.createPriority().setMath(_math(spec["priority"]))
        for var, formula in spec["assign"].items():
            a = e.createEventAssignment()
            a.setVariable(var)
            a.setMath(_math(formula))
    return libsbml.writeSBMLToString(doc)
