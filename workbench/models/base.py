"""The model base class and the parameter declaration every model family uses.

A model is a :class:`param.Parameterized`. Each numeric parameter is declared once with
:func:`quantity`: default, hard bounds (physical validity), softbounds (the slider range),
unit, one-line doc, and whether it spans decades (log scale). Everything else is derived
from that declaration: validation, the network's parameter values, the app's widgets and the
documentation table.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np
import param

from ..core import Dose, Ensemble, ReactionNetwork, Trajectory
from ..errors import ModelError

__all__ = ["MODELS", "Model", "Quantity", "logistic", "quantity"]

#: Every concrete model class, by name, in definition order (filled by ``Model.__init_subclass__``).
MODELS: dict[str, type[Model]] = {}


class Quantity(param.Number):
    """A finite number with a unit, bounds and a slider range.

    Unlike :class:`param.Number`, NaN and infinities are rejected whatever the bounds.
    """

    def _validate_value(self, value: Any, allow_None: bool) -> None:
        super()._validate_value(value, allow_None)
        if value is not None and not math.isfinite(value):
            raise ValueError(f"{_owner(self)} must be a finite number, not {value}.")


def logistic(z: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-z))`` without overflow for any ``z`` (+-inf give 1 and 0).

    The form behind Hill and Emax fractions, ``x^n / (K^n + x^n) = logistic(n log(x / K))``,
    which stays exact where the powers themselves overflow or underflow.
    """
    return np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=float)))


def _owner(parameter: param.Parameter) -> str:
    owner = getattr(parameter, "owner", None)
    owner_name = owner.__name__ if isinstance(owner, type) else type(owner).__name__ if owner else ""
    return f"{owner_name}.{parameter.name}" if owner_name else str(parameter.name)


def quantity(
    default: float,
    *,
    unit: str,
    doc: str,
    bounds: tuple[float | None, float | None] = (0.0, None),
    softbounds: tuple[float, float],
    inclusive_bounds: tuple[bool, bool] = (True, True),
    log: bool = False,
    step: float | None = None,
    group: str = "parameters",
    positive: bool = False,
) -> Quantity:
    """Declare a model parameter.

    Parameters
    ----------
    default : float
    unit : str
        Unit, shown in labels and tables (``"-"`` for dimensionless).
    doc : str
        One line saying what the parameter is.
    bounds : (lower, upper)
        Hard bounds: values outside are physically meaningless and rejected.
    softbounds : (lower, upper)
        The slider range.
    inclusive_bounds : (bool, bool)
    log : bool
        The quantity spans decades: sliders and sweeps use a logarithmic scale.
    step : float, optional
        Slider step.
    group : str
        Widget group in the app (``"dosing"``, ``"drug"``, ``"target"``, ...).
    positive : bool
        Shorthand for a lower bound of 0 that excludes 0.
    """
    if positive:
        bounds = (0.0, bounds[1])
        inclusive_bounds = (False, inclusive_bounds[1])
    return Quantity(
        default,
        bounds=bounds,
        softbounds=softbounds,
        inclusive_bounds=inclusive_bounds,
        step=step,
        doc=doc,
        metadata={"unit": unit, "log": log, "group": group},
    )


