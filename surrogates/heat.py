"""2D steady heat conduction with a designed conductivity: the exact scorer of `heat_spreader`.

-∇·(k ∇T) = f on the unit square, cell-centred finite volumes on an n × n
grid: face conductivities are harmonic means of the two cells, the boundary is
adiabatic except a heat sink (T = 0) on the middle of the bottom edge, where
the half-cell flux uses the boundary cell's own conductivity. The sparse system
(5-point, symmetric positive definite) is solved directly with scipy.sparse.
A design lives on a coarse cell grid and is refined by repeating each cell,
so the same piecewise-constant layout can be solved on any multiple of its grid.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla


@dataclass(frozen=True)
class HeatSetting:
    """One heat-spreader problem: materials, budget, sink, grids and the source."""

    k_low: float = 1.0
    k_high: float = 100.0
    volume: float = 0.15
    penalty: float = 3.0
    sink_width: float = 0.25
    design_grid: int = 32
    grid: int = 128
    source: str = "uniform"

    def to_json(self) -> dict[str, float | int | str]:
        return asdict(self)


def design_field(raw: np.ndarray, volume: float) -> np.ndarray:
    """A layout made admissible: densities clipped to [0, 1], scaled down to the volume budget."""
    values = np.asarray(raw, dtype=float)
    if values.ndim != 2 or values.shape[0] != values.shape[1] or not np.all(np.isfinite(values)):
        raise ValueError("the layout must be a square 2-D array of finite numbers")
    density = np.clip(values, 0.0, 1.0)
    used = float(density.mean())
    return density * (volume / used) if used > volume else density


def conductivity(density: np.ndarray, setting: HeatSetting) -> np.ndarray:
    """SIMP interpolation: k_low + (k_high - k_low) ρ^p, so half-dense material is a poor conductor
    and the best layouts are made of solid paths rather than a thin uniform smear."""
    return setting.k_low + (setting.k_high - setting.k_low) * density**setting.penalty


def refine(cells: np.ndarray, n: int) -> np.ndarray:
    """A piecewise-constant cell field repeated onto an n × n grid (n a multiple of its size)."""
    factor = n // cells.shape[-1]
    if factor * cells.shape[-1] != n:
        raise ValueError(f"grid {n} is not a multiple of the design grid {cells.shape[-1]}")
    return np.repeat(np.repeat(cells, factor, axis=-2), factor, axis=-1)


def source_field(kind: str, n: int) -> np.ndarray:
    """Heat generated per unit area: uniform (training) or two hot spots on a floor (held out)."""
    centres = (np.arange(n) + 0.5) / n
    x, y = np.meshgrid(centres, centres, indexing="xy")
    if kind == "uniform":
        return np.ones((n, n))
    if kind == "hotspots":
        spots = np.exp(-((x - 0.25) ** 2 + (y - 0.75) ** 2) / 0.02) + np.exp(
            -((x - 0.8) ** 2 + (y - 0.6) ** 2) / 0.02)
        field = 0.3 + spots
        return field / field.mean()
    raise ValueError(f"unknown source {kind!r}; use 'uniform' or 'hotspots'")


def solve(density: np.ndarray, setting: HeatSetting, grid: int | None = None) -> np.ndarray:
    """The temperature (n × n, row 0 at the bottom) of one design on `grid` (default setting.grid)."""
    n = grid or setting.grid
    k = conductivity(refine(np.asarray(density, dtype=float), n), setting)
    h = 1.0 / n
    index = np.arange(n * n).reshape(n, n)
    rows, cols, vals = [], [], []
    diagonal = np.zeros((n, n))
    for axis in (0, 1):
        a, b = _face_pairs(index, axis)
        ka, kb = _face_pairs(k, axis)
        face = 2 * ka * kb / (ka + kb)
        rows += [a.ravel(), b.ravel()]
        cols += [b.ravel(), a.ravel()]
        vals += [-face.ravel(), -face.ravel()]
        np.add.at(diagonal, _face_slices(axis, n, 0), face)
        np.add.at(diagonal, _face_slices(axis, n, 1), face)
    sink = _sink_cells(n, setting.sink_width)
    diagonal[0, sink] += 2 * k[0, sink]  # T = 0 half a cell below the bottom row
    rows.append(index.ravel())
    cols.append(index.ravel())
    vals.append(diagonal.ravel())
    matrix = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                           shape=(n * n, n * n))
    rhs = source_field(setting.source, n).ravel() * h * h
    return spla.spsolve(matrix, rhs).reshape(n, n)


def _face_pairs(values: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    if axis == 0:
        return values[:-1, :], values[1:, :]
    return values[:, :-1], values[:, 1:]


def _face_slices(axis: int, n: int, side: int) -> tuple[slice, slice]:
    low, high = slice(0, n - 1), slice(1, n)
    part = low if side == 0 else high
    return (part, slice(None)) if axis == 0 else (slice(None), part)


def _sink_cells(n: int, width: float) -> slice:
    half = max(1, round(width * n / 2))
    return slice(n // 2 - half, n // 2 + half)


def peak_temperature(temperature: np.ndarray) -> float:
    return float(np.max(temperature))


def score_design(density: np.ndarray, setting: HeatSetting, grid: int | None = None) -> float:
    """The exact score of one admissible layout: its peak temperature (lower is better)."""
    return peak_temperature(solve(density, setting, grid))


def pooled(temperature: np.ndarray, cells: int) -> np.ndarray:
    """The fine temperature max-pooled onto the design grid: its maximum is the exact peak."""
    n = temperature.shape[-1]
    f = n // cells
    shaped = temperature.reshape(*temperature.shape[:-2], cells, f, cells, f)
    return shaped.max(axis=(-3, -1))
