"""Panels a candidate kind adds to the report and the live page.

The built-in kinds (expression, Lean, surrogate) list their panels in
`_builtin_panels`; a plug-in registers one with one call:

    register_panel("expression", "formula", "Best formula", extract_formula)

`extract(conn, view)` reads the run (read-only connection, the RunView built so
far) and returns JSON data, or None to hide the panel. The page draws the data
with the JavaScript function `EvoforgePanels[panel_id]` when
`static/panels/<panel_id>.js` defines one, and as a generic key/value table
otherwise, so a panel works with Python alone. Every run also gets the
generic table of its best candidate's `Evaluation.details`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

PanelExtractor = Callable[[sqlite3.Connection, Any], Any]


@dataclass(frozen=True)
class Panel:
    panel_id: str
    title: str
    extract: PanelExtractor


def _builtin_panels() -> dict[str, list[Panel]]:
    """The kinds' own panels: a kind adds its panel here, with its renderer in static/panels/."""
    from evoforge.viewer.expression_panel import formula_panel
    from evoforge.viewer.fidelity_panel import fidelity_panel
    from evoforge.viewer.lean_panel import proof_status_panel

    return {
        "expression": [Panel("formula", "Best formula", formula_panel)],
        "lean_proof": [Panel("proof-status", "Proof checks", proof_status_panel)],
        "surrogate_program": [Panel("fidelity", "Surrogate fidelity over the run", fidelity_panel)],
    }


PANELS: dict[str, list[Panel]] = _builtin_panels()


def register_panel(kind: str, panel_id: str, title: str, extract: PanelExtractor) -> None:
    """Add (or replace) the panel `panel_id` for runs whose problem kind is `kind`."""
    kept = [p for p in PANELS.get(kind, []) if p.panel_id != panel_id]
    PANELS[kind] = [*kept, Panel(panel_id, title, extract)]


def panels_for(kind: str, conn: sqlite3.Connection, view: Any) -> list[dict[str, Any]]:
    """The kind's panels with their data; a panel that fails shows its error, not a broken page."""
    shown = []
    for panel in PANELS.get(kind, []):
        try:
            data = panel.extract(conn, view)
        except Exception as error:  # a plug-in's bug must not take the whole report down
            data = {"error": f"{type(error).__name__}: {error}"}
        if data is not None:
            shown.append({"id": panel.panel_id, "title": panel.title, "data": data})
    return shown


def panel_scripts() -> str:
    """The JavaScript renderers shipped in static/panels/, concatenated for inlining."""
    folder = resources.files("evoforge.viewer") / "static" / "panels"
    if not folder.is_dir():
        return ""
    return "\n".join(f.read_text() for f in sorted(folder.iterdir(), key=lambda f: f.name)
                     if f.name.endswith(".js"))
