"""The one HTML page both views use: the template, CSS and JavaScript from package data.

The static report inlines plotly's offline bundle and the run data, so the
file opens anywhere with no network; the live page loads the same bundle from
the server once and then polls for data.
"""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

from evoforge.viewer.held_out import HeldOutScores
from evoforge.viewer.panels import panel_scripts
from evoforge.viewer.run_data import load_run_view

POLL_MS = 1000


def _static(name: str) -> str:
    return (resources.files("evoforge.viewer") / "static" / name).read_text()


def plotly_bundle() -> str:
    """plotly.js, minified, from the installed plotly package (no CDN)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def run_entry(run_dir: Path, held_out: HeldOutScores | None) -> dict[str, Any]:
    """One run for the page: its view, or the one sentence saying why it cannot be read."""
    try:
        return {"view": load_run_view(run_dir, held_out).to_json()}
    except FileNotFoundError as error:
        return {"error": str(error)}


def render_page(entries: list[dict[str, Any]], title: str, live: bool) -> str:
    """The full HTML document; `live` pages fetch plotly.js and updates from the server."""
    data = {"mode": "live" if live else "static", "runs": entries, "poll_ms": POLL_MS}
    plotly = '<script src="plotly.js"></script>' if live else f"<script>{plotly_bundle()}</script>"
    subtitle = "live · connecting…" if live else "static report"
    parts = {
        "TITLE": _html_escape(title), "SUBTITLE": subtitle, "CSS": _static("viewer.css"),
        "PLOTLY": plotly, "DATA": embed_json(data), "PANELS_JS": panel_scripts(),
        "VIEWER_JS": _static("viewer.js"),
    }
    page = _static("page.html")
    for key, value in parts.items():
        page = page.replace("{{" + key + "}}", value)
    return page


def embed_json(data: Any) -> str:
    """JSON that is safe inside a <script> element (no '</script>' can end it early)."""
    return json.dumps(_finite(data), allow_nan=False, separators=(",", ":")).replace("<", "\\u003c")


def _finite(data: Any) -> Any:
    """NaN and infinities (a score can be inf) become null: JSON has no spelling for them."""
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_finite(v) for v in data]
    return data


def write_report(run_dirs: list[Path], out: Path, held_out: bool = True) -> Path:
    """Write one self-contained HTML file for the given runs."""
    scores = HeldOutScores() if held_out else None
    try:
        entries = [run_entry(run_dir, scores) for run_dir in run_dirs]
    finally:
        if scores is not None:
            scores.close()
    title = " · ".join(e["view"]["problem"] for e in entries if "view" in e) or "run report"
    out.write_text(render_page(entries, title, live=False))
    return out


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
