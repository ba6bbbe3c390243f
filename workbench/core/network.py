"""Reaction networks: declaration, parsing, validation and compilation to kernel arrays.

One representation serves every model family: species (with compartments), parameters and
reactions, each with a stoichiometry and a rate law. A network compiles once to
:class:`~workbench.core.kinetics.NetworkArrays`; simulating it with other parameter values or
initial amounts only builds new value vectors, so nothing is ever recompiled.
"""

from __future__ import annotations

import math
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import ModelError, ReactionParseError
from . import expression as ex
from . import kinetics as kin
from .dosing import Dose, events_to_arrays
from .ensemble import Ensemble, StochasticArrays, run_cle, run_ssa, stochastic_arrays
from .ratelaws import Expression, Flow, Hill, MassAction, MichaelisMenten, QuasiEquilibrium, RateLaw
from .simulate import integrate, output_times
from .trajectory import Trajectory

__all__ = ["Reaction", "ReactionNetwork", "Species", "parse_equation"]

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_NAME_RE = re.compile(rf"^{_NAME}$")
_TERM_RE = re.compile(rf"^(?:(\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*\*?\s*)?({_NAME})$")
_ARROW_RE = re.compile(r"<->|<=>|->|=>")
_EMPTY = {"", "0", "∅", "Ø", "nothing"}


@dataclass(frozen=True)
class Species:
    """A species declaration.

    Parameters
    ----------
    initial : float
        Initial concentration in the species' compartment (an amount if the compartment has
        unit volume, the default).
    compartment : str, optional
        Name of the compartment; ``None`` means a unit volume.
    constant : bool
        A boundary species: reactions read it but never change it.
    unit : str, optional
        Unit for display.
    """

    initial: float = 0.0
    compartment: str | None = None
    constant: bool = False
    unit: str | None = None


@dataclass(frozen=True)
class Reaction:
    """A reaction: an equation such as ``"A + 2 B -> C"`` and a rate law.

    ``rate`` is a :class:`~workbench.core.ratelaws.RateLaw`, or a parameter name or number
    meaning mass action with that rate constant. A reversible equation (``<->``) takes a pair
    of rates (forward, backward). ``compartment`` sets the volume the rate law is multiplied
    by; it defaults to the compartment of the first reactant (or first product).
    """

    equation: str
    rate: RateLaw | str | float | tuple
    name: str | None = None
    compartment: str | None = None


def _parse_side(side: str, where: str) -> dict[str, float]:
    side = side.strip()
    if side in _EMPTY:
        return {}
    terms: dict[str, float] = {}
    for raw in side.split("+"):
        term = raw.strip()
        match = _TERM_RE.match(term)
        if match is None:
            if not term:
                raise ReactionParseError(f"{where}: a '+' has nothing on one side")
            raise ReactionParseError(
                f"{where}: cannot read {term!r}; a term is an optional positive integer "
                "coefficient and a species name, e.g. '2 X'"
            )
        coef = float(match.group(1)) if match.group(1) else 1.0
        if coef.is_integer():
            coef = int(coef)
        if coef == 0:
            raise ReactionParseError(f"{where}: coefficient 0 in {term!r}")
        terms[match.group(2)] = terms.get(match.group(2), 0) + coef
    return terms


def parse_equation(equation: str, where: str = "reaction") -> tuple[dict[str, float], dict[str, float], bool]:
    """Parse ``"A + 2 B -> C"`` into reactants, products and whether it is reversible.

    An empty side (or ``0``, ``∅``) is nothing. ``<->`` or ``<=>`` mark a reversible reaction.
    """
    if not isinstance(equation, str):
        raise ReactionParseError(f"{where}: the equation must be a string, got {equation!r}")
    arrows = _ARROW_RE.findall(equation)
    if not arrows:
        raise ReactionParseError(f"{where} {equation!r}: no arrow; write e.g. 'A + B -> C'")
    if len(arrows) > 1:
        raise ReactionParseError(f"{where} {equation!r}: more than one arrow")
    left, right = _ARROW_RE.split(equation)
    reactants = _parse_side(left, f"{where} {equation!r}")
    products = _parse_side(right, f"{where} {equation!r}")
    if not reactants and not products:
        raise ReactionParseError(f"{where} {equation!r}: both sides are empty")
    return reactants, products, arrows[0] in ("<->", "<=>")


