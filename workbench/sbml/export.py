"""Export a reaction network (and its doses) as SBML Level 3 Version 2.

The document states the network's ODE exactly as the kernels integrate it
(:mod:`workbench.core.kinetics`):

* species carry initial *concentrations* (``hasOnlySubstanceUnits="false"``), so a species
  symbol in the math is a concentration, as in the kernels' state ``y``;
* each network compartment is an SBML compartment (constant, three-dimensional) whose size is
  its volume; species without a compartment live in a unit-volume default compartment;
* every kinetic law is a rate in amount per time: the rate law multiplied by the volume of the
  reaction's compartment, except :class:`~workbench.core.ratelaws.Flow` and
  :class:`~workbench.core.ratelaws.Expression` laws, which already are amounts per time;
* a bolus is an event that adds ``amount / volume`` to the species' concentration; infusions
  and other zero-order inputs are an extra reaction ``-> S`` whose rate is a piecewise
  function of time (a rate rule for a boundary species, which reactions do not change).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from html import escape

import libsbml

from ..core import expression as ex
from ..core.dosing import Bolus, Dose, Infusion, PiecewiseInput, Regimen, events_to_arrays
from ..core.network import ReactionNetwork, parse_equation
from ..core.ode import EVENT_BOLUS, EVENT_RATE
from ..core.ratelaws import Expression, Flow, Hill, MassAction, MichaelisMenten, QuasiEquilibrium
from ..errors import ModelError, SBMLError

__all__ = ["network_to_sbml", "tree_to_ast"]

LEVEL, VERSION = 3, 2

# --- expression trees to libsbml ASTs ---------------------------------------------------------
_NUMERIC_BINARY = {
    "+": libsbml.AST_PLUS,
    "-": libsbml.AST_MINUS,
    "*": libsbml.AST_TIMES,
    "/": libsbml.AST_DIVIDE,
    "^": libsbml.AST_POWER,
    "min": libsbml.AST_FUNCTION_MIN,
    "max": libsbml.AST_FUNCTION_MAX,
    "rem": libsbml.AST_FUNCTION_REM,
    "quotient": libsbml.AST_FUNCTION_QUOTIENT,
}
_RELATIONAL = {
    "lt": libsbml.AST_RELATIONAL_LT,
    "le": libsbml.AST_RELATIONAL_LEQ,
    "gt": libsbml.AST_RELATIONAL_GT,
    "ge": libsbml.AST_RELATIONAL_GEQ,
    "eq": libsbml.AST_RELATIONAL_EQ,
    "ne": libsbml.AST_RELATIONAL_NEQ,
}
_LOGICAL = {"and": libsbml.AST_LOGICAL_AND, "or": libsbml.AST_LOGICAL_OR, "xor": libsbml.AST_LOGICAL_XOR}
_NUMERIC_UNARY = {
    "exp": libsbml.AST_FUNCTION_EXP,
    "ln": libsbml.AST_FUNCTION_LN,
    "abs": libsbml.AST_FUNCTION_ABS,
    "floor": libsbml.AST_FUNCTION_FLOOR,
    "ceil": libsbml.AST_FUNCTION_CEILING,
    "sin": libsbml.AST_FUNCTION_SIN,
    "cos": libsbml.AST_FUNCTION_COS,
    "tan": libsbml.AST_FUNCTION_TAN,
    "asin": libsbml.AST_FUNCTION_ARCSIN,
    "acos": libsbml.AST_FUNCTION_ARCCOS,
    "atan": libsbml.AST_FUNCTION_ARCTAN,
    "sinh": libsbml.AST_FUNCTION_SINH,
    "cosh": libsbml.AST_FUNCTION_COSH,
    "tanh": libsbml.AST_FUNCTION_TANH,
    "asinh": libsbml.AST_FUNCTION_ARCSINH,
    "acosh": libsbml.AST_FUNCTION_ARCCOSH,
    "atanh": libsbml.AST_FUNCTION_ARCTANH,
    "factorial": libsbml.AST_FUNCTION_FACTORIAL,
}
# operations whose result is a truth value (SBML types these as booleans, not numbers)
_BOOLEAN_HEADS = {*_RELATIONAL, *_LOGICAL, "not"}


def _node(kind: int, *children: libsbml.ASTNode) -> libsbml.ASTNode:
    node = libsbml.ASTNode(kind)
    for child in children:
        if node.addChild(child) != libsbml.LIBSBML_OPERATION_SUCCESS:
            raise SBMLError(f"libsbml could not build the math node {node.getType()}")
    return node


def _real(value: float) -> libsbml.ASTNode:
    node = libsbml.ASTNode(libsbml.AST_REAL)
    node.setValue(float(value))
    return node


def _integer(value: int) -> libsbml.ASTNode:
    node = libsbml.ASTNode(libsbml.AST_INTEGER)
    node.setValue(int(value))
    return node


def _name(sid: str) -> libsbml.ASTNode:
    node = libsbml.ASTNode(libsbml.AST_NAME)
    node.setName(sid)
    return node


def _time() -> libsbml.ASTNode:
    node = libsbml.ASTNode(libsbml.AST_NAME_TIME)
    node.setName("time")
    return node


def _pi() -> libsbml.ASTNode:
    return libsbml.ASTNode(libsbml.AST_CONSTANT_PI)


def _times(*factors: libsbml.ASTNode) -> libsbml.ASTNode:
    return factors[0] if len(factors) == 1 else _node(libsbml.AST_TIMES, *factors)


def _plus(*terms: libsbml.ASTNode) -> libsbml.ASTNode:
    return terms[0] if len(terms) == 1 else _node(libsbml.AST_PLUS, *terms)


def _minus(a: libsbml.ASTNode, b: libsbml.ASTNode) -> libsbml.ASTNode:
    return _node(libsbml.AST_MINUS, a, b)


def _divide(a: libsbml.ASTNode, b: libsbml.ASTNode) -> libsbml.ASTNode:
    return _node(libsbml.AST_DIVIDE, a, b)


def _power(a: libsbml.ASTNode, b: libsbml.ASTNode) -> libsbml.ASTNode:
    return _node(libsbml.AST_POWER, a, b)


def _sqrt(a: libsbml.ASTNode) -> libsbml.ASTNode:
    # libsbml's own form of sqrt(x): root with degree 2 (written as <root/> with <degree>)
    return _node(libsbml.AST_FUNCTION_ROOT, _integer(2), a)


def _piecewise(*pieces: libsbml.ASTNode) -> libsbml.ASTNode:
    """``piecewise(value1, condition1, value2, condition2, ..., otherwise)``."""
    return _node(libsbml.AST_FUNCTION_PIECEWISE, *pieces)


def _check_arity(tree: tuple, n: int) -> None:
    if len(tree) != n + 1:
        raise SBMLError(f"operation {tree[0]!r} takes {n} operand(s), got {len(tree) - 1} in {tree!r}")


def _as_number(tree: tuple) -> libsbml.ASTNode:
    """AST of ``tree`` in a numeric context (truth values become 1 or 0)."""
    if isinstance(tree, tuple) and tree and tree[0] in _BOOLEAN_HEADS:
        return _piecewise(_integer(1), _as_truth(tree), _integer(0))
    return _numeric(tree)


def _as_truth(tree: tuple) -> libsbml.ASTNode:
    """AST of ``tree`` in a boolean context (a number is true when it is non-zero)."""
    head = tree[0] if isinstance(tree, tuple) and tree else None
    if head == "num":
        _check_arity(tree, 1)
        return libsbml.ASTNode(libsbml.AST_CONSTANT_FALSE if tree[1] == 0.0 else libsbml.AST_CONSTANT_TRUE)
    if head in _RELATIONAL:
        _check_arity(tree, 2)
        return _node(_RELATIONAL[head], _as_number(tree[1]), _as_number(tree[2]))
    if head in _LOGICAL:
        _check_arity(tree, 2)
        return _node(_LOGICAL[head], _as_truth(tree[1]), _as_truth(tree[2]))
    if head == "not":
        _check_arity(tree, 1)
        return _node(libsbml.AST_LOGICAL_NOT, _as_truth(tree[1]))
    return _node(libsbml.AST_RELATIONAL_NEQ, _numeric(tree), _integer(0))


def _numeric(tree: tuple) -> libsbml.ASTNode:
    """AST of a tree whose head is not a boolean operation."""
    if not isinstance(tree, tuple) or not tree:
        raise SBMLError(f"not an expression tree: {tree!r}")
    head = tree[0]
    if head == "num":
        _check_arity(tree, 1)
        return _real(tree[1])
    if head == "sym":
        _check_arity(tree, 1)
        return _name(str(tree[1]))
    if head in ("y", "p"):
        raise SBMLError(f"the tree holds a resolved leaf {tree!r}; export trees with named symbols ('sym')")
    if head == "select":
        _check_arity(tree, 3)
        return _piecewise(_as_number(tree[2]), _as_truth(tree[1]), _as_number(tree[3]))
    if head in _NUMERIC_BINARY:
        _check_arity(tree, 2)
        return _node(_NUMERIC_BINARY[head], _as_number(tree[1]), _as_number(tree[2]))
    if head == "atan2":
        _check_arity(tree, 2)
        return _atan2(tree[1], tree[2])
    if head == "neg":
        _check_arity(tree, 1)
        return _node(libsbml.AST_MINUS, _as_number(tree[1]))
    if head == "sqrt":
        _check_arity(tree, 1)
        return _sqrt(_as_number(tree[1]))
    if head == "log10":
        _check_arity(tree, 1)
        # libsbml's form of log10(x): log with the base as first child (written as <logbase>)
        return _node(libsbml.AST_FUNCTION_LOG, _integer(10), _as_number(tree[1]))
    if head == "sign":
        _check_arity(tree, 1)
        a = tree[1]
        zero = ("num", 0.0)
        return _piecewise(
            _integer(1), _as_truth(("gt", a, zero)), _integer(-1), _as_truth(("lt", a, zero)), _integer(0)
        )
    if head in _NUMERIC_UNARY:
        _check_arity(tree, 1)
        return _node(_NUMERIC_UNARY[head], _as_number(tree[1]))
    raise SBMLError(f"unknown operation {head!r} in an expression tree")


def _atan2(y: tuple, x: tuple) -> libsbml.ASTNode:
    """``atan2(y, x)``, which SBML lacks, as a piecewise of ``arctan(y / x)``."""
    zero = ("num", 0.0)

    def ratio() -> libsbml.ASTNode:
        return _node(libsbml.AST_FUNCTION_ARCTAN, _divide(_as_number(y), _as_number(x)))

    return _piecewise(
        ratio(),
        _as_truth(("gt", x, zero)),
        _plus(ratio(), _pi()),
        _as_truth(("and", ("lt", x, zero), ("ge", y, zero))),
        _minus(ratio(), _pi()),
        _as_truth(("lt", x, zero)),
        _divide(_pi(), _integer(2)),
        _as_truth(("gt", y, zero)),
        _node(libsbml.AST_MINUS, _divide(_pi(), _integer(2))),
        _as_truth(("lt", y, zero)),
        _integer(0),
    )


def tree_to_ast(tree: tuple) -> libsbml.ASTNode:
    """The libsbml AST of an expression tree (see :mod:`workbench.core.expression`).

    Symbols become names (``ci``), numbers reals, ``select`` a ``piecewise``. Where the tree's
    number-valued booleans meet SBML's typed math, the value is converted both ways: a
    comparison used as a number becomes ``piecewise(1, comparison, 0)``, and a number used as
    a condition becomes ``number != 0``. ``sign`` and ``atan2``, which SBML lacks, become
    piecewise expressions.

    Raises
    ------
    SBMLError
        An unknown operation, a wrong number of operands, or a resolved leaf (``y``/``p``).
    """
    return _as_number(tree)


# --- identifiers -----------------------------------------------------------------------------
_SID_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _sanitize(text: str) -> str:
    sid = re.sub(r"[^A-Za-z0-9_]", "_", str(text))
    if not sid or not (sid[0].isalpha() or sid[0] == "_") or not sid.isascii():
        sid = "_" + sid
    return sid


class _Ids:
    """Allocates SBML identifiers, unique across the model's single SId namespace."""

    def __init__(self):
        self.used: set[str] = set()

    def reserve(self, sid: str) -> str:
        if not _SID_RE.match(sid) or sid in self.used:
            raise SBMLError(f"{sid!r} is not usable as an SBML identifier")
        self.used.add(sid)
        return sid

    def take(self, wanted: str) -> str:
        base = _sanitize(wanted)
        sid, k = base, 2
        while sid in self.used:
            sid, k = f"{base}_{k}", k + 1
        self.used.add(sid)
        return sid