class Model(param.Parameterized):
    """Base class of every model family.

    A subclass declares its parameters with :func:`quantity` (or ``param.Selector`` /
    ``param.Integer`` / ``param.Boolean`` with the same metadata) and implements
    :meth:`network`; it may add :meth:`doses` and :meth:`observables`. Concrete subclasses are
    registered in :data:`MODELS`.
    """

    #: Unit of time for this family.
    time_unit: ClassVar[str] = "h"
    #: Set on base classes that are not models themselves.
    abstract: ClassVar[bool] = True
    #: A reaction network underlies the model (ODE, SSA and the network analyses apply).
    network_based: ClassVar[bool] = True
    #: The (parameter, species) a bifurcation diagram opens on; None: the view chooses.
    bifurcation_default: ClassVar[tuple[str, str] | None] = None
    #: The generic app (a model outside the built-in families) shows the SSA view.
    stochastic_view: ClassVar[bool] = False

    t_end = quantity(
        48.0,
        unit="h",
        doc="End of the simulated time window",
        positive=True,
        softbounds=(1.0, 1000.0),
        group="simulation",
    )
    n_points = param.Integer(
        401,
        bounds=(2, 100_000),
        softbounds=(11, 2001),
        doc="Number of output time points",
        metadata={"unit": "-", "log": False, "group": "simulation"},
    )

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__dict__.get("abstract", False):
            MODELS[cls.__name__] = cls

    def __init__(self, **params: Any):
        super().__init__(**params)
        # The network and doses are rebuilt only after a parameter changes: reading a param
        # attribute costs ~2 us, which would otherwise rival the solve of a small model.
        self._memo: dict[str, Any] = {}
        self.param.watch(self._forget, [name for name in self.param if name != "name"])

    def _forget(self, *events: Any) -> None:
        self._memo.clear()

    def _memoized(self, key: str, build: Any) -> Any:
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    # -- what a family declares ---------------------------------------------------------------
    def network(self) -> ReactionNetwork:
        """The reaction network with the current parameter values."""
        raise NotImplementedError

    def doses(self) -> list[Dose]:
        """Doses given during a simulation (none by default)."""
        return []

    def observables(self, traj: Trajectory) -> dict[str, np.ndarray]:
        """Derived quantities computed from a trajectory (none by default)."""
        return {}

    def units(self) -> dict[str, str]:
        """Units of species and observables; time under ``"t"``."""
        return {"t": self.time_unit}

    def counted_species(self) -> list[str]:
        """The species an SSA ensemble of the model reports (molecule counts)."""
        return list(self._memoized("network", self.network).species)

    def lna_refusal(self) -> str | None:
        """Why the linear noise approximation does not describe this model, or None if it does."""
        return "the model has doses, which the LNA leaves out" if self._memoized("doses", self.doses) else None

    def plot_columns(self, traj: Trajectory) -> list[str]:
        """The quantities a time-course view shows by default (sharing one unit)."""
        return list(traj.species)

    # -- derived behaviour ----------------------------------------------------------------
    @classmethod
    def model_parameters(cls) -> list[str]:
        """Names of the numeric model parameters (not simulation settings)."""
        return [
            name
            for name, p in cls.param.objects("existing").items()
            if isinstance(p, Quantity) and p.metadata.get("group") != "simulation"
        ]

    def values(self) -> dict[str, Any]:
        """Current values of every declared parameter except ``name``."""
        return {k: v for k, v in self.param.values().items() if k != "name"}

    def copy(self, **overrides: Any) -> Model:
        """A new model of the same class with the same values, some overridden."""
        return type(self)(**{**self.values(), **overrides})

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
        """Simulate the model deterministically with its doses.

        Parameters default to the model's ``t_end`` and ``n_points``; ``t`` gives explicit
        output times. Solver options are those of :meth:`ReactionNetwork.simulate`.

        Returns
        -------
        Trajectory
            Species and the model's observables, with units.
        """
        net = self._memoized("network", self.network)
        traj = net.simulate(
            t_end=self.t_end if t_end is None and t is None else t_end,
            n_points=self.n_points if n_points is None else n_points,
            t=t,
            doses=self._memoized("doses", self.doses),
            method=method,
            rtol=rtol,
            atol=atol,
            max_steps=max_steps,
        )
        units = {**net.units, **self._memoized("units", self.units)}
        return Trajectory(traj.t, traj.species, traj.values, self.observables(traj), units, traj.info)

    def ssa(
        self,
        n_runs: int = 1000,
        *,
        t_end: float | None = None,
        n_points: int | None = None,
        t: np.ndarray | None = None,
        seed: int | np.random.SeedSequence | None = None,
        method: str = "direct",
        volume: float = 1.0,
        **options: Any,
    ) -> Ensemble:
        """Stochastic simulation of ``n_runs`` independent copies (cells) of the model.

        Time defaults to the model's window; the rest is :meth:`ReactionNetwork.ssa`.
        """
        return self._memoized("network", self.network).ssa(
            self.t_end if t_end is None and t is None else t_end,
            self.n_points if n_points is None else n_points,
            n_runs,
            t=t,
            seed=seed,
            method=method,
            volume=volume,
            **options,
        )

    def cle(
        self,
        n_runs: int = 1000,
        *,
        t_end: float | None = None,
        n_points: int | None = None,
        t: np.ndarray | None = None,
        seed: int | np.random.SeedSequence | None = None,
        volume: float = 1.0,
        **options: Any,
    ) -> Ensemble:
        """Chemical Langevin ensemble of the model; see :meth:`ReactionNetwork.cle`."""
        return self._memoized("network", self.network).cle(
            self.t_end if t_end is None and t is None else t_end,
            self.n_points if n_points is None else n_points,
            n_runs,
            t=t,
            seed=seed,
            volume=volume,
            **options,
        )

    def to_sbml(self) -> str:
        """The model's network and doses, with the current values, as SBML Level 3 text.

        Loads the SBML layer (and libsbml) on first use: a second sanctioned reach upward,
        like the display hook below, so that ``import workbench`` stays fast.
        """
        from ..sbml.export import network_to_sbml  # noqa: PLC0415  (sanctioned, see docstring)

        if not self.network_based:
            raise ModelError(f"{type(self).__name__} is not a reaction network; it has no SBML form")
        return network_to_sbml(self.network(), doses=self.doses(), model_id=type(self).__name__)

    # -- display: the one sanctioned reach into the view layer --------------------------------
    def __panel__(self):
        """The model's live app (loads the view layer; a model never imports it otherwise)."""
        from ..views import app  # noqa: PLC0415  (the sanctioned upward reach, in one place)

        return app(self).__panel__()

    def _repr_mimebundle_(self, include=None, exclude=None):
        """Shown as the last expression of a notebook cell: the live app."""
        from ..views import app  # noqa: PLC0415  (the sanctioned upward reach, in one place)

        return app(self)._repr_mimebundle_(include, exclude)

    def _require(self, condition: bool, message: str) -> None:
        if not condition:
            raise ModelError(f"{type(self).__name__}: {message}")
