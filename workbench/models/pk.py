"""Pharmacokinetic models: one- and two-compartment, minimal whole-body PBPK, linked Emax PD.

Units throughout: amounts in mg, volumes in L, time in h, flows and clearances in L/h,
concentrations in mg/L. Amount species (dosing depot, eliminated drug) live in unit-volume
compartments, so their values are amounts.
"""

from __future__ import annotations

import math

import numpy as np
import param

from ..core import Dose, Flow, Reaction, ReactionNetwork, Regimen, Species, Trajectory
from .base import Model, logistic, quantity

__all__ = ["ORGANS", "PBPK", "OneCompartment", "PKModel", "TwoCompartment"]

ROUTES = ("iv_bolus", "iv_infusion", "oral")


class PKModel(Model):
    """Dosing regimen and a linked Emax PD, shared by the PK families.

    The effect is ``E = E0 + Emax * C**hill / (EC50**hill + C**hill)``, driven by the plasma
    concentration or, with ``effect_compartment``, by the effect-site concentration
    ``dCe/dt = ke0 (Cp - Ce)``.
    """

    abstract = True

    route = param.Selector(
        default="iv_bolus", objects=list(ROUTES), doc="Route of administration", metadata={"group": "dosing"}
    )
    dose = quantity(100.0, unit="mg", doc="Amount per dose", softbounds=(1.0, 2000.0), log=True, group="dosing")
    n_doses = param.Integer(
        1, bounds=(1, 500), softbounds=(1, 20), doc="Number of doses", metadata={"unit": "-", "group": "dosing"}
    )
    interval = quantity(
        24.0, unit="h", doc="Time between doses", positive=True, softbounds=(1.0, 504.0), group="dosing"
    )
    infusion_duration = quantity(
        1.0, unit="h", doc="Duration of each infusion", positive=True, softbounds=(0.05, 24.0), group="dosing"
    )
    ka = quantity(
        1.0,
        unit="1/h",
        doc="First-order absorption rate constant",
        positive=True,
        softbounds=(0.01, 10.0),
        log=True,
        group="absorption",
    )
    F = quantity(
        1.0,
        unit="-",
        doc="Oral bioavailability",
        bounds=(0.0, 1.0),
        softbounds=(0.0, 1.0),
        step=0.01,
        group="absorption",
    )

    E0 = quantity(0.0, unit="%", doc="Baseline effect", softbounds=(0.0, 100.0), group="effect")
    Emax = quantity(100.0, unit="%", doc="Maximal drug effect", softbounds=(0.0, 200.0), group="effect")
    EC50 = quantity(
        1.0,
        unit="mg/L",
        doc="Concentration of half-maximal effect",
        positive=True,
        softbounds=(0.01, 100.0),
        log=True,
        group="effect",
    )
    hill = quantity(
        1.0,
        unit="-",
        doc="Hill coefficient of the concentration-effect curve",
        positive=True,
        softbounds=(0.2, 5.0),
        group="effect",
    )
    effect_compartment = param.Boolean(
        False, doc="Drive the effect through an effect compartment (delay)", metadata={"group": "effect"}
    )
    ke0 = quantity(
        0.5,
        unit="1/h",
        doc="Effect-compartment equilibration rate constant",
        positive=True,
        softbounds=(0.01, 10.0),
        log=True,
        group="effect",
    )

    central = "C"  # the plasma species

    def doses(self) -> list[Dose]:
        """The regimen: ``n_doses`` of ``dose`` every ``interval`` by ``route``."""
        if self.route == "oral":
            return [Regimen("A_depot", self.F * self.dose, self.interval, self.n_doses)]
        if self.route == "iv_infusion":
            return [Regimen(self.central, self.dose, self.interval, self.n_doses, duration=self.infusion_duration)]
        return [Regimen(self.central, self.dose, self.interval, self.n_doses)]

    def _effect_reactions(self) -> list[Reaction]:
        # The effect site holds negligible drug: Ce follows Cp without taking mass from it.
        if not self.effect_compartment:
            return []
        return [
            Reaction(f"{self.central} -> {self.central} + Ce", "ke0", name="effect_in", compartment="central"),
            Reaction("Ce ->", "ke0", name="effect_out", compartment="central"),
        ]

    def effect(self, concentration: np.ndarray) -> np.ndarray:
        """Sigmoid Emax effect at the given (plasma or effect-site) concentration.

        ``E0 + Emax C^h / (EC50^h + C^h)``, evaluated as ``logistic(h log(C / EC50))`` so that a
        steep Hill coefficient cannot overflow or underflow both powers into 0/0.
        """
        c = np.maximum(np.asarray(concentration, dtype=float), 0.0)
        with np.errstate(divide="ignore"):  # C = 0: log is -inf, and the effect is E0
            return self.E0 + self.Emax * logistic(self.hill * (np.log(c) - math.log(self.EC50)))

    def plot_columns(self, traj: Trajectory) -> list[str]:
        concentrations = [self.central] + [n for n in ("C_periph",) if n in traj]
        return concentrations + (["Ce"] if self.effect_compartment else [])

    def observables(self, traj: Trajectory) -> dict[str, np.ndarray]:
        driver = traj["Ce"] if self.effect_compartment else traj[self.central]
        return {"E": self.effect(driver)}

    def units(self) -> dict[str, str]:
        return {"t": "h", "E": "%", "Ce": "mg/L"}


