"""TMDD (full and reductions) and receptor binding against their defining properties."""

import itertools
import math

import numpy as np
import pytest
from reference import reference_solution, scaled_error
from scipy.optimize import brentq

import workbench as wb

TIGHT = {"rtol": 1e-10, "atol": 1e-14}


# --- TMDD -----------------------------------------------------------------------------------


def test_full_tmdd_network_is_the_standard_model():
    model = wb.TMDD(ke=0.02, kon=2.0, koff=0.03, kint=0.04, ksyn=1.5, kdeg=0.2)
    net = model.network()
    d, r, c = 7.0, 3.0, 2.0
    expected = [
        -0.02 * d - 2.0 * d * r + 0.03 * c,
        1.5 - 0.2 * r - 2.0 * d * r + 0.03 * c,
        2.0 * d * r - 0.03 * c - 0.04 * c,
    ]
    np.testing.assert_allclose(net.rhs([d, r, c]), expected, rtol=1e-14)
    assert net.initial["R"] == pytest.approx(1.5 / 0.2)


def test_low_dose_apparent_clearance_exceeds_linear_clearance():
    table = wb.dose_scan(wb.TMDD(), [0.1, 1.0, 10.0], t_end=500.0)
    # target-mediated elimination adds to linear clearance ke (per unit volume)
    assert np.all(table["cl_apparent"] > 10 * 0.01)
    assert np.all(np.diff(table["cl_apparent"]) < 0)  # falls as the target saturates


def test_high_dose_clearance_and_half_life_approach_linear_values():
    ke = 0.01
    # below ~1e4 nM the drug leaves target saturation within 500 h and the terminal phase is
    # the slow target-mediated tail; above it the linear phase is what is observed
    table = wb.dose_scan(wb.TMDD(), [1e4, 1e5, 1e6], t_end=500.0)
    cl_error = np.abs(table["cl_apparent"] / ke - 1)
    half_error = np.abs(table["t_half"] / (math.log(2) / ke) - 1)
    assert np.all(np.diff(cl_error) < 0) and np.all(np.diff(half_error) < 0)
    assert cl_error.iloc[-1] < 0.01
    assert half_error.iloc[-1] < 0.02


def _qss_errors(scale):
    """Max relative difference, QSS vs full, of total and free drug with kon, koff scaled."""
    base = dict(kon=1.0 * scale, koff=0.01 * scale, dose=100.0, t_end=300.0, n_points=601)
    full = wb.TMDD(**base).simulate(**TIGHT)
    qss = wb.TMDD(reduction="qss", **base).simulate(**TIGHT)
    skip = 5  # the binding transient itself (first 2.5 h) is what the QSS removes
    errors = {}
    for name in ("D_total", "D_free"):
        a, b = qss[name][skip:], full[name][skip:]
        mask = b > 1e-3 * b.max()
        errors[name] = np.max(np.abs(a[mask] - b[mask]) / b[mask])
    return errors


def test_qss_reduction_matches_full_model_when_binding_is_fast():
    errors = [_qss_errors(scale) for scale in (10.0, 100.0, 1000.0)]
    assert errors[-1]["D_total"] < 1e-4
    assert errors[-1]["D_free"] < 1e-2  # free drug is small, so relatively harder, in the drop
    # the reduction error is first order in the timescale ratio 1 / kon
    for name in ("D_total", "D_free"):
        for coarse, fine in itertools.pairwise(errors):
            assert 8.0 < coarse[name] / fine[name] < 12.0


def test_mm_reduction_misses_at_most_the_bound_drug():
    # kint = kdeg keeps total target at R0 (the MM assumption); the MM state then differs from
    # the QSS free drug by no more than the drug bound to target, at most R0.
    base = dict(kint=0.05, kdeg=0.05, ksyn=0.05, kon=10.0, koff=0.1, dose=1000.0, t_end=1000.0)
    model = wb.TMDD(**base)
    qss = model.copy(reduction="qss").simulate(**TIGHT)
    mm = model.copy(reduction="mm").simulate(**TIGHT)
    np.testing.assert_allclose(qss["Rtot"], model.R0, rtol=1e-9)
    difference = np.abs(mm["D_free"] - qss["D_free"])
    assert difference.max() <= model.R0 * (1 + 1e-9)
    high = qss["D_free"] > 10 * model.R0
    assert np.all(difference[high] / qss["D_free"][high] < model.R0 / qss["D_free"][high])


