"""The exact scorers converge under refinement, so they can serve as ground truth."""

from __future__ import annotations

import numpy as np

from evoforge.surrogates import burgers, heat


def test_burgers_converges_in_space_and_time_and_obeys_its_energy_law() -> None:
    setting = burgers.BurgersSetting(horizon=1.5)
    x = burgers.grid_points(setting.design_grid)
    u0 = burgers.design_field(np.sin(x) + 0.5 * np.sin(3 * x + 1.0), setting.band)
    reference = burgers.solve(u0, setting, 4096)
    errors = [np.max(np.abs(burgers.solve(u0, setting, n) - reference[:: 4096 // n]))
              for n in (256, 512, 1024)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-3 < errors[0]  # the shock is resolved at the scoring grid, not below it
    finer_steps = burgers.solve(u0, burgers.BurgersSetting(horizon=1.5, cfl=0.1), 1024)
    assert np.max(np.abs(finer_steps - burgers.solve(u0, setting, 1024))) < 1e-5
    # viscosity only removes energy, and the mean (a conserved quantity) stays zero
    assert np.mean(reference**2) < np.mean(u0**2)
    assert abs(np.mean(reference)) < 1e-12


def test_burgers_batch_matches_single_solves() -> None:
    setting = burgers.BurgersSetting(horizon=0.5, grid=512)
    x = burgers.grid_points(setting.design_grid)
    designs = np.stack([burgers.design_field(np.sin(k * x + k), setting.band) for k in (1, 2, 5)])
    batch = burgers.solve(designs, setting)
    for design, solved in zip(designs, batch, strict=True):
        assert np.max(np.abs(burgers.solve(design, setting) - solved)) < 1e-6


def test_heat_peak_temperature_converges_at_first_order() -> None:
    setting = heat.HeatSetting()
    centres = (np.arange(32) + 0.5) / 32
    x, y = np.meshgrid(centres, centres, indexing="xy")
    layout = heat.design_field((np.abs(x - 0.5) < 0.08) | ((y > 0.6) & (y < 0.68)), setting.volume)
    peaks = [heat.score_design(layout, setting, n) for n in (32, 64, 128, 256)]
    steps = np.abs(np.diff(peaks))
    assert steps[0] > steps[1] > steps[2]
    assert 1.6 < steps[1] / steps[2] < 2.6  # first order: the sink's end points are singular
    assert steps[2] / peaks[-1] < 2e-3


def test_heat_solution_balances_the_heat_made_and_the_layout_budget() -> None:
    setting = heat.HeatSetting()
    layout = heat.design_field(np.ones((32, 32)), setting.volume)
    assert abs(layout.mean() - setting.volume) < 1e-12
    temperature = heat.solve(layout, setting, 64)
    assert temperature.min() > 0  # heat is made everywhere and leaves only through the sink
    # everything generated leaves through the sink: flux k T / (h/2) summed over the sink cells
    n, h = 64, 1 / 64
    k = heat.conductivity(heat.refine(layout, n), setting)
    sink = heat._sink_cells(n, setting.sink_width)
    outflow = np.sum(2 * k[0, sink] * temperature[0, sink])
    assert abs(outflow - heat.source_field("uniform", n).sum() * h * h) < 1e-9