# --- units -----------------------------------------------------------------------------------
# time unit -> (unit definition id, seconds per unit); None id: the base unit "second"
_TIME_UNITS = {
    **dict.fromkeys(("s", "sec", "second", "seconds"), (None, 1.0)),
    **dict.fromkeys(("ms", "millisecond", "milliseconds"), ("millisecond", 1e-3)),
    **dict.fromkeys(("min", "minute", "minutes"), ("minute", 60.0)),
    **dict.fromkeys(("h", "hr", "hour", "hours"), ("hour", 3600.0)),
    **dict.fromkeys(("d", "day", "days"), ("day", 86400.0)),
    **dict.fromkeys(("wk", "week", "weeks"), ("week", 604800.0)),
}


def _set_time_unit(model: libsbml.Model, unit: str) -> None:
    sid, seconds = _TIME_UNITS[unit.strip().lower()]
    if sid is None:
        _ok(model.setTimeUnits("second"), "time units")
        return
    definition = model.createUnitDefinition()
    _ok(definition.setId(sid), "unit definition id")
    base = definition.createUnit()
    _ok(base.setKind(libsbml.UNIT_KIND_SECOND), "unit kind")
    _ok(base.setExponent(1.0), "unit exponent")
    _ok(base.setScale(0), "unit scale")
    _ok(base.setMultiplier(seconds), "unit multiplier")
    _ok(model.setTimeUnits(sid), "time units")


