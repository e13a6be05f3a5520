"""`evoforge serve`: the report's views, live, for one or more runs while they write.

The server only reads: each poll opens a `mode=ro` connection (WAL lets it
read while the run writes, never taking the write lock), checks a cheap change
token, and rebuilds a run's view only when the run moved on. It writes one
file per run directory, `serve.json` (see serve_file.py), so the run's
progress line can link to the page.
"""

from __future__ import annotations

import socket
import threading
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Query
from fastapi.responses import HTMLResponse, Response

from evoforge.viewer.db import change_token, connect_readonly
from evoforge.viewer.held_out import HeldOutScores
from evoforge.viewer.page import embed_json, plotly_bundle, render_page, run_entry
from evoforge.viewer.serve_file import announced


class LiveRuns:
    """The runs a server shows, each view cached until its change token moves."""

    def __init__(self, run_dirs: list[Path], held_out: bool = True) -> None:
        self.run_dirs = [Path(d) for d in run_dirs]
        self.held_out = HeldOutScores(background=True) if held_out else None
        self._cache: dict[int, tuple[str, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def entry(self, index: int) -> dict[str, Any]:
        """The run's entry, rebuilt only when its database changed since the last one."""
        token = self._token(index)
        with self._lock:
            cached = self._cache.get(index)
            if cached is not None and cached[0] == token and not self._held_out_pending(cached[1]):
                return cached[1]
        entry = run_entry(self.run_dirs[index], self.held_out)
        with self._lock:
            self._cache[index] = (token, entry)
        return entry

    def changes(self, known: list[str]) -> list[dict[str, Any]]:
        """Every run's entry, or {"unchanged": true} where the page already has its token."""
        replies = []
        for index in range(len(self.run_dirs)):
            entry = self.entry(index)
            token = entry.get("view", {}).get("token")
            same = token is not None and index < len(known) and known[index] == token
            replies.append({"unchanged": True} if same else entry)
        return replies

    def _token(self, index: int) -> str:
        try:
            conn = connect_readonly(self.run_dirs[index])
        except FileNotFoundError:
            return "absent"
        try:
            return change_token(conn)
        finally:
            conn.close()

    @staticmethod
    def _held_out_pending(entry: dict[str, Any]) -> bool:
        return bool(entry.get("view", {}).get("held_out_history", {}).get("pending"))

    def close(self) -> None:
        if self.held_out is not None:
            self.held_out.close()


def make_app(runs: LiveRuns) -> FastAPI:
    """The FastAPI app: the page, plotly.js, and /api/runs for polling."""
    app = FastAPI(title="evoforge", docs_url=None, redoc_url=None, openapi_url=None)
    bundle = plotly_bundle().encode()

    @app.get("/", response_class=HTMLResponse)
    def page() -> str:
        entries = [runs.entry(i) for i in range(len(runs.run_dirs))]
        title = " · ".join(e["view"]["problem"] for e in entries if "view" in e) or "live run"
        return render_page(entries, title, live=True)

    @app.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/plotly.js")
    def plotly_js() -> Response:
        return Response(bundle, media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})

    @app.get("/api/runs")
    def api_runs(tokens: str = Query("")) -> Response:
        body = embed_json({"runs": runs.changes(tokens.split(",") if tokens else [])})
        return Response(body, media_type="application/json", headers={"Cache-Control": "no-store"})

    return app


def bind(host: str, port: int) -> socket.socket:
    """A listening socket; port 0 picks a free one (the URL then says which)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def serve(run_dirs: list[Path], host: str = "127.0.0.1", port: int = 8765, held_out: bool = True,
          on_ready: Any = None) -> None:
    """Serve the live page until interrupted."""
    runs = LiveRuns(run_dirs, held_out=held_out)
    sock = bind(host, port)
    url = f"http://{host}:{sock.getsockname()[1]}/"
    config = uvicorn.Config(make_app(runs), log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    try:
        with announced(run_dirs, url):
            if on_ready is not None:
                on_ready(url)
            server.run(sockets=[sock])
    finally:
        runs.close()
        sock.close()
