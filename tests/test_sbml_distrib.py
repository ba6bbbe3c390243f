"""Random draws (SBML's distrib package): each distribution's moments against scipy, with and
without truncation, where draws may appear, and ensembles of event-driven draws."""

from __future__ import annotations

import math

import numba
import numpy as np
import pytest
from scipy import stats as sps
from stats import Z, se_mean, se_variance

import workbench as wb
from workbench.core import expression as ex
from workbench.errors import UnsupportedSBMLError

N_DRAWS = 40_000

# (tree head, arguments, the scipy distribution, truncation bounds or None)
CASES = [
    ("normal", (1.0, 2.0), sps.norm(1.0, 2.0), None),
    ("normal", (0.0, 1.5, -0.5, math.inf), sps.norm(0.0, 1.5), (-0.5, math.inf)),
    ("uniform", (-1.0, 3.0), sps.uniform(-1.0, 4.0), None),
    ("bernoulli", (0.3,), sps.bernoulli(0.3), None),
    ("binomial", (100.0, 0.2), sps.binom(100, 0.2), None),
    ("binomial", (10.0, 0.5, 3.0, 6.0), sps.binom(10, 0.5), (3.0, 6.0)),
    ("cauchy", (1.0, 2.0, 1.1, 10.0), sps.cauchy(1.0, 2.0), (1.1, 10.0)),
    ("chisquare", (3.2,), sps.chi2(3.2), None),
    ("chisquare", (2.0, 2.0, 8.0), sps.chi2(2.0), (2.0, 8.0)),
    ("exponential", (0.5,), sps.expon(scale=2.0), None),
    ("exponential", (1.0, 0.25, 0.75), sps.expon(), (0.25, 0.75)),
    ("gamma", (2.0, 1.1), sps.gamma(2.0, scale=1.1), None),
    ("gamma", (1.0, 2.0, 3.0, 6.0), sps.gamma(1.0, scale=2.0), (3.0, 6.0)),
    ("laplace", (2.0,), sps.laplace(0.0, 2.0), None),
    ("laplace", (1.0, 2.0), sps.laplace(1.0, 2.0), None),
    ("lognormal", (0.5, 0.4), sps.lognorm(0.4, scale=math.exp(0.5)), None),
    ("lognormal", (1.0, 2.0, 3.0, 10.0), sps.lognorm(2.0, scale=math.e), (3.0, 10.0)),
    ("poisson", (1.5,), sps.poisson(1.5), None),
    ("poisson", (1.5, 2.0, 18.0), sps.poisson(1.5), (2.0, 18.0)),
    ("rayleigh", (2.0,), sps.rayleigh(scale=2.0), None),
    ("rayleigh", (2.0, 3.0, 5.0), sps.rayleigh(scale=2.0), (3.0, 5.0)),
]


def draws(head, args, n=N_DRAWS, seed=7):
    """``n`` draws of ``head(*args)`` through the compiled interpreter."""
    program = ex.compile_programs([(head, *(ex.num(a) for a in args))])
    ex.seed_draws(seed)
    return ex.run_all(program, np.zeros((n, 1)), np.zeros(0))[:, 0]


def moments(dist, bounds):
    """Mean and variance of ``dist``, truncated to ``bounds`` (inclusive) if given."""
    if bounds is None:
        return dist.mean(), dist.var()
    lo, hi = bounds  # inclusive (for discrete distributions scipy sums over lb..ub)
    mean = dist.expect(lambda x: x, lb=lo, ub=hi, conditional=True)
    second = dist.expect(lambda x: x * x, lb=lo, ub=hi, conditional=True)
    return mean, second - mean**2


@pytest.mark.parametrize(("head", "args", "dist", "bounds"), CASES, ids=lambda v: str(v)[:24])
def test_each_distribution_draws_with_the_mean_and_variance_scipy_integrates(head, args, dist, bounds):
    x = draws(head, args)
    assert np.isfinite(x).all()
    if bounds is not None:
        assert x.min() >= bounds[0] and x.max() <= bounds[1]
    mean, variance = moments(dist, bounds)
    assert abs(x.mean() - mean) <= Z * se_mean(x)
    assert abs(x.var(ddof=1) - variance) <= Z * se_variance(x)