# --- the document ----------------------------------------------------------------------------
def _ok(code: int, what: str) -> None:
    if code != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise SBMLError(f"libsbml refused to set the {what}: {libsbml.OperationReturnValue_toString(code)}")


def _set_math(element, math: libsbml.ASTNode, what: str) -> None:
    _ok(element.setMath(math), f"math of {what}")


class _Exporter:
    def __init__(self, network: ReactionNetwork, model: libsbml.Model):
        self.net = network
        self.model = model
        self.ids = _Ids()
        # species and parameter names appear verbatim in rate-law math: they keep their names
        for name in network.species:
            self.ids.reserve(name)
        for name in network.parameter_names:
            self.ids.reserve(name)
        self.compartment_id: dict[str | None, str] = {}

    # -- references --
    def ref(self, ref) -> libsbml.ASTNode:
        """A parameter reference of a rate law: a parameter's name or a literal number."""
        if isinstance(ref, str):
            return _name(ref)
        return _real(float(ref))

    def volume(self, compartment: str | None) -> libsbml.ASTNode | None:
        """The volume factor of a compartment, None for a unit volume."""
        return None if compartment is None else _name(self.compartment_id[compartment])

    # -- components --
    def compartments(self) -> None:
        for name, volume in self.net.compartments.items():
            sid = self.ids.take(name)
            self.compartment_id[name] = sid
            comp = self.model.createCompartment()
            _ok(comp.setId(sid), f"id of compartment {name!r}")
            _ok(comp.setName(str(name)), f"name of compartment {name!r}")
            _ok(comp.setSpatialDimensions(3.0), "spatial dimensions")
            _ok(comp.setConstant(True), "constant flag")
            if isinstance(volume, str):
                if volume not in self.net.parameter_names:
                    raise ModelError(f"compartment {name!r}: unknown volume parameter {volume!r}")
                _ok(comp.setSize(self.net.parameters[volume]), f"size of compartment {name!r}")
                # keep the parameter (rate laws may read it) and tie the size to it
                assignment = self.model.createInitialAssignment()
                _ok(assignment.setSymbol(sid), "initial assignment symbol")
                _set_math(assignment, _name(volume), f"the size of compartment {name!r}")
            else:
                _ok(comp.setSize(float(volume)), f"size of compartment {name!r}")
        # species without a compartment (unit volume)
        if any(spec.compartment is None for spec in self.net._species.values()):
            sid = self.ids.take("default_compartment")
            self.compartment_id[None] = sid
            comp = self.model.createCompartment()
            _ok(comp.setId(sid), "id of the default compartment")
            _ok(comp.setName("unit volume"), "name of the default compartment")
            _ok(comp.setSpatialDimensions(3.0), "spatial dimensions")
            _ok(comp.setConstant(True), "constant flag")
            _ok(comp.setSize(1.0), "size of the default compartment")

    def species(self) -> None:
        for name, spec in self.net._species.items():
            if spec.compartment is not None and spec.compartment not in self.compartment_id:
                raise ModelError(f"species {name!r}: unknown compartment {spec.compartment!r}")
            sp = self.model.createSpecies()
            _ok(sp.setId(name), f"id of species {name!r}")
            _ok(sp.setName(name), f"name of species {name!r}")
            _ok(sp.setCompartment(self.compartment_id[spec.compartment]), f"compartment of species {name!r}")
            _ok(sp.setInitialConcentration(float(spec.initial)), f"initial concentration of {name!r}")
            _ok(sp.setHasOnlySubstanceUnits(False), "hasOnlySubstanceUnits")
            _ok(sp.setBoundaryCondition(bool(spec.constant)), "boundaryCondition")
            _ok(sp.setConstant(False), "constant flag")

    def parameters(self) -> None:
        for name, value in self.net.parameters.items():
            par = self.model.createParameter()
            _ok(par.setId(name), f"id of parameter {name!r}")
            _ok(par.setName(name), f"name of parameter {name!r}")
            _ok(par.setValue(float(value)), f"value of parameter {name!r}")
            _ok(par.setConstant(True), "constant flag")

    def reactions(self) -> None:
        for reaction in self.net.reactions:
            where = f"reaction {reaction.name} ({reaction.equation})"
            reactants, products, _ = parse_equation(reaction.equation, where)
            rate = reaction.rate
            if isinstance(rate, (str, int, float)) and not isinstance(rate, bool):
                rate = MassAction(rate)
            first = next(iter(reactants), None)
            anchor = reaction.compartment
            if anchor is None:
                anchor = self.net._species[first or next(iter(products))].compartment
            if anchor not in self.compartment_id:
                if not isinstance(rate, (Flow, Expression)):  # the kinds scaled by a volume
                    raise ModelError(f"{where}: unknown compartment {anchor!r}")
                anchor = None
            rate_math, read = self.kinetic_law(rate, reactants, first, anchor, where)
            rx = self.model.createReaction()
            _ok(rx.setId(self.ids.take(reaction.name or "reaction")), f"id of {where}")
            _ok(rx.setName(str(reaction.name or reaction.equation)), f"name of {where}")
            _ok(rx.setReversible(False), "reversible flag")
            if anchor in self.compartment_id:
                # informational only in SBML: the kinetic law holds the volume factor itself
                _ok(rx.setCompartment(self.compartment_id[anchor]), f"compartment of {where}")
            for sp_name, coef in reactants.items():
                ref = rx.createReactant()
                _ok(ref.setSpecies(sp_name), f"reactant of {where}")
                _ok(ref.setStoichiometry(float(coef)), f"stoichiometry in {where}")
                _ok(ref.setConstant(True), "constant flag")
            for sp_name, coef in products.items():
                ref = rx.createProduct()
                _ok(ref.setSpecies(sp_name), f"product of {where}")
                _ok(ref.setStoichiometry(float(coef)), f"stoichiometry in {where}")
                _ok(ref.setConstant(True), "constant flag")
            for sp_name in dict.fromkeys(read):
                if sp_name not in reactants and sp_name not in products:
                    ref = rx.createModifier()
                    _ok(ref.setSpecies(sp_name), f"modifier of {where}")
            law = rx.createKineticLaw()
            _set_math(law, rate_math, where)

    def kinetic_law(self, rate, reactants: dict, first: str | None, anchor: str | None, where: str):
        """The rate in amount per time, and the species it reads."""
        volume = self.volume(anchor)
        scale = [] if volume is None else [volume]
        if isinstance(rate, MassAction):
            factors = [self.ref(rate.k)]
            for sp_name, coefficient in reactants.items():
                order = int(coefficient)
                factors.append(_name(sp_name) if order == 1 else _power(_name(sp_name), _integer(order)))
            return _times(*scale, *factors), list(reactants)
        if isinstance(rate, MichaelisMenten):
            s = rate.substrate or first
            law = _divide(_times(*scale, self.ref(rate.vmax), _name(s)), _plus(self.ref(rate.km), _name(s)))
            return law, [s]
        if isinstance(rate, Hill):
            x = rate.regulator

            def xn() -> libsbml.ASTNode:
                return _power(_name(x), self.ref(rate.n))

            def kn() -> libsbml.ASTNode:
                return _power(self.ref(rate.k), self.ref(rate.n))

            fraction = _divide(kn() if rate.repress else xn(), _plus(kn(), xn()))
            return _times(*scale, self.ref(rate.vmax), fraction), [x]
        if isinstance(rate, Flow):
            source = rate.source or first
            law = _times(self.ref(rate.q), _name(source))
            if rate.partition is not None:
                law = _divide(law, self.ref(rate.partition))
            return law, [source]
        if isinstance(rate, QuasiEquilibrium):
            c = self.qe_complex(rate)
            if rate.form == "free":
                c = _minus(_name(rate.a), c)
            return _times(*scale, self.ref(rate.k), c), [rate.a, rate.b]
        if isinstance(rate, Expression):
            tree = self.named(rate.tree)
            read = [s for s in self.net.species if s in ex.symbols(tree)]
            return tree_to_ast(tree), read
        raise ModelError(f"{where}: no SBML form for the rate {rate!r}")

    def qe_complex(self, rate: QuasiEquilibrium) -> libsbml.ASTNode:
        """``c = 2ab / (a + b + kd + sqrt((a - b)^2 + kd (2 (a + b) + kd)))``."""

        def a() -> libsbml.ASTNode:
            return _name(rate.a)

        def b() -> libsbml.ASTNode:
            return _name(rate.b)

        def kd() -> libsbml.ASTNode:
            return self.ref(rate.kd)

        delta = _sqrt(
            _plus(
                _power(_minus(a(), b()), _integer(2)),
                _times(kd(), _plus(_times(_integer(2), _plus(a(), b())), kd())),
            )
        )
        return _divide(_times(_integer(2), a(), b()), _plus(a(), b(), kd(), delta))

    def named(self, tree: tuple) -> tuple:
        """``tree`` with resolved leaves (``y``, ``p``) turned back into names or numbers."""
        parameters = self.net.parameter_names
        constants = self.net.parameter_vector()

        def leaf(node: tuple) -> tuple | None:
            if node[0] == "y":
                return ("sym", self.net.species[node[1]])
            if node[0] == "p":
                k = node[1]
                return ("sym", parameters[k]) if k < len(parameters) else ("num", float(constants[k]))
            return None

        return ex.substitute(tree, leaf)

    # -- doses --
    def doses(self, doses: Sequence[Dose]) -> None:
        boluses: dict[float, dict[str, float]] = {}
        inputs: dict[str, list[tuple[float, float, float]]] = {}
        for dose in doses:
            for kind, species, payload in _dose_parts(dose):
                if kind == EVENT_BOLUS:
                    time, amount = payload
                    at = boluses.setdefault(time, {})
                    at[species] = at.get(species, 0.0) + amount
                else:
                    inputs.setdefault(species, []).append(payload)
        for number, time in enumerate(sorted(boluses), start=1):
            self.bolus_event(number, time, boluses[time])
        for species, pieces in inputs.items():
            self.input(species, pieces)

    def concentration_of(self, species: str, amount: libsbml.ASTNode) -> libsbml.ASTNode:
        compartment = self.net._species[species].compartment
        return amount if compartment is None else _divide(amount, _name(self.compartment_id[compartment]))

    def bolus_event(self, number: int, time: float, amounts: dict[str, float]) -> None:
        event = self.model.createEvent()
        _ok(event.setId(self.ids.take(f"dose_{number}")), "event id")
        _ok(event.setName(f"bolus at t = {time:g}"), "event name")
        # a dose fires once, when time reaches its time; the assignment reads the state then
        _ok(event.setUseValuesFromTriggerTime(True), "useValuesFromTriggerTime")
        trigger = event.createTrigger()
        # initialValue false: the trigger counts as false before the start, so a dose at the
        # start time fires at the start
        _ok(trigger.setInitialValue(False), "trigger initialValue")
        _ok(trigger.setPersistent(True), "trigger persistent flag")
        _set_math(trigger, _node(libsbml.AST_RELATIONAL_GEQ, _time(), _real(time)), f"event {number}")
        for species, amount in amounts.items():
            assignment = event.createEventAssignment()
            _ok(assignment.setVariable(species), "event assignment variable")
            math = _plus(_name(species), self.concentration_of(species, _real(amount)))
            _set_math(assignment, math, f"the dose into {species!r}")

    def input(self, species: str, pieces: list[tuple[float, float, float]]) -> None:
        terms = []
        for start, end, rate in pieces:
            if rate == 0.0:
                continue
            window = _node(libsbml.AST_RELATIONAL_LEQ, _real(start), _time())
            if math.isfinite(end):
                window = _node(libsbml.AST_LOGICAL_AND, window, _node(libsbml.AST_RELATIONAL_LT, _time(), _real(end)))
            terms.append(_piecewise(_real(rate), window, _integer(0)))
        if not terms:
            return
        law = _plus(*terms)
        compartment = self.compartment_id[self.net._species[species].compartment]
        if self.net._species[species].constant:
            # reactions never change a boundary species, but inputs do: a rate rule
            rule = self.model.createRateRule()
            _ok(rule.setVariable(species), "rate rule variable")
            _set_math(rule, self.concentration_of(species, law), f"the input into {species!r}")
            return
        rx = self.model.createReaction()
        _ok(rx.setId(self.ids.take(f"input_{species}")), "input reaction id")
        _ok(rx.setName(f"zero-order input into {species}"), "input reaction name")
        _ok(rx.setReversible(False), "reversible flag")
        _ok(rx.setCompartment(compartment), "input reaction compartment")
        ref = rx.createProduct()
        _ok(ref.setSpecies(species), "input product")
        _ok(ref.setStoichiometry(1.0), "input stoichiometry")
        _ok(ref.setConstant(True), "constant flag")
        _set_math(rx.createKineticLaw(), law, f"the input into {species!r}")


