"""How far the screen can be trusted, measured on the candidates the exact solver re-checked.

Spearman rank correlation and mean absolute error between the screen's
estimates and the exact scores, the overlap of the two top-k sets, and how
many exact solves screening saved. All figures use scores turned so that
higher is better (the spec's direction), so a minimised misfit ranks correctly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

TOP_K = 10


def fidelity(pairs: Iterable[tuple[float, float]], candidates: int, exact_solves: int,
             sign: float = 1.0, top_k: int = TOP_K) -> dict[str, Any]:
    """Figures over (estimate, exact score) pairs; `sign` is +1 to maximise, -1 to minimise."""
    data = np.asarray(list(pairs), dtype=float).reshape(-1, 2)
    figures: dict[str, Any] = {"candidates": candidates, "exact_solves": exact_solves,
                               "solves_saved": candidates - exact_solves, "rechecked": len(data)}
    if len(data) >= 3 and np.ptp(data[:, 0]) > 0 and np.ptp(data[:, 1]) > 0:
        from scipy.stats import spearmanr  # here: scipy.stats takes a second to import

        figures["spearman"] = float(spearmanr(data[:, 0], data[:, 1]).statistic)
    if len(data):
        figures["mae"] = float(np.mean(np.abs(data[:, 0] - data[:, 1])))
        k = min(top_k, len(data))
        top_estimated = set(np.argsort(-sign * data[:, 0])[:k])
        top_exact = set(np.argsort(-sign * data[:, 1])[:k])
        figures[f"top{k}_overlap"] = len(top_estimated & top_exact) / k
    return figures


def line(figures: Mapping[str, Any]) -> str:
    """One line for a progress display or a report."""
    if not figures:
        return ""
    parts = [f"exact {figures['exact_solves']}/{figures['candidates']}"]
    if figures.get("surrogate_version") is not None:
        parts.append(f"surrogate v{figures['surrogate_version']}")
    if "spearman" in figures:
        parts.append(f"ρ {figures['spearman']:.2f}")
    parts += [f"{key.replace('_overlap', '')} {value:.0%}" for key, value in figures.items()
              if key.endswith("_overlap")]
    if "mae" in figures:
        parts.append(f"MAE {figures['mae']:.3g}")
    return ", ".join(parts)


class ScreenTally:
    """The run's fidelity kept up to date one evaluation at a time (for the progress line)."""

    def __init__(self, sign: float = 1.0) -> None:
        self.sign = sign
        self.pairs: list[tuple[float, float]] = []
        self.candidates = 0
        self.exact = 0
        self.version: int | None = None

    def add(self, details: Mapping[str, Any], score: float | None) -> dict[str, Any]:
        """Count one evaluation; the figures so far ({} while no screened candidate was seen)."""
        if "screen" in details:
            self.candidates += 1
            self.exact += bool(details.get("exact"))
            if details.get("exact") and details.get("estimate") is not None and score is not None:
                self.pairs.append((details["estimate"], score))
            self.version = max_version(self.version, reported_version(details))
        if not self.candidates:
            return {}
        figures = fidelity(self.pairs, self.candidates, self.exact, self.sign)
        return {**figures, "surrogate_version": self.version} if self.version is not None else figures


def reported_version(details: Mapping[str, Any]) -> int | None:
    """The newest surrogate version an evaluation knew of: the one that screened it, or the one
    its batch's fine-tuning made."""
    return max_version(details.get("surrogate_version"), details.get("finetuned_to"))


def max_version(*versions: int | None) -> int | None:
    known = [int(v) for v in versions if v is not None]
    return max(known) if known else None
