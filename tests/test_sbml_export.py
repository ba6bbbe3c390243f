"""SBML export: valid documents whose math states the network's ODE exactly.

The kinetic laws are checked independently of any importer: a small evaluator over libsbml's
AST (below) evaluates them at the exported initial state and compares with the kernels.
"""

import math

import libsbml
import numpy as np
import pytest

from workbench.core import (
    Bolus,
    Dose,
    Expression,
    Flow,
    Hill,
    Infusion,
    MichaelisMenten,
    PiecewiseInput,
    QuasiEquilibrium,
    Reaction,
    ReactionNetwork,
    Regimen,
    Species,
)
from workbench.core import expression as ex
from workbench.core.dosing import events_to_arrays
from workbench.core.ode import EVENT_BOLUS, EVENT_RATE
from workbench.errors import ModelError, SBMLError
from workbench.models import MODELS
from workbench.sbml.export import _check_document, network_to_sbml, tree_to_ast

RTOL = 1e-12


# --- an evaluator over libsbml ASTs, typed like SBML: numbers are floats, truths are bools ----
def _number(value):
    assert isinstance(value, float), f"a boolean where SBML needs a number: {value!r}"
    return value


def _truth(value):
    assert isinstance(value, bool), f"a number where SBML needs a boolean: {value!r}"
    return value


def _root(node, ev):
    kids = [node.getChild(i) for i in range(node.getNumChildren())]
    if len(kids) == 1:
        return math.sqrt(ev(kids[0]))
    degree, x = ev(kids[0]), ev(kids[1])
    return math.sqrt(x) if degree == 2.0 else x ** (1.0 / degree)


def _log(node, ev):
    kids = [node.getChild(i) for i in range(node.getNumChildren())]
    if len(kids) == 1:
        return math.log10(ev(kids[0]))
    base, x = ev(kids[0]), ev(kids[1])
    return math.log10(x) if base == 10.0 else math.log(x, base)


def _piecewise(kids, ev):
    for k in range(0, len(kids) - 1, 2):
        if _truth(ev(kids[k + 1])):
            return ev(kids[k])
    if len(kids) % 2:
        return ev(kids[-1])
    return math.nan


_UNARY = {
    libsbml.AST_FUNCTION_EXP: math.exp,
    libsbml.AST_FUNCTION_LN: math.log,
    libsbml.AST_FUNCTION_ABS: abs,
    libsbml.AST_FUNCTION_FLOOR: lambda a: float(math.floor(a)),
    libsbml.AST_FUNCTION_CEILING: lambda a: float(math.ceil(a)),
    libsbml.AST_FUNCTION_FACTORIAL: lambda a: math.gamma(a + 1.0),
    libsbml.AST_FUNCTION_SIN: math.sin,
    libsbml.AST_FUNCTION_COS: math.cos,
    libsbml.AST_FUNCTION_TAN: math.tan,
    libsbml.AST_FUNCTION_ARCSIN: math.asin,
    libsbml.AST_FUNCTION_ARCCOS: math.acos,
    libsbml.AST_FUNCTION_ARCTAN: math.atan,
    libsbml.AST_FUNCTION_SINH: math.sinh,
    libsbml.AST_FUNCTION_COSH: math.cosh,
    libsbml.AST_FUNCTION_TANH: math.tanh,
    libsbml.AST_FUNCTION_ARCSINH: math.asinh,
    libsbml.AST_FUNCTION_ARCCOSH: math.acosh,
    libsbml.AST_FUNCTION_ARCTANH: math.atanh,
}
_BINARY = {
    libsbml.AST_DIVIDE: lambda a, b: a / b,
    libsbml.AST_POWER: math.pow,
    libsbml.AST_FUNCTION_POWER: math.pow,
    libsbml.AST_FUNCTION_REM: math.fmod,
    libsbml.AST_FUNCTION_QUOTIENT: lambda a, b: float(math.trunc(a / b)),
}
_RELATIONAL = {
    libsbml.AST_RELATIONAL_LT: lambda a, b: a < b,
    libsbml.AST_RELATIONAL_LEQ: lambda a, b: a <= b,
    libsbml.AST_RELATIONAL_GT: lambda a, b: a > b,
    libsbml.AST_RELATIONAL_GEQ: lambda a, b: a >= b,
    libsbml.AST_RELATIONAL_EQ: lambda a, b: a == b,
    libsbml.AST_RELATIONAL_NEQ: lambda a, b: a != b,
}
_CONSTANTS = {
    libsbml.AST_CONSTANT_PI: math.pi,
    libsbml.AST_CONSTANT_E: math.e,
    libsbml.AST_CONSTANT_TRUE: True,
    libsbml.AST_CONSTANT_FALSE: False,
}


