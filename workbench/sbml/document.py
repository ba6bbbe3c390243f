"""Read an SBML document into plain Python data: symbols, rules, reactions and events.

Nothing here simulates. :mod:`.translate` turns this description into a reaction network
and event tables; every construct that cannot be simulated faithfully is refused here or
there with :class:`~workbench.errors.UnsupportedSBMLError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import libsbml

from ..core.expression import derivative, simplify, substitute
from ..errors import SBMLError, UnsupportedSBMLError
from .mathml import ast_to_tree, function_definitions

__all__ = ["Description", "Event", "ReactionSpec", "Symbol", "read_description"]

#: Largest SBML text read (a model of tens of thousands of reactions is a few MB).
MAX_BYTES = 32 * 1024 * 1024


@dataclass
class Symbol:
    """A compartment, species, parameter or species reference, as declared."""

    id: str
    kind: str  # "compartment", "species", "parameter", "reference"
    value: float | None
    constant: bool
    name: str = ""
    unit: str | None = None
    compartment: str | None = None
    only_substance: bool = False
    boundary: bool = False
    given_as: str | None = None  # species: "amount" or "concentration"
    conversion: str | None = None


@dataclass
class ReactionSpec:
    """A reaction: reactants and products as (species, stoichiometry) and its kinetic law."""

    id: str
    name: str
    reactants: list[tuple[str, float]]
    products: list[tuple[str, float]]
    modifiers: list[str]
    law: tuple | None


@dataclass
class Event:
    """An SBML event; trees are in SBML symbols (a species symbol means its SBML value)."""

    id: str
    trigger: tuple
    initial_value: bool
    persistent: bool
    delay: tuple | None
    priority: tuple | None
    use_trigger_values: bool
    assignments: list[tuple[str, tuple]]


@dataclass
class Description:
    """Everything a simulation needs from an SBML model."""

    id: str
    name: str
    symbols: dict[str, Symbol] = field(default_factory=dict)
    initial_assignments: dict[str, tuple] = field(default_factory=dict)
    assignment_rules: dict[str, tuple] = field(default_factory=dict)
    rate_rules: dict[str, tuple] = field(default_factory=dict)
    reactions: list[ReactionSpec] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    conversion: str | None = None
    time_unit: str = ""
    notes: str = ""
    #: The document as read (what :func:`.export.document_with_values` writes back out).
    source: str = ""
    #: Symbol id of each local parameter -> (reaction id, its id in the kinetic law).
    local_parameters: dict[str, tuple[str, str]] = field(default_factory=dict)


def _read_document(source: str | Path) -> libsbml.SBMLDocument:
    text: str
    if isinstance(source, Path) or (isinstance(source, str) and "<" not in source[:1000]):
        path = Path(source)
        if not path.is_file():
            raise SBMLError(f"no SBML file at {str(path)!r}")
        if path.stat().st_size > MAX_BYTES:
            raise SBMLError(f"{path.name} is larger than {MAX_BYTES // 2**20} MiB")
        text = path.read_text(encoding="utf-8", errors="replace")
    elif isinstance(source, (str, bytes)):
        text = source.decode("utf-8", errors="replace") if isinstance(source, bytes) else source
        if len(text) > MAX_BYTES:
            raise SBMLError(f"the SBML text is larger than {MAX_BYTES // 2**20} MiB")
    else:
        raise SBMLError(f"expected a path or SBML text, got {type(source).__name__}")
    doc = libsbml.readSBMLFromString(text)
    errors = [
        doc.getError(i) for i in range(doc.getNumErrors()) if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]
    if errors or doc.getModel() is None:
        detail = "; ".join(f"line {e.getLine()}: {e.getMessage().strip()}" for e in errors[:5]) or "no model"
        raise SBMLError(f"not valid SBML: {detail}")
    return doc


def _unit_name(model: libsbml.Model, unit_id: str) -> str | None:
    if not unit_id:
        return None
    definition = model.getUnitDefinition(unit_id)
    if definition is None:
        return unit_id  # a base unit such as "second" or "mole"
    name = definition.getName()
    if name:
        return name
    return libsbml.UnitDefinition.printUnits(definition, True) or unit_id


#: Packages that only say how to draw the model: they change nothing a simulation computes.
_VISUAL_PACKAGES = frozenset({"layout", "render"})


def read_description(source: str | Path) -> Description:
    """Parse SBML text or a file into a :class:`Description`.

    Raises
    ------
    SBMLError
        The document is not valid SBML.
    UnsupportedSBMLError
        It needs a package, an algebraic rule, fast reactions, variable stoichiometry or
        ``delay``.
    """
    doc = _read_document(source)
    for i in range(doc.getNumPlugins()):
        package = doc.getPlugin(i).getPackageName()
        if package == "l3v2extendedmath":  # libsbml's name for L3v2 core math, not a package
            continue
        if package in _VISUAL_PACKAGES:  # drawings only; libsbml adds both to every Level 2 file
            continue
        if package == "distrib" and "<distrib:" not in libsbml.writeSBMLToString(doc):
            continue  # only its draw functions, which the math translation places
        raise UnsupportedSBMLError(f"package {package}", "only SBML core and distrib's draws are simulated")
    model = doc.getModel()
    level, version = doc.getLevel(), doc.getVersion()
    if level < 3:
        version = 1  # Avogadro's constant does not occur before Level 3
    functions = function_definitions(model, version)

    def tree(math_node, where: str) -> tuple:
        return ast_to_tree(math_node, functions, version=version, where=where)

    desc = Description(
        id=model.getId() or "sbml_model",
        name=model.getName() or model.getId() or "SBML model",
        source=libsbml.writeSBMLToString(doc),
    )
    desc.conversion = model.getConversionFactor() or None
    desc.time_unit = _unit_name(model, model.getTimeUnits()) or ""
    for c in model.getListOfCompartments():
        size = c.getSize() if c.isSetSize() else None
        if size is None and c.isSetSpatialDimensions() and c.getSpatialDimensions() == 0:
            size = 1.0  # a 0-D compartment has no size; its species' values are amounts
        desc.symbols[c.getId()] = Symbol(
            c.getId(), "compartment", size, c.getConstant(), c.getName(), _unit_name(model, c.getUnits())
        )
    for s in model.getListOfSpecies():
        if s.isSetInitialAmount():
            value, given = s.getInitialAmount(), "amount"
        elif s.isSetInitialConcentration():
            value, given = s.getInitialConcentration(), "concentration"
        else:
            value, given = None, None
        desc.symbols[s.getId()] = Symbol(
            s.getId(),
            "species",
            value,
            s.getConstant(),
            s.getName(),
            _unit_name(model, s.getSubstanceUnits()),
            compartment=s.getCompartment(),
            only_substance=s.getHasOnlySubstanceUnits(),
            boundary=s.getBoundaryCondition(),
            given_as=given,
            conversion=s.getConversionFactor() or None,
        )
    for p in model.getListOfParameters():
        value = p.getValue() if p.isSetValue() else None
        desc.symbols[p.getId()] = Symbol(
            p.getId(), "parameter", value, p.getConstant(), p.getName(), _unit_name(model, p.getUnits())
        )
    for r in model.getListOfReactions():
        where = f"reaction {r.getId()!r}"
        if r.isSetFast() and r.getFast():
            raise UnsupportedSBMLError("fast reaction", where)
        sides = []
        for refs in (r.getListOfReactants(), r.getListOfProducts()):
            side = []
            for ref in refs:
                stoich = ref.getStoichiometry() if ref.isSetStoichiometry() else (1.0 if level < 3 else math.nan)
                if level < 3 and ref.isSetStoichiometryMath():
                    raise UnsupportedSBMLError("stoichiometryMath", where)
                if ref.getId():
                    constant = level < 3 or ref.getConstant()
                    desc.symbols[ref.getId()] = Symbol(ref.getId(), "reference", stoich, constant, ref.getName())
                side.append((ref.getSpecies(), ref.getId() or stoich))
            sides.append(side)
        law = None
        if r.isSetKineticLaw() and r.getKineticLaw().isSetMath():
            kl = r.getKineticLaw()
            law = tree(kl.getMath(), where)
            local = {}
            # in Level 3 libsbml lists the local parameters under both names: read one list
            for lp in kl.getListOfLocalParameters() if level >= 3 else kl.getListOfParameters():
                new_id = f"{r.getId()}_{lp.getId()}"
                while new_id in desc.symbols:
                    new_id += "_"
                desc.symbols[new_id] = Symbol(new_id, "parameter", lp.getValue(), True, lp.getName() or lp.getId())
                desc.local_parameters[new_id] = (r.getId(), lp.getId())
                local[lp.getId()] = ("sym", new_id)
            if local:
                law = substitute(law, local)
        desc.reactions.append(
            ReactionSpec(
                r.getId(),
                r.getName(),
                sides[0],
                sides[1],
                [m.getSpecies() for m in r.getListOfModifiers()],
                law,
            )
        )
    for ia in model.getListOfInitialAssignments():
        if ia.isSetMath():
            desc.initial_assignments[ia.getSymbol()] = tree(ia.getMath(), f"initial assignment to {ia.getSymbol()!r}")
    algebraic: list[tuple] = []
    for rule in model.getListOfRules():
        if not rule.isSetMath():
            continue
        if rule.isAlgebraic():
            algebraic.append(tree(rule.getMath(), "algebraic rule"))
            continue
        variable = rule.getVariable()
        where = f"rule for {variable!r}"
        if rule.isAssignment():
            desc.assignment_rules[variable] = tree(rule.getMath(), where)
        else:
            desc.rate_rules[variable] = tree(rule.getMath(), where)
    for number, e in enumerate(model.getListOfEvents()):
        event_id = e.getId() or f"event{number + 1}"
        where = f"event {event_id!r}"
        trigger = e.getTrigger()
        if trigger is None or not trigger.isSetMath():
            continue
        assignments = []
        for a in e.getListOfEventAssignments():
            if not a.isSetMath():
                continue
            target = a.getVariable()
            assignments.append((target, tree(a.getMath(), where)))
        delay = e.getDelay()
        priority = e.getPriority()
        desc.events.append(
            Event(
                event_id,
                tree(trigger.getMath(), where),
                trigger.getInitialValue() if level >= 3 else True,
                trigger.getPersistent() if level >= 3 else True,
                tree(delay.getMath(), where) if delay is not None and delay.isSetMath() else None,
                tree(priority.getMath(), where) if priority is not None and priority.isSetMath() else None,
                e.getUseValuesFromTriggerTime(),
                assignments,
            )
        )
    if algebraic:
        _solve_algebraic(desc, algebraic)
    return desc


def _solve_algebraic(desc: Description, rules: list[tuple]) -> None:
    """Turn algebraic rules ``0 = f(x, ...)`` into assignment rules where that is exact.

    A rule determines a variable no other rule, reaction or constant fixes; when it reads
    just one such variable and is linear in it, ``x = -f(x = 0) / (df/dx)`` holds exactly.
    Anything else (several unknowns at once, a nonlinear rule) is refused.
    """
    in_reactions = {
        s
        for r in desc.reactions
        for s, _ in (*r.reactants, *r.products)
        if s in desc.symbols and not desc.symbols[s].boundary
    }
    unknown = {
        name
        for name, sym in desc.symbols.items()
        if not sym.constant
        and sym.kind != "reference"
        and name not in desc.assignment_rules
        and name not in desc.rate_rules
        and name not in in_reactions
    }
    pending = list(rules)
    while pending:
        solved = False
        for rule in list(pending):
            expanded = _expand_rules(rule, desc.assignment_rules)
            if "rateOf" in repr(expanded):
                raise UnsupportedSBMLError("AlgebraicRule", "with csymbol rateOf")
            names = _symbols_of(expanded) & unknown
            if len(names) != 1:
                continue
            (x,) = names
            slope = derivative(expanded, ("sym", x))
            if x in _symbols_of(slope):
                raise UnsupportedSBMLError("AlgebraicRule", f"nonlinear in {x!r}")
            if slope == ("num", 0.0):
                continue
            at_zero = simplify(substitute(expanded, {x: ("num", 0.0)}))
            desc.assignment_rules[x] = simplify(("neg", ("/", at_zero, slope)))
            unknown.discard(x)
            pending.remove(rule)
            solved = True
        if not solved:
            raise UnsupportedSBMLError("AlgebraicRule", "it does not fix one variable at a time")


def _expand_rules(tree: tuple, rules: dict[str, tuple], depth: int = 0) -> tuple:
    if depth > 100:
        raise SBMLError("assignment rules nest more than 100 deep (a cycle?)")
    if tree[0] == "sym" and tree[1] in rules:
        return _expand_rules(rules[tree[1]], rules, depth + 1)
    if tree[0] in ("num", "sym", "rateOf"):
        return tree
    return (tree[0], *(_expand_rules(child, rules, depth) for child in tree[1:]))


def _symbols_of(tree: tuple) -> set[str]:
    if tree[0] == "sym":
        return {tree[1]}
    if tree[0] in ("num", "rateOf"):
        return set()
    found: set[str] = set()
    for child in tree[1:]:
        found |= _symbols_of(child)
    return found
