"""The reaction-network core: parsing, validation, rate laws, Jacobian, compilation reuse."""

import math

import numpy as np
import pytest

import workbench as wb
from workbench.core import kinetics, ode
from workbench.core.warmup import _zoo


def birth_death():
    return wb.ReactionNetwork(
        species={"X": 100.0},
        parameters={"lam": 0.1, "mu": 0.11},
        reactions=[("X -> 2 X", "lam"), ("X ->", "mu")],
    )


def tmdd_network(kon=1.0):
    return wb.ReactionNetwork(
        species={"D": 100.0, "R": 10.0, "C": 0.0},
        parameters=dict(ke=0.01, kon=kon, koff=0.01, kint=0.05, ksyn=1.0, kdeg=0.1),
        reactions=[
            ("D ->", "ke"),
            ("D + R <-> C", ("kon", "koff")),
            ("C ->", "kint"),
            ("-> R", "ksyn"),
            ("R ->", "kdeg"),
        ],
    )


# --- parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("equation", "reactants", "products", "reversible"),
    [
        ("X -> 2 X", {"X": 1}, {"X": 2}, False),
        ("X ->", {"X": 1}, {}, False),
        ("-> X", {}, {"X": 1}, False),
        ("A + B <-> C", {"A": 1, "B": 1}, {"C": 1}, True),
        ("2A + A => 0", {"A": 3}, {}, False),
        ("  S1+ 3*S2 ->  P_1 ", {"S1": 1, "S2": 3}, {"P_1": 1}, False),
    ],
)
def test_parse_equation(equation, reactants, products, reversible):
    assert wb.parse_equation(equation) == (reactants, products, reversible)


def test_fractional_coefficients_parse_but_mass_action_needs_whole_ones():
    """SBML stoichiometries may be fractional; mass action's reactant orders may not."""
    assert wb.parse_equation("0.5 X + 1.5e-1 Y -> 2 Z") == ({"X": 0.5, "Y": 0.15}, {"Z": 2}, False)
    with pytest.raises(wb.ModelError, match="whole-number reactant coefficients"):
        wb.ReactionNetwork(species={"X": 1.0, "Y": 0.0}, parameters={"k": 1.0}, reactions=[("2.5 X -> Y", "k")])


@pytest.mark.parametrize(
    ("equation", "message"),
    [
        ("X + Y", "no arrow"),
        ("X -> -> Y", "more than one arrow"),
        ("->", "both sides are empty"),
        ("2.5. X -> Y", "cannot read '2.5. X'"),
        ("X Y -> Z", "cannot read 'X Y'"),
        ("X + -> Y", "nothing on one side"),
        ("0 X -> Y", "coefficient 0"),
    ],
)
def test_parse_errors_say_which_reaction_and_why(equation, message):
    with pytest.raises(wb.ReactionParseError, match="reaction 1") as excinfo:
        wb.ReactionNetwork(species={"X": 1.0, "Y": 1.0, "Z": 0.0}, parameters={"k": 1.0}, reactions=[(equation, "k")])
    assert message in str(excinfo.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"parameters": {"k": -1.0}}, "'k' must be non-negative"),
        ({"parameters": {"k": math.nan}}, "'k' must be finite"),
        ({"parameters": {"k": math.inf}}, "'k' must be finite"),
        ({"parameters": {"k": "fast"}}, "'k' must be a number"),
        ({"species": {"X": -5.0}}, "species 'X' must be non-negative"),
        ({"species": {"X": math.nan}}, "species 'X' must be finite"),
        ({"reactions": [("X -> Q", "k")]}, "unknown species 'Q'"),
        ({"reactions": [("X ->", "kk")]}, "unknown parameter 'kk'"),
        ({"reactions": [("X <-> Y", "k")]}, "give a pair of rates"),
        ({"reactions": [("X -> Y", ("k", "k"))]}, "needs a reversible arrow"),
        ({"reactions": [("X ->", wb.MichaelisMenten("k", "zero"))]}, "'zero' must be positive"),
        ({"species": {"1X": 1.0}}, "not an identifier"),
    ],
)
def test_invalid_networks_raise_clear_errors(kwargs, message):
    spec = {
        "species": {"X": 1.0, "Y": 0.0},
        "parameters": {"k": 1.0, "zero": 0.0},
        "reactions": [("X -> Y", "k")],
    }
    spec.update(kwargs)
    with pytest.raises(wb.ModelError) as excinfo:
        wb.ReactionNetwork(**spec)
    assert message in str(excinfo.value)