def _dose_parts(dose: Dose) -> Iterable[tuple[int, str, tuple]]:
    """A dose as boluses and zero-order inputs.

    Yields ``(EVENT_BOLUS, species, (time, amount))`` and ``(EVENT_RATE, species, (start, end,
    rate))``, each input constant on ``[start, end)``.
    """
    if isinstance(dose, Regimen):
        for part in dose.doses():
            yield from _dose_parts(part)
    elif isinstance(dose, Bolus):
        yield EVENT_BOLUS, dose.species, (float(dose.time), float(dose.amount))
    elif isinstance(dose, Infusion):
        start = float(dose.start)
        yield EVENT_RATE, dose.species, (start, start + float(dose.duration), float(dose.rate))
    elif isinstance(dose, PiecewiseInput):
        times = [float(t) for t in dose.times]
        for k, rate in enumerate(dose.rates):
            yield EVENT_RATE, dose.species, (times[k], times[k + 1], float(rate))
    else:  # any other dose: from its events (rate events are changes of the input)
        current: dict[str, float] = {}
        since: dict[str, float] = {}
        for time, species, kind, value in sorted(dose.events(), key=lambda e: e[0]):
            if kind == EVENT_BOLUS:
                yield EVENT_BOLUS, species, (float(time), float(value))
            elif kind == EVENT_RATE:
                if current.get(species, 0.0) != 0.0 and time > since[species]:
                    yield EVENT_RATE, species, (since[species], float(time), current[species])
                current[species] = current.get(species, 0.0) + float(value)
                since[species] = float(time)
        for species, rate in current.items():
            if rate != 0.0:
                yield EVENT_RATE, species, (since[species], math.inf, rate)


