"""Inputs for the heat spreader: the plate evolution optimises and the ones reports use.

Evolution sees the uniform heat source solved on the 128 x 128 grid. The
held-out report scores the same layout under a source it never saw (two hot
spots on a floor, same total heat) and on a grid twice as fine.
"""

from __future__ import annotations

from typing import Any

from evoforge.surrogates.heat import HeatSetting


def _plate(**changes: Any) -> dict[str, Any]:
    return {"physics": "heat", "setting": HeatSetting(**changes).to_json()}


def train() -> dict[str, dict[str, Any]]:
    return {"uniform": _plate()}


def test() -> dict[str, dict[str, Any]]:
    return {"hotspots": _plate(source="hotspots"), "uniform_256": _plate(grid=256)}
