"""The surrogate: a Fourier Neural Operator from `neuraloperator`, mapping a design to its solution.

`Surrogate` wraps the network with the normalisation it was trained with and
the metadata a checkpoint carries (data hash, grid, epochs, errors, version),
so a loaded checkpoint predicts in the units of the exact solver and says what
it is. Inference is batched; torch threads are left as configured by the caller.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

DEFAULT_SHAPE = {1: {"modes": 16, "width": 32, "layers": 4}, 2: {"modes": 10, "width": 16, "layers": 4}}


def build_network(dims: int, modes: int, width: int, layers: int) -> torch.nn.Module:
    from neuralop.models import FNO

    return FNO(n_modes=(modes,) * dims, in_channels=1, out_channels=1, hidden_channels=width,
               n_layers=layers)


@dataclass
class Surrogate:
    """A trained FNO with its input/output scaling and its record."""

    network: torch.nn.Module
    dims: int
    shape: dict[str, int]
    scale: dict[str, float]
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def fresh(cls, dims: int, designs: np.ndarray, solutions: np.ndarray, seed: int = 0) -> Surrogate:
        torch.manual_seed(seed)
        shape = dict(DEFAULT_SHAPE[dims])
        scale = {"in_mean": float(designs.mean()), "in_std": float(designs.std() or 1.0),
                 "out_mean": float(solutions.mean()), "out_std": float(solutions.std() or 1.0)}
        return cls(build_network(dims, **shape), dims, shape, scale, {"version": 0})

    @property
    def version(self) -> int:
        return int(self.meta.get("version", 0))

    def inputs(self, designs: np.ndarray) -> torch.Tensor:
        x = (np.asarray(designs, dtype=np.float32) - self.scale["in_mean"]) / self.scale["in_std"]
        return torch.from_numpy(np.ascontiguousarray(x)).unsqueeze(1)

    def targets(self, solutions: np.ndarray) -> torch.Tensor:
        y = (np.asarray(solutions, dtype=np.float32) - self.scale["out_mean"]) / self.scale["out_std"]
        return torch.from_numpy(np.ascontiguousarray(y)).unsqueeze(1)

    def predict(self, designs: np.ndarray, batch: int = 64) -> np.ndarray:
        """Solutions for a batch of designs (or one), in the solver's units."""
        single = np.ndim(designs) == self.dims
        designs = np.asarray(designs)[None] if single else np.asarray(designs)
        self.network.eval()
        parts = []
        with torch.no_grad():
            for start in range(0, len(designs), batch):
                out = self.network(self.inputs(designs[start:start + batch]))[:, 0].numpy()
                parts.append(out * self.scale["out_std"] + self.scale["out_mean"])
        predicted = np.concatenate(parts).astype(float)
        return predicted[0] if single else predicted

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        # neuraloperator adds its constructor arguments (functions included) as '_metadata';
        # only tensors are kept, so the file loads with weights_only=True (no pickled code).
        tensors = {k: v for k, v in self.network.state_dict().items() if isinstance(v, torch.Tensor)}
        torch.save({"state": tensors, "dims": self.dims, "shape": self.shape,
                    "scale": self.scale, "meta": self.meta}, buffer)
        partial = path.with_suffix(".partial")
        partial.write_bytes(buffer.getvalue())
        partial.replace(path)  # a kill mid-write never leaves a torn checkpoint
        return path

    @classmethod
    def load(cls, path: Path) -> Surrogate:
        saved = torch.load(path, map_location="cpu", weights_only=True)
        network = build_network(saved["dims"], **saved["shape"])
        network.load_state_dict({**network.state_dict(), **saved["state"]})
        return cls(network, saved["dims"], saved["shape"], saved["scale"], saved["meta"])