def _check_document(text: str) -> None:
    """Read ``text`` back and raise :class:`SBMLError` if libsbml finds any error in it."""
    doc = libsbml.readSBMLFromString(text)
    doc.checkConsistency()
    errors = [doc.getError(i) for i in range(doc.getNumErrors())]
    errors = [e for e in errors if e.getSeverity() in (libsbml.LIBSBML_SEV_ERROR, libsbml.LIBSBML_SEV_FATAL)]
    if errors:
        shown = "; ".join(
            f"[{e.getErrorId()}] line {e.getLine()}: {' '.join(e.getMessage().split())}" for e in errors[:10]
        )
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        raise SBMLError(f"the exported SBML is inconsistent: {shown}{more}")


def network_to_sbml(
    network: ReactionNetwork,
    *,
    doses: Iterable[Dose] = (),
    model_id: str = "model",
    time_unit: str | None = None,
) -> str:
    """The network and its doses as an SBML Level 3 Version 2 document (a string).

    Parameters
    ----------
    network : ReactionNetwork
    doses : iterable of Dose
        Boluses become events, infusions and piecewise inputs an input reaction per species.
    model_id : str
        The SBML model id (made a valid identifier); the model's name is the network's name.
    time_unit : str, optional
        Unit of time (``"s"``, ``"min"``, ``"h"``, ``"day"``, ``"week"``, ...); defaults to the
        network's display unit of time (``network.units["t"]``). An unknown default unit is
        recorded in the model's notes only.

    Returns
    -------
    str
        The SBML document, which libsbml's consistency checks pass without errors.

    Raises
    ------
    ModelError
        A dose into an unknown species or an invalid dose.
    SBMLError
        An explicit ``time_unit`` that is not a known unit of time, or a document libsbml
        finds inconsistent (its messages say where).
    """
    doses = list(doses)
    events_to_arrays(doses, network.species_index)  # validates the doses
    unit = time_unit if time_unit is not None else network.units.get("t")
    if time_unit is not None and time_unit.strip().lower() not in _TIME_UNITS:
        raise SBMLError(f"unknown unit of time {time_unit!r}; known units are {sorted(_TIME_UNITS)}")

    doc = libsbml.SBMLDocument(LEVEL, VERSION)
    model = doc.createModel()
    _ok(model.setId(_sanitize(model_id)), "model id")
    _ok(model.setName(str(network.name)), "model name")
    notes = [f"Exported by workbench from the reaction network {network.name!r}."]
    if unit:
        if unit.strip().lower() in _TIME_UNITS:
            _set_time_unit(model, unit)
        else:
            notes.append(f"Unit of time: {unit}.")
    body = "".join(f"<p>{escape(line)}</p>" for line in notes)
    _ok(model.setNotes(f'<body xmlns="http://www.w3.org/1999/xhtml">{body}</body>'), "model notes")

    exporter = _Exporter(network, model)
    exporter.compartments()
    exporter.species()
    exporter.parameters()
    exporter.reactions()
    exporter.doses(doses)

    text = libsbml.writeSBMLToString(doc)
    _check_document(text)
    return text


