"""Tissue analyses: effective diffusivity of layered tissue, strip mechanics, homogenization.

Effective diffusivity
    Steady diffusion across a layered slab between two Dirichlet faces, solved with the same
    finite-volume operator as the field solver; the flux gives ``D_eff = J L / dc``. Layers
    across the flow give the harmonic mean of the layer diffusivities (weighted by thickness),
    layers along it the arithmetic mean.

Strip mechanics
    A 1-D strip whose total stress is ``sigma = E eps + alpha c(x)`` (passive elasticity plus
    active stress from a signal c) is at equilibrium when ``d sigma / dx = 0``. With both ends
    fixed the stress is ``alpha <c/E> / <1/E>`` and the strip keeps its length; with one end
    free ``sigma = 0``, ``eps = -alpha c / E`` and the strip shortens by ``alpha int c / E``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import diags
from scipy.sparse.linalg import spsolve

from ..core import tissue as kern
from ..errors import ModelError
from ..models.tissue import HybridTissue, TissueResult

__all__ = ["HomogenizationReport", "StripMechanics", "compare_to_continuum", "effective_diffusivity", "strip_mechanics"]


def _steady_field(diff: np.ndarray, h: float, bc: np.ndarray, bc_val: np.ndarray) -> np.ndarray:
    nx, ny = diff.shape
    inv_h2 = 1.0 / (h * h)
    cx = np.empty((4, nx, ny))
    cy = np.empty((4, nx, ny))
    kern.line_coefficients(diff, 0.0, inv_h2, bc, bc_val, 0, *cx)
    kern.line_coefficients(diff, 0.0, inv_h2, bc, bc_val, 1, *cy)
    n = nx * ny
    # unknown k = i * ny + j; x neighbours are ny apart, y neighbours 1 apart
    main = (cx[1] + cy[1]).ravel()
    upper_x = cx[2].ravel()[:-ny] if nx > 1 else np.zeros(0)
    lower_x = cx[0].ravel()[ny:]
    upper_y = cy[2].ravel()[:-1].copy()
    lower_y = cy[0].ravel()[1:].copy()
    # no coupling across the end of a y-line
    upper_y[np.arange(1, nx) * ny - 1] = 0.0
    lower_y[np.arange(1, nx) * ny - 1] = 0.0
    matrix = diags([main, upper_x, lower_x, upper_y, lower_y], [0, ny, -ny, 1, -1], shape=(n, n), format="csc")
    rhs = -(cx[3] + cy[3]).ravel()
    return spsolve(matrix, rhs).reshape(nx, ny)


def effective_diffusivity(
    diffusivities: Sequence[float],
    thicknesses: Sequence[float],
    *,
    direction: str = "perpendicular",
    cells_per_layer: int = 8,
    lateral_cells: int = 4,
) -> float:
    """Effective diffusivity of a stack of layers, computed by the field solver.

    Parameters
    ----------
    diffusivities, thicknesses : sequences
        Layer diffusivities and thicknesses (any consistent units).
    direction : {"perpendicular", "parallel"}
        Transport across the layers or along them.
    cells_per_layer : int
        Grid cells across the thinnest layer (every layer boundary falls on a cell face).
    lateral_cells : int
        Grid cells in the other direction (for the perpendicular case).
    """
    d = np.asarray(diffusivities, dtype=float)
    t = np.asarray(thicknesses, dtype=float)
    if d.ndim != 1 or d.shape != t.shape or d.size == 0:
        raise ModelError("give matching sequences of layer diffusivities and thicknesses")
    if np.any(d <= 0) or np.any(t <= 0) or not np.all(np.isfinite(d)) or not np.all(np.isfinite(t)):
        raise ModelError("layer diffusivities and thicknesses must be positive and finite")
    h = t.min() / cells_per_layer
    counts = np.round(t / h).astype(int)
    if not np.allclose(counts * h, t, rtol=1e-9):
        raise ModelError("layer thicknesses must be integer multiples of the thinnest layer / cells_per_layer")
    profile = np.repeat(d, counts)
    bc = np.array([kern.DIRICHLET, kern.DIRICHLET, kern.NO_FLUX, kern.NO_FLUX], dtype=np.int64)
    bc_val = np.array([1.0, 0.0, 0.0, 0.0])
    if direction == "perpendicular":
        diff = np.repeat(profile[:, None], lateral_cells, axis=1)  # layers stacked along x
    elif direction == "parallel":
        diff = np.repeat(profile[None, :], 2 * cells_per_layer, axis=0)  # layers stacked along y
    else:
        raise ModelError(f"direction must be 'perpendicular' or 'parallel', got {direction!r}")
    c = _steady_field(diff, h, bc, bc_val)
    # flux in through the left face (boundary half a cell from the centres), per unit face
    # length; D_eff = flux * L / (c_left - c_right) with c_left - c_right = 1
    inflow = np.sum(2.0 * diff[0, :] * (1.0 - c[0, :]) / h) * h
    face_length = diff.shape[1] * h
    slab_length = diff.shape[0] * h
    return float(inflow / face_length * slab_length)


@dataclass(frozen=True)
class StripMechanics:
    """Equilibrium of an active strip."""

    x_nodes: np.ndarray
    displacement: np.ndarray
    strain: np.ndarray
    stress: float
    shortening: float
    bc: str


def strip_mechanics(
    signal: Sequence[float], length: float, stiffness: float | Sequence[float], alpha: float, bc: str = "free"
) -> StripMechanics:
    """Equilibrium of a strip with total stress ``E eps + alpha c``.

    Finite elements, one per value of ``signal``.

    Parameters
    ----------
    signal : sequence of float
        The signal c in each of n equal elements along the strip.
    length : float
    stiffness : float or sequence of float
        Young's modulus E, uniform or per element.
    alpha : float
        Active stress per unit signal (positive contracts).
    bc : {"free", "fixed"}
        ``"free"``: x = 0 fixed, x = L free (the strip shortens); ``"fixed"``: both ends fixed.
    """
    c = np.asarray(signal, dtype=float)
    n = c.size
    if n < 1 or c.ndim != 1 or not np.all(np.isfinite(c)):
        raise ModelError("signal must be a non-empty 1-D sequence of finite values")
    e = np.broadcast_to(np.asarray(stiffness, dtype=float), (n,)).copy()
    if np.any(e <= 0):
        raise ModelError("stiffness must be positive")
    if not length > 0:
        raise ModelError("length must be positive")
    if bc not in ("free", "fixed"):
        raise ModelError(f"bc must be 'free' or 'fixed', got {bc!r}")
    dx = length / n
    k = e / dx
    # unknowns: displacements of nodes 1..n (node 0 is fixed); equilibrium at each node
    size = n if bc == "free" else n - 1
    if size == 0:
        u = np.zeros(n + 1)
    else:
        matrix = np.zeros((size, size))
        rhs = np.zeros(size)
        for node in range(1, size + 1):
            row = node - 1
            # element node-1 (left of the node) and element node (right of it), if present
            matrix[row, row] += k[node - 1]
            if row > 0:
                matrix[row, row - 1] -= k[node - 1]
            rhs[row] -= alpha * c[node - 1]
            if node < n:
                matrix[row, row] += k[node]
                if row + 1 < size:
                    matrix[row, row + 1] -= k[node]
                rhs[row] += alpha * c[node]
        u = np.concatenate([[0.0], np.linalg.solve(matrix, rhs), [] if bc == "free" else [0.0]])
    strain = np.diff(u) / dx
    stress = e * strain + alpha * c
    return StripMechanics(np.linspace(0.0, length, n + 1), u, strain, float(stress.mean()), float(-u[-1]), bc)


@dataclass(frozen=True)
class HomogenizationReport:
    """How well the homogenized continuum represents the agents."""

    field_difference: float  # relative L2 difference of the final fields
    cell_spacing: float  # mean distance between cells
    penetration_length: float  # sqrt(D / k_eff): the gradient length scale
    grid_spacing: float
    saturation: float  # mean c / (Km + c) seen by cells (uptake occupancy)

    @property
    def spacing_ratio(self) -> float:
        """Cell spacing over penetration length: homogenization needs it well below 1."""
        return self.cell_spacing / self.penetration_length


def compare_to_continuum(model: HybridTissue, hybrid: TissueResult | None = None) -> HomogenizationReport:
    """Run (or take) the hybrid simulation and its homogenized continuum and compare them."""
    hybrid = model.simulate() if hybrid is None else hybrid
    continuum = model.copy(mode="continuum").simulate()
    a = hybrid.fields[-1]
    b = continuum.fields[-1]
    difference = float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))
    last = hybrid.agents[-1]
    saturation = float(np.mean(last["uptake"]) / model.Vmax) if last["uptake"].size and model.Vmax > 0 else 0.0
    return HomogenizationReport(difference, model.cell_spacing, model.penetration_length, model.h, saturation)
