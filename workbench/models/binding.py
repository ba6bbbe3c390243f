"""Receptor binding: kon/koff kinetics, equilibrium occupancy and the operational model.

Ligand L binds receptor R: ``L + R <-> LR`` with ``KD = koff / kon``. With ligand in excess
(the default) L stays constant and binding is pseudo-first order: association relaxes at
``k_obs = kon L + koff`` to the Hill-Langmuir occupancy ``L / (KD + L)``; dissociation after
washout decays at ``koff``.

Response follows the operational model (Black & Leff 1983): the stimulus is proportional to
occupied receptors, transduced with efficacy ``tau`` and slope ``n``::

    E = Em (tau occ)^n / (1 + (tau occ)^n)

At equilibrium ``EC50 = KD / ((2 + tau^n)^(1/n) - 1)``: amplification (spare receptors,
``tau > 1``) makes the drug more potent than its affinity, ``EC50 < KD``.
"""

from __future__ import annotations

import math

import numpy as np
import param

from ..core import Reaction, ReactionNetwork, Species, Trajectory
from .base import Model, logistic, quantity

__all__ = ["ReceptorBinding"]


class ReceptorBinding(Model):
    """Ligand-receptor binding kinetics with an operational-model response."""

    abstract = False
    time_unit = "min"

    kon = quantity(
        0.1,
        unit="1/(nM min)",
        doc="Association rate constant",
        positive=True,
        softbounds=(1e-4, 10.0),
        log=True,
        group="binding",
    )
    koff = quantity(
        0.01,
        unit="1/min",
        doc="Dissociation rate constant",
        positive=True,
        softbounds=(1e-4, 1.0),
        log=True,
        group="binding",
    )
    L = quantity(1.0, unit="nM", doc="Ligand concentration", softbounds=(1e-3, 1e3), log=True, group="ligand")
    R_total = quantity(
        1.0,
        unit="nM",
        doc="Total receptor concentration",
        positive=True,
        softbounds=(1e-3, 100.0),
        log=True,
        group="receptor",
    )
    ligand_depletion = param.Boolean(
        False, doc="Track free ligand (depletion) instead of holding it constant", metadata={"group": "ligand"}
    )
    tau = quantity(
        10.0,
        unit="-",
        doc="Operational efficacy tau = R_total / KE at the tissue's receptor density (set on its own: "
        "changing R_total does not change it; scale both to model receptor loss)",
        softbounds=(0.01, 1000.0),
        log=True,
        group="response",
    )
    Em = quantity(100.0, unit="%", doc="Maximal response of the system", softbounds=(1.0, 200.0), group="response")
    n_transducer = quantity(
        1.0, unit="-", doc="Slope of the transducer function", positive=True, softbounds=(0.3, 4.0), group="response"
    )
    t_end = quantity(
        300.0,
        unit="min",
        doc="End of the simulated time window",
        positive=True,
        softbounds=(1.0, 5000.0),
        group="simulation",
    )

    @property
    def KD(self) -> float:
        """Equilibrium dissociation constant ``koff / kon`` (nM)."""
        return self.koff / self.kon

    def k_obs(self, ligand: float | np.ndarray | None = None) -> float | np.ndarray:
        """Observed association rate ``kon L + koff`` (1/min) at ligand concentration(s)."""
        ligand = self.L if ligand is None else np.asarray(ligand, dtype=float)
        return self.kon * ligand + self.koff

    def occupancy(self, ligand: float | np.ndarray) -> np.ndarray:
        """Hill-Langmuir equilibrium fractional occupancy ``L / (KD + L)``."""
        ligand = np.asarray(ligand, dtype=float)
        return ligand / (self.KD + ligand)

    def equilibrium_occupancy(self) -> float:
        """Equilibrium fractional occupancy at total ligand ``L``, with depletion if it is on.

        Without depletion, Hill-Langmuir ``L / (KD + L)``; with it, the bound complex is the
        root of ``LR^2 - (L + R_total + KD) LR + L R_total = 0`` in ``[0, min(L, R_total)]``.
        """
        if not self.ligand_depletion:
            return float(self.occupancy(self.L))
        b = self.L + self.R_total + self.KD
        bound = 2.0 * self.L * self.R_total / (b + math.sqrt(b * b - 4.0 * self.L * self.R_total))  # stable root
        return bound / self.R_total

    def transduce(self, occupancy: float | np.ndarray) -> np.ndarray:
        """Operational-model response to a fractional occupancy.

        ``Em s / (1 + s)`` with ``s = (tau occupancy)^n``, evaluated as a logistic function of
        ``n log(tau occupancy)`` so that a steep transducer (large ``n``) or a large ``tau``
        cannot overflow: the response saturates at ``Em`` instead.
        """
        x = self.tau * np.maximum(np.asarray(occupancy, dtype=float), 0.0)
        with np.errstate(divide="ignore"):  # x = 0: log is -inf, and the response is 0
            return self.Em * logistic(self.n_transducer * np.log(x))

    def response(self, ligand: float | np.ndarray) -> np.ndarray:
        """Equilibrium response at ligand concentration(s)."""
        return self.transduce(self.occupancy(ligand))

    @property
    def EC50(self) -> float:
        """Ligand concentration of half-maximal equilibrium response (nM)."""
        n = self.n_transducer
        return self.KD / ((2.0 + self.tau**n) ** (1.0 / n) - 1.0)

    @property
    def Emax_observed(self) -> float:
        """Largest equilibrium response reachable, ``Em tau^n / (1 + tau^n)``."""
        s = self.tau**self.n_transducer
        return self.Em * s / (1.0 + s)

    def network(self, ligand: float | None = None, bound: float = 0.0, washout: bool = False) -> ReactionNetwork:
        """Binding network with free ligand ``ligand`` (default ``L``) and ``bound`` complex.

        ``washout``: free ligand is held at zero (infinite dilution), so released ligand never
        rebinds, with or without depletion.
        """
        ligand = self.L if ligand is None else ligand
        return ReactionNetwork(
            species={
                "L": Species(0.0 if washout else ligand, constant=washout or not self.ligand_depletion, unit="nM"),
                "R": Species(self.R_total - bound, unit="nM"),
                "LR": Species(bound, unit="nM"),
            },
            parameters={"kon": self.kon, "koff": self.koff},
            reactions=[Reaction("L + R <-> LR", ("kon", "koff"), name="binding")],
            units={"t": "min"},
            name="receptor binding",
        )

    def observables(self, traj: Trajectory) -> dict[str, np.ndarray]:
        occupancy = traj["LR"] / self.R_total
        return {"occupancy": occupancy, "response": self.transduce(occupancy)}

    def units(self) -> dict[str, str]:
        return {"t": "min", "occupancy": "-", "response": "%"}

    def plot_columns(self, traj: Trajectory) -> list[str]:
        return ["LR", "R"] + (["L"] if self.ligand_depletion else [])

    def association(self, t_end: float | None = None, n_points: int | None = None, **solver) -> Trajectory:
        """Association experiment: ligand added at t = 0 to free receptors (the default simulation)."""
        return self.simulate(t_end, n_points, **solver)

    def dissociation(self, t_end: float | None = None, n_points: int | None = None, **solver) -> Trajectory:
        """Dissociation experiment: equilibrium at total ligand ``L``, washed out at t = 0.

        The complex starts at its equilibrium (depleted, if depletion is on) and decays as
        ``exp(-koff t)``: washout holds free ligand at zero, so nothing rebinds.
        """
        bound = self.R_total * self.equilibrium_occupancy()
        net = self.network(bound=bound, washout=True)
        traj = net.simulate(
            t_end=self.t_end if t_end is None else t_end,
            n_points=self.n_points if n_points is None else n_points,
            **solver,
        )
        return Trajectory(
            traj.t, traj.species, traj.values, self.observables(traj), {**net.units, **self.units()}, traj.info
        )
