"""``load_sbml``: an SBML model as a live, Param-declared workbench model.

The imported class declares one parameter per free SBML quantity (global and local
parameters, compartment sizes, species' initial amounts or concentrations) with bounds and
slider ranges derived from the file's values, and the file's units. Its network uses the
same compiled kernels as the built-in models: every kinetic law is bytecode for the core's
expression rate law, so an import compiles nothing.
"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import param

from ..core import Ensemble, ReactionNetwork, Trajectory
from ..core.expression import is_random, run_all
from ..core.simulate import output_times
from ..errors import ModelError, UnsupportedSBMLError
from ..models.base import Model, quantity
from .document import Description, read_description
from .events import simulate_translation, simulate_translation_runs
from .export import document_with_values
from .stochastic import check_ssa_events, ssa_with_events
from .translate import Translation

__all__ = ["SBMLModel", "load_sbml", "simulate_case", "simulate_stochastic_case"]

_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")
_RESERVED = set(Model.param) | {"name"}


class SBMLModel(Model):
    """Base class of models imported from SBML (one subclass per imported file)."""

    abstract = True
    stochastic_view = True
    #: The parsed file.
    description: ClassVar[Description]
    #: Model parameter name -> SBML id of the quantity it sets.
    free: ClassVar[dict[str, str]] = {}

    # -- the network and its values --------------------------------------------------------
    def sbml_values(self) -> dict[str, float]:
        """Current values of the free SBML quantities, by SBML id."""
        return {sbml_id: float(getattr(self, name)) for name, sbml_id in self.free.items()}

    def translation(self) -> Translation:
        """The model with its current values as a network plus event and output programs."""
        return self._memoized("translation", lambda: Translation(self.description, self.sbml_values()))

    def network(self) -> ReactionNetwork:
        """The reaction network (amounts as states) with the current values."""
        return self.translation().network

    def units(self) -> dict[str, str]:
        units = {"t": self.time_unit}
        for name, sym in self.description.symbols.items():
            if sym.unit:
                units[name] = sym.unit
        return units

    def counted_species(self) -> list[str]:
        """The states an SSA ensemble reports: every state but the clock."""
        tr = self.translation()
        return [s for s in tr.network.species if not (tr.uses_time and s == tr.time_name)]

    def lna_refusal(self) -> str | None:
        """The LNA describes the reactions alone: not events, rate rules or time in the math."""
        return self._memoized("lna_refusal", self._lna_refusal)

    def _lna_refusal(self) -> str | None:
        d, tr = self.description, self.translation()
        left_out = [
            what
            for what, present in (
                ("events", d.events),
                ("rate rules", d.rate_rules),
                ("time in its math", tr.uses_time and not d.events),
                ("variable stoichiometry", any(tr._variable_stoichiometry(r) for r in d.reactions)),
            )
            if present
        ]
        return f"the model has {' and '.join(left_out)}, which the LNA leaves out" if left_out else None

    def plot_columns(self, traj: Trajectory) -> list[str]:
        species = [s for s, sym in self.description.symbols.items() if sym.kind == "species"]
        shown = [s for s in traj.species if s in species]
        return shown or list(traj.species)

    # -- simulation ------------------------------------------------------------------------
    def simulate(
        self,
        t_end: float | None = None,
        n_points: int | None = None,
        *,
        t: np.ndarray | None = None,
        method: str = "auto",
        rtol: float = 1e-6,
        atol: float = 1e-9,
        max_steps: int = 100_000,
    ) -> Trajectory:
        """Simulate with the model's events; states are amounts, rule-set values observables.

        Returns
        -------
        Trajectory
            Species amounts (and parameters or compartments changed by rate rules) as
            species; assignment-rule variables and the non-constant parameters and sizes that
            only events change as observables.
        """
        tr = self.translation()
        times = self._times(t_end, n_points, t)
        # rule-set values, and the non-constant quantities only events change
        derived = list(self.description.assignment_rules) + [
            name
            for name, sym in self.description.symbols.items()
            if not sym.constant and name in tr.parameter_index and sym.kind in ("parameter", "compartment")
        ]
        outputs = tr.program([tr.output_tree(name) for name in derived])
        states, values = simulate_translation(
            tr, times, outputs, method=method, rtol=rtol, atol=atol, max_steps=max_steps
        )
        names = [s for s in tr.network.species if s != tr.time_name]
        keep = [tr.network.species_index[s] for s in names]
        observables = {name: values[:, i] for i, name in enumerate(derived)}
        return Trajectory(times, names, states[:, keep], observables, self.units(), {"method": method})

    def _times(self, t_end: float | None, n_points: int | None, t: np.ndarray | None) -> np.ndarray:
        """Output times from the arguments, the model's window by default."""
        return output_times(
            self.t_end if t_end is None and t is None else t_end,
            self.n_points if n_points is None else n_points,
            t,
            self.translation().t0,
        )

    def ssa(self, n_runs: int = 1000, **options: Any) -> Ensemble:
        """Stochastic simulation under SBML's conventions: amounts as molecule counts.

        Propensities are the kinetic laws evaluated on amounts (``volume`` molecules per amount
        unit). Events whose triggers read only time and parameters fire at their times in
        every run (see :mod:`workbench.sbml.stochastic`); other events, rate rules, time in a
        kinetic law and variable stoichiometry are refused. Options are those of
        :meth:`Model.ssa <workbench.models.base.Model.ssa>`.
        """
        tr = self.translation()
        self._require_stochastic(events=True)
        if not (self.description.events or tr.uses_time):
            return super().ssa(n_runs, **options)
        times = self._times(*(options.pop(name, None) for name in ("t_end", "n_points", "t")))
        return ssa_with_events(tr, times, n_runs, **options)

    def cle(self, n_runs: int = 1000, **options: Any) -> Ensemble:
        """Chemical Langevin ensemble; refused for models with events, rate rules or time."""
        self._require_stochastic()
        return super().cle(n_runs, **options)

    @property
    def has_draws(self) -> bool:
        """Whether the model's events draw random numbers (SBML's ``distrib`` package)."""
        return any(is_random(tree) for e in self.description.events for _, tree in e.assignments)

    def draws(
        self,
        n_runs: int = 1000,
        t_end: float | None = None,
        n_points: int | None = None,
        *,
        t: np.ndarray | None = None,
        seed: int = 0,
        method: str = "auto",
        rtol: float = 1e-6,
        atol: float = 1e-9,
        max_steps: int = 100_000,
    ) -> Ensemble:
        """An ensemble of simulations, each with its own random draws (``distrib``).

        Each run integrates the model's reactions and rules as :meth:`simulate` does; the
        events' draws of run ``r`` have their own stream from ``SeedSequence(seed)``
        (independent of the number of threads). Species amounts (and values set by rate
        rules) are the ensemble's columns.

        Raises
        ------
        UnsupportedSBMLError
            For a model with reactions as well as draws: that would need the SSA with events.
        """
        tr = self.translation()
        times = self._times(t_end, n_points, t)
        names = [s for s in tr.network.species if s != tr.time_name]
        values = self._draw_runs(
            times,
            tr.program([("sym", s) for s in names]),
            n_runs,
            seed=seed,
            method=method,
            rtol=rtol,
            atol=atol,
            max_steps=max_steps,
        )
        return Ensemble(times, names, values, method="draws", seed=seed)

    def _draw_runs(self, times, outputs, n_runs: int, **options: Any) -> np.ndarray:
        if self.description.reactions:
            raise UnsupportedSBMLError("distrib draws in a model with reactions (the SSA with random events)")
        _, values = simulate_translation_runs(self.translation(), times, outputs, n_runs, **options)
        return values

    def _require_stochastic(self, events: bool = False) -> None:
        """Refuse what stochastic simulation cannot do; ``events``: the SSA's scheduled events."""
        d = self.description
        tr = self.translation()
        if d.events and not events:
            raise UnsupportedSBMLError("events in the chemical Langevin equation")
        if d.rate_rules:
            raise UnsupportedSBMLError("rate rules in stochastic simulation")
        if tr.uses_time and not events:
            raise UnsupportedSBMLError("time-dependent math in the chemical Langevin equation")
        if any(tr._variable_stoichiometry(r) for r in d.reactions):
            raise UnsupportedSBMLError("variable stoichiometry in stochastic simulation")
        if events:
            check_ssa_events(tr)

    def to_sbml(self) -> str:
        """The file as read, with the current values, as SBML Level 3 Version 2 text.

        Events, rules, function definitions, units and names are kept as the file has them
        (the reaction network alone would lose the events and the rules).
        """
        return document_with_values(self.description, self.sbml_values())