def evaluate_ast(node, values):
    """Value of a libsbml AST; names (and ``time``) are looked up in ``values``."""
    kind = node.getType()
    kids = [node.getChild(i) for i in range(node.getNumChildren())]

    def num(child):
        return _number(evaluate_ast(child, values))

    def truth(child):
        return _truth(evaluate_ast(child, values))

    if kind == libsbml.AST_INTEGER:
        return float(node.getInteger())
    if kind in (libsbml.AST_REAL, libsbml.AST_REAL_E, libsbml.AST_RATIONAL):
        return float(node.getReal())
    if kind == libsbml.AST_NAME:
        return float(values[node.getName()])
    if kind == libsbml.AST_NAME_TIME:
        return float(values["time"])
    if kind in _CONSTANTS:
        return _CONSTANTS[kind]
    if kind == libsbml.AST_PLUS:
        return sum((num(k) for k in kids), 0.0)
    if kind == libsbml.AST_MINUS:
        return -num(kids[0]) if len(kids) == 1 else num(kids[0]) - num(kids[1])
    if kind == libsbml.AST_TIMES:
        return math.prod((num(k) for k in kids), start=1.0)
    if kind in _BINARY:
        assert len(kids) == 2
        return float(_BINARY[kind](num(kids[0]), num(kids[1])))
    if kind in _UNARY:
        assert len(kids) == 1
        return float(_UNARY[kind](num(kids[0])))
    if kind == libsbml.AST_FUNCTION_ROOT:
        return _root(node, num)
    if kind == libsbml.AST_FUNCTION_LOG:
        return _log(node, num)
    if kind == libsbml.AST_FUNCTION_MIN:
        return min(num(k) for k in kids)
    if kind == libsbml.AST_FUNCTION_MAX:
        return max(num(k) for k in kids)
    if kind == libsbml.AST_FUNCTION_PIECEWISE:
        return _piecewise(kids, lambda child: evaluate_ast(child, values))
    if kind in _RELATIONAL:
        assert len(kids) == 2
        return _RELATIONAL[kind](num(kids[0]), num(kids[1]))
    if kind == libsbml.AST_LOGICAL_AND:
        return all([truth(k) for k in kids])
    if kind == libsbml.AST_LOGICAL_OR:
        return any([truth(k) for k in kids])
    if kind == libsbml.AST_LOGICAL_XOR:
        return sum(truth(k) for k in kids) % 2 == 1
    if kind == libsbml.AST_LOGICAL_NOT:
        return not truth(kids[0])
    raise AssertionError(f"the test evaluator does not know AST node type {kind} ({node.getName()})")


# --- reading an exported document back ---------------------------------------------------------
def read(text):
    """The document, after asserting libsbml reads and checks it without errors."""
    doc = libsbml.readSBMLFromString(text)
    doc.checkConsistency()
    errors = [
        doc.getError(i).getMessage()
        for i in range(doc.getNumErrors())
        if doc.getError(i).getSeverity() in (libsbml.LIBSBML_SEV_ERROR, libsbml.LIBSBML_SEV_FATAL)
    ]
    assert errors == []
    assert (doc.getLevel(), doc.getVersion()) == (3, 2)
    return doc


def initial_values(model):
    """Initial values of every species (concentration), parameter and compartment of ``model``."""
    values = {}
    for p in model.getListOfParameters():
        values[p.getId()] = p.getValue()
    for c in model.getListOfCompartments():
        values[c.getId()] = c.getSize()
    for s in model.getListOfSpecies():
        assert s.isSetInitialConcentration()
        assert not s.getHasOnlySubstanceUnits()
        values[s.getId()] = s.getInitialConcentration()
    for assignment in model.getListOfInitialAssignments():
        values[assignment.getSymbol()] = evaluate_ast(assignment.getMath(), values)
    values["time"] = 0.0
    return values


