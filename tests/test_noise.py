"""Noise analyses and gene-expression models: LNA, propagation, tissue averaging, total variance,
steady states, bimodality and switching."""

import math

import numpy as np
import pytest
from stats import Z, se_mean, se_variance

import workbench as wb
from workbench.analysis import (
    cells_for_precision,
    conservation_laws,
    count_modes,
    propagate,
    tissue_variance,
    total_variance,
)

# --- linear noise approximation ----------------------------------------------------------------


def test_lna_birth_death_is_poisson():
    result = wb.lna(wb.BirthDeath(k=7.0, gamma=0.5))
    assert result.mean[0] == pytest.approx(14.0)
    assert result.fano[0] == pytest.approx(1.0, rel=1e-12)


def test_lna_two_stage_fano_formula():
    for km, gm, kp, gp in [(10, 1, 5, 0.1), (3, 0.2, 40, 1.5), (50, 5, 1, 0.01)]:
        model = wb.TwoStageExpression(km=km, gm=gm, kp=kp, gp=gp)
        result = wb.lna(model)
        assert result.fano[1] == pytest.approx(1 + kp / (gm + gp), rel=1e-10)
        assert result.mean[1] == pytest.approx(km * kp / (gm * gp), rel=1e-10)


def test_lna_handles_conservation_laws_exactly_for_binding():
    # N receptors bind a constant ligand independently: LR ~ Binomial(N, occupancy)
    n_receptors = 40.0
    model = wb.ReceptorBinding(kon=0.2, koff=0.1, L=1.5, R_total=n_receptors)
    occ = model.occupancy(1.5)
    laws = conservation_laws(model.network())
    assert laws.shape[0] == 2  # the constant ligand and R + LR
    result = wb.lna(model)
    i = result.species.index("LR")
    assert result.mean[i] == pytest.approx(n_receptors * occ, rel=1e-10)
    assert result.variance[i] == pytest.approx(n_receptors * occ * (1 - occ), rel=1e-10)
    j = result.species.index("R")
    assert result.covariance[i, j] == pytest.approx(-result.variance[i], rel=1e-10)


def test_time_dependent_lna_follows_the_ensemble():
    model = wb.TwoStageExpression(km=10.0, gm=1.0, kp=4.0, gp=0.3)
    t = np.array([0.0, 1.0, 3.0, 10.0, 30.0])
    traj = wb.lna_trajectory(model, t)
    ens = model.ssa(6000, t=t, seed=31)
    for k in range(1, t.size):
        for name in ("M", "P"):
            i = traj.species.index(name)
            x = ens[name][:, k]
            assert abs(x.mean() - traj.mean[k, i]) < Z * se_mean(x)
            assert abs(x.var(ddof=1) - traj.covariance[k, i, i]) < Z * se_variance(x)
    assert traj.fano("P")[-1] == pytest.approx(wb.lna(model).fano[1], rel=1e-3)


# --- propagation, tissue averaging, total variance -------------------------------------------


def test_noise_propagated_to_a_phenotype_matches_the_ensemble():
    model = wb.TwoStageExpression(km=20.0, gm=1.0, kp=5.0, gp=0.2)
    lna = wb.lna(model)
    mean_p, var_p = lna["P"]
    k, h = 400.0, 2.0

    def g(p):
        return p**h / (k**h + p**h)

    y_mean, y_var = propagate(g, mean_p, var_p)
    ens = model.ssa(6000, t=[0.0, 60.0], seed=41)
    y = g(ens["P"][:, -1])
    # first-order error bound for a near-Gaussian P: Var g(P) - g'^2 var = g''^2 var^2 / 2
    eps = 1e-3 * mean_p
    g2 = (g(mean_p + eps) - 2 * g(mean_p) + g(mean_p - eps)) / eps**2
    assert abs(y.var(ddof=1) - y_var) < Z * se_variance(y) + 0.5 * g2**2 * var_p**2
    assert abs(y.mean() - y_mean) < Z * se_mean(y) + 0.5 * abs(g2) * var_p


def test_tissue_average_variance_falls_as_one_over_n():
    model = wb.TwoStageExpression()
    ens = model.ssa(8000, t=[0.0, 80.0], seed=51)
    p = ens["P"][:, -1]
    for n_cells in (10, 40):
        tissue_means = p.reshape(-1, n_cells).mean(axis=1)
        predicted = tissue_variance(p.var(ddof=1), n_cells)
        # variance of m normal-ish group means: relative standard error sqrt(2 / (m - 1))
        m = tissue_means.size
        assert abs(tissue_means.var(ddof=1) - predicted) < Z * predicted * math.sqrt(2 / (m - 1))


