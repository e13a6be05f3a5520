"""Panels a candidate kind adds to the report and the live page.

A kind (expression, Lean, surrogate) registers a panel with one call:

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


PANELS: dict[str, list[Panel]] = {}


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
