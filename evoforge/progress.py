"""Live progress of a run: samples, valid fraction, best score, rates.

A terminal gets a rich live panel; a log file or CI gets one plain line
every few seconds, so long runs never look hung and never flood a log.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from evoforge.records import RunCounters
from evoforge.spec import ProblemSpec
from evoforge.surrogates.fidelity import line as fidelity_line
from evoforge.viewer.serve_file import live_page_url

PLAIN_LINE_SECONDS = 10.0


class Progress:
    """Turns counters into a live display; used as a context manager around the loop."""

    def __init__(self, spec: ProblemSpec, budget: int, console: Console | None = None,
                 run_dir: Path | None = None) -> None:
        self.spec = spec
        self.run_dir = run_dir  # where `evoforge serve` announces its live page (serve.json)
        self.budget = budget
        self.console = console or Console(stderr=True)
        self._live: Live | None = None
        self._last_plain = 0.0

    def __enter__(self) -> Progress:
        if self.console.is_terminal:
            self._live = Live(console=self.console, refresh_per_second=4, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)

    def update(self, counters: RunCounters, status: dict[str, float]) -> None:
        figures = self.figures(counters, status)
        if self._live is not None:
            self._live.update(self._table(figures))
        elif time.monotonic() - self._last_plain >= PLAIN_LINE_SECONDS:
            self._last_plain = time.monotonic()
            print(" | ".join(f"{k} {v}" for k, v in figures.items()), file=sys.stderr, flush=True)

    def figures(self, counters: RunCounters, status: dict[str, float]) -> dict[str, str]:
        """The line's figures; rates count this session's search (start-up and earlier sessions left out)."""
        minutes = max(status.get("session", 0.0), 1e-6) / 60
        new_samples, new_tokens = status.get("session_samples", 0), status.get("session_tokens", 0)
        valid = counters.valid / counters.evaluated if counters.evaluated else 0.0
        busy = status.get("llm_busy")
        return {
            "samples": f"{counters.samples}/{self.budget}",
            "valid": f"{valid:.0%} of {counters.evaluated}",
            "duplicates": str(counters.duplicates),
            "best": self.spec.report.show(counters.best_score),
            "rate": f"{new_samples / minutes:.1f} samples/min",
            "tokens": f"{new_tokens / (minutes * 60):.1f} tok/s",
            "llm busy": "-" if busy is None else f"{busy:.0%} of the time",
            "queue": f"{int(status.get('queue', 0))} waiting, {int(status.get('evaluating', 0))} running",
            "elapsed": f"{status.get('elapsed', 0) / 60:.1f} min",
            **({"page": url} if self.run_dir and (url := live_page_url(self.run_dir)) else {}),
            **({"screen": fidelity_line(counters.screen)} if counters.screen else {}),
        }

    def _table(self, figures: dict[str, str]) -> Table:
        # Text, not markup: a spec's name or unit may hold brackets that rich would eat.
        table = Table(title=Text(f"evoforge · {self.spec.name}"), show_header=False, min_width=50)
        for key, value in figures.items():
            table.add_row(key, Text(value))
        return table