def kinetic_rates(model, values):
    return np.array([evaluate_ast(r.getKineticLaw().getMath(), values) for r in model.getListOfReactions()])


def sbml_rhs(model, values):
    """dy/dt of every species from the document's reactions (concentrations, constant volumes)."""
    rates = kinetic_rates(model, values)
    dy = {s.getId(): 0.0 for s in model.getListOfSpecies()}
    for rate, reaction in zip(rates, model.getListOfReactions(), strict=True):
        for ref in reaction.getListOfReactants():
            dy[ref.getSpecies()] -= ref.getStoichiometry() * rate
        for ref in reaction.getListOfProducts():
            dy[ref.getSpecies()] += ref.getStoichiometry() * rate
    for s in model.getListOfSpecies():
        dy[s.getId()] = 0.0 if s.getBoundaryCondition() else dy[s.getId()] / values[s.getCompartment()]
    return np.array(list(dy.values()))


def assert_same_odes(network, text):
    """The document's kinetic laws and ODE equal the kernels' at the initial state.

    And at a random positive state too (many models start from zero concentrations).
    """
    model = read(text).getModel()
    assert [s.getId() for s in model.getListOfSpecies()] == list(network.species)
    values = initial_values(model)
    n = len(network.reactions)
    y0 = network.initial_vector()
    y1 = np.random.default_rng(7).uniform(0.5, 2.0, y0.size)
    for y in (y0, y1):
        state = {**values, **dict(zip(network.species, y.tolist(), strict=True))}
        np.testing.assert_allclose(kinetic_rates(model, state)[:n], network.rates(y), rtol=RTOL, atol=0.0)
        if model.getNumReactions() == n:  # without input reactions: the whole right-hand side
            np.testing.assert_allclose(sbml_rhs(model, state), network.rhs(y), rtol=RTOL, atol=1e-300)
    return model


# --- every network model ------------------------------------------------------------------------
NETWORK_MODELS = [name for name, cls in MODELS.items() if cls.network_based]
VARIANTS = [
    ("TMDD", {"reduction": "qss"}),
    ("TMDD", {"reduction": "mm"}),
    ("OneCompartment", {"route": "iv_infusion", "n_doses": 3}),
    ("TwoCompartment", {"route": "oral", "n_doses": 2, "effect_compartment": True}),
    ("PBPK", {"permeability_limited": ["liver", "muscle"], "route": "iv_infusion"}),
    ("ReceptorBinding", {"ligand_depletion": True}),
    ("TelegraphExpression", {"translation": True}),
]


def _inputs(doses, network):
    """Species receiving a non-zero zero-order input."""
    _, ev_sp, ev_kind, ev_val = events_to_arrays(doses, network.species_index)
    return {network.species[s] for s, k, v in zip(ev_sp, ev_kind, ev_val, strict=True) if k == EVENT_RATE and v != 0}


@pytest.mark.parametrize(
    ("name", "options"), [(name, {}) for name in NETWORK_MODELS] + VARIANTS, ids=lambda v: str(v) if v else ""
)
def test_every_network_model_exports(name, options):
    assert name in MODELS
    model = MODELS[name](**options)
    network, doses = model.network(), model.doses()
    text = network_to_sbml(network, doses=doses, model_id=name)
    sbml = read(text).getModel()
    assert sbml.getId() == name
    assert sbml.getNumSpecies() == len(network.species)
    assert sbml.getNumParameters() == len(network.parameters)
    assert sbml.getNumReactions() == len(network.reactions) + len(_inputs(doses, network))
    assert sbml.getNumCompartments() == len(network.compartments) + any(
        s.compartment is None for s in network._species.values()
    )
    assert_same_odes(network, text)


def test_all_network_models_are_covered():
    assert {"OneCompartment", "TMDD", "PBPK", "AutoActivation"} <= set(NETWORK_MODELS)
    assert all(MODELS[name].network_based for name in NETWORK_MODELS)