def test_cells_for_precision_is_the_smallest_sufficient_tissue():
    mean, var, eps = 500.0, 2800.0, 0.01
    n = cells_for_precision(mean, var, eps)
    assert math.sqrt(var / n) / mean <= eps
    assert math.sqrt(var / (n - 1)) / mean > eps
    with pytest.raises(wb.ModelError, match="epsilon must be positive"):
        cells_for_precision(mean, var, 0.0)


def test_law_of_total_variance_predicts_a_heterogeneous_population():
    # transcription rate varies between cells (log-normal): aleatory plus epistemic variance
    rng = np.random.default_rng(7)
    draws = rng.lognormal(math.log(10.0), 0.3, size=400)
    base = wb.TwoStageExpression(gp=0.5)
    means, variances, samples = [], [], []
    for i, km in enumerate(draws):
        model = base.copy(km=float(km))
        lna = wb.lna(model)
        means.append(lna.mean[1])
        variances.append(lna.variance[1])
        samples.append(model.ssa(10, t=[0.0, 30.0], seed=1000 + i)["P"][:, -1])
    parts = total_variance(means, variances)
    pooled = np.concatenate(samples)
    assert parts.epistemic_fraction > 0.3  # a real mixture of both kinds
    assert abs(pooled.var(ddof=1) - parts.total) < Z * se_variance(pooled)
    assert parts.total == pytest.approx(parts.aleatory + parts.epistemic)


def test_total_variance_rejects_bad_input():
    with pytest.raises(wb.ModelError, match="at least two"):
        total_variance([1.0], [1.0])
    with pytest.raises(wb.ModelError, match="non-negative"):
        total_variance([1.0, 2.0], [1.0, -1.0])


# --- steady states -----------------------------------------------------------------------------


def test_auto_activation_has_two_stable_states_and_an_unstable_one():
    model = wb.AutoActivation()
    low = wb.steady_state(model, guess={"X": 1.0})
    middle = wb.steady_state(model, guess={"X": 16.0})
    high = wb.steady_state(model, guess={"X": 45.0})
    for state in (low, middle, high):
        x = state["X"]
        assert 4.0 + 40.0 * x**4 / (20.0**4 + x**4) - x == pytest.approx(0.0, abs=1e-9)
    assert low.stable and high.stable and not middle.stable
    assert low["X"] < middle["X"] < high["X"]


def test_closed_binding_system_steady_state_respects_conservation():
    model = wb.ReceptorBinding(ligand_depletion=True, L=0.5, R_total=1.0)
    state = wb.steady_state(model)
    assert state["L"] + state["LR"] == pytest.approx(0.5, rel=1e-10)
    assert state["R"] + state["LR"] == pytest.approx(1.0, rel=1e-10)
    assert state.stable
    assert state.eigenvalues.size == 1  # three species, two conservation laws


def test_no_steady_state_is_reported():
    net = wb.ReactionNetwork(species={"X": 1.0}, parameters={"k": 1.0}, reactions=[("-> X", "k")])
    with pytest.raises(wb.SolverError, match="no steady state"):
        wb.steady_state(net)


# --- gene-expression models ------------------------------------------------------------------


def test_telegraph_mean_and_bimodality():
    slow = wb.TelegraphExpression(kon=0.1, koff=0.1, km=50.0, gm=1.0)
    ens = slow.ssa(6000, seed=61, n_points=3)
    m = ens["M"][:, -1]
    assert abs(m.mean() - slow.mean_mrna) < Z * se_mean(m)
    assert count_modes(*ens.histogram("M", slow.t_end)) == 2
    fast = slow.copy(kon=10.0, koff=10.0)
    assert count_modes(*fast.ssa(6000, seed=62, n_points=3).histogram("M", slow.t_end)) == 1


def test_telegraph_with_translation_adds_protein():
    model = wb.TelegraphExpression(translation=True)
    assert "P" in model.network().species
    assert model.simulate()["P"][-1] > 0


def test_auto_activation_switches_between_its_states_in_the_ssa():
    model = wb.AutoActivation(t_end=5000.0, n_points=5001)
    x = model.ssa(1, seed=3)["X"][0]
    state = np.where(x < 16.35, 0, 1)
    # count switches with hysteresis: into the other basin past its stable point's half-way mark
    switches = 0
    current = 0
    for value in x:
        if current == 0 and value > 30:
            current, switches = 1, switches + 1
        elif current == 1 and value < 8:
            current, switches = 0, switches + 1
    assert switches >= 4
    assert 0.05 < state.mean() < 0.95  # both states occupied for a good share of the time
