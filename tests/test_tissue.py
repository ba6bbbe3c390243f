"""Hybrid tissue: field solver against closed forms, mass balance, homogenization, mechanics."""

import math

import numpy as np
import pytest

import workbench as wb
from workbench.analysis import compare_to_continuum, effective_diffusivity, strip_mechanics
from workbench.errors import ModelError


def empty_tissue(**kwargs):
    """A tissue with no cells and no-flux sides: just diffusion (and decay)."""
    settings = dict(n_cells=0, decay=0.0, left="no_flux", right="no_flux", bottom="no_flux", top="no_flux")
    settings.update(kwargs)
    return wb.HybridTissue(**settings)


def gaussian_error(nx):
    d, sigma0, t = 600.0, 60.0, 2.0
    model = empty_tissue(width=1000.0, height=1000.0, nx=nx, D=d, dt=0.05)
    x = (np.arange(nx) + 0.5) * model.h
    r2 = (x[:, None] - 500.0) ** 2 + (x[None, :] - 500.0) ** 2
    initial = np.exp(-r2 / (2 * sigma0**2))
    result = model.simulate(t_end=t, n_points=2, initial_field=initial)
    sigma2 = sigma0**2 + 2 * d * t
    exact = sigma0**2 / sigma2 * np.exp(-r2 / (2 * sigma2))
    return float(np.max(np.abs(result.fields[-1] - exact)) / exact.max())


def test_diffusion_of_a_gaussian_spreads_as_the_analytic_solution():
    coarse, fine = gaussian_error(100), gaussian_error(200)
    assert fine < 2e-3
    assert 3.0 < coarse / fine < 5.0  # second order in space (the time error is far smaller)


def test_steady_state_with_decay_is_the_exponential_profile():
    d, k, c_b, length = 600.0, 0.01, 10.0, 1000.0
    lam = math.sqrt(d / k)
    errors = []
    for nx in (50, 100):
        model = empty_tissue(
            width=length, height=100.0, nx=nx, D=d, decay=k, left="dirichlet", boundary_value=c_b, dt=20.0
        )
        result = model.simulate(t_end=4000.0, n_points=2)
        x = result.x
        # no flux at x = L: c = c_b cosh((L - x) / lambda) / cosh(L / lambda), with lambda = sqrt(D/k)
        exact = c_b * np.cosh((length - x) / lam) / np.cosh(length / lam)
        profile = result.fields[-1].mean(axis=1)
        errors.append(np.max(np.abs(profile - exact)) / c_b)
        assert np.allclose(result.fields[-1], profile[:, None], rtol=1e-9)  # uniform in y
    assert errors[1] < 1e-3
    assert 3.0 < errors[0] / errors[1] < 5.0


def test_mass_balance_of_the_full_hybrid_model_over_a_long_run():
    model = wb.HybridTissue(
        nx=60,
        n_cells=800,
        left="dirichlet",
        top="dirichlet",
        boundary_value=5.0,
        vessel_rate=2e4,
        vessel_x=700.0,
        chemotaxis=50.0,
        proliferation=True,
        division_threshold=0.02,
        death_threshold=0.01,
        receptors=5000.0,
        t_end=2000.0,
        dt=2.0,
        seed=3,
    )
    result = model.simulate()
    s = result.summary
    assert result.mass_balance_error() < 1e-12
    assert s["taken_up"][-1] > 0.05 * s["supplied"][-1]  # cells matter
    assert s["out"][-1] > 0  # some ligand leaves through the Dirichlet sides
    assert s["cell_count"].min() != s["cell_count"].max()  # cells divided or died


def test_hybrid_converges_to_the_continuum_as_cells_get_dense_at_fixed_capacity():
    capacity = 5e5  # total Vmax of all cells (molecules/min)
    differences = []
    for n_cells in (100, 1000, 10000):
        model = wb.HybridTissue(
            nx=50, n_cells=n_cells, receptors=capacity / (0.05 * n_cells), motility=0.0, t_end=200.0, seed=1
        )
        report = compare_to_continuum(model)
        differences.append(report.field_difference)
        assert report.spacing_ratio == pytest.approx(model.cell_spacing / model.penetration_length)
    assert differences[0] > differences[1] > differences[2]
    assert differences[2] < 0.2 * differences[0]


