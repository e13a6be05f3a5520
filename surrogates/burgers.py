"""1D viscous Burgers, periodic on [0, 2π): the exact scorer of `burgers_control`.

The control task: find the initial state (modes 1..band, unit mean square)
whose evolution matches an observed state at the horizon; the score is the
relative misfit. (Maximising dissipation under an energy budget, the obvious
alternative, is won outright by the highest admissible mode: a search with
nothing to find.)

u_t + (u²/2)_x = ν u_xx, solved pseudo-spectrally: the nonlinear term is
dealiased by the 2/3 rule and time is stepped by fourth-order Runge-Kutta in
the integrating factor e^{νk²t}, so diffusion is exact and the step is set by
advection alone. The step is fixed per solve from the initial max |u|, which
bounds |u| for all time (Burgers' maximum principle), so a CFL number below
one holds throughout. A batch of initial conditions is solved at once
(vectorised over the first axis) with the batch's smallest step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

TWO_PI = 2.0 * np.pi


@dataclass(frozen=True)
class BurgersSetting:
    """One Burgers scoring problem: viscosity, horizon, grids and the design's band."""

    nu: float = 0.01
    horizon: float = 1.5
    grid: int = 1024
    design_grid: int = 256
    band: int = 8
    cfl: float = 0.4

    def to_json(self) -> dict[str, float | int]:
        return asdict(self)


def grid_points(n: int) -> np.ndarray:
    return np.arange(n) * (TWO_PI / n)


def design_field(raw: np.ndarray, band: int) -> np.ndarray:
    """A designed initial condition made admissible: modes 1..band only, unit mean square.

    The zero mode is dropped (the mean is conserved and never dissipates) and
    the energy budget is met by scaling, so every design spends the same energy.
    """
    values = np.asarray(raw, dtype=float)
    if values.ndim != 1 or not np.all(np.isfinite(values)):
        raise ValueError("the initial condition must be a 1-D array of finite numbers")
    spectrum = np.fft.rfft(values)
    spectrum[0] = 0.0
    spectrum[band + 1:] = 0.0
    field = np.fft.irfft(spectrum, n=values.size)
    energy = float(np.mean(field**2))
    if energy < 1e-12:
        raise ValueError(f"the initial condition has no energy in modes 1..{band}")
    return field / np.sqrt(energy)


def resample(fields: np.ndarray, n: int) -> np.ndarray:
    """Band-limited fields moved to n points by zero-padding or truncating their spectrum."""
    fields = np.atleast_2d(fields)
    spectrum = np.fft.rfft(fields, axis=-1)
    out = np.zeros((fields.shape[0], n // 2 + 1), dtype=complex)
    keep = min(spectrum.shape[-1], out.shape[-1] - 1)
    out[:, :keep] = spectrum[:, :keep]
    return np.fft.irfft(out, n=n, axis=-1) * (n / fields.shape[-1])


def solve(u0: np.ndarray, setting: BurgersSetting, grid: int | None = None) -> np.ndarray:
    """u at `setting.horizon` on `grid` points (default setting.grid), for one or a batch of u0."""
    n = grid or setting.grid
    single = np.ndim(u0) == 1
    u = resample(np.asarray(u0, dtype=float), n)
    k = np.fft.rfftfreq(n, d=1.0 / n)
    dealias = k <= n / 3
    steps = _steps(u, setting, n)
    dt = setting.horizon / steps
    half_factor = np.exp(-setting.nu * k**2 * dt / 2)
    v = np.fft.rfft(u, axis=-1)

    def nonlinear(spectrum: np.ndarray) -> np.ndarray:
        physical = np.fft.irfft(spectrum * dealias, n=n, axis=-1)
        return -0.5j * k * np.fft.rfft(physical**2, axis=-1) * dealias

    for _ in range(steps):
        a = dt * nonlinear(v)
        b = dt * nonlinear(half_factor * (v + a / 2))
        c = dt * nonlinear(half_factor * v + b / 2)
        d = dt * nonlinear(half_factor**2 * v + half_factor * c)
        v = half_factor**2 * (v + a / 6) + half_factor * (b + c) / 3 + d / 6
    out = np.fft.irfft(v, n=n, axis=-1)
    return out[0] if single else out


def _steps(u: np.ndarray, setting: BurgersSetting, n: int) -> int:
    peak = max(float(np.max(np.abs(u))), 1e-6)
    return max(1, int(np.ceil(setting.horizon * peak / (setting.cfl * TWO_PI / n))))


def observed(u_end: np.ndarray, setting: BurgersSetting) -> np.ndarray:
    """A fine-grid solution as it is observed and compared: sampled on the design grid."""
    step = u_end.shape[-1] // setting.design_grid
    return u_end[..., ::step]


def misfit(u_end_observed: np.ndarray, target: np.ndarray) -> np.ndarray | float:
    """The score: mean squared distance to the target state (designs start at unit mean square)."""
    return np.mean(np.square(u_end_observed - np.asarray(target, dtype=float)), axis=-1)


def score_design(u0: np.ndarray, setting: BurgersSetting, target: np.ndarray,
                 grid: int | None = None) -> float:
    """The exact score of one admissible design (see `design_field`): its misfit at the horizon."""
    return float(misfit(observed(solve(u0, setting, grid), setting), target))


def hidden_state(seed: int, setting: BurgersSetting) -> np.ndarray:
    """The initial state a target was made from: random phases, amplitudes falling as k^-1.5."""
    rng = np.random.default_rng(seed)
    x = grid_points(setting.design_grid)
    raw = sum(k**-1.5 * rng.normal() * np.sin(k * x + rng.uniform(0, TWO_PI))
              for k in range(1, setting.band + 1))
    return design_field(raw, setting.band)
