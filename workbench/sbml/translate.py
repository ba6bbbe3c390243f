"""An SBML description, with values, as a reaction network plus event and output programs.

Conventions
-----------
The state holds the *amount* of every species not fixed by an assignment rule (so
compartments may change size, by rules or events, without any special case), the value of
every parameter or compartment with a rate rule, and, when some math reads it, time itself
(a state that grows at rate 1). Every other parameter and compartment is a network parameter.
A species symbol in math means its SBML value: the concentration ``amount / size``, or the
amount when ``hasOnlySubstanceUnits`` is set. Kinetic laws are amounts per time, so each
reaction changes amounts by stoichiometry times rate (times the species' conversion factor).
Assignment rules are substituted into every expression that reads them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..core import expression as ex
from ..core.network import Reaction, ReactionNetwork, Species
from ..core.ratelaws import Expression
from ..errors import SBMLError, UnsupportedSBMLError
from .document import Description
from .mathml import RATE_OF, TIME

__all__ = ["CompiledEvents", "Translation"]


@dataclass
class CompiledEvents:
    """The events of a model as bytecode over the network's state and parameter vectors.

    ``triggers``, ``delays`` and ``priorities`` hold one program per event (a delay of 0 and
    a priority of -inf where absent); ``assign`` holds every assignment's value program, and
    ``scale`` one program per assignment converting an assigned concentration to an amount
    (1 where the target is not such a species). ``target_kind[a]`` is 0 for a state entry, 1
    for a parameter entry; ``target_index[a]`` its index; event ``e`` owns assignments
    ``assign_ptr[e]:assign_ptr[e + 1]``.
    """

    ids: list[str]
    triggers: ex.Programs
    delays: ex.Programs
    priorities: ex.Programs
    assign: ex.Programs
    scale: ex.Programs
    assign_ptr: np.ndarray
    target_kind: np.ndarray
    target_index: np.ndarray
    initial_value: np.ndarray
    persistent: np.ndarray
    use_trigger_values: np.ndarray
    has_priority: np.ndarray
    concentration: np.ndarray

    @property
    def n(self) -> int:
        return len(self.ids)


class Translation:
    """A description with values (initial assignments applied) as a network and programs.

    Parameters
    ----------
    desc : Description
    values : mapping, optional
        Values of free symbols (parameters, compartment sizes, species' initial amounts or
        concentrations as declared) overriding the file's.
    t0 : float
        Initial time (initial assignments may read time).
    """

    def __init__(self, desc: Description, values: Mapping[str, float] | None = None, t0: float = 0.0):
        self.desc = desc
        self.t0 = float(t0)
        self.overrides = dict(values or {})
        symbols = desc.symbols
        for target in (*desc.assignment_rules, *desc.rate_rules, *desc.initial_assignments):
            if target not in symbols:
                raise SBMLError(f"a rule or initial assignment sets {target!r}, which is not declared")
        _check_draws(desc)
        self.derived = set(desc.assignment_rules)
        self.states: list[str] = [s for s, sym in symbols.items() if sym.kind == "species" and s not in self.derived]
        self.states += [s for s in desc.rate_rules if symbols[s].kind in ("parameter", "compartment", "reference")]
        state_set = set(self.states)
        self.parameters: list[str] = [s for s in symbols if s not in state_set and s not in self.derived]
        self.unsized = {
            s
            for s in self.parameters
            if symbols[s].kind == "compartment" and symbols[s].value is None and s not in desc.initial_assignments
        }
        self.parameters = [s for s in self.parameters if s not in self.unsized]
        self.time_name = _fresh("time", symbols)
        self.reaction_law = {r.id: r.law for r in desc.reactions if r.id}
        self._expr_memo: dict[str, tuple] = {}
        self._visiting: set[str] = set()
        # a network needs a state: a model of rules alone gets the clock
        self.uses_time = not self.states or any(TIME in _all_symbols(t) for t in self._all_trees())
        self.initial = self._initial_values()
        self.network = self._build_network()
        self._stochastic_network: ReactionNetwork | None = None
        self.species_index = self.network.species_index
        self.parameter_index = {name: k for k, name in enumerate(self.network.parameter_names)}
        self.events = self._compile_events()

    # -- symbols -------------------------------------------------------------------------
    def _all_trees(self):
        d = self.desc
        yield from (r.law for r in d.reactions if r.law is not None)
        yield from d.assignment_rules.values()
        yield from d.rate_rules.values()
        for e in d.events:
            yield e.trigger
            yield from (t for _, t in e.assignments)
            if e.delay is not None:
                yield e.delay
            if e.priority is not None:
                yield e.priority

    def expr(self, tree: tuple) -> tuple:
        """A tree in SBML symbols as a tree in network symbols (states and parameters)."""
        head = tree[0]
        if head == "sym":
            return self.symbol(tree[1])
        if head == RATE_OF:
            return self.rate_of(tree[1])
        if head == "num":
            return tree
        return (head, *(self.expr(child) for child in tree[1:]))

    def symbol(self, name: str) -> tuple:
        """The network tree for the SBML value of symbol ``name``."""
        if name in self._expr_memo:
            return self._expr_memo[name]
        if name == TIME:
            return ("sym", self.time_name)
        if name in self._visiting:
            raise SBMLError(f"assignment rules form a cycle through {name!r}")
        self._visiting.add(name)
        try:
            sym = self.desc.symbols.get(name)
            if name in self.derived:
                tree = self.expr(self.desc.assignment_rules[name])
            elif sym is None:
                if name in self.reaction_law:
                    law = self.reaction_law[name]
                    if law is None:
                        raise UnsupportedSBMLError("reaction without a kinetic law", f"{name!r} is read in math")
                    tree = self.expr(law)
                else:
                    raise SBMLError(f"math reads {name!r}, which is not declared in the model")
            elif name in self.unsized:
                raise SBMLError(f"math reads the size of compartment {name!r}, which has none")
            elif sym.kind == "species" and not sym.only_substance:
                tree = ("/", ("sym", name), self.symbol(sym.compartment))
            else:
                tree = ("sym", name)
        finally:
            self._visiting.discard(name)
        self._expr_memo[name] = tree
        return tree

    def rate_of(self, name: str) -> tuple:
        """The network tree of d(value of ``name``)/dt (SBML's csymbol rateOf)."""
        sym = self.desc.symbols.get(name)
        if sym is None or name in self.derived:
            raise UnsupportedSBMLError("csymbol rateOf", f"of {name!r}, set by an assignment rule")
        if sym.kind != "species":
            return self.expr(self.desc.rate_rules[name]) if name in self.desc.rate_rules else ex.ZERO
        if name in self.desc.rate_rules:
            return self.expr(self.desc.rate_rules[name])
        amount_rate = ex.ZERO
        for reaction in self.desc.reactions:
            coefficient = self._stoichiometry(reaction).get(name)
            if coefficient is not None and reaction.law is not None:
                amount_rate = ("+", amount_rate, ("*", coefficient, self.expr(reaction.law)))
        if sym.only_substance:
            return ex.simplify(amount_rate)
        if sym.compartment in self.desc.rate_rules or sym.compartment in self.derived:
            raise UnsupportedSBMLError("csymbol rateOf", f"of {name!r} in a compartment that changes size")
        return ex.simplify(("/", amount_rate, self.symbol(sym.compartment)))

    # -- initial values --------------------------------------------------------------------
    def _initial_values(self) -> dict[str, float]:
        """SBML values of every symbol at t0 (initial assignments and assignment rules applied)."""
        d = self.desc
        memo: dict[str, float] = {}
        visiting: set[str] = set()

        def network_value(name: str) -> float:
            """Initial value of a network symbol (a species' state is its amount)."""
            if name == self.time_name:
                return self.t0
            sym = d.symbols[name]
            if sym.kind == "species" and not sym.only_substance:
                return value(name) * value(sym.compartment)
            return value(name)

        def rates_at_start(tree: tuple) -> tuple:
            if tree[0] == RATE_OF:
                rate = self.rate_of(tree[1])
                return ex.num(ex.evaluate(rate, {n: network_value(n) for n in ex.symbols(rate)}))
            if tree[0] in ("num", "sym"):
                return tree
            return (tree[0], *(rates_at_start(c) for c in tree[1:]))

        def evaluate(tree: tuple, where: str) -> float:
            tree = rates_at_start(tree)
            names = _all_symbols(tree)
            env = {n: (self.t0 if n == TIME else value(n)) for n in names}
            return ex.evaluate(tree, env)

        def value(name: str) -> float:
            if name in memo:
                return memo[name]
            if name in visiting:
                raise SBMLError(f"initial assignments and rules form a cycle through {name!r}")
            visiting.add(name)
            sym = d.symbols.get(name)
            if name in d.initial_assignments:
                v = evaluate(d.initial_assignments[name], f"initial assignment to {name!r}")
            elif name in d.assignment_rules:
                v = evaluate(d.assignment_rules[name], f"assignment rule for {name!r}")
            elif sym is None:
                if name in self.reaction_law and self.reaction_law[name] is not None:
                    v = evaluate(self.reaction_law[name], f"kinetic law of {name!r}")
                else:
                    raise SBMLError(f"math reads {name!r}, which is not declared in the model")
            else:
                given = self.overrides.get(name, sym.value)
                if given is None or (isinstance(given, float) and math.isnan(given) and sym.kind != "parameter"):
                    raise SBMLError(f"{sym.kind} {name!r} has no initial value")
                v = float(given)
                if sym.kind == "species":
                    if sym.given_as == "amount" and not sym.only_substance:
                        v = v / value(sym.compartment)
                    elif sym.given_as == "concentration" and sym.only_substance:
                        v = v * value(sym.compartment)
            visiting.discard(name)
            memo[name] = v
            return v

        values = {}
        for name, sym in d.symbols.items():
            if sym.kind == "compartment" and sym.value is None and name not in d.initial_assignments:
                if name not in d.assignment_rules and name not in d.rate_rules:
                    continue  # a compartment without a size: fine while nothing reads it
            values[name] = value(name)
        for name in d.assignment_rules:
            values[name] = value(name)
        return values

    def amount(self, name: str) -> float:
        """Initial amount of species ``name``."""
        sym = self.desc.symbols[name]
        v = self.initial[name]
        return v if sym.only_substance else v * self.initial[sym.compartment]

    # -- the network -----------------------------------------------------------------------
    def _conversion(self, species: str) -> float:
        sym = self.desc.symbols[species]
        factor = sym.conversion or self.desc.conversion
        return 1.0 if factor is None else float(self.initial[factor])

    def _stoichiometry(self, reaction) -> dict[str, tuple]:
        """Net stoichiometry (times conversion factors) of each species a reaction changes.

        As network trees: numbers, or the symbols of species references rules or events set.
        """
        symbols = self.desc.symbols
        terms: dict[str, tuple] = {}
        for sign, side in ((-1.0, reaction.reactants), (1.0, reaction.products)):
            for species, stoich in side:
                sym = symbols.get(species)
                if sym is None or sym.kind != "species":
                    raise SBMLError(f"reaction {reaction.id!r} names unknown species {species!r}")
                if sym.boundary or sym.constant or species in self.derived:
                    continue
                if isinstance(stoich, str):
                    coefficient = self.symbol(stoich)
                else:
                    if not math.isfinite(stoich):
                        raise SBMLError(f"reaction {reaction.id!r}: species {species!r} has no stoichiometry")
                    coefficient = ex.num(stoich)
                term = ("*", ex.num(sign), coefficient)
                terms[species] = ("+", terms[species], term) if species in terms else term
        for species, term in terms.items():
            factor = symbols[species].conversion or self.desc.conversion
            if factor is not None:
                terms[species] = ("*", term, self.symbol(factor))
        return {species: ex.simplify(tree) for species, tree in terms.items()}

    def _variable_stoichiometry(self, reaction) -> bool:
        symbols = self.desc.symbols
        return any(
            isinstance(stoich, str) and not symbols[stoich].constant
            for _, stoich in (*reaction.reactants, *reaction.products)
        )

    def _net_change(self, reaction) -> dict[str, float]:
        change: dict[str, float] = {}
        for sign, side in ((-1.0, reaction.reactants), (1.0, reaction.products)):
            for species, stoich in side:
                if species not in self.desc.symbols or self.desc.symbols[species].kind != "species":
                    raise SBMLError(f"reaction {reaction.id!r} names unknown species {species!r}")
                coefficient = float(self.initial[stoich]) if isinstance(stoich, str) else float(stoich)
                if not math.isfinite(coefficient):
                    raise SBMLError(f"reaction {reaction.id!r}: species {species!r} has no stoichiometry")
                change[species] = change.get(species, 0.0) + sign * coefficient
        symbols = self.desc.symbols
        return {
            s: c
            for s, c in change.items()
            if c != 0.0 and not symbols[s].boundary and not symbols[s].constant and s not in self.derived
        }

    def stochastic_network(self) -> ReactionNetwork:
        """The network for stochastic simulation: time is no molecule count, so no clock.

        Its time entry (where the model reads time) stays at 0; the species and parameter
        indices are the network's, so the event programs apply to its states unchanged. Built
        once per translation (an SSA view asks for it on every change).
        """
        if self._stochastic_network is None:
            self._stochastic_network = self._build_network(clock=False)
        return self._stochastic_network

    def _build_network(self, clock: bool = True) -> ReactionNetwork:
        d = self.desc
        species = {s: Species(initial=self._state_initial(s)) for s in self.states}
        if self.uses_time:
            species[self.time_name] = Species(initial=self.t0 if clock else 0.0)
        parameters = {}
        for name in self.parameters:
            parameters[name] = self.initial[name]  # INF and NaN included: SBML allows them
        reactions: list[Reaction] = []
        for number, r in enumerate(d.reactions, start=1):
            rid = r.id or f"reaction{number}"
            if self._variable_stoichiometry(r):
                # a stoichiometry that changes in time: one term per species, its coefficient
                # inside the rate (these terms may be negative: no stochastic simulation)
                terms = self._stoichiometry(r)
                if terms and r.law is None:
                    raise UnsupportedSBMLError("reaction without a kinetic law", f"reaction {r.id!r}")
                for s, coefficient in terms.items():
                    rate = ex.simplify(("*", coefficient, self.expr(r.law)))
                    reactions.append(Reaction(f"-> {s}", Expression(rate), f"{rid}_{s}"))
                continue
            change = {s: c * self._conversion(s) for s, c in self._net_change(r).items()}
            if not change:
                continue
            if r.law is None:
                raise UnsupportedSBMLError("reaction without a kinetic law", f"reaction {r.id!r}")
            for s in change:
                if s in d.rate_rules:
                    raise SBMLError(f"species {s!r} is changed by both a reaction and a rate rule")
            reactions.append(Reaction(_equation(change), Expression(self.expr(r.law)), rid))
        for name, rule in d.rate_rules.items():
            sym = d.symbols[name]
            rate = self.expr(rule)
            if sym.kind == "species" and not sym.only_substance:
                compartment = sym.compartment
                if compartment in self.derived:
                    raise UnsupportedSBMLError(
                        "rate rule for a species in a compartment set by an assignment rule", name
                    )
                rate = ("*", rate, self.symbol(compartment))
                if compartment in d.rate_rules:  # d(c V)/dt = V dc/dt + c dV/dt
                    rate = ("+", rate, ("*", self.symbol(name), self.expr(d.rate_rules[compartment])))
            if sym.constant:
                raise SBMLError(f"a rate rule changes {name!r}, which is declared constant")
            reactions.append(Reaction(f"-> {name}", Expression(ex.simplify(rate)), _fresh(f"rate_of_{name}", {})))
        if self.uses_time and clock:
            reactions.append(Reaction(f"-> {self.time_name}", Expression(ex.ONE), "clock"))
        return ReactionNetwork(
            species=species,
            parameters=parameters,
            reactions=reactions,
            name=d.id,
            signed=True,
        )

    def _state_initial(self, name: str) -> float:
        sym = self.desc.symbols[name]
        value = self.amount(name) if sym.kind == "species" else self.initial[name]
        if not math.isfinite(value):
            raise UnsupportedSBMLError("a non-finite initial value", f"{name!r} = {value}")
        return value

    # -- resolution to kernel indices --------------------------------------------------------
    def resolve(self, tree: tuple) -> tuple:
        """A network tree with names replaced by ``("y", i)`` / ``("p", k)`` leaves."""
        return ex.simplify(ex.resolve(tree, self.species_index, self.parameter_index, "an SBML expression"))

    def program(self, trees: list[tuple]) -> ex.Programs:
        """Compile network trees (SBML symbols already translated) to bytecode."""
        return ex.compile_programs([self.resolve(t) for t in trees])

    def output_tree(self, name: str, as_amount: bool | None = None) -> tuple:
        """Network tree of a variable: a species' amount or concentration, any other value."""
        sym = self.desc.symbols.get(name)
        if sym is None or sym.kind != "species" or as_amount is None:
            if name == "time" and sym is None and name not in self.reaction_law:
                return ("sym", self.time_name) if self.uses_time else ex.num(math.nan)
            return self.symbol(name)
        value = self.symbol(name)  # concentration, or amount if only substance units
        if as_amount:
            return value if sym.only_substance else ("*", value, self.symbol(sym.compartment))
        return ("/", value, self.symbol(sym.compartment)) if sym.only_substance else value

    def _compile_events(self) -> CompiledEvents:
        d = self.desc
        triggers, delays, priorities, assign, scale = [], [], [], [], []
        ptr = [0]
        kinds, indices, concentration = [], [], []
        for event in d.events:
            triggers.append(self.expr(event.trigger))
            delays.append(self.expr(event.delay) if event.delay is not None else ex.ZERO)
            priorities.append(self.expr(event.priority) if event.priority is not None else ex.num(-math.inf))
            for target, tree in event.assignments:
                sym = d.symbols.get(target)
                if sym is None:
                    raise SBMLError(f"event {event.id!r} assigns {target!r}, which is not declared")
                if target in self.derived:
                    raise SBMLError(f"event {event.id!r} assigns {target!r}, which an assignment rule sets")
                if sym.constant:
                    raise SBMLError(f"event {event.id!r} assigns {target!r}, which is declared constant")
                assign.append(self.expr(tree))
                if target in self.species_index:
                    kinds.append(0)
                    indices.append(self.species_index[target])
                    is_concentration = sym.kind == "species" and not sym.only_substance
                    scale.append(self.symbol(sym.compartment) if is_concentration else ex.ONE)
                    concentration.append(is_concentration)
                else:
                    kinds.append(1)
                    indices.append(self.parameter_index[target])
                    scale.append(ex.ONE)
                    concentration.append(False)
            ptr.append(len(assign))
        return CompiledEvents(
            ids=[e.id for e in d.events],
            triggers=self.program(triggers),
            delays=self.program(delays),
            priorities=self.program(priorities),
            assign=self.program(assign),
            scale=self.program(scale),
            assign_ptr=np.array(ptr, dtype=np.int64),
            target_kind=np.array(kinds, dtype=np.int64),
            target_index=np.array(indices, dtype=np.int64),
            initial_value=np.array([e.initial_value for e in d.events], dtype=bool),
            persistent=np.array([e.persistent for e in d.events], dtype=bool),
            use_trigger_values=np.array([e.use_trigger_values for e in d.events], dtype=bool),
            has_priority=np.array([e.priority is not None for e in d.events], dtype=bool),
            concentration=np.array(concentration, dtype=bool),
        )


def _check_draws(desc: Description) -> None:
    """Random draws (``distrib``) are values drawn once: only event assignments may hold them."""
    places = [(f"kinetic law of {r.id!r}", r.law) for r in desc.reactions if r.law is not None]
    rules = (*desc.assignment_rules.items(), *desc.rate_rules.items())
    places += [(f"rule for {name!r}", tree) for name, tree in rules]
    places += [(f"initial assignment to {name!r}", tree) for name, tree in desc.initial_assignments.items()]
    for e in desc.events:
        places += [(f"trigger of event {e.id!r}", e.trigger)]
        places += [(f"delay of event {e.id!r}", e.delay), (f"priority of event {e.id!r}", e.priority)]
    for where, tree in places:
        if tree is not None and ex.is_random(tree):
            raise UnsupportedSBMLError("distrib draw outside an event assignment", where)


def _all_symbols(tree: tuple) -> set[str]:
    if tree[0] == "sym":
        return {tree[1]}
    if tree[0] == RATE_OF:
        return {tree[1]}
    if tree[0] in ("num", "y", "p"):
        return set()
    found: set[str] = set()
    for child in tree[1:]:
        found |= _all_symbols(child)
    return found


def _fresh(base: str, taken) -> str:
    name = base
    while name in taken:
        name += "_"
    return name


def _format(coefficient: float) -> str:
    if coefficient == 1.0:
        return ""
    text = f"{coefficient:.17g}"
    return f"{text} "


def _equation(change: Mapping[str, float]) -> str:
    left = " + ".join(f"{_format(-c)}{s}" for s, c in change.items() if c < 0)
    right = " + ".join(f"{_format(c)}{s}" for s, c in change.items() if c > 0)
    return f"{left} -> {right}"