def _slider(sym, value: float, doc: str) -> param.Parameter:
    unit = sym.unit or "-"
    group = {"compartment": "compartments", "species": "initial values"}.get(sym.kind, "parameters")
    if sym.kind == "compartment":
        if value > 0:
            return quantity(
                value, unit=unit, doc=doc, positive=True, softbounds=(value / 10, value * 10), log=True, group=group
            )
        return quantity(value, unit=unit, doc=doc, bounds=(0.0, None), softbounds=(0.0, 1.0), group=group)
    if value > 0:
        log = sym.kind != "species"
        low = value / 10 if log else 0.0
        return quantity(
            value, unit=unit, doc=doc, bounds=(0.0, None), softbounds=(low, value * 10), log=log, group=group
        )
    if value == 0:
        return quantity(0.0, unit=unit, doc=doc, bounds=(0.0, None), softbounds=(0.0, 1.0), group=group)
    return quantity(value, unit=unit, doc=doc, bounds=(None, None), softbounds=(value * 10, -value * 10), group=group)


def _class_name(desc: Description) -> str:
    base = _IDENTIFIER.sub("_", desc.id) or "model"
    if base[0].isdigit():
        base = "m_" + base
    return "SBML_" + base


def load_sbml(source: str | Path, *, t_end: float | None = None) -> SBMLModel:
    """Import an SBML model (a path or SBML text) as a live workbench model.

    Parameters
    ----------
    source : str or Path
        A path to an SBML file, or the SBML text itself.
    t_end : float, optional
        Default end of the simulated window (otherwise 10 time units).

    Returns
    -------
    SBMLModel
        An instance of a new model class with one parameter per free SBML quantity.

    Raises
    ------
    SBMLError
        The document is not valid SBML or is inconsistent.
    UnsupportedSBMLError
        It uses a construct workbench does not simulate (the error names it).

    Examples
    --------
    >>> model = load_sbml("model.xml")  # doctest: +SKIP
    >>> model.k1 = 2.0  # doctest: +SKIP
    >>> traj = model.simulate(t_end=10)  # doctest: +SKIP
    """
    desc = read_description(source)
    tr = Translation(desc)  # refuses what cannot be simulated, now rather than at first use
    namespace: dict[str, Any] = {"abstract": True, "description": desc, "__doc__": f"SBML model {desc.name!r}."}
    free: dict[str, str] = {}
    time_unit = desc.time_unit or "time"
    namespace["time_unit"] = time_unit
    namespace["t_end"] = quantity(
        float(t_end or 10.0),
        unit=time_unit,
        doc="End of the simulated time window",
        positive=True,
        softbounds=(float(t_end or 10.0) / 10, float(t_end or 10.0) * 10),
        group="simulation",
    )
    for sbml_id, sym in desc.symbols.items():
        if sym.kind == "reference" or sbml_id in desc.initial_assignments or sbml_id in desc.assignment_rules:
            continue
        value = sym.value
        if value is None or not math.isfinite(value):
            continue
        name = sbml_id if sym.kind != "species" else f"{sbml_id}_0"
        while name in _RESERVED or name in namespace or (name in desc.symbols and name != sbml_id):
            name += "_"
        label = sym.name or sbml_id
        quantity_of = {
            "species": f"initial {sym.given_as} of species",
            "compartment": "size of compartment",
            "parameter": "parameter",
        }[sym.kind]
        namespace[name] = _slider(sym, float(value), f"{quantity_of} {label}")
        free[name] = sbml_id
    namespace["free"] = free
    cls = type(_class_name(desc), (SBMLModel,), namespace)
    model = cls()
    model._memo["translation"] = tr
    return model