def test_truncation_bounds_in_either_order_and_invalid_parameters():
    assert np.array_equal(draws("normal", (0.0, 1.5, -0.5, 0.5)), draws("normal", (0.0, 1.5, 0.5, -0.5)))
    for head, args in [
        ("normal", (0.0, -1.0)),
        ("exponential", (-2.0,)),
        ("binomial", (2.5, 0.5)),
        ("bernoulli", (1.5,)),
        ("gamma", (0.0, 1.0)),
        ("normal", (0.0, 1.0, math.nan, 1.0)),
    ]:
        assert np.isnan(draws(head, args, n=5)).all(), head
    # a truncation window no draw can reach gives NaN after the rejection limit, not a hang
    assert np.isnan(draws("uniform", (0.0, 1.0, 2.0, 3.0), n=1))


def test_the_same_seed_repeats_the_draws_and_another_does_not():
    assert np.array_equal(draws("normal", (0.0, 1.0), n=100, seed=3), draws("normal", (0.0, 1.0), n=100, seed=3))
    assert not np.array_equal(draws("normal", (0.0, 1.0), n=100, seed=3), draws("normal", (0.0, 1.0), n=100, seed=4))


def test_draws_are_never_folded_and_have_no_derivative():
    tree = ("+", ("normal", ex.num(0.0), ex.num(1.0)), ex.num(0.0))
    assert ex.simplify(tree) == ("normal", ex.num(0.0), ex.num(1.0))
    assert ex.is_random(tree) and not ex.is_random(("+", ex.num(1.0), ("sym", "x")))
    with pytest.raises(wb.errors.ModelError, match="no derivative"):
        ex.derivative(("*", ("sym", "x"), ("normal", ("sym", "x"), ex.num(1.0))), ("sym", "x"))
    with pytest.raises(wb.errors.ModelError, match="takes 2 or 4 arguments"):
        ex.compile_programs([("normal", ex.num(0.0))])


def test_run_program_outside_event_assignments_gives_nan_for_a_draw():
    # kinetics call run_program, which has no draw branch (its call would slow every law)
    program = ex.compile_programs([("+", ex.num(1.0), ("normal", ex.num(0.0), ex.num(1.0)))])

    @numba.njit
    def plain(op, arg, val, ptr):
        return ex.run_program(op, arg, val, ptr[0], ptr[1], np.zeros(1), np.zeros(1), np.empty(4))

    assert math.isnan(plain(program.op, program.arg, program.val, program.ptr))


# --- in SBML models -----------------------------------------------------------------------------
DISTRIB_NS = "http://www.sbml.org/sbml/level3/version1/distrib/version1"


def csymbol(name: str, *args: float) -> str:
    children = "".join(f"<cn> {a} </cn>" for a in args)
    url = f"http://www.sbml.org/sbml/symbols/distrib/{name}"
    return f'<apply><csymbol encoding="text" definitionURL="{url}"> {name} </csymbol>{children}</apply>'


def model(draw: str, reaction: str = "", law: str = "") -> str:
    """Every time unit (at t = k + 1/2) an event sets X to ``draw``: a clock ``t`` that the event
    resets drives it, as in the SBML Test Suite's distrib cases."""
    math_ns = "http://www.w3.org/1998/Math/MathML"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns:distrib="{DISTRIB_NS}" xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3"
 version="2" distrib:required="true">
 <model>
  <listOfCompartments><compartment id="C" spatialDimensions="3" size="1" constant="true"/></listOfCompartments>
  <listOfSpecies>
   <species id="X" compartment="C" initialAmount="0" hasOnlySubstanceUnits="true" boundaryCondition="false"
    constant="false"/>
  </listOfSpecies>
  <listOfParameters>
   <parameter id="t" value="0" constant="false"/><parameter id="mu" value="2" constant="true"/>
  </listOfParameters>
  <listOfRules><rateRule variable="t"><math xmlns="{math_ns}"><cn> 1 </cn></math></rateRule></listOfRules>
  {reaction.format(law=law, math_ns=math_ns)}
  <listOfEvents>
   <event id="E0" useValuesFromTriggerTime="true">
    <trigger initialValue="true" persistent="true">
     <math xmlns="{math_ns}"><apply><geq/><ci> t </ci><cn> 0.5 </cn></apply></math>
    </trigger>
    <listOfEventAssignments>
     <eventAssignment variable="X"><math xmlns="{math_ns}">{draw}</math></eventAssignment>
     <eventAssignment variable="t"><math xmlns="{math_ns}"><cn> -0.5 </cn></math></eventAssignment>
    </listOfEventAssignments>
   </event>
  </listOfEvents>
 </model>