def test_overrides_are_validated_at_simulation_time():
    net = birth_death()
    with pytest.raises(wb.ModelError, match="'mu' must be non-negative"):
        net.simulate(10, parameters={"mu": -1.0})
    with pytest.raises(wb.ModelError, match="unknown parameter 'nu'"):
        net.simulate(10, parameters={"nu": 1.0})
    with pytest.raises(wb.ModelError, match="species 'X' must be finite"):
        net.simulate(10, initial={"X": math.inf})


# --- simulation ----------------------------------------------------------------------------


def test_issue_example_matches_exponential_closed_form():
    traj = birth_death().simulate(t_end=50, n_points=51, rtol=1e-10, atol=1e-12)
    assert traj.t.shape == (51,)
    exact = 100.0 * np.exp((0.1 - 0.11) * traj.t)
    np.testing.assert_allclose(traj["X"], exact, rtol=1e-8)


def test_stoichiometry_and_rates():
    net = tmdd_network()
    expected = np.array(
        [
            [-1, -1, 1, 0, 0, 0],
            [0, -1, 1, 0, 1, -1],
            [0, 1, -1, -1, 0, 0],
        ],
        dtype=float,
    )
    np.testing.assert_array_equal(net.stoichiometry, expected)
    np.testing.assert_allclose(net.rates([100.0, 10.0, 2.0]), [1.0, 1000.0, 0.02, 0.1, 1.0, 1.0])


def test_generic_rhs_equals_hand_written_tmdd_equations():
    net = tmdd_network()
    rng = np.random.default_rng(1)
    for _ in range(20):
        d, r, c = rng.uniform(0, 50, 3)
        ke, kon, koff, kint, ksyn, kdeg = 0.01, 1.0, 0.01, 0.05, 1.0, 0.1
        hand = [
            -ke * d - kon * d * r + koff * c,
            ksyn - kdeg * r - kon * d * r + koff * c,
            kon * d * r - koff * c - kint * c,
        ]
        np.testing.assert_allclose(net.rhs([d, r, c]), hand, rtol=1e-14, atol=1e-14)


def test_rate_laws_against_their_formulas():
    net = _zoo()
    y = np.array([0.7, 1.3, 0.4, 1.0])
    k1, k2, vmax, km, n, q, kp, v1, v2 = 1.0, 0.5, 1.0, 0.5, 2.0, 0.3, 2.0, 2.0, 1.0
    a, b, c, s = y
    total = a + b + km
    complex_ = (total - math.sqrt(total**2 - 4 * a * b)) / 2
    complex_ba = complex_  # symmetric in a and b
    expected = [
        k1 * a * s * v1,  # mass action, in compartment c1 (volume V1)
        k2 * b * b * v2,  # 2 B -> C: k B^2, compartment c2
        vmax * c / (km + c),  # Michaelis-Menten, unit volume
        vmax * c**n / (km**n + c**n) * v1,  # Hill activation by C, product A in c1
        vmax * km**n / (km**n + a**n),  # Hill repression by A, product C (unit volume)
        q * a / kp,  # flow: amount per time, no volume factor
        k1 * complex_ * v1,  # quasi-equilibrium complex
        k2 * (b - complex_ba) * v2,  # quasi-equilibrium free B
        k1 * c,  # expression k1 * piecewise(C, C > 0, exp(A)): amount per time, no volume
    ]
    np.testing.assert_allclose(net.rates(y), expected, rtol=1e-13)
    y_negative = np.array([0.7, 1.3, -0.4, 1.0])
    assert net.rates(y_negative)[-1] == pytest.approx(k1 * math.exp(0.7), rel=1e-15)  # the other branch