# --- kinetic-law semantics, kind by kind ------------------------------------------------------
def _mass_action():
    return ReactionNetwork(
        species={
            "A": Species(2.0, "cell"),
            "B": Species(3.0, "cell"),
            "C": Species(0.5, "cell"),
            "D": Species(1.25, "nucleus"),
            "E": Species(4.0, constant=True),
            "F": 0.75,
        },
        parameters={"k1": 0.3, "k2": 1.7, "Vc": 2.5},
        compartments={"cell": "Vc", "nucleus": 0.4},
        reactions=[
            ("A + 2 B -> C", "k1"),
            ("C ->", 0.3),
            Reaction("A + B <-> C", ("k1", "k2"), name="bind"),
            ("D -> A", "k2"),
            Reaction("A -> D", "k1", compartment="nucleus"),
            ("E + F -> 2 F", 0.05),
            ("-> F", "Vc"),  # a volume parameter used as a rate constant too
            ("3 F -> A", "k2"),
        ],
    )


def _saturable():
    return ReactionNetwork(
        species={"S": Species(3.0, "tissue"), "P": Species(0.2, "tissue"), "X": 1.5, "R": 0.0},
        parameters={"vmax": 2.0, "km": 0.7, "K": 1.2, "n": 2.5, "V": 3.0},
        compartments={"tissue": "V"},
        reactions=[
            Reaction("S -> P", MichaelisMenten("vmax", "km"), name="mm"),
            Reaction("-> P", MichaelisMenten(1.5, "km", substrate="S"), name="mm_substrate"),
            Reaction("-> R", Hill("vmax", "K", "n", "X"), name="activation"),
            Reaction("-> R", Hill("vmax", 0.8, 3, "X", repress=True), name="repression"),
            Reaction("-> S", Hill(0.5, "K", "n", "P"), name="activation_in_tissue"),
            Reaction("R ->", Hill("vmax", "K", 1, "R", repress=True), name="self"),
        ],
    )


def _flows():
    return ReactionNetwork(
        species={"C_blood": Species(4.0, "blood"), "C_tissue": Species(1.0, "tissue"), "A_out": 0.0},
        parameters={"Q": 1.3, "Kp": 2.5, "V_blood": 5.0, "V_tissue": 20.0, "CL": 0.4},
        compartments={"blood": "V_blood", "tissue": "V_tissue"},
        reactions=[
            Reaction("C_blood -> C_tissue", Flow("Q"), name="in"),
            Reaction("C_tissue -> C_blood", Flow("Q", "Kp"), name="out"),
            Reaction("C_tissue -> A_out", Flow("CL", 3.0), name="clearance"),
            Reaction("-> A_out", Flow(0.2, "Kp", source="C_blood"), name="sampled"),
        ],
    )


def _quasi_equilibrium():
    return ReactionNetwork(
        species={"Dtot": Species(5.0, "plasma"), "Rtot": Species(2.0, "plasma"), "A": 1.0},
        parameters={"ke": 0.1, "kint": 0.3, "kdeg": 0.05, "KSS": 0.8, "Vp": 3.0},
        compartments={"plasma": "Vp"},
        reactions=[
            Reaction("Dtot ->", QuasiEquilibrium("ke", "KSS", "Dtot", "Rtot", form="free"), name="elim"),
            Reaction("Dtot + Rtot ->", QuasiEquilibrium("kint", "KSS", "Dtot", "Rtot"), name="internal"),
            Reaction("Rtot ->", QuasiEquilibrium("kdeg", 0.5, "Rtot", "Dtot", form="free"), name="deg"),
            Reaction("-> A", QuasiEquilibrium(1.0, "KSS", "Dtot", "Rtot"), name="unit_volume"),
        ],
    )


def _expressions():
    s, k, km, p = ("sym", "S"), ("sym", "k"), ("sym", "Km"), ("sym", "P")
    return ReactionNetwork(
        species={"S": Species(2.0, "cell"), "P": Species(0.5, "cell"), "I": 0.3},
        parameters={"k": 1.1, "Km": 0.4, "Vc": 2.0},
        compartments={"cell": "Vc"},
        reactions=[
            Reaction("S -> P", Expression(("*", ("sym", "Vc"), ("/", ("*", k, s), ("+", km, s)))), name="mm"),
            # a truth value used as a number, a number used as a condition, and atan2/sign
            Reaction("-> P", Expression(("*", ("lt", p, s), k)), name="switch"),
            Reaction("P ->", Expression(("select", ("sym", "I"), ("sign", p), ("atan2", p, s))), name="select"),
            Reaction("-> S", Expression(("max", ("exp", ("neg", p)), ("num", 0.25))), name="max_of"),
        ],
    )