def document_with_values(desc, values: dict[str, float]) -> str:
    """An imported document as SBML Level 3 Version 2, with ``values`` for its free quantities.

    Everything else of the file (events, rules, function definitions, units, names,
    annotations) is written back as read. ``values`` maps SBML ids, as
    :meth:`SBMLModel.sbml_values <workbench.sbml.reader.SBMLModel.sbml_values>` gives them,
    to compartment sizes, species' initial amounts or concentrations (as the file gives them),
    parameter values, and local parameters (by their symbol ids).

    Raises
    ------
    SBMLError
        If the document cannot be converted to Level 3 Version 2, or libsbml finds the result
        inconsistent.
    """
    doc = libsbml.readSBMLFromString(desc.source)
    if (doc.getLevel(), doc.getVersion()) != (3, 2) and not doc.setLevelAndVersion(3, 2, False):
        raise SBMLError(f"cannot convert the document from Level {doc.getLevel()} Version {doc.getVersion()} to L3V2")
    model = doc.getModel()
    for sid, value in values.items():
        if sid in desc.local_parameters:
            reaction, local_id = desc.local_parameters[sid]
            _ok(model.getReaction(reaction).getKineticLaw().getLocalParameter(local_id).setValue(value), sid)
        elif model.getCompartment(sid) is not None:
            _ok(model.getCompartment(sid).setSize(value), sid)
        elif model.getSpecies(sid) is not None:
            species = model.getSpecies(sid)
            given = species.setInitialConcentration if species.isSetInitialConcentration() else species.setInitialAmount
            _ok(given(value), sid)
        elif model.getParameter(sid) is not None:
            _ok(model.getParameter(sid).setValue(value), sid)
        else:
            raise SBMLError(f"the document has no quantity {sid!r} to set")
    text = libsbml.writeSBMLToString(doc)
    _check_document(text)
    return text
