"""RUN_DIR/serve.json: how a running `evoforge serve` tells the run's progress line where its page is.

Kept apart from the server so that the progress line can read it without
importing FastAPI or uvicorn.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

SERVE_FILE = "serve.json"


@contextlib.contextmanager
def announced(run_dirs: list[Path], url: str) -> Iterator[None]:
    """Write RUN_DIR/serve.json (URL, pid) for the progress line; remove it when serving stops."""
    written = []
    for run_dir in run_dirs:
        # A run started after the server still finds the file: `evoforge run` accepts an existing folder.
        Path(run_dir).mkdir(parents=True, exist_ok=True)
        path = Path(run_dir) / SERVE_FILE
        path.write_text(json.dumps({"url": url, "pid": os.getpid()}))
        written.append(path)
    try:
        yield
    finally:
        for path in written:
            with contextlib.suppress(OSError):
                if json.loads(path.read_text()).get("pid") == os.getpid():
                    path.unlink()


def live_page_url(run_dir: Path) -> str | None:
    """The URL of a live page showing this run, if a server that says so is still running."""
    try:
        info = json.loads((Path(run_dir) / SERVE_FILE).read_text())
        os.kill(int(info["pid"]), 0)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return str(info["url"])