class OneCompartment(PKModel):
    """One-compartment PK: ``V dC/dt = input - CL * C``, with first-order oral absorption.

    Species: ``A_depot`` (mg, oral dose not yet absorbed), ``C`` (plasma concentration,
    mg/L), ``A_elim`` (mg eliminated so far), ``Ce`` (effect site, if used).
    """

    abstract = False

    CL = quantity(5.0, unit="L/h", doc="Clearance", positive=True, softbounds=(0.1, 100.0), log=True, group="drug")
    V = quantity(
        50.0, unit="L", doc="Volume of distribution", positive=True, softbounds=(1.0, 500.0), log=True, group="drug"
    )

    def network(self) -> ReactionNetwork:
        species = {
            "A_depot": Species(0.0, unit="mg"),
            "C": Species(0.0, compartment="central", unit="mg/L"),
            "A_elim": Species(0.0, unit="mg"),
        }
        if self.effect_compartment:
            species["Ce"] = Species(0.0, compartment="central", unit="mg/L")
        return ReactionNetwork(
            species=species,
            parameters={"CL": self.CL, "V": self.V, "ka": self.ka, "ke0": self.ke0},
            compartments={"central": "V"},
            reactions=[
                Reaction("A_depot -> C", "ka", name="absorption"),
                Reaction("C -> A_elim", Flow("CL"), name="elimination"),
                *self._effect_reactions(),
            ],
            units={"t": "h"},
            name="one-compartment PK",
        )


class TwoCompartment(PKModel):
    """Two-compartment PK with intercompartmental clearance Q between central and peripheral.

    Species: ``A_depot`` (mg), ``C`` (central, mg/L), ``C_periph`` (peripheral, mg/L),
    ``A_elim`` (mg eliminated), ``Ce`` (effect site, if used).
    """

    abstract = False

    CL = quantity(
        5.0,
        unit="L/h",
        doc="Clearance from the central compartment",
        positive=True,
        softbounds=(0.1, 100.0),
        log=True,
        group="drug",
    )
    V1 = quantity(20.0, unit="L", doc="Central volume", positive=True, softbounds=(1.0, 200.0), log=True, group="drug")
    Q = quantity(
        10.0,
        unit="L/h",
        doc="Intercompartmental clearance",
        positive=True,
        softbounds=(0.1, 100.0),
        log=True,
        group="drug",
    )
    V2 = quantity(
        50.0, unit="L", doc="Peripheral volume", positive=True, softbounds=(1.0, 1000.0), log=True, group="drug"
    )

    def network(self) -> ReactionNetwork:
        species = {
            "A_depot": Species(0.0, unit="mg"),
            "C": Species(0.0, compartment="central", unit="mg/L"),
            "C_periph": Species(0.0, compartment="peripheral", unit="mg/L"),
            "A_elim": Species(0.0, unit="mg"),
        }
        if self.effect_compartment:
            species["Ce"] = Species(0.0, compartment="central", unit="mg/L")
        return ReactionNetwork(
            species=species,
            parameters={"CL": self.CL, "V1": self.V1, "Q": self.Q, "V2": self.V2, "ka": self.ka, "ke0": self.ke0},
            compartments={"central": "V1", "peripheral": "V2"},
            reactions=[
                Reaction("A_depot -> C", "ka", name="absorption"),
                Reaction("C -> A_elim", Flow("CL"), name="elimination"),
                Reaction("C -> C_periph", Flow("Q"), name="distribution"),
                Reaction("C_periph -> C", Flow("Q"), name="redistribution"),
                *self._effect_reactions(),
            ],
            units={"t": "h"},
            name="two-compartment PK",
        )


#: Organs of the minimal PBPK model with their default blood flow (L/h), tissue volume (L) and
#: tissue:blood partition coefficient, for a 70 kg adult (cardiac output 336 L/h).
ORGANS: dict[str, tuple[float, float, float]] = {
    "liver": (90.0, 1.8, 2.0),
    "kidney": (66.0, 0.3, 2.0),
    "muscle": (54.0, 29.0, 1.0),
    "adipose": (18.0, 15.0, 5.0),
    "rest": (108.0, 16.0, 1.0),
}


