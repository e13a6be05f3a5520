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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Query
from fastapi.responses import HTMLResponse, Response

from evoforge.viewer.db import change_token, connect_readonly
from evoforge.viewer.held_out import HeldOutScores
from evoforge.viewer.page import embed_json, plotly_bundle, render_page, run_entry
from evoforge.viewer.serve_file import announced


@dataclass
class _Cached:
    token: str  # the database's change token when the entry was built
    held_out: int  # held-out scores known then
    entry: dict[str, Any]


class LiveRuns:
    """The runs a server shows, each view cached until the run or its held-out scores move on.

    A poll costs one cheap query (the change token) while nothing changed; new held-out scores
    only refresh the held-out part of the cached view, never the whole of it.
    """

    def __init__(self, run_dirs: list[Path], held_out: bool = True) -> None:
        self.run_dirs = [Path(d) for d in run_dirs]
        self.held_out = HeldOutScores(background=True) if held_out else None
        self._cache: dict[int, _Cached] = {}
        self._lock = threading.Lock()
        self.rebuilds = 0  # whole views built: what a poll costs when the run moved on

    def entry(self, index: int) -> dict[str, Any]:
        """The run's entry; its view's token changes whenever anything the page shows did."""
        run_dir = self.run_dirs[index]
        token = self._token(index)
        held = self.held_out.scored(run_dir) if self.held_out is not None else 0
        with self._lock:
            cached = self._cache.get(index)
        if cached is not None and cached.token == token and cached.held_out == held:
            return cached.entry
        if cached is not None and cached.token == token and "view" in cached.entry:
            entry = self._with_new_held_out(run_dir, cached.entry)
        else:
            entry = run_entry(run_dir, self.held_out)
            self.rebuilds += 1
        if "view" in entry:
            entry["view"]["token"] = f"{token}/{held}"
        with self._lock:
            self._cache[index] = _Cached(token, held, entry)
        return entry

    def _with_new_held_out(self, run_dir: Path, entry: dict[str, Any]) -> dict[str, Any]:
        view = dict(entry["view"])
        assert self.held_out is not None
        view["held_out_history"] = self.held_out.history(run_dir, view["best_so_far"])
        return {"view": view}

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


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host` (IPv4 or IPv6: "127.0.0.1", "::1", "::"); port 0 picks a
    free one. Made before anything else, so a busy port or an unknown host costs nothing."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and host in ("::", ""):
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # "::" serves IPv4 too
        sock.bind(address)
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def page_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if sock.family == socket.AF_INET6 else f"http://{host}:{port}/"


def serve(sock: socket.socket, run_dirs: list[Path], held_out: bool = True, on_ready: Any = None) -> None:
    """Serve the live page on the listening `sock` until interrupted."""
    runs = LiveRuns(run_dirs, held_out=held_out)
    url = page_url(sock)
    server = uvicorn.Server(uvicorn.Config(make_app(runs), log_level="warning", access_log=False))
    try:
        with announced(run_dirs, url):
            if on_ready is not None:
                on_ready(url)
            server.run(sockets=[sock])
    finally:
        runs.close()
        sock.close()
