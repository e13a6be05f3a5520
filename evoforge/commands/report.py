"""`evoforge report` and `evoforge serve`: a run as one HTML file, or as a live page.

Wiring only: the views are built in evoforge/viewer/.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer


def report(
    run_dirs: Annotated[list[Path], typer.Argument(help="Run directories (several: compared side by side).")],
    out: Annotated[Path | None, typer.Option(help="HTML file to write (default: RUN_DIR/report.html).")]
    = None,
    held_out: Annotated[bool, typer.Option(
        help="Score each best-so-far program on the held-out inputs (runs the sandbox).")] = True,
) -> None:
    """Write a self-contained HTML report of a run (opens with no network)."""
    from evoforge.cli import _fail
    from evoforge.cli import out as console
    from evoforge.storage import existing_run_db
    from evoforge.viewer.page import write_report

    try:
        for run_dir in run_dirs:
            existing_run_db(run_dir)
    except FileNotFoundError as error:
        raise _fail(str(error)) from None
    target = out or run_dirs[0] / "report.html"
    if not target.parent.is_dir():
        raise _fail(f"{target.parent}: no such folder for the report.")
    write_report(run_dirs, target, held_out=held_out)
    console.print(f"report written to {target}")


def serve(
    run_dirs: Annotated[list[Path], typer.Argument(help="Run directories, running or finished.")],
    port: Annotated[int, typer.Option(help="TCP port (0: any free one).")] = 8765,
    host: Annotated[str, typer.Option(
        help="Address to listen on (IPv4 or IPv6, e.g. ::1); the default keeps the page on this machine.")]
    = "127.0.0.1",
    held_out: Annotated[bool, typer.Option(
        help="Score best-so-far programs on the held-out inputs in the background.")] = True,
) -> None:
    """Serve a live page of one or more runs while they write (read-only)."""
    from evoforge.cli import _fail, err
    from evoforge.viewer.server import listening_socket

    try:
        sock = listening_socket(host, port)
    except OSError as error:
        raise _fail(f"cannot listen on {host} port {port}: {error.strerror or error}.") from None
    from evoforge.viewer.server import serve as serve_live

    with contextlib.suppress(KeyboardInterrupt):
        serve_live(sock, run_dirs, held_out=held_out,
                   on_ready=lambda url: err.print(f"live page: {url}  (Ctrl-C stops it)", soft_wrap=True))