def _organ_parameters() -> dict[str, param.Parameter]:
    out: dict[str, param.Parameter] = {}
    for organ, (q, v, kp) in ORGANS.items():
        out[f"Q_{organ}"] = quantity(
            q,
            unit="L/h",
            doc=f"Blood flow to {organ}",
            positive=True,
            softbounds=(0.1 * q, 3.0 * q),
            log=True,
            group="physiology",
        )
        out[f"V_{organ}"] = quantity(
            v,
            unit="L",
            doc=f"Tissue volume of {organ}",
            positive=True,
            softbounds=(0.1 * v, 3.0 * v),
            log=True,
            group="physiology",
        )
        out[f"Kp_{organ}"] = quantity(
            kp,
            unit="-",
            doc=f"Tissue:blood partition coefficient of {organ}",
            positive=True,
            softbounds=(0.05, 50.0),
            log=True,
            group="drug",
        )
        out[f"PS_{organ}"] = quantity(
            10.0,
            unit="L/h",
            doc=f"Permeability-surface product of {organ} (permeability-limited only)",
            positive=True,
            softbounds=(0.01, 10000.0),
            log=True,
            group="drug",
        )
    return out


class PBPK(PKModel):
    """Minimal whole-body PBPK: venous and arterial blood, lung and five organs.

    Each organ o receives arterial blood at flow ``Q_o`` and returns it to the venous pool.
    Flow-limited (default), tissue and its vascular space are at equilibrium::

        (V_o + Vv_o / Kp_o) dC_o/dt = Q_o (C_art - C_o / Kp_o)

    Permeability-limited (organs listed in ``permeability_limited``), a vascular space of
    volume ``Vv_o = f_vascular * V_o`` exchanges with the tissue through ``PS_o``::

        Vv_o dCv_o/dt = Q_o (C_art - Cv_o) - PS_o (Cv_o - C_o / Kp_o)
        V_o  dC_o/dt  = PS_o (Cv_o - C_o / Kp_o)

    As ``PS_o -> inf`` the second form tends exactly to the first. The lung takes the whole
    cardiac output ``Q_co = sum Q_o``. Hepatic and renal clearance act on the liver and kidney
    tissue, referenced to blood (``CL * C_o / Kp_o``). An oral dose is absorbed into the liver.

    Species: ``C_venous``, ``C_arterial``, ``C_lung``, ``C_<organ>`` (tissue, mg/L),
    ``C_<organ>_vasc`` for permeability-limited organs, ``A_depot``, ``A_hepatic`` and
    ``A_renal`` (mg). Observable ``Cp`` is the venous blood concentration.
    """

    abstract = False
    central = "C_venous"

    V_venous = quantity(
        3.5, unit="L", doc="Venous blood volume", positive=True, softbounds=(1.0, 10.0), group="physiology"
    )
    V_arterial = quantity(
        1.7, unit="L", doc="Arterial blood volume", positive=True, softbounds=(0.5, 5.0), group="physiology"
    )
    V_lung = quantity(0.5, unit="L", doc="Lung tissue volume", positive=True, softbounds=(0.1, 2.0), group="physiology")
    Kp_lung = quantity(
        1.0,
        unit="-",
        doc="Lung tissue:blood partition coefficient",
        positive=True,
        softbounds=(0.05, 50.0),
        log=True,
        group="drug",
    )
    f_vascular = quantity(
        0.05,
        unit="-",
        doc="Vascular volume of each organ as a fraction of its tissue volume",
        positive=True,
        bounds=(0.0, 1.0),
        softbounds=(0.01, 0.3),
        group="physiology",
    )
    CL_hepatic = quantity(
        20.0,
        unit="L/h",
        doc="Hepatic intrinsic clearance (acts on the blood leaving the liver; organ clearance is Q CL/(Q + CL))",
        bounds=(0.0, None),
        softbounds=(0.0, 200.0),
        group="drug",
    )
    CL_renal = quantity(
        6.0,
        unit="L/h",
        doc="Renal intrinsic clearance (acts on the blood leaving the kidney; organ clearance is Q CL/(Q + CL))",
        bounds=(0.0, None),
        softbounds=(0.0, 100.0),
        group="drug",
    )
    permeability_limited = param.ListSelector(
        default=[], objects=list(ORGANS), doc="Organs modelled as permeability-limited", metadata={"group": "drug"}
    )

    def cardiac_output(self) -> float:
        """Total blood flow through the lung (sum of organ flows), L/h."""
        return float(sum(getattr(self, f"Q_{o}") for o in ORGANS))

    def network(self) -> ReactionNetwork:
        species: dict[str, Species] = {
            "C_venous": Species(0.0, "venous", unit="mg/L"),
            "C_arterial": Species(0.0, "arterial", unit="mg/L"),
            "C_lung": Species(0.0, "lung", unit="mg/L"),
        }
        parameters = {
            "V_venous": self.V_venous,
            "V_arterial": self.V_arterial,
            "V_lung": self.V_lung,
            "Kp_lung": self.Kp_lung,
            "Q_co": self.cardiac_output(),
            "CL_hepatic": self.CL_hepatic,
            "CL_renal": self.CL_renal,
            "ka": self.ka,
            "ke0": self.ke0,
        }
        compartments: dict[str, str] = {"venous": "V_venous", "arterial": "V_arterial", "lung": "V_lung"}
        reactions = [
            Reaction("C_venous -> C_lung", Flow("Q_co"), name="to_lung"),
            Reaction("C_lung -> C_arterial", Flow("Q_co", "Kp_lung"), name="from_lung"),
        ]
        for organ in ORGANS:
            q, v, kp, ps = (f"Q_{organ}", f"V_{organ}", f"Kp_{organ}", f"PS_{organ}")
            tissue = f"C_{organ}"
            parameters.update({q: getattr(self, q), v: getattr(self, v), kp: getattr(self, kp)})
            vascular_volume = self.f_vascular * getattr(self, v)
            if organ in self.permeability_limited:
                vasc = f"{tissue}_vasc"
                species[vasc] = Species(0.0, f"{organ}_vasc", unit="mg/L")
                species[tissue] = Species(0.0, organ, unit="mg/L")
                parameters[ps] = getattr(self, ps)
                parameters[f"Vv_{organ}"] = vascular_volume
                compartments[f"{organ}_vasc"] = f"Vv_{organ}"
                compartments[organ] = v
                reactions += [
                    Reaction(f"C_arterial -> {vasc}", Flow(q), name=f"{organ}_in"),
                    Reaction(f"{vasc} -> C_venous", Flow(q), name=f"{organ}_out"),
                    Reaction(f"{vasc} -> {tissue}", Flow(ps), name=f"{organ}_uptake"),
                    Reaction(f"{tissue} -> {vasc}", Flow(ps, kp), name=f"{organ}_efflux"),
                ]
            else:
                species[tissue] = Species(0.0, organ, unit="mg/L")
                parameters[f"Veff_{organ}"] = getattr(self, v) + vascular_volume / getattr(self, kp)
                compartments[organ] = f"Veff_{organ}"
                reactions += [
                    Reaction(f"C_arterial -> {tissue}", Flow(q), name=f"{organ}_in"),
                    Reaction(f"{tissue} -> C_venous", Flow(q, kp), name=f"{organ}_out"),
                ]
        species["A_depot"] = Species(0.0, unit="mg")
        species["A_hepatic"] = Species(0.0, unit="mg")
        species["A_renal"] = Species(0.0, unit="mg")
        liver_entry = "C_liver_vasc" if "liver" in self.permeability_limited else "C_liver"
        reactions += [
            Reaction(f"A_depot -> {liver_entry}", "ka", name="absorption"),
            Reaction("C_liver -> A_hepatic", Flow("CL_hepatic", "Kp_liver"), name="hepatic_clearance"),
            Reaction("C_kidney -> A_renal", Flow("CL_renal", "Kp_kidney"), name="renal_clearance"),
        ]
        if self.effect_compartment:
            species["Ce"] = Species(0.0, "venous", unit="mg/L")
            reactions += [
                Reaction("C_venous -> C_venous + Ce", "ke0", name="effect_in", compartment="venous"),
                Reaction("Ce ->", "ke0", name="effect_out", compartment="venous"),
            ]
        return ReactionNetwork(
            species=species,
            parameters=parameters,
            compartments=compartments,
            reactions=reactions,
            units={"t": "h"},
            name="minimal PBPK",
        )

    def organ_amounts(self, traj: Trajectory) -> dict[str, np.ndarray]:
        """Drug amount (mg) in each organ (tissue plus its vascular space) along a trajectory."""
        out = {}
        for organ in ORGANS:
            v = getattr(self, f"V_{organ}")
            vv = self.f_vascular * v
            if organ in self.permeability_limited:
                out[organ] = v * traj[f"C_{organ}"] + vv * traj[f"C_{organ}_vasc"]
            else:
                out[organ] = (v + vv / getattr(self, f"Kp_{organ}")) * traj[f"C_{organ}"]
        return out

    def observables(self, traj: Trajectory) -> dict[str, np.ndarray]:
        return {"Cp": traj["C_venous"], **super().observables(traj)}

    def plot_columns(self, traj: Trajectory) -> list[str]:
        return ["Cp", "C_lung", *[f"C_{organ}" for organ in ORGANS]]

    def units(self) -> dict[str, str]:
        return {**super().units(), "Cp": "mg/L"}


for _name, _parameter in _organ_parameters().items():
    PBPK.param.add_parameter(_name, _parameter)
