"""PK models against closed forms, mass balance, PBPK limits, PD and NCA."""

import itertools
import math

import numpy as np
import pytest

import workbench as wb

TIGHT = {"rtol": 1e-11, "atol": 1e-14}
CL, V, KA, F = 4.0, 40.0, 1.3, 0.8
K = CL / V


def one_comp(**kwargs):
    return wb.OneCompartment(CL=CL, V=V, ka=KA, F=F, **kwargs)


def bolus_exact(t, dose, t_dose=0.0):
    return np.where(t >= t_dose, dose / V * np.exp(-K * (t - t_dose)), 0.0)


def bateman_exact(t, dose, t_dose=0.0):
    tau = np.maximum(t - t_dose, 0.0)
    return F * dose * KA / (V * (KA - K)) * (np.exp(-K * tau) - np.exp(-KA * tau))


def infusion_exact(t, rate, duration, t_start=0.0):
    tau = t - t_start
    during = rate / CL * (1 - np.exp(-K * np.clip(tau, 0.0, None)))
    end = rate / CL * (1 - np.exp(-K * duration))
    after = end * np.exp(-K * (tau - duration))
    return np.where(tau < 0, 0.0, np.where(tau <= duration, during, after))


def test_iv_bolus_is_exponential():
    traj = one_comp(route="iv_bolus", dose=100.0, t_end=48.0).simulate(**TIGHT)
    np.testing.assert_allclose(traj["C"], bolus_exact(traj.t, 100.0), rtol=1e-6)


def test_infusion_approaches_rate_over_clearance():
    model = one_comp(route="iv_infusion", dose=500.0, infusion_duration=100.0, t_end=150.0, n_points=1501)
    traj = model.simulate(**TIGHT)
    rate = 500.0 / 100.0
    np.testing.assert_allclose(traj["C"], infusion_exact(traj.t, rate, 100.0), rtol=1e-6, atol=1e-12)
    # after ten half-lives of infusion the plateau is I / CL
    at_end = traj["C"][np.searchsorted(traj.t, 100.0)]
    assert at_end == pytest.approx(rate / CL * (1 - math.exp(-K * 100.0)), rel=1e-9)
    assert at_end == pytest.approx(rate / CL, rel=1e-3)


def test_oral_absorption_is_the_bateman_function():
    traj = one_comp(route="oral", dose=200.0, t_end=36.0).simulate(**TIGHT)
    np.testing.assert_allclose(traj["C"], bateman_exact(traj.t, 200.0), rtol=1e-6, atol=1e-13)