KIND_NETWORKS = {
    "mass_action": _mass_action,
    "saturable": _saturable,
    "flow": _flows,
    "quasi_equilibrium": _quasi_equilibrium,
    "expression": _expressions,
}


@pytest.mark.parametrize("make", list(KIND_NETWORKS.values()), ids=list(KIND_NETWORKS))
def test_kinetic_laws_equal_the_kernel_rates(make):
    network = make()
    assert np.all(network.rates() != 0.0)  # every law is exercised
    model = assert_same_odes(network, network_to_sbml(network))
    assert model.getNumReactions() == len(network.reactions)
    assert model.getNumParameters() == len(network.parameters)  # constants stay literal numbers


def test_volumes_multiply_all_laws_but_flows_and_expressions():
    network = _flows()
    model = read(network_to_sbml(network)).getModel()
    values = initial_values(model)
    values["V_blood"] = values["blood"] = 1e6  # a volume factor would show
    values["V_tissue"] = values["tissue"] = 1e6
    np.testing.assert_allclose(kinetic_rates(model, values), network.rates(), rtol=RTOL)
    network = _mass_action()
    model = read(network_to_sbml(network)).getModel()
    values = initial_values(model)
    assert values["cell"] == 2.5 and values["nucleus"] == 0.4
    rates = kinetic_rates(model, values)
    values["cell"] *= 2.0
    doubled = kinetic_rates(model, values)
    np.testing.assert_allclose(doubled[:5], [2 * rates[0], 2 * rates[1], 2 * rates[2], 2 * rates[3], rates[4]])


def test_compartments_species_and_parameters():
    network = _mass_action()
    model = read(network_to_sbml(network)).getModel()
    cell, nucleus = model.getCompartment("cell"), model.getCompartment("nucleus")
    assert cell.getConstant() and nucleus.getConstant()
    assert cell.getSize() == 2.5 and nucleus.getSize() == 0.4
    assert cell.getSpatialDimensions() == 3
    (assignment,) = model.getListOfInitialAssignments()
    assert assignment.getSymbol() == "cell" and libsbml.formulaToL3String(assignment.getMath()) == "Vc"
    default = model.getSpecies("F").getCompartment()
    assert model.getCompartment(default).getSize() == 1.0
    assert model.getSpecies("E").getBoundaryCondition() and not model.getSpecies("E").getConstant()
    assert not model.getSpecies("A").getBoundaryCondition()
    assert all(p.getConstant() for p in model.getListOfParameters())
    reaction = model.getReaction(0)
    assert not reaction.getReversible()
    assert [(r.getSpecies(), r.getStoichiometry()) for r in reaction.getListOfReactants()] == [("A", 1), ("B", 2)]
    assert all(r.getConstant() for r in reaction.getListOfReactants())
    assert [r.getId() for r in model.getListOfReactions()][2:4] == ["bind_fwd", "bind_rev"]


def test_modifiers_are_the_species_a_law_reads():
    model = read(network_to_sbml(_saturable())).getModel()
    modifiers = {r.getId(): [m.getSpecies() for m in r.getListOfModifiers()] for r in model.getListOfReactions()}
    assert modifiers == {
        "mm": [],
        "mm_substrate": ["S"],
        "activation": ["X"],
        "repression": ["X"],
        "activation_in_tissue": ["P"],
        "self": [],
    }
    model = read(network_to_sbml(_expressions())).getModel()
    assert [m.getSpecies() for m in model.getReaction("select").getListOfModifiers()] == ["S", "I"]
    assert [m.getSpecies() for m in model.getReaction("switch").getListOfModifiers()] == ["S"]


def test_clashing_names_get_unique_ids():
    network = ReactionNetwork(
        species={"X": Species(2.0, "V")},
        parameters={"V": 4.0, "k": 0.5},
        compartments={"V": "V"},
        reactions=[Reaction("X ->", "k", name="X"), Reaction("-> X", "k", name="make X!")],
    )
    model = assert_same_odes(network, network_to_sbml(network))
    assert model.getParameter("V").getValue() == 4.0
    (compartment,) = model.getListOfCompartments()
    assert compartment.getId() not in ("V", "X") and compartment.getName() == "V"
    ids = [r.getId() for r in model.getListOfReactions()]
    assert len(set(ids)) == 2 and "X" not in ids
    assert [r.getName() for r in model.getListOfReactions()] == ["X", "make X!"]


