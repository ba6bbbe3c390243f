"""Rate laws a reaction can declare. Data only: the kernels in :mod:`.kinetics` evaluate them.

A parameter reference is either the name of a network parameter or a plain number (a fixed
constant). Species references name species of the network.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Expression",
    "Flow",
    "Hill",
    "MassAction",
    "MichaelisMenten",
    "QuasiEquilibrium",
    "RateLaw",
]

ParameterRef = str | float


@dataclass(frozen=True)
class RateLaw:
    """Base class of rate-law declarations."""


@dataclass(frozen=True)
class MassAction(RateLaw):
    """Mass action: ``k * prod(reactant ** order)``, per volume of the reaction compartment."""

    k: ParameterRef


@dataclass(frozen=True)
class MichaelisMenten(RateLaw):
    """Saturable rate ``vmax * S / (km + S)`` per volume.

    ``substrate`` defaults to the reaction's first reactant. A slightly negative ``S`` (solver
    round-off) gives the linear continuation ``vmax * S / km``, which is smooth and restoring.
    """

    vmax: ParameterRef
    km: ParameterRef
    substrate: str | None = None


@dataclass(frozen=True)
class Hill(RateLaw):
    """Hill activation ``vmax * X**n / (K**n + X**n)`` or repression ``vmax * K**n / (K**n + X**n)``.

    ``regulator`` is the species X; it need not take part in the reaction.
    """

    vmax: ParameterRef
    k: ParameterRef
    n: ParameterRef
    regulator: str
    repress: bool = False


@dataclass(frozen=True)
class Flow(RateLaw):
    """Clearance-type transfer ``q * C_source / partition`` in amount per time.

    ``q`` is a flow or clearance (volume per time); the rate does not scale with a compartment
    volume. ``source`` defaults to the first reactant; ``partition`` (a tissue:blood partition
    coefficient) defaults to 1.
    """

    q: ParameterRef
    partition: ParameterRef | None = None
    source: str | None = None


@dataclass(frozen=True)
class QuasiEquilibrium(RateLaw):
    """A rate proportional to a binding equilibrium ``A + B <-> C`` with constant ``kd``.

    With totals ``A`` and ``B`` (species) the complex at quasi-equilibrium is the root
    ``c = ((A + B + kd) - sqrt((A + B + kd)**2 - 4 A B)) / 2``. ``form="complex"`` gives
    ``k * c``, ``form="free"`` gives ``k * (A - c)``, the free part of ``A``. This is the
    quasi-steady-state (Morrison / tight-binding) reduction used for TMDD.
    """

    k: ParameterRef
    kd: ParameterRef
    a: str
    b: str
    form: str = "complex"


@dataclass(frozen=True)
class Expression(RateLaw):
    """Any rate law, as an expression tree (see :mod:`workbench.core.expression`).

    The tree's symbols name species (their state value: the concentration, or the amount in a
    unit-volume compartment) and parameters. The rate is in amount per time: it is not
    multiplied by a compartment volume. Its derivatives for the Jacobian and the parameter
    sensitivities are derived symbolically.
    """

    tree: tuple