def test_rhs_divides_rates_by_species_volume_and_skips_constant_species():
    net = _zoo()
    y = np.array([0.7, 1.3, 0.4, 1.0])
    v = net.rates(y)
    dy = net.rhs(y)
    manual = net.stoichiometry @ v / np.array([2.0, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(dy, manual, rtol=1e-13)
    assert dy[3] == 0.0  # S is constant


@pytest.mark.parametrize("seed", range(5))
def test_analytic_jacobian_matches_central_differences(seed):
    net = _zoo()
    rng = np.random.default_rng(seed)
    y = rng.uniform(0.1, 3.0, 4)
    jac = net.jacobian(y)
    h = 1e-6
    fd = np.empty_like(jac)
    for m in range(4):
        e = np.zeros(4)
        e[m] = h
        fd[:, m] = (net.rhs(y + e) - net.rhs(y - e)) / (2 * h)
    np.testing.assert_allclose(jac, fd, rtol=1e-7, atol=1e-8)


def test_transfer_between_compartments_conserves_amount():
    net = wb.ReactionNetwork(
        species={"A": wb.Species(10.0, "small"), "B": wb.Species(0.0, "large")},
        parameters={"k": 0.3, "Vs": 2.0, "Vl": 7.0},
        compartments={"small": "Vs", "large": "Vl"},
        reactions=[("A -> B", "k")],
    )
    traj = net.simulate(20, 41, rtol=1e-10, atol=1e-12)
    amount = 2.0 * traj["A"] + 7.0 * traj["B"]
    np.testing.assert_allclose(amount, 20.0, rtol=1e-9)
    # A decays at k; B gains the amount scaled by the volume ratio
    np.testing.assert_allclose(traj["A"], 10.0 * np.exp(-0.3 * traj.t), rtol=1e-8)


def test_constant_species_is_never_changed():
    net = wb.ReactionNetwork(
        species={"L": wb.Species(2.0, constant=True), "R": 1.0, "LR": 0.0},
        parameters={"kon": 1.0, "koff": 0.5},
        reactions=[("L + R <-> LR", ("kon", "koff"))],
    )
    traj = net.simulate(10, 11)
    np.testing.assert_array_equal(traj["L"], 2.0)
    # pseudo-first order: LR -> L/(L + KD) * Rtot at rate kon L + koff
    kobs = 1.0 * 2.0 + 0.5
    np.testing.assert_allclose(traj["LR"], 2.0 / 2.5 * (1 - np.exp(-kobs * traj.t)), rtol=1e-5, atol=1e-9)


def test_new_networks_and_parameters_reuse_one_compiled_integrator():
    """Different networks, sizes, parameter values and methods all use one signature per
    array type: one for the built-in rate laws, one for networks with expression laws."""
    birth_death().simulate(5, parameters={"lam": 0.3})
    tmdd_network(kon=3.0).simulate(5, doses=[wb.Bolus("D", 5.0, 1.0)], method="rodas4")
    _zoo().simulate(5, method="dopri5")
    wb.TMDD(reduction="qss").simulate()
    wb.PBPK(permeability_limited=["liver"]).simulate()
    wb.ReactionNetwork(
        {"X": 1.0}, {"k": 2.0}, [("X ->", wb.core.Expression(("*", ("sym", "k"), ("sym", "X"))))]
    ).simulate(5)
    types = {
        type(sig[0]).__name__ + str(getattr(sig[0], "instance_class", "")) for sig in ode.integrate_network.signatures
    }
    assert len(ode.integrate_network.signatures) == len(types) <= 2
    assert len(kinetics.network_rhs.signatures) <= 2


# --- results --------------------------------------------------------------------------------


def test_trajectory_access_dataframe_and_repr():
    traj = birth_death().simulate(t_end=10, n_points=11)
    assert traj.species == ("X",)
    assert traj["X"].shape == (11,)
    with pytest.raises(KeyError, match="'Y' is not in this trajectory"):
        traj["Y"]
    frame = traj.to_dataframe()
    assert list(frame.columns) == ["X"]
    assert frame.index.name == "t"
    np.testing.assert_array_equal(frame["X"].to_numpy(), traj["X"])
    text = repr(traj)
    assert "11 time points" in text and "X" in text
    assert "<table>" in traj._repr_html_()


def test_network_repr_lists_reactions():
    text = repr(tmdd_network())
    assert "3 species, 6 reactions" in text
    assert "D + R -> C" in text and "C -> D + R" in text