# --- doses ------------------------------------------------------------------------------------
def _dosed():
    return ReactionNetwork(
        species={"C": Species(0.0, "central"), "A": 0.0, "B": Species(1.0, constant=True)},
        parameters={"V": 10.0, "k": 0.2},
        compartments={"central": "V"},
        reactions=[("C -> A", "k")],
    )


def _input_at(doses, network, species, t):
    """The kernel's zero-order input (amount per time) into ``species`` at time ``t``."""
    ev_t, ev_sp, ev_kind, ev_val = events_to_arrays(doses, network.species_index)
    i = network.species_index[species]
    return float(
        sum(
            v
            for tt, s, k, v in zip(ev_t, ev_sp, ev_kind, ev_val, strict=True)
            if k == EVENT_RATE and s == i and tt <= t
        )
    )


def test_boluses_are_events():
    network = _dosed()
    doses = [Bolus("C", 50.0, 0.0), Bolus("C", 25.0, 0.0), Bolus("A", 3.0, 0.0), Regimen("C", 10.0, 12.0, 2, start=6.0)]
    model = read(network_to_sbml(network, doses=doses)).getModel()
    assert model.getNumReactions() == 1
    events = list(model.getListOfEvents())
    assert len(events) == 3  # times 0, 6 and 18; doses at one time share an event
    values = initial_values(model)
    expected = [(0.0, {"C": 75.0 / 10.0, "A": 3.0}), (6.0, {"C": 1.0}), (18.0, {"C": 1.0})]
    for event, (time, increments) in zip(events, expected, strict=True):
        trigger = event.getTrigger()
        assert not trigger.getInitialValue() and trigger.getPersistent()
        assert event.getUseValuesFromTriggerTime() and not event.isSetDelay()
        for t, fired in ((time - 1e-9, False), (time, True), (time + 1.0, True)):
            assert evaluate_ast(trigger.getMath(), {**values, "time": t}) is fired
        state = {**values, "C": 2.0, "A": 0.5}
        changes = {
            a.getVariable(): evaluate_ast(a.getMath(), state) - state[a.getVariable()]
            for a in event.getListOfEventAssignments()
        }
        assert changes == pytest.approx(increments, rel=1e-14)


def test_infusions_are_an_input_reaction():
    network = _dosed()
    doses = [
        Infusion("C", rate=4.0, duration=2.0, start=1.0),
        Infusion("C", rate=1.5, duration=5.0, start=2.0),  # overlaps: rates add
        PiecewiseInput("C", times=[10.0, 11.0, 13.0], rates=[2.0, 0.5]),
        Regimen("A", 6.0, interval=24.0, n_doses=2, duration=3.0),
        Bolus("C", 5.0, 1.0),
    ]
    model = read(network_to_sbml(network, doses=doses)).getModel()
    assert model.getNumReactions() == 3
    assert model.getNumEvents() == 1
    values = initial_values(model)
    for species in ("C", "A"):
        (reaction,) = [r for r in model.getListOfReactions() if r.getId() == f"input_{species}"]
        assert reaction.getNumReactants() == 0 and reaction.getNumModifiers() == 0
        (product,) = reaction.getListOfProducts()
        assert product.getSpecies() == species and product.getStoichiometry() == 1.0
        for t in [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 6.9, 7.0, 10.0, 10.5, 11.0, 12.9, 13.0, 24.0, 26.9, 27.0, 100.0]:
            rate = evaluate_ast(reaction.getKineticLaw().getMath(), {**values, "time": t})
            assert rate == pytest.approx(_input_at(doses, network, species, t), rel=1e-14, abs=1e-12), (species, t)


class _Pulse(Dose):
    """A dose type the exporter does not know: exported from its events."""

    def events(self):
        return [
            (1.0, self.species, EVENT_BOLUS, 2.0),
            (2.0, self.species, EVENT_RATE, 3.0),
            (4.0, self.species, EVENT_RATE, -1.0),  # and 2.0 for ever after
        ]