@pytest.mark.parametrize("reduction", ["full", "qss", "mm"])
def test_tmdd_solvers_agree_with_scipy(reduction):
    model = wb.TMDD(reduction=reduction, kon=1e3, n_doses=2, interval=100.0, t_end=300.0, n_points=301)
    net = model.network()
    ref = reference_solution(net, np.linspace(0, 300, 301), model.doses())
    for method in ("rodas4", "auto"):
        for rtol in (1e-8, 1e-10):
            traj = model.simulate(method=method, rtol=rtol, atol=1e-12)
            # tolerance-proportional global error: within 100 tolerance units at either setting
            assert scaled_error(traj.values, ref, rtol, 1e-12) < 100, (method, rtol)


# --- receptor binding -------------------------------------------------------------------------


def test_occupancy_is_two_thirds_at_twice_kd():
    model = wb.ReceptorBinding(kon=0.2, koff=0.04)
    kd = model.KD
    assert model.occupancy(2 * kd) == pytest.approx(2 / 3)
    # and the kinetics settle there
    long = model.copy(L=2 * kd, t_end=2000.0).simulate(**TIGHT)
    assert long["occupancy"][-1] == pytest.approx(2 / 3, rel=1e-9)


def test_observed_association_rate_is_linear_in_ligand():
    model = wb.ReceptorBinding(kon=0.15, koff=0.02)
    ligands = np.array([0.05, 0.1, 0.3, 1.0, 3.0])
    k_fitted = []
    for ligand in ligands:
        traj = model.copy(L=float(ligand), t_end=60.0, n_points=61).simulate(**TIGHT)
        b_eq = model.R_total * model.occupancy(ligand)
        remaining = 1 - traj["LR"] / b_eq
        use = remaining > 1e-6
        k_fitted.append(-np.polyfit(traj.t[use], np.log(remaining[use]), 1)[0])
    slope, intercept = np.polyfit(ligands, k_fitted, 1)
    assert slope == pytest.approx(0.15, rel=1e-6)
    assert intercept == pytest.approx(0.02, rel=1e-6)
    np.testing.assert_allclose(k_fitted, model.k_obs(ligands), rtol=1e-6)


def test_dissociation_decays_at_koff():
    model = wb.ReceptorBinding(kon=0.1, koff=0.03, L=0.5, t_end=100.0)
    traj = model.dissociation(**TIGHT)
    b0 = model.R_total * model.occupancy(0.5)
    np.testing.assert_allclose(traj["LR"], b0 * np.exp(-0.03 * traj.t), rtol=1e-7)


@pytest.mark.parametrize(("tau", "n"), [(0.5, 1.0), (10.0, 1.0), (30.0, 1.7)])
def test_amplification_makes_ec50_smaller_than_kd(tau, n):
    model = wb.ReceptorBinding(tau=tau, n_transducer=n)
    half = model.Emax_observed / 2
    ec50 = brentq(lambda x: model.response(x) - half, 1e-9, 1e6, xtol=1e-14, rtol=1e-14)
    assert ec50 == pytest.approx(model.EC50, rel=1e-9)
    assert model.EC50 < model.KD
    if n == 1.0:
        assert model.EC50 == pytest.approx(model.KD / (1 + tau))


def test_ligand_depletion_conserves_ligand_and_receptor():
    model = wb.ReceptorBinding(ligand_depletion=True, L=0.5, R_total=1.0, t_end=500.0)
    traj = model.simulate(**TIGHT)
    np.testing.assert_allclose(traj["L"] + traj["LR"], 0.5, rtol=1e-10)
    np.testing.assert_allclose(traj["R"] + traj["LR"], 1.0, rtol=1e-10)
    # equilibrium is the root of the quadratic in the complex
    kd = model.KD
    s = 0.5 + 1.0 + kd
    assert traj["LR"][-1] == pytest.approx((s - math.sqrt(s * s - 4 * 0.5)) / 2, rel=1e-8)


@pytest.mark.parametrize("depletion", [False, True])
def test_dissociation_starts_at_equilibrium_and_decays_at_koff(depletion):
    model = wb.ReceptorBinding(kon=0.1, koff=0.01, L=1.0, R_total=1.0, ligand_depletion=depletion)
    # the starting occupancy is the equilibrium the association experiment reaches
    reached = model.association(t_end=3000)["occupancy"][-1]
    assert model.equilibrium_occupancy() == pytest.approx(reached, rel=1e-6)
    if depletion:  # the quadratic (depletion) root, not Hill-Langmuir with total ligand
        b = model.L + model.R_total + model.KD
        assert model.equilibrium_occupancy() == pytest.approx((b - math.sqrt(b * b - 4 * model.L)) / 2, rel=1e-12)
        assert model.equilibrium_occupancy() < model.occupancy(model.L)
    # washout: nothing rebinds, so the complex decays as a pure exponential at koff
    traj = model.dissociation(t_end=300)
    expected = model.equilibrium_occupancy() * np.exp(-model.koff * traj.t)
    np.testing.assert_allclose(traj["occupancy"], expected, rtol=1e-5)