</sbml>"""


NORMAL_FROM_MU = (
    '<apply><csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/distrib/normal"> normal'
    " </csymbol><ci> mu </ci><cn> 0.5 </cn></apply>"
)
REACTION = """<listOfReactions><reaction id="decay" reversible="false">
 <listOfReactants><speciesReference species="X" stoichiometry="1" constant="true"/></listOfReactants>
 <kineticLaw><math xmlns="{math_ns}">{law}</math></kineticLaw></reaction></listOfReactions>"""


def test_an_ensemble_of_event_draws_has_the_distribution_at_every_output_time():
    m = wb.load_sbml(model(NORMAL_FROM_MU))
    assert m.has_draws
    ensemble = m.draws(4000, t=np.arange(0.0, 11.0), seed=11)
    x = ensemble.counts[:, 1:, list(ensemble.species).index("X")]  # after the first event
    assert ensemble.method == "draws" and x.shape == (4000, 10)
    mean, sd = x.mean(axis=0), x.std(axis=0, ddof=1)
    assert np.all(np.abs(mean - 2.0) <= Z * se_mean(x))
    assert np.all(np.abs(sd**2 - 0.25) <= Z * se_variance(x))
    # each event draws anew: successive values of one run are uncorrelated
    r = np.corrcoef(x[:, 3], x[:, 4])[0, 1]
    assert abs(r) <= Z / math.sqrt(x.shape[0])
    # the parameter slider moves the distribution
    m.mu = 5.0
    moved = m.draws(2000, t=np.arange(0.0, 3.0), seed=1)
    y = moved.counts[:, 2, list(moved.species).index("X")]
    assert abs(y.mean() - 5.0) <= Z * se_mean(y)


def test_an_ensemble_repeats_with_its_seed_whatever_the_thread_count():
    m = wb.load_sbml(model(csymbol("uniform", 0, 1)))
    t = np.arange(0.0, 6.0)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = m.draws(300, t=t, seed=5).counts
        numba.set_num_threads(before)
        many = m.draws(300, t=t, seed=5).counts
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one, many)
    assert not np.array_equal(many, m.draws(300, t=t, seed=6).counts)
    # a single simulation is one realisation, within the draw's support
    x = m.simulate(t=t)["X"]
    assert x[0] == 0.0 and np.all((x[1:] >= 0.0) & (x[1:] <= 1.0))


def test_draws_outside_event_assignments_or_with_reactions_are_refused():
    with pytest.raises(UnsupportedSBMLError, match="distrib draw outside an event assignment"):
        wb.load_sbml(model(csymbol("normal", 0, 1), REACTION, csymbol("exponential", 1.0))).translation()
    with_reaction = wb.load_sbml(model(csymbol("normal", 3, 1), REACTION, "<ci> X </ci>"))
    with pytest.raises(UnsupportedSBMLError, match="reactions"):
        with_reaction.draws(10)
    with pytest.raises(wb.errors.SBMLError, match="takes 1 or 3 arguments"):
        wb.load_sbml(model(csymbol("poisson", 1, 2)))
    # other distrib elements (uncertainties) stay refused as a package
    uncertain = model(csymbol("normal", 0, 1)).replace(
        '<parameter id="mu" value="2" constant="true"/>',
        '<parameter id="mu" value="2" constant="true"><distrib:listOfUncertainties><distrib:uncertainty>'
        '<distrib:uncertParameter distrib:type="standardDeviation" distrib:value="0.1"/>'
        "</distrib:uncertainty></distrib:listOfUncertainties></parameter>",
    )
    with pytest.raises(UnsupportedSBMLError, match="package distrib"):
        wb.load_sbml(uncertain)