def test_other_doses_are_exported_from_their_events():
    network = _dosed()
    doses = [_Pulse("C")]
    model = read(network_to_sbml(network, doses=doses)).getModel()
    (event,) = model.getListOfEvents()
    (assignment,) = event.getListOfEventAssignments()
    values = initial_values(model)
    assert evaluate_ast(assignment.getMath(), values) == pytest.approx(2.0 / 10.0)
    law = model.getReaction("input_C").getKineticLaw().getMath()
    for t in (0.0, 1.9, 2.0, 3.9, 4.0, 1e6):
        assert evaluate_ast(law, {**values, "time": t}) == _input_at(doses, network, "C", t)


def test_input_into_a_boundary_species_is_a_rate_rule():
    network = _dosed()
    doses = [Infusion("B", rate=2.0, duration=4.0, start=1.0)]
    model = read(network_to_sbml(network, doses=doses)).getModel()
    assert model.getNumReactions() == 1
    (rule,) = model.getListOfRules()
    assert rule.isRate() and rule.getVariable() == "B"
    values = initial_values(model)
    for t, rate in ((0.0, 0.0), (1.0, 2.0), (4.9, 2.0), (5.0, 0.0)):
        assert evaluate_ast(rule.getMath(), {**values, "time": t}) == rate  # unit volume


def test_invalid_doses_are_rejected():
    with pytest.raises(ModelError, match="unknown species"):
        network_to_sbml(_dosed(), doses=[Bolus("nope", 1.0)])
    with pytest.raises(ModelError, match="expected a dose"):
        network_to_sbml(_dosed(), doses=["not a dose"])


# --- units, ids, errors -----------------------------------------------------------------------
def test_time_units():
    network = _dosed()
    model = read(network_to_sbml(network, time_unit="h")).getModel()
    definition = model.getUnitDefinition(model.getTimeUnits())
    (unit,) = definition.getListOfUnits()
    assert unit.getKind() == libsbml.UNIT_KIND_SECOND and unit.getMultiplier() == 3600.0
    assert unit.getExponent() == 1 and unit.getScale() == 0
    assert read(network_to_sbml(network, time_unit="s")).getModel().getTimeUnits() == "second"
    assert not read(network_to_sbml(network)).getModel().isSetTimeUnits()
    with pytest.raises(SBMLError, match="unknown unit of time"):
        network_to_sbml(network, time_unit="fortnight")
    # the network's display unit is the default; an unknown one goes to the notes
    network = ReactionNetwork({"X": 1.0}, {"k": 1.0}, [("X ->", "k")], units={"t": "min"})
    assert read(network_to_sbml(network)).getModel().getTimeUnits() == "minute"
    network = ReactionNetwork({"X": 1.0}, {"k": 1.0}, [("X ->", "k")], units={"t": "generation"})
    model = read(network_to_sbml(network)).getModel()
    assert not model.isSetTimeUnits() and "generation" in model.getNotesString()


def test_model_id_and_name():
    network = ReactionNetwork({"X": 1.0}, {"k": 1.0}, [("X ->", "k")], name="decay (test)")
    model = read(network_to_sbml(network, model_id="My Model")).getModel()
    assert model.getId() == "My_Model" and model.getName() == "decay (test)"
    assert read(network_to_sbml(network)).getModel().getId() == "model"


def test_inconsistent_documents_raise():
    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    model.setId("broken")
    reaction = model.createReaction()
    reaction.setId("r")
    reaction.setReversible(False)
    reference = reaction.createReactant()
    reference.setSpecies("missing")
    reference.setConstant(True)
    with pytest.raises(SBMLError, match="inconsistent"):
        _check_document(libsbml.writeSBMLToString(doc))


# --- tree_to_ast ------------------------------------------------------------------------------
X, Y, Z = ("sym", "x"), ("sym", "y"), ("sym", "z")
POSITIVE = ("+", ("abs", X), ("num", 0.5))


def _unary_argument(op):
    if op in ("ln", "log10", "sqrt"):
        return POSITIVE
    if op == "acosh":
        return ("+", POSITIVE, ("num", 1.0))
    if op in ("asin", "acos", "atanh"):
        return ("/", X, ("num", 2.0))
    if op == "factorial":
        return ("floor", ("*", ("abs", X), ("num", 10.0)))
    return X