# --- the SBML Test Suite's two entry points ------------------------------------------------------
#: A clock, a rate rule and an event: the smallest model that runs the whole event loop.
_WARM_MODEL = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2"><model>
 <listOfCompartments><compartment id="C" spatialDimensions="3" size="1" constant="true"/></listOfCompartments>
 <listOfSpecies><species id="X" compartment="C" initialAmount="1" hasOnlySubstanceUnits="true"
  boundaryCondition="false" constant="false"/></listOfSpecies>
 <listOfParameters><parameter id="k" value="1" constant="true"/></listOfParameters>
 <listOfRules><rateRule variable="X"><math xmlns="http://www.w3.org/1998/Math/MathML">
  <apply><times/><apply><minus/><ci> k </ci></apply><ci> X </ci></apply></math></rateRule></listOfRules>
 <listOfEvents><event id="E" useValuesFromTriggerTime="true">
  <trigger initialValue="true" persistent="true"><math xmlns="http://www.w3.org/1998/Math/MathML">
   <apply><lt/><ci> X </ci><cn> 0.5 </cn></apply></math></trigger>
  <listOfEventAssignments><eventAssignment variable="X"><math xmlns="http://www.w3.org/1998/Math/MathML">
   <cn> 1 </cn></math></eventAssignment></listOfEventAssignments></event></listOfEvents>
