"""Training and fine-tuning a surrogate, and measuring it honestly.

Training holds out a validation split of the generated pairs and reports the
relative L2 error of the solution fields and the mean absolute error of the
scores computed from them, in distribution (validation) and on the shifted set
(designs the prior never drew). The same figures go into the checkpoint.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from evoforge.surrogates.data import PairSet
from evoforge.surrogates.model import Surrogate
from evoforge.surrogates.physics import Physics
from evoforge.surrogates.store import array_hash

EpochTick = Callable[[int, int, float], None]


def device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def train(physics: Physics, pairs: PairSet, epochs: int = 60, seed: int = 0, val_fraction: float = 0.15,
          tick: EpochTick = lambda epoch, total, loss: None) -> Surrogate:
    """A fresh surrogate trained on `pairs`, with its figures in `meta`."""
    started = time.perf_counter()
    count = len(pairs.designs)
    order = np.random.default_rng(seed).permutation(count)
    val = order[: max(1, int(count * val_fraction))]
    fit = order[len(val):]
    surrogate = Surrogate.fresh(physics.dims, pairs.designs[fit], pairs.solutions[fit], seed)
    loss = fit_epochs(surrogate, pairs.designs[fit], pairs.solutions[fit], epochs, lr=3e-3, tick=tick)
    surrogate.meta.update({
        "data_hash": array_hash(pairs.designs, pairs.solutions), "data_seed": pairs.seed,
        "pairs": count, "grid": list(physics.design_shape), "epochs": epochs, "settings": pairs.settings,
        "train_loss": loss, "train_error": field_error(surrogate, pairs.designs[fit], pairs.solutions[fit]),
        **_prefixed("val", errors(physics, surrogate, pairs.designs[val], pairs.solutions[val])),
        **_prefixed("shifted", errors(physics, surrogate, pairs.shifted_designs, pairs.shifted_solutions)),
        "train_seconds": time.perf_counter() - started, "device": str(device()),
    })
    return surrogate


def _prefixed(prefix: str, figures: dict[str, Any]) -> dict[str, Any]:
    return {f"{prefix}_{key}": value for key, value in figures.items()}


def fit_epochs(surrogate: Surrogate, designs: np.ndarray, solutions: np.ndarray, epochs: int,
               lr: float = 1e-3, batch: int = 32, tick: EpochTick = lambda e, t, loss: None) -> float:
    """Adam with a cosine schedule over `epochs`; returns the last epoch's mean loss."""
    where = device()
    network = surrogate.network.to(where)
    x_all, y_all = surrogate.inputs(designs).to(where), surrogate.targets(solutions).to(where)
    optimiser = torch.optim.Adam(network.parameters(), lr=lr, weight_decay=1e-5)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(1, epochs))
    generator = torch.Generator().manual_seed(int(surrogate.meta.get("version", 0)))
    mean_loss = float("nan")
    for epoch in range(epochs):
        network.train()
        total = 0.0
        for index in torch.randperm(len(x_all), generator=generator).split(batch):
            optimiser.zero_grad()
            loss = torch.mean((network(x_all[index]) - y_all[index]) ** 2)
            loss.backward()
            optimiser.step()
            total += loss.item() * len(index)
        schedule.step()
        mean_loss = total / len(x_all)
        tick(epoch + 1, epochs, mean_loss)
    surrogate.network = network.to("cpu")
    return mean_loss


def field_error(surrogate: Surrogate, designs: np.ndarray, solutions: np.ndarray) -> float:
    """Mean relative L2 error of predicted solution fields."""
    return relative_error(surrogate.predict(designs), solutions)


def relative_error(predicted: np.ndarray, solutions: np.ndarray) -> float:
    axes = tuple(range(1, solutions.ndim))
    return float(np.mean(np.sqrt(np.sum((predicted - solutions) ** 2, axis=axes)
                                 / np.sum(solutions**2, axis=axes))))


def errors(physics: Physics, surrogate: Surrogate, designs: np.ndarray,
           solutions: np.ndarray) -> dict[str, Any]:
    """Field error and score MAE, next to the constant predictor's (the held-out mean): the bar to beat."""
    if len(designs) == 0:
        return {}
    predicted = surrogate.predict(designs)
    exact = physics.scores(designs, solutions)
    estimated = physics.scores(designs, predicted)
    return {"field_error": relative_error(predicted, solutions),
            "constant_field_error": relative_error(np.broadcast_to(solutions.mean(axis=0), solutions.shape),
                                                   solutions),
            "score_mae": float(np.mean(np.abs(estimated - exact))),
            "constant_mae": float(np.mean(np.abs(exact - exact.mean())))}