def _check_value(kind: str, name: str, value: float, signed: bool = False) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ModelError(f"{kind} {name!r} must be a number, got {value!r}") from None
    if not math.isfinite(value) and not signed:
        raise ModelError(f"{kind} {name!r} must be finite, got {value}")
    if value < 0 and not signed:
        raise ModelError(f"{kind} {name!r} must be non-negative, got {value}")
    return value


class _LRU:
    """A small least-recently-used cache of compiled network structures."""

    def __init__(self, size: int):
        self.size = size
        self._data: OrderedDict = OrderedDict()

    def get(self, key):
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def put(self, key, value) -> None:
        self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self.size:
            self._data.popitem(last=False)


# Models rebuild their network on every parameter change (a slider move); the structure
# (parsing, stoichiometry, array layout) depends only on names, so it is compiled once.
_COMPILED = _LRU(256)


class ReactionNetwork:
    """A reaction network: species, parameters, compartments and reactions.

    Parameters
    ----------
    species : mapping of str to float or Species
        Species and their initial concentrations (amounts in a unit-volume compartment).
    parameters : mapping of str to float
        Parameter values (non-negative, finite).
    reactions : sequence
        Each a :class:`Reaction` or a tuple ``(equation, rate)``: the equation lists
        reactants and products (``"X -> 2 X"``, ``"X ->"``, ``"A + B <-> C"``) and the rate is a
        parameter name or number (mass action), a pair for a reversible reaction, or a
        :class:`~workbench.core.ratelaws.RateLaw`.
    compartments : mapping of str to str or float, optional
        Compartment volumes, each a parameter name or a number.
    units : mapping of str to str, optional
        Display units of species, and of time under ``"t"``.
    name : str
    signed : bool
        Allow negative and non-finite parameter and initial values (an imported model's
        parameters need not be rate constants, and SBML allows INF and NaN; the built-in rate
        laws still check their own requirements, and a solver meeting a NaN still stops).

    Examples
    --------
    >>> net = ReactionNetwork(
    ...     species={"X": 100.0},
    ...     parameters={"lam": 0.1, "mu": 0.11},
    ...     reactions=[("X -> 2 X", "lam"), ("X ->", "mu")],
    ... )
    >>> traj = net.simulate(t_end=50, n_points=51)
    >>> round(float(traj["X"][-1]), 3)
    60.653
    """

    def __init__(
        self,
        species: Mapping[str, float | Species],
        parameters: Mapping[str, float] | None = None,
        reactions: Iterable[Reaction | tuple] = (),
        compartments: Mapping[str, str | float] | None = None,
        units: Mapping[str, str] | None = None,
        name: str = "network",
        signed: bool = False,
    ):
        self.name = name
        self.signed = bool(signed)
        self._species: dict[str, Species] = {}
        for sp_name, given in dict(species).items():
            spec = given if isinstance(given, Species) else Species(initial=given)
            _check_value("initial value of species", sp_name, spec.initial, self.signed)
            self._species[sp_name] = spec
        if not self._species:
            raise ModelError("a network needs at least one species")
        self._parameters: dict[str, float] = {
            p_name: _check_value("parameter", p_name, value, self.signed)
            for p_name, value in dict(parameters or {}).items()
        }
        self.compartments: dict[str, str | float] = dict(compartments or {})
        self.units = dict(units or {})
        for sp_name, spec in self._species.items():
            if spec.unit and sp_name not in self.units:
                self.units[sp_name] = spec.unit
        self.species: tuple[str, ...] = tuple(self._species)
        self.species_index = {s: i for i, s in enumerate(self.species)}
        self.parameter_names: tuple[str, ...] = tuple(self._parameters)
        reactions = list(reactions)
        key = self._structure_key(reactions)
        compiled = _COMPILED.get(key) if key is not None else None
        if compiled is None:
            self._check_names()
            self._constants: list[float] = []
            self._positive: dict[int, str] = {}
            self.reactions: tuple[Reaction, ...] = tuple(self._expand(reactions))
            self.arrays = self._compile()
            self._derived: dict = {}
            if key is not None:
                _COMPILED.put(
                    key, (self.reactions, self.arrays, tuple(self._constants), dict(self._positive), self._derived)
                )
        else:
            self.reactions, self.arrays, constants, positive, self._derived = compiled
            self._constants, self._positive = list(constants), dict(positive)
        self.parameter_vector()  # validates the values against the rate laws' requirements

    # -- declaration ----------------------------------------------------------------------
    def _check_names(self) -> None:
        for what, names in (("species", self._species), ("parameter", self._parameters)):
            for name in names:
                if not isinstance(name, str) or not _NAME_RE.match(name):
                    raise ModelError(f"{what} name {name!r} is not an identifier (letters, digits, '_')")
        for name in self._parameters:
            if name in self._species:
                raise ModelError(f"{name!r} names both a species and a parameter")

    def _expand(self, reactions: Iterable[Reaction | tuple]) -> list[Reaction]:
        """Normalise reaction specs and split reversible reactions into two."""
        out: list[Reaction] = []
        for number, spec in enumerate(reactions, start=1):
            if isinstance(spec, Reaction):
                reaction = spec
            elif isinstance(spec, (tuple, list)) and len(spec) == 2:
                reaction = Reaction(spec[0], spec[1])
            else:
                raise ModelError(f"reaction {number}: expected (equation, rate) or Reaction, got {spec!r}")
            where = f"reaction {number}"
            reactants, products, reversible = parse_equation(reaction.equation, where)
            if reversible:
                rate = reaction.rate
                if not (isinstance(rate, (tuple, list)) and len(rate) == 2):
                    raise ModelError(
                        f"{where} {reaction.equation!r} is reversible: give a pair of rates (forward, backward)"
                    )
                left, right = _ARROW_RE.split(reaction.equation)
                base = reaction.name or f"r{number}"
                out.append(Reaction(f"{left.strip()} -> {right.strip()}", rate[0], f"{base}_fwd", reaction.compartment))
                out.append(Reaction(f"{right.strip()} -> {left.strip()}", rate[1], f"{base}_rev", reaction.compartment))
            else:
                if isinstance(reaction.rate, (tuple, list)):
                    raise ModelError(f"{where} {reaction.equation!r}: a pair of rates needs a reversible arrow '<->'")
                out.append(
                    Reaction(reaction.equation, reaction.rate, reaction.name or f"r{number}", reaction.compartment)
                )
            for sp_name in (*reactants, *products):
                if sp_name not in self._species:
                    raise ModelError(
                        f"{where} {reaction.equation!r}: unknown species {sp_name!r}; "
                        f"declared species are {list(self._species)}"
                    )
        return out

    # -- compilation ----------------------------------------------------------------------
    def _structure_key(self, reactions: list) -> tuple | None:
        """Everything the compiled arrays depend on (names, not values); None if unhashable."""
        try:
            key = (
                tuple((n, s.compartment, s.constant) for n, s in self._species.items()),
                self.parameter_names,
                tuple(sorted(self.compartments.items())),
                tuple(
                    (r.equation, r.rate, r.name, r.compartment) if isinstance(r, Reaction) else tuple(r)
                    for r in reactions
                ),
            )
            hash(key)
        except TypeError:
            return None
        return key

    def _param_ref(self, ref, where: str, role: str, positive: bool = False) -> int:
        if isinstance(ref, str):
            if ref not in self._parameters:
                raise ModelError(f"{where}: unknown parameter {ref!r}; parameters are {list(self._parameters)}")
            index = list(self._parameters).index(ref)
        elif isinstance(ref, (int, float)) and not isinstance(ref, bool):
            _check_value(f"{role} in", where, ref)
            index = len(self._parameters) + len(self._constants)
            self._constants.append(float(ref))
        else:
            raise ModelError(f"{where}: {role} must be a parameter name or a number, got {ref!r}")
        if positive:
            self._positive.setdefault(index, f"{role} in {where}")
        return index

    def _species_ref(self, name, where: str) -> int:
        if name not in self._species:
            raise ModelError(f"{where}: unknown species {name!r}; declared species are {list(self._species)}")
        return list(self._species).index(name)

    def _volume_ref(self, compartment: str | None, where: str) -> int:
        if compartment is None:
            return -1
        if compartment not in self.compartments:
            raise ModelError(
                f"{where}: unknown compartment {compartment!r}; compartments are {list(self.compartments)}"
            )
        return self._param_ref(self.compartments[compartment], f"compartment {compartment!r}", "volume", positive=True)

    def _compile(self) -> kin.NetworkArrays | kin.ExpressionNetworkArrays:
        n_r = len(self.reactions)
        kind = np.zeros(n_r, dtype=np.int64)
        par = np.full((n_r, 3), -1, dtype=np.int64)
        mod = np.full((n_r, 2), -1, dtype=np.int64)
        vol = np.full(n_r, -1, dtype=np.int64)
        reac_ptr = np.zeros(n_r + 1, dtype=np.int64)
        stoi_ptr = np.zeros(n_r + 1, dtype=np.int64)
        reac_sp: list[int] = []
        reac_ord: list[int] = []
        stoi_sp: list[int] = []
        stoi_val: list[float] = []
        volume_cache: dict[str | None, int] = {}
        programs: list[tuple] = []  # expression rate laws and their derivatives
        dep_ptr = [0]
        dep_var: list[int] = []
        dep_prog: list[int] = []

        def volume_of(comp: str | None, where: str) -> int:
            if comp not in volume_cache:
                volume_cache[comp] = self._volume_ref(comp, where)
            return volume_cache[comp]

        sp_vol = np.array(
            [volume_of(s.compartment, f"species {n!r}") for n, s in self._species.items()], dtype=np.int64
        )
        for j, reaction in enumerate(self.reactions):
            where = f"reaction {reaction.name} ({reaction.equation})"
            reactants, products, _ = parse_equation(reaction.equation, where)
            rate = reaction.rate
            if isinstance(rate, (str, int, float)) and not isinstance(rate, bool):
                rate = MassAction(rate)
            first = next(iter(reactants), None)
            if isinstance(rate, MassAction):
                kind[j] = kin.MASS_ACTION
                par[j, 0] = self._param_ref(rate.k, where, "rate constant")
            elif isinstance(rate, MichaelisMenten):
                kind[j] = kin.MICHAELIS_MENTEN
                par[j, 0] = self._param_ref(rate.vmax, where, "Vmax")
                par[j, 1] = self._param_ref(rate.km, where, "Km", positive=True)
                substrate = rate.substrate or first
                if substrate is None:
                    raise ModelError(f"{where}: Michaelis-Menten needs a substrate (a reactant or substrate=...)")
                mod[j, 0] = self._species_ref(substrate, where)
            elif isinstance(rate, Hill):
                kind[j] = kin.HILL_REPRESSION if rate.repress else kin.HILL_ACTIVATION
                par[j, 0] = self._param_ref(rate.vmax, where, "Vmax")
                par[j, 1] = self._param_ref(rate.k, where, "Hill constant K", positive=True)
                par[j, 2] = self._param_ref(rate.n, where, "Hill coefficient n", positive=True)
                mod[j, 0] = self._species_ref(rate.regulator, where)
            elif isinstance(rate, Flow):
                kind[j] = kin.FLOW
                par[j, 0] = self._param_ref(rate.q, where, "flow")
                if rate.partition is not None:
                    par[j, 1] = self._param_ref(rate.partition, where, "partition coefficient", positive=True)
                source = rate.source or first
                if source is None:
                    raise ModelError(f"{where}: a flow needs a source species (a reactant or source=...)")
                mod[j, 0] = self._species_ref(source, where)
            elif isinstance(rate, QuasiEquilibrium):
                if rate.form not in ("complex", "free"):
                    raise ModelError(f"{where}: QuasiEquilibrium form must be 'complex' or 'free', got {rate.form!r}")
                kind[j] = kin.QE_COMPLEX if rate.form == "complex" else kin.QE_FREE
                par[j, 0] = self._param_ref(rate.k, where, "rate constant")
                par[j, 1] = self._param_ref(rate.kd, where, "dissociation constant", positive=True)
                mod[j, 0] = self._species_ref(rate.a, where)
                mod[j, 1] = self._species_ref(rate.b, where)
            elif isinstance(rate, Expression):
                kind[j] = kin.EXPRESSION
                tree = self._resolve(rate.tree, where)
                par[j, 0] = len(programs)
                programs.append(tree)
                for leaf in sorted(ex.leaves(tree)):
                    dep_var.append(leaf[1] if leaf[0] == "y" else -(leaf[1] + 1))
                    dep_prog.append(len(programs))
                    programs.append(ex.derivative(tree, leaf))
            else:
                raise ModelError(f"{where}: unsupported rate {reaction.rate!r}")
            dep_ptr.append(len(dep_var))
            if kind[j] == kin.MASS_ACTION and any(float(o) != int(o) for o in reactants.values()):
                raise ModelError(f"{where}: mass action needs whole-number reactant coefficients")
            if kind[j] not in (kin.FLOW, kin.EXPRESSION):
                anchor = reaction.compartment
                if anchor is None:
                    anchor_species = first or next(iter(products))
                    anchor = self._species[anchor_species].compartment
                vol[j] = volume_of(anchor, where)
            for sp_name, order in reactants.items():
                reac_sp.append(self._species_ref(sp_name, where))
                reac_ord.append(int(order) if float(order).is_integer() else 0)
            reac_ptr[j + 1] = len(reac_sp)
            for sp_name in self._species:
                change = products.get(sp_name, 0) - reactants.get(sp_name, 0)
                if change != 0 and not self._species[sp_name].constant:
                    stoi_sp.append(self._species_ref(sp_name, where))
                    stoi_val.append(float(change))
            stoi_ptr[j + 1] = len(stoi_sp)
        arrays = kin.NetworkArrays(
            kind=kind,
            par=par,
            mod=mod,
            vol=vol,
            reac_ptr=reac_ptr,
            reac_sp=np.array(reac_sp, dtype=np.int64),
            reac_ord=np.array(reac_ord, dtype=np.int64),
            stoi_ptr=stoi_ptr,
            stoi_sp=np.array(stoi_sp, dtype=np.int64),
            stoi_val=np.array(stoi_val, dtype=np.float64),
            sp_vol=sp_vol,
        )
        if not programs:
            return arrays
        # a distinct type, with the bytecode, for networks with expression laws: see
        # kin.ExpressionNetworkArrays
        code = ex.compile_programs(programs)
        return kin.ExpressionNetworkArrays(
            *arrays,
            ex_ptr=code.ptr,
            ex_op=code.op,
            ex_arg=code.arg,
            ex_val=code.val,
            ex_depth=np.array([code.depth], dtype=np.int64),
            ex_dep_ptr=np.array(dep_ptr, dtype=np.int64),
            ex_dep_var=np.array(dep_var, dtype=np.int64),
            ex_dep_prog=np.array(dep_prog, dtype=np.int64),
        )

    def _resolve(self, tree: tuple, where: str) -> tuple:
        """An expression tree with species and parameter names replaced by kernel indices."""
        parameters = {name: k for k, name in enumerate(self._parameters)}
        return ex.resolve(tree, self.species_index, parameters, f"{where}: the rate law")

    # -- values ---------------------------------------------------------------------------
    @property
    def parameters(self) -> dict[str, float]:
        """Parameter values (a copy)."""
        return dict(self._parameters)

    @property
    def initial(self) -> dict[str, float]:
        """Initial concentrations (a copy)."""
        return {name: spec.initial for name, spec in self._species.items()}

    @property
    def stoichiometry(self) -> np.ndarray:
        """Net stoichiometry matrix, shape (n_species, n_reactions); constant species have zero rows."""
        a = self.arrays
        matrix = np.zeros((len(self.species), len(self.reactions)))
        for j in range(len(self.reactions)):
            for q in range(a.stoi_ptr[j], a.stoi_ptr[j + 1]):
                matrix[a.stoi_sp[q], j] = a.stoi_val[q]
        return matrix

    def parameter_vector(self, overrides: Mapping[str, float] | None = None) -> np.ndarray:
        """The kernel's parameter vector: declared parameters (with overrides), then constants."""
        values = dict(self._parameters)
        for key, value in (overrides or {}).items():
            if key not in values:
                raise ModelError(f"unknown parameter {key!r}; parameters are {list(values)}")
            values[key] = _check_value("parameter", key, value, self.signed)
        p = np.array([*values.values(), *self._constants], dtype=np.float64)
        self._validate_values(p)
        return p

    def _validate_values(self, p: np.ndarray) -> None:
        for index, role in self._positive.items():
            if not p[index] > 0:
                name = self.parameter_names[index] if index < len(self.parameter_names) else "constant"
                raise ModelError(f"{name!r} must be positive ({role}), got {p[index]:g}")

    def initial_vector(self, overrides: Mapping[str, float] | None = None) -> np.ndarray:
        """Initial concentrations as a vector in species order, with overrides."""
        values = self.initial
        for key, value in (overrides or {}).items():
            if key not in values:
                raise ModelError(f"unknown species {key!r}; species are {list(values)}")
            values[key] = _check_value("initial value of species", key, value, self.signed)
        return np.array(list(values.values()), dtype=np.float64)

    def rates(self, y: Sequence[float] | None = None, parameters: Mapping[str, float] | None = None) -> np.ndarray:
        """Reaction rates (amount per time) at state ``y`` (default: the initial state)."""
        y = self.initial_vector() if y is None else np.asarray(y, dtype=np.float64)
        v = np.empty(len(self.reactions))
        kin.reaction_rates(self.arrays, self.parameter_vector(parameters), y, v)
        return v

    def rhs(self, y: Sequence[float], parameters: Mapping[str, float] | None = None) -> np.ndarray:
        """The right-hand side dy/dt at state ``y``."""
        y = np.ascontiguousarray(y, dtype=np.float64)
        dy = np.empty_like(y)
        v = np.empty(len(self.reactions))
        kin.network_rhs(self.arrays, self.parameter_vector(parameters), np.zeros_like(y), y, v, dy)
        return dy

    def jacobian(self, y: Sequence[float], parameters: Mapping[str, float] | None = None) -> np.ndarray:
        """The analytic Jacobian d(dy/dt)/dy at state ``y``."""
        y = np.ascontiguousarray(y, dtype=np.float64)
        jac = np.empty((y.size, y.size))
        kin.network_jacobian(self.arrays, self.parameter_vector(parameters), y, jac)
        return jac

    # -- simulation -----------------------------------------------------------------------
    def simulate(
        self,
        t_end: float | None = None,
        n_points: int = 101,
        *,
        t: Sequence[float] | None = None,
        t0: float = 0.0,
        doses: Iterable[Dose] = (),
        parameters: Mapping[str, float] | None = None,
        initial: Mapping[str, float] | None = None,
        method: str = "auto",
        rtol: float = 1e-6,
        atol: float = 1e-9,
        max_steps: int = 100_000,
    ) -> Trajectory:
        """Integrate the network ODE deterministically.

        Parameters
        ----------
        t_end, n_points : float, int
            Output at ``n_points`` evenly spaced times from ``t0`` to ``t_end``.
        t : sequence of float, optional
            Explicit sorted output times instead.
        t0 : float
            Initial time.
        doses : iterable of Dose
            Boluses, infusions, regimens or piecewise inputs (amounts into species).
        parameters, initial : mapping, optional
            Values overriding the network's parameters and initial concentrations.
        method : {"auto", "dopri5", "rodas4"}
            ``"dopri5"``: explicit Dormand-Prince 5(4); ``"rodas4"``: stiff Rosenbrock method
            with the analytic Jacobian; ``"auto"``: Dormand-Prince that switches to Rodas4 when
            it detects stiffness.
        rtol, atol : float
            Relative and absolute tolerances (atol in concentration units).
        max_steps : int
            Limit on solver steps.

        Returns
        -------
        Trajectory

        Raises
        ------
        ModelError
            Invalid parameters, initial values, doses or options.
        SolverError
            The solver could not reach ``t_end``; the message says where and what to change.
        """
        t0 = float(t0)
        if not math.isfinite(t0):
            raise ModelError(f"t0 must be finite, got {t0}")
        times = output_times(t_end, n_points, t, t0)
        p = self.parameter_vector(parameters)
        y0 = self.initial_vector(initial)
        events = events_to_arrays(doses, self.species_index)
        out, stats = integrate(
            self.arrays, p, y0, times, events, t0=t0, method=method, rtol=rtol, atol=atol, max_steps=max_steps
        )
        return Trajectory(times, self.species, out, units=self.units, info=stats)

    def _stochastic_arrays(self) -> StochasticArrays:
        if "stochastic" not in self._derived:
            self._derived["stochastic"] = stochastic_arrays(self.arrays, len(self.species))
        return self._derived["stochastic"]

    def ssa(
        self,
        t_end: float | None = None,
        n_points: int = 101,
        n_runs: int = 1000,
        *,
        t: Sequence[float] | None = None,
        t0: float = 0.0,
        seed: int | np.random.SeedSequence | None = None,
        method: str = "direct",
        volume: float = 1.0,
        parameters: Mapping[str, float] | None = None,
        initial: Mapping[str, float] | None = None,
        epsilon: float = 0.03,
        max_events: int = 100_000_000,
        threads: int | None = None,
        first_run: int = 0,
        initial_counts: np.ndarray | None = None,
        stream: int = 0,
    ) -> Ensemble:
        """Stochastic simulation (Gillespie) of an ensemble of independent runs.

        Parameters
        ----------
        t_end, n_points, t, t0 : as in :meth:`simulate`
        n_runs : int
            Number of independent runs (cells).
        seed : int or numpy.random.SeedSequence, optional
            Run ``i`` draws from ``SeedSequence(seed)``'s child ``i``: the same seed gives the
            same ensemble on any number of threads. ``None`` takes fresh entropy.
        method : {"direct", "tau_leap"}
            Gillespie's direct method (exact), or tau-leaping with Cao-Gillespie-Petzold step
            selection, critical reactions fired one at a time and leaps that would make a count
            negative halved (approximate; fast for large copy numbers).
        volume : float
            System size: molecules per amount unit. Initial copy numbers are ``initial * volume
            * compartment volume`` and must be whole numbers.
        parameters, initial : mapping, optional
            Overrides, as in :meth:`simulate`.
        epsilon : float
            Tau-leaping error control (bound on the relative change of propensities per leap).
        max_events : int
            Limit on events (or leaps) per run.
        threads : int, optional
            Number of threads for this call (default: numba's setting, all cores).
        first_run : int
            Index of the first run: runs ``first_run .. first_run + n_runs - 1`` of the
            ensemble seeded by ``seed`` (chunks of one ensemble, e.g. on a cluster).
        initial_counts : int64[n_runs, n_species], optional
            Each run's own initial copy numbers, in place of ``initial`` (e.g. the counts an
            earlier ensemble ended with, changed by an event).
        stream : int
            Which of each run's random streams to draw from: 0 is the run's own; continuing
            an ensemble from its final counts, take 1, 2, ... (independent of the earlier).

        Returns
        -------
        Ensemble

        Raises
        ------
        ModelError
            Invalid options, parameters, or initial amounts that are not whole molecule numbers.
        SolverError
            A run hit ``max_events``, fired a reaction without its reactants, or met a negative
            or non-finite propensity.
        """
        times = output_times(t_end, n_points, t, float(t0))
        return run_ssa(
            self.arrays,
            self._stochastic_arrays(),
            self.species,
            self.parameter_vector(parameters),
            self.initial_vector(initial),
            times,
            t0=float(t0),
            n_runs=n_runs,
            seed=seed,
            method=method,
            volume=float(volume),
            epsilon=float(epsilon),
            max_events=max_events,
            threads=threads,
            first_run=int(first_run),
            initial_counts=initial_counts,
            stream=int(stream),
        )

    def cle(
        self,
        t_end: float | None = None,
        n_points: int = 101,
        n_runs: int = 1000,
        *,
        t: Sequence[float] | None = None,
        t0: float = 0.0,
        seed: int | np.random.SeedSequence | None = None,
        volume: float = 1.0,
        dt: float | None = None,
        parameters: Mapping[str, float] | None = None,
        initial: Mapping[str, float] | None = None,
        threads: int | None = None,
    ) -> Ensemble:
        """Chemical Langevin equation (Euler-Maruyama), an ensemble of real-valued copy numbers.

        ``dt`` defaults to a hundredth of the output spacing. Other parameters as in :meth:`ssa`.
        """
        times = output_times(t_end, n_points, t, float(t0))
        if dt is None:
            span = times[-1] - float(t0)
            dt = (span / max(times.size - 1, 1) if span > 0 else 1.0) / 100.0
        return run_cle(
            self.arrays,
            self.species,
            self.parameter_vector(parameters),
            self.initial_vector(initial),
            times,
            t0=float(t0),
            n_runs=n_runs,
            seed=seed,
            volume=float(volume),
            dt=float(dt),
            threads=threads,
        )

    # -- display --------------------------------------------------------------------------
    def __repr__(self) -> str:
        lines = [f"ReactionNetwork {self.name!r}: {len(self.species)} species, {len(self.reactions)} reactions"]
        lines.append("  species: " + ", ".join(f"{s}={spec.initial:g}" for s, spec in self._species.items()))
        if self._parameters:
            lines.append("  parameters: " + ", ".join(f"{k}={v:g}" for k, v in self._parameters.items()))
        for reaction in self.reactions:
            lines.append(f"  {reaction.name}: {reaction.equation}  [{_describe(reaction.rate)}]")
        return "\n".join(lines)


def _describe(rate) -> str:
    if isinstance(rate, RateLaw):
        return repr(rate)
    return f"mass action, k = {rate}"
