"""Stochastic gene expression: birth-death, two-stage, telegraph and an auto-activating switch.

Amounts are molecule numbers per cell (unit compartment, system size 1), time in hours. The
same networks give the deterministic means (``simulate``) and the copy-number distributions
(``ssa``, ``cle``); ``workbench.analysis.lna`` gives the linear noise approximation.
"""

from __future__ import annotations

import param

from ..core import Hill, Reaction, ReactionNetwork, Species
from .base import Model, quantity

__all__ = ["AutoActivation", "BirthDeath", "TelegraphExpression", "TwoStageExpression"]


class GeneModel(Model):
    """Shared settings of the gene-expression family (time in h, counts in molecules)."""

    abstract = True
    t_end = quantity(
        100.0,
        unit="h",
        doc="End of the simulated time window",
        positive=True,
        softbounds=(1.0, 2000.0),
        group="simulation",
    )


class BirthDeath(GeneModel):
    """Immigration-death: ``-> X`` at rate k, ``X ->`` at rate gamma X.

    The stationary copy-number distribution is Poisson with mean ``k / gamma`` (Fano factor 1).
    """

    abstract = False

    k = quantity(
        10.0,
        unit="molecules/h",
        doc="Production (immigration) rate",
        softbounds=(0.1, 1000.0),
        log=True,
        group="expression",
    )
    gamma = quantity(
        1.0,
        unit="1/h",
        doc="Degradation rate constant",
        positive=True,
        softbounds=(0.01, 10.0),
        log=True,
        group="expression",
    )
    X0 = param.Integer(
        0,
        bounds=(0, None),
        softbounds=(0, 1000),
        doc="Initial copy number",
        metadata={"unit": "molecules", "group": "initial"},
    )
    t_end = quantity(
        20.0,
        unit="h",
        doc="End of the simulated time window",
        positive=True,
        softbounds=(1.0, 500.0),
        group="simulation",
    )

    def network(self) -> ReactionNetwork:
        return ReactionNetwork(
            species={"X": Species(float(self.X0), unit="molecules")},
            parameters={"k": self.k, "gamma": self.gamma},
            reactions=[Reaction("-> X", "k", name="production"), Reaction("X ->", "gamma", name="degradation")],
            units={"t": "h"},
            name="birth-death",
        )


class TwoStageExpression(GeneModel):
    """Transcription and translation (mRNA M, protein P).

    mRNA is made at km and decays at gm; protein is made at kp per mRNA and decays at gp.

    Stationary means ``M = km/gm``, ``P = km kp / (gm gp)``; protein Fano factor (LNA, exact
    for this linear network) ``1 + kp / (gm + gp)``: translational bursting.
    """

    abstract = False

    km = quantity(
        10.0, unit="molecules/h", doc="Transcription rate", softbounds=(0.1, 100.0), log=True, group="transcription"
    )
    gm = quantity(
        1.0,
        unit="1/h",
        doc="mRNA degradation rate constant",
        positive=True,
        softbounds=(0.01, 10.0),
        log=True,
        group="transcription",
    )
    kp = quantity(
        5.0, unit="1/h", doc="Translation rate per mRNA", softbounds=(0.1, 100.0), log=True, group="translation"
    )
    gp = quantity(
        0.1,
        unit="1/h",
        doc="Protein degradation rate constant",
        positive=True,
        softbounds=(0.001, 10.0),
        log=True,
        group="translation",
    )

    @property
    def fano_protein(self) -> float:
        """Stationary protein Fano factor ``1 + kp / (gm + gp)``."""
        return 1.0 + self.kp / (self.gm + self.gp)

    def network(self) -> ReactionNetwork:
        return ReactionNetwork(
            species={"M": Species(0.0, unit="molecules"), "P": Species(0.0, unit="molecules")},
            parameters={"km": self.km, "gm": self.gm, "kp": self.kp, "gp": self.gp},
            reactions=[
                Reaction("-> M", "km", name="transcription"),
                Reaction("M ->", "gm", name="mRNA_decay"),
                Reaction("M -> M + P", "kp", name="translation"),
                Reaction("P ->", "gp", name="protein_decay"),
            ],
            units={"t": "h"},
            name="two-stage expression",
        )


