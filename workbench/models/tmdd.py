"""Target-mediated drug disposition: the full model and its QSS and Michaelis-Menten reductions.

Full model (Mager & Jusko 2001), concentrations in nM, time in h::

    dD/dt = -ke D - kon D R + koff C
    dR/dt = ksyn - kdeg R - kon D R + koff C
    dC/dt = kon D R - koff C - kint C

Quasi-steady-state reduction (Gibiansky et al. 2008): binding is fast, so the complex is at
its quasi-equilibrium ``C = Rtot D / (KSS + D)`` with ``KSS = (koff + kint) / kon``; the
states are the totals ``Dtot = D + C`` and ``Rtot = R + C``::

    dDtot/dt = -ke D - kint C
    dRtot/dt = ksyn - kdeg R - kint C

Michaelis-Menten reduction: additionally the total target is constant at its baseline
``R0 = ksyn / kdeg``, leaving ``dD/dt = -ke D - kint R0 D / (KSS + D)``.
"""

from __future__ import annotations

import numpy as np
import param

from ..core import Dose, MichaelisMenten, QuasiEquilibrium, Reaction, ReactionNetwork, Regimen, Species, Trajectory
from ..core.kinetics import qe_complex
from .base import Model, quantity

__all__ = ["TMDD"]


class TMDD(Model):
    """Target-mediated drug disposition with a selectable reduction (full, QSS or MM).

    Observables in every reduction: ``D_free``, ``R_free``, ``complex`` and ``D_total``
    (free plus bound drug), so the reductions can be compared side by side.
    """

    abstract = False
    bifurcation_default = ("kdeg", "R")  # undosed, the target rests at ksyn/kdeg

    ke = quantity(
        0.01,
        unit="1/h",
        doc="Linear elimination rate constant of free drug",
        positive=True,
        softbounds=(1e-3, 1.0),
        log=True,
        group="drug",
    )
    kon = quantity(
        1.0,
        unit="1/(nM h)",
        doc="Association rate constant",
        positive=True,
        softbounds=(1e-3, 1e3),
        log=True,
        group="binding",
    )
    koff = quantity(
        0.01,
        unit="1/h",
        doc="Dissociation rate constant",
        positive=True,
        softbounds=(1e-4, 10.0),
        log=True,
        group="binding",
    )
    kint = quantity(
        0.05,
        unit="1/h",
        doc="Internalisation (elimination) rate constant of the complex",
        positive=True,
        softbounds=(1e-3, 10.0),
        log=True,
        group="target",
    )
    ksyn = quantity(
        1.0, unit="nM/h", doc="Target synthesis rate", positive=True, softbounds=(1e-2, 100.0), log=True, group="target"
    )
    kdeg = quantity(
        0.1,
        unit="1/h",
        doc="Free target degradation rate constant",
        positive=True,
        softbounds=(1e-3, 10.0),
        log=True,
        group="target",
    )
    dose = quantity(
        100.0,
        unit="nM",
        doc="Dose, as the plasma concentration it adds",
        softbounds=(0.1, 10000.0),
        log=True,
        group="dosing",
    )
    n_doses = param.Integer(
        1, bounds=(1, 500), softbounds=(1, 20), doc="Number of doses", metadata={"unit": "-", "group": "dosing"}
    )
    interval = quantity(
        168.0, unit="h", doc="Time between doses", positive=True, softbounds=(1.0, 1000.0), group="dosing"
    )
    reduction = param.Selector(
        default="full",
        objects=["full", "qss", "mm"],
        doc="Full model or its QSS / Michaelis-Menten reduction",
        metadata={"group": "model"},
    )
    t_end = quantity(
        500.0,
        unit="h",
        doc="End of the simulated time window",
        positive=True,
        softbounds=(1.0, 5000.0),
        group="simulation",
    )

    @property
    def R0(self) -> float:
        """Baseline target, ``ksyn / kdeg`` (nM)."""
        return self.ksyn / self.kdeg

    @property
    def KSS(self) -> float:
        """Quasi-steady-state constant ``(koff + kint) / kon`` (nM)."""
        return (self.koff + self.kint) / self.kon

    @property
    def KD(self) -> float:
        """Equilibrium dissociation constant ``koff / kon`` (nM)."""
        return self.koff / self.kon

    def _rates(self) -> dict[str, float]:
        return {k: getattr(self, k) for k in ("ke", "kon", "koff", "kint", "ksyn", "kdeg")}

    def network(self) -> ReactionNetwork:
        units = {"t": "h"}
        if self.reduction == "full":
            return ReactionNetwork(
                species={"D": Species(0.0, unit="nM"), "R": Species(self.R0, unit="nM"), "C": Species(0.0, unit="nM")},
                parameters=self._rates(),
                reactions=[
                    Reaction("D ->", "ke", name="elimination"),
                    Reaction("D + R <-> C", ("kon", "koff"), name="binding"),
                    Reaction("C ->", "kint", name="internalisation"),
                    Reaction("-> R", "ksyn", name="synthesis"),
                    Reaction("R ->", "kdeg", name="degradation"),
                ],
                units=units,
                name="TMDD (full)",
            )
        if self.reduction == "qss":
            return ReactionNetwork(
                species={"Dtot": Species(0.0, unit="nM"), "Rtot": Species(self.R0, unit="nM")},
                parameters={**self._rates(), "KSS": self.KSS},
                reactions=[
                    Reaction("Dtot ->", QuasiEquilibrium("ke", "KSS", "Dtot", "Rtot", form="free"), name="elimination"),
                    Reaction("Dtot + Rtot ->", QuasiEquilibrium("kint", "KSS", "Dtot", "Rtot"), name="internalisation"),
                    Reaction("-> Rtot", "ksyn", name="synthesis"),
                    Reaction(
                        "Rtot ->", QuasiEquilibrium("kdeg", "KSS", "Rtot", "Dtot", form="free"), name="degradation"
                    ),
                ],
                units=units,
                name="TMDD (QSS)",
            )
        return ReactionNetwork(
            species={"D": Species(0.0, unit="nM")},
            parameters={"ke": self.ke, "Vmax": self.kint * self.R0, "KSS": self.KSS},
            reactions=[
                Reaction("D ->", "ke", name="elimination"),
                Reaction("D ->", MichaelisMenten("Vmax", "KSS"), name="target_mediated"),
            ],
            units=units,
            name="TMDD (Michaelis-Menten)",
        )

    def doses(self) -> list[Dose]:
        target = "Dtot" if self.reduction == "qss" else "D"
        return [Regimen(target, self.dose, self.interval, self.n_doses)]

    def observables(self, traj: Trajectory) -> dict[str, np.ndarray]:
        if self.reduction == "full":
            d, r, c = traj["D"], traj["R"], traj["C"]
        elif self.reduction == "qss":
            d_tot, r_tot = traj["Dtot"], traj["Rtot"]
            c = np.array([qe_complex(a, b, self.KSS)[0] for a, b in zip(d_tot, r_tot, strict=True)])
            d, r = np.maximum(d_tot, 0.0) - c, np.maximum(r_tot, 0.0) - c
        else:
            d = traj["D"]
            c = self.R0 * np.maximum(d, 0.0) / (self.KSS + np.maximum(d, 0.0))
            r = self.R0 - c
        return {"D_free": d, "R_free": r, "complex": c, "D_total": d + c}

    def units(self) -> dict[str, str]:
        return {"t": "h", "D_total": "nM", "R_free": "nM", "complex": "nM", "D_free": "nM"}

    def plot_columns(self, traj: Trajectory) -> list[str]:
        return ["D_free", "R_free", "complex", "D_total"]