TREES = [
    *[(op, _unary_argument(op)) for op in ex.UNARY],
    *[(op, X, Y) for op in ex.BINARY if op != "^"],
    ("^", POSITIVE, Y),
    ("^", X, ("num", 3.0)),
    ("select", ("lt", X, Y), X, Y),
    ("select", Z, ("num", 1.0), ("num", 2.0)),  # a number as a condition
    ("*", ("ge", X, Y), ("num", 3.0)),  # a truth value as a number
    ("and", ("lt", X, Y), Z),
    ("or", ("gt", X, Y), ("not", Z)),
    ("xor", ("le", X, Y), ("ne", X, Y)),
    ("eq", ("lt", X, Y), ("num", 1.0)),
    ("not", ("select", ("gt", X, ("num", 0.0)), ("num", 0.0), ("lt", Y, X))),
    ("select", ("num", 1.0), X, Y),
    ("select", ("num", 0.0), X, Y),
    ("sign", ("num", 0.0)),
    *[
        ("atan2", ("num", float(b)), ("num", float(a)))
        for b, a in [(1, 2), (1, -2), (-1, -2), (-1, 2), (1, 0), (-1, 0), (0, 0), (0, -1)]
    ],
    ("-", ("*", ("num", -2.5), X), ("neg", ("/", Y, ("num", 1e-300)))),
]
ENVIRONMENTS = [
    {"x": 0.7, "y": -1.3, "z": 0.0},
    {"x": -0.4, "y": 2.5, "z": 2.0},
    {"x": 1.9, "y": 1.9, "z": -1.0},
]


def test_trees_cover_every_operation():
    heads = set()

    def walk(tree):
        heads.add(tree[0])
        for child in tree[1:]:
            if isinstance(child, tuple):
                walk(child)

    for tree in TREES:
        walk(tree)
    assert set(ex.UNARY) | set(ex.BINARY) | {"select", "num", "sym"} <= heads


@pytest.mark.parametrize("tree", TREES, ids=[ex.to_infix(t) for t in TREES])
def test_tree_to_ast_round_trips(tree):
    ast = tree_to_ast(tree)
    assert ast.isWellFormedASTNode()
    formula = libsbml.formulaToL3String(ast)
    parsed = libsbml.parseL3Formula(formula)
    assert parsed is not None, (formula, libsbml.getLastParseL3Error())
    for values in ENVIRONMENTS:
        expected = ex.evaluate(tree, values)
        for node in (ast, parsed):
            got = evaluate_ast(node, values)
            assert isinstance(got, float)
            assert got == pytest.approx(expected, rel=1e-12, abs=1e-300), (formula, values)


def test_tree_math_is_valid_sbml():
    """Every tree, as the kinetic law of one reaction, passes libsbml's consistency checks."""
    network = ReactionNetwork(
        species={"x": 1.0, "y": 2.0, "z": 0.0},
        parameters={},
        reactions=[Reaction("-> z", Expression(tree), name=f"r{k}") for k, tree in enumerate(TREES)],
        signed=True,
    )
    model = read(network_to_sbml(network)).getModel()
    assert model.getNumReactions() == len(TREES)


def test_tree_to_ast_rejects_what_it_cannot_express():
    with pytest.raises(SBMLError, match="unknown operation"):
        tree_to_ast(("gamma", X))
    with pytest.raises(SBMLError, match="operand"):
        tree_to_ast(("+", X))
    with pytest.raises(SBMLError, match="resolved leaf"):
        tree_to_ast(("*", ("y", 0), X))
    with pytest.raises(SBMLError, match="not an expression tree"):
        tree_to_ast(("+", X, 3.0))


def test_names_and_numbers():
    ast = tree_to_ast(("+", ("sym", "k_1"), ("num", 2.5)))
    assert ast.getType() == libsbml.AST_PLUS
    assert ast.getChild(0).getType() == libsbml.AST_NAME and ast.getChild(0).getName() == "k_1"
    assert ast.getChild(1).getType() == libsbml.AST_REAL and ast.getChild(1).getReal() == 2.5
    select = tree_to_ast(("select", ("lt", X, Y), X, Y))
    assert select.getType() == libsbml.AST_FUNCTION_PIECEWISE
    assert libsbml.formulaToL3String(select) == "piecewise(x, x < y, y)"