@pytest.mark.parametrize("route", ["iv_bolus", "oral", "iv_infusion"])
def test_repeated_doses_superpose(route):
    model = one_comp(route=route, dose=50.0, n_doses=5, interval=12.0, infusion_duration=2.0, t_end=96.0, n_points=961)
    traj = model.simulate(**TIGHT)
    t = traj.t
    expected = np.zeros_like(t)
    for j in range(5):
        if route == "iv_bolus":
            expected += bolus_exact(t, 50.0, 12.0 * j)
        elif route == "oral":
            expected += bateman_exact(t, 50.0, 12.0 * j)
        else:
            expected += infusion_exact(t, 25.0, 2.0, 12.0 * j)
    np.testing.assert_allclose(traj["C"], expected, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("route", ["iv_bolus", "oral", "iv_infusion"])
@pytest.mark.parametrize("model_cls", [wb.OneCompartment, wb.TwoCompartment])
def test_mass_balance(model_cls, route):
    model = model_cls(route=route, dose=80.0, n_doses=3, interval=8.0, infusion_duration=3.0, t_end=40.0)
    traj = model.simulate(**TIGHT)
    given = np.zeros_like(traj.t)
    for j in range(3):
        start = 8.0 * j
        if route == "iv_infusion":
            given += 80.0 * np.clip((traj.t - start) / 3.0, 0.0, 1.0)
        else:
            given += np.where(traj.t >= start, 80.0 * (model.F if route == "oral" else 1.0), 0.0)
    volume = model.V if model_cls is wb.OneCompartment else model.V1
    in_body = traj["A_depot"] + volume * traj["C"] + traj["A_elim"]
    if model_cls is wb.TwoCompartment:
        in_body = in_body + model.V2 * traj["C_periph"]
    np.testing.assert_allclose(in_body, given, rtol=1e-9, atol=1e-9)


def test_two_compartment_bolus_is_biexponential():
    cl, v1, q, v2, dose = 5.0, 20.0, 10.0, 50.0, 100.0
    model = wb.TwoCompartment(CL=cl, V1=v1, Q=q, V2=v2, dose=dose, t_end=72.0)
    traj = model.simulate(**TIGHT)
    k10, k12, k21 = cl / v1, q / v1, q / v2
    s = k10 + k12 + k21
    alpha = (s + math.sqrt(s * s - 4 * k10 * k21)) / 2
    beta = (s - math.sqrt(s * s - 4 * k10 * k21)) / 2
    a = dose / v1 * (alpha - k21) / (alpha - beta)
    b = dose / v1 * (k21 - beta) / (alpha - beta)
    np.testing.assert_allclose(traj["C"], a * np.exp(-alpha * traj.t) + b * np.exp(-beta * traj.t), rtol=1e-6)


def test_emax_effect_and_effect_compartment():
    model = one_comp(route="iv_bolus", dose=100.0, E0=5.0, Emax=80.0, EC50=0.7, hill=2.0, t_end=48.0)
    traj = model.simulate(**TIGHT)
    c = traj["C"]
    np.testing.assert_allclose(traj["E"], 5.0 + 80.0 * c**2 / (0.7**2 + c**2), rtol=1e-12)
    # effect site after a bolus: Ce = D/V ke0/(ke0 - k) (e^{-kt} - e^{-ke0 t})
    ke0 = 0.3
    delayed = one_comp(route="iv_bolus", dose=100.0, effect_compartment=True, ke0=ke0, t_end=48.0).simulate(**TIGHT)
    ce = 100.0 / V * ke0 / (ke0 - K) * (np.exp(-K * delayed.t) - np.exp(-ke0 * delayed.t))
    np.testing.assert_allclose(delayed["Ce"], ce, rtol=1e-6, atol=1e-13)
    np.testing.assert_allclose(delayed["C"], traj["C"], rtol=1e-9)  # the effect site takes no drug
    assert np.argmax(delayed["E"]) > np.argmax(traj["E"])  # hysteresis: the effect lags


# --- PBPK ------------------------------------------------------------------------------------


def pbpk_amounts(model, traj):
    blood = model.V_venous * traj["C_venous"] + model.V_arterial * traj["C_arterial"] + model.V_lung * traj["C_lung"]
    organs = sum(model.organ_amounts(traj).values())
    return blood + organs + traj["A_depot"] + traj["A_hepatic"] + traj["A_renal"]


@pytest.mark.parametrize("limited", [[], ["liver", "kidney", "muscle", "adipose", "rest"], ["muscle"]])
@pytest.mark.parametrize("route", ["iv_bolus", "oral"])
def test_pbpk_mass_balance(limited, route):
    model = wb.PBPK(permeability_limited=limited, route=route, dose=100.0, t_end=24.0)
    traj = model.simulate(**TIGHT)
    given = 100.0 * (model.F if route == "oral" else 1.0)
    np.testing.assert_allclose(pbpk_amounts(model, traj), given, rtol=1e-9)
    assert traj["A_hepatic"][-1] > 0 and traj["A_renal"][-1] > 0


def _max_relative_difference(a, b):
    mask = np.abs(b) > 1e-3 * np.abs(b).max()
    return float(np.max(np.abs(a[mask] - b[mask]) / np.abs(b[mask])))


def test_permeability_limited_tends_to_flow_limited_when_ps_dominates_q():
    organs = ["liver", "kidney", "muscle", "adipose", "rest"]
    flow = wb.PBPK(dose=100.0, t_end=24.0)
    reference = flow.simulate(**TIGHT)
    differences = []
    for ps in (1e4, 1e5, 1e6):
        model = wb.PBPK(dose=100.0, t_end=24.0, permeability_limited=organs, **{f"PS_{o}": ps for o in organs})
        traj = model.simulate(**TIGHT)
        differences.append(
            max(
                _max_relative_difference(traj[name], reference[name])
                for name in ["C_venous", *[f"C_{o}" for o in organs]]
            )
        )
    # the difference is a singular perturbation of order Q / PS: it falls tenfold per decade of PS
    assert differences[2] < 1e-3
    for coarse, fine in itertools.pairwise(differences):
        assert 5.0 < coarse / fine < 20.0


def test_permeability_limited_differs_when_ps_is_small():
    flow = wb.PBPK(dose=100.0, t_end=24.0).simulate(**TIGHT)
    slow = wb.PBPK(dose=100.0, t_end=24.0, permeability_limited=["muscle"], PS_muscle=0.5).simulate(**TIGHT)
    # muscle fills far more slowly through a membrane with PS << Q
    early = slice(1, 40)
    assert np.all(slow["C_muscle"][early] < 0.5 * flow["C_muscle"][early])


# --- NCA --------------------------------------------------------------------------------------


def test_nca_of_exponential_decline_is_exact():
    t = np.linspace(0, 48, 49)
    c = 2.5 * np.exp(-0.1 * t)
    result = wb.nca(t, c, dose=100.0)
    assert result.cmax == 2.5 and result.tmax == 0.0
    assert result.lambda_z == pytest.approx(0.1, rel=1e-12)
    assert result.t_half == pytest.approx(math.log(2) / 0.1, rel=1e-12)
    # log-down trapezoids integrate an exponential exactly
    assert result.auc_0_t == pytest.approx(25.0 * (1 - math.exp(-4.8)), rel=1e-12)
    assert result.auc_0_inf == pytest.approx(25.0, rel=1e-12)
    assert result.cl == pytest.approx(4.0, rel=1e-12)
    assert result.vz == pytest.approx(40.0, rel=1e-12)
    assert result.r2_adjusted == pytest.approx(1.0)


def test_nca_recovers_oral_clearance_and_half_life():
    model = one_comp(route="oral", dose=100.0, t_end=72.0, n_points=1441)
    traj = model.simulate(**TIGHT)
    result = wb.nca(traj, "C", dose=model.F * 100.0)
    assert result.tmax == pytest.approx(math.log(KA / K) / (KA - K), abs=0.05)
    # linear-up trapezoids over the absorption phase cost O(dt^2): here about 1e-5
    assert result.cl == pytest.approx(CL, rel=1e-4)
    # The adjusted-R² rule (best within 1e-4) may reach back into the absorption phase,
    # whose residual curvature biases lambda_z slightly; the last 10 h are pure elimination.
    assert result.t_half == pytest.approx(math.log(2) / K, rel=1e-2)
    late = wb.nca(traj, "C", dose=model.F * 100.0, terminal_points=201)
    assert late.t_half == pytest.approx(math.log(2) / K, rel=1e-8)


def test_nca_terminal_phase_skips_the_distribution_phase():
    t = np.linspace(0, 48, 97)
    c = 10 * np.exp(-1.5 * t) + 1 * np.exp(-0.05 * t)
    result = wb.nca(t, c)
    # the adjusted-R² rule keeps points where 10 e^{-1.5 t} is a few parts per million
    assert result.lambda_z == pytest.approx(0.05, rel=1e-2)
    assert result.n_terminal < 97 - 4
    assert wb.nca(t, c, terminal_points=40).lambda_z == pytest.approx(0.05, rel=1e-9)
    assert math.isnan(result.cl)  # no dose given


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([0, 1, 2], [1, 2]), "equal length"),
        (([0, 1, 1], [1, 2, 3]), "strictly increasing"),
        (([0, 1, 2], [1, np.nan, 3]), "finite"),
    ],
)
def test_nca_bad_input(args, message):
    with pytest.raises(wb.ModelError, match=message):
        wb.nca(*args)


def test_emax_effect_matches_the_sigmoid_and_stays_finite_for_steep_hill_coefficients():
    model = wb.OneCompartment(E0=5.0, Emax=80.0, EC50=2.0, hill=3.0)
    c = np.array([0.0, 0.5, 2.0, 7.0, 1e3])
    np.testing.assert_allclose(model.effect(c), 5.0 + 80.0 * c**3 / (2.0**3 + c**3), rtol=1e-14)
    steep = wb.OneCompartment(E0=5.0, Emax=80.0, EC50=2.0, hill=5000.0)  # 2^5000 overflows
    c = np.array([1.99, 2.0, 2.01])
    # 1 / (1 + (EC50 / C)^h): the ratio's power is e^+-25 here, well inside float range
    expected = 5.0 + 80.0 / (1.0 + np.exp(5000.0 * np.log(2.0 / c)))
    np.testing.assert_allclose(steep.effect(c), expected, rtol=1e-12)
    assert steep.effect(np.array([0.0]))[0] == 5.0 and steep.effect(np.array([1e3]))[0] == 85.0