@pytest.mark.parametrize(
    ("layers", "thicknesses"),
    [([1.0, 10.0], [1.0, 2.0]), ([3.0, 0.2, 5.0], [1.0, 1.0, 3.0])],
)
def test_effective_diffusivity_of_layers(layers, thicknesses):
    d = np.array(layers)
    t = np.array(thicknesses)
    harmonic = t.sum() / np.sum(t / d)
    arithmetic = np.sum(t * d) / t.sum()
    assert effective_diffusivity(layers, thicknesses, direction="perpendicular") == pytest.approx(harmonic, rel=1e-10)
    assert effective_diffusivity(layers, thicknesses, direction="parallel") == pytest.approx(arithmetic, rel=1e-10)


def test_strip_mechanics_against_closed_forms():
    n, length, alpha = 50, 2.0, 3.0
    x = (np.arange(n) + 0.5) * length / n
    signal = np.exp(-((x - 0.7) ** 2))
    stiffness = 10.0 + 5.0 * x
    free = strip_mechanics(signal, length, stiffness, alpha, bc="free")
    dx = length / n
    np.testing.assert_allclose(free.strain, -alpha * signal / stiffness, rtol=1e-10)
    assert free.stress == pytest.approx(0.0, abs=1e-10)
    assert free.shortening == pytest.approx(alpha * np.sum(signal / stiffness) * dx, rel=1e-10)
    fixed = strip_mechanics(signal, length, stiffness, alpha, bc="fixed")
    assert fixed.shortening == pytest.approx(0.0, abs=1e-12)
    assert fixed.stress == pytest.approx(alpha * np.sum(signal / stiffness) / np.sum(1 / stiffness), rel=1e-10)
    np.testing.assert_allclose(stiffness * fixed.strain + alpha * signal, fixed.stress, rtol=1e-9)


def test_uptake_constants_come_from_receptor_binding():
    model = wb.HybridTissue(kon=0.02, koff=0.3, kint=0.1, receptors=2000.0)
    assert model.Km == pytest.approx((0.3 + 0.1) / 0.02)
    assert model.Vmax == pytest.approx(0.1 * 2000.0)


def test_seed_reproduces_and_changes_a_run():
    model = wb.HybridTissue(
        nx=40, n_cells=300, t_end=50.0, n_points=3, seed=11, proliferation=True, division_threshold=0.0
    )
    a = model.simulate()
    b = model.simulate()
    c = model.copy(seed=12).simulate()
    np.testing.assert_array_equal(a.fields, b.fields)
    np.testing.assert_array_equal(a.agents[-1]["x"], b.agents[-1]["x"])
    assert not np.array_equal(a.agents[-1]["x"], c.agents[-1]["x"])
    table = a.agent_table()
    assert list(table.columns) == ["x", "y", "signal", "uptake"]


def test_bad_tissue_input():
    with pytest.raises(ValueError, match="D"):
        wb.HybridTissue(D=-1.0)
    with pytest.raises(ValueError, match="nx"):
        wb.HybridTissue(nx=1)
    with pytest.raises(wb.ModelError, match="at least 2 x 2"):
        wb.HybridTissue(width=1000.0, height=1.0, nx=10).simulate()
    with pytest.raises(wb.ModelError, match="outside the domain"):
        wb.HybridTissue().simulate(agents=(np.array([10.0, 2000.0]), np.array([10.0, 10.0])))
    with pytest.raises(wb.ModelError, match="stability limit"):
        wb.HybridTissue(scheme="explicit", dt=1.0).simulate()
    with pytest.raises(wb.ModelError, match="initial_field"):
        wb.HybridTissue(nx=10).simulate(initial_field=np.zeros((3, 3)))


def test_runs_too_long_or_grids_too_fine_are_refused_before_allocating():
    # found by fuzzing: t_end / dt of 5e17 steps, or a height 1e11 times the width, asked for
    # exabytes and died with MemoryError instead of a message
    with pytest.raises(ModelError, match="time steps; at most"):
        wb.HybridTissue(t_end=1e9, dt=1e-3, scheme="adi").simulate()
    with pytest.raises(ModelError, match="cells; at most"):
        wb.HybridTissue(width=1.0, height=1e6, nx=20).simulate()
