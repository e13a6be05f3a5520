"""One interface over the two PDE problems, as the cascade, the data generator and the bench use it.

A `Physics` is built from one input of a problem's split (a plain dict the
inputs module returns, naming its `physics`). It turns a design (what the
sandbox returned) into an admissible array, solves designs exactly on the fine
grid or cheaply on a coarse one, maps a solution onto the surrogate's grid, and
scores solutions the way the spec's `@run` does, so surrogate, coarse and exact
estimates are computed by one path and compared like for like.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from evoforge.surrogates import burgers, heat


class Physics(Protocol):
    name: str
    dims: int
    design_shape: tuple[int, ...]
    settings: dict[str, Any]

    def admissible(self, data: Any) -> np.ndarray: ...

    def solve(self, designs: np.ndarray, coarse: bool = False) -> np.ndarray: ...

    def scores(self, designs: np.ndarray, solutions: np.ndarray) -> np.ndarray: ...

    def random_designs(self, rng: np.random.Generator, count: int, shifted: bool = False) -> np.ndarray: ...


@dataclass
class BurgersPhysics:
    """Designs: u0 on the design grid; solutions: u at the horizon, observed on the design grid."""

    setting: burgers.BurgersSetting
    target: np.ndarray
    coarse_grid: int = 256
    name: str = "burgers"
    dims: int = 1

    @property
    def design_shape(self) -> tuple[int, ...]:
        return (self.setting.design_grid,)

    @property
    def settings(self) -> dict[str, Any]:
        return {"physics": self.name, **self.setting.to_json(), "coarse_grid": self.coarse_grid}

    def admissible(self, data: Any) -> np.ndarray:
        values = np.asarray(data, dtype=float)
        if values.shape != self.design_shape:
            raise ValueError(f"design of shape {values.shape}, expected {self.design_shape}")
        return burgers.design_field(values, self.setting.band)

    def solve(self, designs: np.ndarray, coarse: bool = False) -> np.ndarray:
        grid = self.coarse_grid if coarse else self.setting.grid
        return burgers.observed(burgers.solve(designs, self.setting, grid), self.setting)

    def scores(self, designs: np.ndarray, solutions: np.ndarray) -> np.ndarray:
        return np.atleast_1d(burgers.misfit(solutions, self.target))

    def random_designs(self, rng: np.random.Generator, count: int, shifted: bool = False) -> np.ndarray:
        """Random spectra over modes 1..band: decaying (training) or rising with k (shifted)."""
        k = np.arange(1, self.setting.band + 1)
        x = burgers.grid_points(self.setting.design_grid)
        out = np.empty((count, self.setting.design_grid))
        for i in range(count):
            slope = rng.uniform(-1.0, 0.0) if shifted else rng.uniform(0.5, 2.5)
            keep = rng.random(k.size) < (1.0 if shifted else rng.uniform(0.3, 1.0))
            keep[rng.integers(k.size)] = True
            amplitude = k**-slope * rng.normal(size=k.size) * keep
            phase = rng.uniform(0, 2 * np.pi, size=k.size)
            raw = (amplitude[:, None] * np.sin(k[:, None] * x + phase[:, None])).sum(axis=0)
            out[i] = burgers.design_field(raw, self.setting.band)
        return out


@dataclass
class HeatPhysics:
    """Designs: densities on the design grid; solutions: fine temperature max-pooled onto it."""

    setting: heat.HeatSetting
    name: str = "heat"
    dims: int = 2

    @property
    def design_shape(self) -> tuple[int, ...]:
        return (self.setting.design_grid, self.setting.design_grid)

    @property
    def settings(self) -> dict[str, Any]:
        return {"physics": self.name, **self.setting.to_json(), "coarse_grid": self.setting.design_grid}

    def admissible(self, data: Any) -> np.ndarray:
        values = np.asarray(data, dtype=float)
        if values.shape != self.design_shape:
            raise ValueError(f"layout of shape {values.shape}, expected {self.design_shape}")
        return heat.design_field(values, self.setting.volume)

    def solve(self, designs: np.ndarray, coarse: bool = False) -> np.ndarray:
        grid = self.setting.design_grid if coarse else self.setting.grid
        cells = self.setting.design_grid
        layouts = np.asarray(designs).reshape(-1, cells, cells)
        return np.stack([heat.pooled(heat.solve(d, self.setting, grid), cells) for d in layouts])

    def scores(self, designs: np.ndarray, solutions: np.ndarray) -> np.ndarray:
        return np.max(solutions, axis=(-2, -1)).reshape(-1)

    def random_designs(self, rng: np.random.Generator, count: int, shifted: bool = False) -> np.ndarray:
        """Solid layouts, half blobs and half bars (training), or smooth grey densities (shifted)."""
        n = self.setting.design_grid
        return np.stack([heat.design_field(_layout(rng, n, shifted), self.setting.volume)
                         for _ in range(count)])


def _layout(rng: np.random.Generator, n: int, shifted: bool) -> np.ndarray:
    centres = (np.arange(n) + 0.5) / n
    x, y = np.meshgrid(centres, centres, indexing="xy")
    if not shifted and rng.random() < 0.5:
        field = np.zeros((n, n))
        for _ in range(rng.integers(1, 7)):
            x0, y0, angle = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0, np.pi)
            distance = np.abs((x - x0) * np.sin(angle) - (y - y0) * np.cos(angle))
            reach = np.hypot(x - x0, y - y0) < rng.uniform(0.1, 1.0)
            field = np.maximum(field, ((distance < rng.uniform(0.015, 0.07)) & reach).astype(float))
        return field
    field = np.zeros((n, n))
    for _ in range(6):
        fx, fy = rng.integers(0, 4, size=2)
        field += rng.normal() * np.cos(np.pi * fx * x + rng.uniform(0, 6.3)) * np.cos(np.pi * fy * y)
    field += rng.uniform(0, 3) * np.exp(-((x - 0.5) ** 2) / 0.01 - y / rng.uniform(0.2, 2.0))
    if shifted:
        return rng.uniform(0.3, 1.0) * (field - field.min()) / (np.ptp(field) + 1e-12)
    return (field > np.quantile(field, 1 - rng.uniform(0.08, 0.2))).astype(float) * rng.uniform(0.6, 1.0)


def physics_for(value: dict[str, Any]) -> Physics:
    """The physics an input of a surrogate-backed problem describes."""
    kind = value.get("physics")
    if kind == "burgers":
        return BurgersPhysics(burgers.BurgersSetting(**value["setting"]), np.asarray(value["target"]),
                              coarse_grid=int(value.get("coarse_grid", 256)))
    if kind == "heat":
        return HeatPhysics(heat.HeatSetting(**value["setting"]))
    raise ValueError(f"input names physics {kind!r}; a surrogate-backed problem needs 'burgers' or 'heat'")