class TelegraphExpression(GeneModel):
    """A promoter switching on (kon) and off (koff); mRNA made at km only while on.

    With switching slower than mRNA decay the mRNA distribution is bimodal (near 0 and near
    ``km / gm``; the defaults, kon = koff = 0.2 gm, are clearly so); with fast switching it is
    unimodal. Optional translation adds protein P.
    Stationary mRNA mean ``km kon / ((kon + koff) gm)``.
    """

    abstract = False

    kon = quantity(
        0.2,
        unit="1/h",
        doc="Promoter activation rate",
        positive=True,
        softbounds=(0.001, 100.0),
        log=True,
        group="promoter",
    )
    koff = quantity(
        0.2,
        unit="1/h",
        doc="Promoter inactivation rate",
        positive=True,
        softbounds=(0.001, 100.0),
        log=True,
        group="promoter",
    )
    km = quantity(
        50.0, unit="1/h", doc="Transcription rate while on", softbounds=(0.1, 500.0), log=True, group="transcription"
    )
    gm = quantity(
        1.0,
        unit="1/h",
        doc="mRNA degradation rate constant",
        positive=True,
        softbounds=(0.01, 10.0),
        log=True,
        group="transcription",
    )
    translation = param.Boolean(False, doc="Translate mRNA into protein", metadata={"group": "translation"})
    kp = quantity(
        2.0, unit="1/h", doc="Translation rate per mRNA", softbounds=(0.1, 100.0), log=True, group="translation"
    )
    gp = quantity(
        0.1,
        unit="1/h",
        doc="Protein degradation rate constant",
        positive=True,
        softbounds=(0.001, 10.0),
        log=True,
        group="translation",
    )
    t_end = quantity(
        200.0,
        unit="h",
        doc="End of the simulated time window",
        positive=True,
        softbounds=(1.0, 2000.0),
        group="simulation",
    )

    @property
    def mean_mrna(self) -> float:
        """Stationary mean mRNA ``km kon / ((kon + koff) gm)``."""
        return self.km * self.kon / ((self.kon + self.koff) * self.gm)

    def network(self) -> ReactionNetwork:
        species = {
            "G_off": Species(1.0, unit="copies"),
            "G_on": Species(0.0, unit="copies"),
            "M": Species(0.0, unit="molecules"),
        }
        reactions = [
            Reaction("G_off -> G_on", "kon", name="activation"),
            Reaction("G_on -> G_off", "koff", name="inactivation"),
            Reaction("G_on -> G_on + M", "km", name="transcription"),
            Reaction("M ->", "gm", name="mRNA_decay"),
        ]
        if self.translation:
            species["P"] = Species(0.0, unit="molecules")
            reactions += [
                Reaction("M -> M + P", "kp", name="translation"),
                Reaction("P ->", "gp", name="protein_decay"),
            ]
        return ReactionNetwork(
            species=species,
            parameters={"kon": self.kon, "koff": self.koff, "km": self.km, "gm": self.gm, "kp": self.kp, "gp": self.gp},
            reactions=reactions,
            units={"t": "h"},
            name="telegraph expression",
        )


class AutoActivation(GeneModel):
    """A gene activating its own production through a Hill function, with basal leak.

    ::

        dX/dt = k0 + vmax X^n / (K^n + X^n) - gamma X

    Bistable for a range of parameters (defaults: stable states near 4 and 42 molecules, an
    unstable one near 16); in the SSA, noise drives switching between the two states.
    """

    abstract = False

    k0 = quantity(
        4.0, unit="molecules/h", doc="Basal (leaky) production rate", softbounds=(0.0, 50.0), group="production"
    )
    vmax = quantity(
        40.0, unit="molecules/h", doc="Maximal activated production rate", softbounds=(0.0, 200.0), group="production"
    )
    K = quantity(
        20.0,
        unit="molecules",
        doc="Activation threshold (half-maximal X)",
        positive=True,
        softbounds=(1.0, 200.0),
        log=True,
        group="production",
    )
    n = quantity(
        4.0, unit="-", doc="Hill coefficient (cooperativity)", positive=True, softbounds=(1.0, 8.0), group="production"
    )
    gamma = quantity(
        1.0,
        unit="1/h",
        doc="Degradation rate constant",
        positive=True,
        softbounds=(0.05, 10.0),
        log=True,
        group="degradation",
    )
    X0 = param.Integer(
        0,
        bounds=(0, None),
        softbounds=(0, 200),
        doc="Initial copy number",
        metadata={"unit": "molecules", "group": "initial"},
    )

    def network(self) -> ReactionNetwork:
        return ReactionNetwork(
            species={"X": Species(float(self.X0), unit="molecules")},
            parameters={"k0": self.k0, "vmax": self.vmax, "K": self.K, "n": self.n, "gamma": self.gamma},
            reactions=[
                Reaction("-> X", "k0", name="basal"),
                Reaction("-> X", Hill("vmax", "K", "n", regulator="X"), name="activation"),
                Reaction("X ->", "gamma", name="degradation"),
            ],
            units={"t": "h"},
            name="auto-activation switch",
        )