</model></sbml>"""


def warm_event_loop() -> float:
    """Compile (or load from the cache) the event loop imported models run; return seconds.

    ``workbench warmup`` calls it after the core kernels.
    """
    start = time.perf_counter()
    tr = load_sbml(_WARM_MODEL).translation()
    outputs = tr.program([("sym", "X")])
    for n_runs in (1, 2):  # one run in this thread, an ensemble in the thread pool
        simulate_translation_runs(tr, np.linspace(0.0, 2.0, 3), outputs, n_runs)
    return time.perf_counter() - start


def _suite_times(settings) -> np.ndarray:
    return np.linspace(settings.start, settings.start + settings.duration, int(settings.steps) + 1)


def simulate_case(case) -> pd.DataFrame:
    """Simulate a semantic test case as its settings say; columns ``time`` + variables."""
    settings = case.settings
    desc = read_description(case.model)
    tr = Translation(desc, t0=settings.start)
    trees = []
    for name in settings.variables:
        sym = desc.symbols.get(name)
        as_amount = None
        if sym is not None and sym.kind == "species":
            as_amount = name in settings.amount or (name not in settings.concentration and sym.only_substance)
        trees.append(tr.output_tree(name, as_amount))
    times = _suite_times(settings)
    absolute = settings.absolute or 1e-10
    _, values = simulate_translation(
        tr, times, tr.program(trees), rtol=1e-10, atol=max(absolute * 1e-6, 1e-300), max_steps=1_000_000
    )
    return pd.DataFrame(values, columns=list(settings.variables), index=pd.Index(times, name="time"))


def simulate_stochastic_case(case, n_runs: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Mean, standard deviation and kurtosis of ``n_runs`` runs of a stochastic test case.

    The runs are SSA runs, or, for a model whose randomness is in the draws of its events
    (``distrib``), simulations of its rules and events (see :meth:`SBMLModel.draws`).
    """
    settings = case.settings
    model = load_sbml(case.model)
    times = _suite_times(settings)
    tr = model.translation()
    if settings.start != 0:
        raise ModelError("stochastic cases start at time 0")
    index = pd.Index(times, name="time")
    trees = [tr.output_tree(name, True if name in settings.amount else None) for name in settings.variables]
    if model.has_draws:
        values = model._draw_runs(times, tr.program(trees), n_runs, seed=20261201)
    else:
        ensemble = model.ssa(n_runs, t=times, seed=20261201)
        # every variable as a program over each run's counts (rule-set values included)
        columns = [
            np.broadcast_to(times, (n_runs, times.size)) if s == tr.time_name and tr.uses_time else ensemble[s]
            for s in tr.network.species
        ]
        counts = np.stack(columns, axis=-1)  # runs x times x states (time too, where read)
        rows = counts.reshape(-1, counts.shape[-1]).astype(float)
        values = run_all(tr.program(trees), rows, tr.network.parameter_vector()).reshape(*counts.shape[:2], -1)
    # each output quantity: a variable, or the logarithm of one (the lognormal cases)
    column = {name: values[:, :, i] for i, name in enumerate(settings.variables)}
    quantities = {}
    for name in settings.output_quantities:
        log_of = re.fullmatch(r"ln\((\w+)\)", name)
        if log_of and log_of.group(1) in column:
            value = column[log_of.group(1)]
            with np.errstate(divide="ignore", invalid="ignore"):
                # where every run is still 0 (before the first draw) the suite expects 0
                quantities[name] = np.where((value == 0.0).all(axis=0), 0.0, np.log(value))
        elif name in column:
            quantities[name] = column[name]
        else:
            raise ModelError(f"the case asks for {name!r}, which is neither a variable nor its logarithm")
    mean = pd.DataFrame({q: v.mean(axis=0) for q, v in quantities.items()}, index=index)
    sd = pd.DataFrame({q: v.std(axis=0, ddof=1) for q, v in quantities.items()}, index=index)
    return mean, sd, pd.DataFrame({q: _kurtosis(v) for q, v in quantities.items()}, index=index)


def _kurtosis(values: np.ndarray) -> np.ndarray:
    """``m4 / m2²`` of each column (NaN where every run has the same value)."""
    deviation = values - values.mean(axis=0)
    m2 = (deviation**2).mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(m2 > 0, (deviation**4).mean(axis=0) / np.where(m2 > 0, m2, 1.0) ** 2, np.nan)
