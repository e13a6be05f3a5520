"""A full disk stops `evoforge run` with one sentence and a resume hint, and loses nothing.

The disk is real: a small tmpfs mounted in a private mount namespace (so it
vanishes with the test and nothing leaks onto the host), holding RUN_DIR.
SQLite then fails its writes with the real SQLITE_FULL. Mounting needs root;
without it the tests skip and say why (a user namespace would map the user to
root, but the sandbox cannot drop to another uid there and a resume hung).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.run_fixtures import RECORDED_BIN_PACKING, REPO, make_small_bin_packing

NAMESPACE = ["unshare", "--mount"]


def _private_mounts_work() -> str | None:
    if os.geteuid() != 0:
        return "needs root to mount a small tmpfs in a private mount namespace"
    if shutil.which("unshare") is None:
        return "needs util-linux `unshare` to mount a small tmpfs privately"
    probe = subprocess.run([*NAMESPACE, "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot mount a tmpfs in a private mount namespace here: {probe.stderr.strip()}"
    return None


SKIP_REASON = _private_mounts_work()
pytestmark = pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")


def evoforge_line(*args: str, into: Path) -> str:
    """A shell line running the CLI, its stdout, stderr and exit code kept in files under `into`."""
    quoted = " ".join(f"'{a}'" for a in args)
    name = args[0]
    return (f"'{sys.executable}' -m evoforge.cli {quoted} > '{into}/{name}.out' 2> '{into}/{name}.err'; "
            f"echo $? > '{into}/{name}.rc'")


def run_args(problem: Path, run_dir: Path, samples: int) -> list[str]:
    return ["run", str(problem), "--llm", "recorded", "--model", str(RECORDED_BIN_PACKING),
            "--samples", str(samples), "--run-dir", str(run_dir)]


def on_small_disk(mount: Path, size: str, lines: list[str]) -> None:
    """Run shell lines with a tmpfs of `size` at `mount`, all inside one private mount namespace."""
    mount.mkdir()
    script = "\n".join([f"mount -t tmpfs -o size={size} tmpfs '{mount}' || exit 99", *lines])
    done = subprocess.run([*NAMESPACE, "sh", "-c", script], capture_output=True, text=True,
                          timeout=500, cwd=REPO)
    assert done.returncode == 0, done.stderr


def outcome(folder: Path, name: str) -> tuple[int, str, str]:
    return (int((folder / f"{name}.rc").read_text()), (folder / f"{name}.out").read_text(),
            (folder / f"{name}.err").read_text())


def test_disk_filling_mid_run_says_so_once_and_resume_finishes_the_budget(tmp_path: Path) -> None:
    problem = make_small_bin_packing(tmp_path / "problem")
    mount, logs = tmp_path / "disk", tmp_path / "logs"
    run_dir = mount / "run"
    logs.mkdir()
    on_small_disk(mount, "320k", [
        evoforge_line(*run_args(problem, run_dir, 40), into=logs),
        evoforge_line("show", str(run_dir), "--json", into=logs),
        f"mount -o remount,size=64m '{mount}'",  # space freed
        evoforge_line("resume", str(run_dir), into=logs),
        f"'{sys.executable}' -m evoforge.cli show '{run_dir}' --json > '{logs}/after.json'",
    ])
    code, _, stderr = outcome(logs, "run")
    last_line = stderr.strip().splitlines()[-1]
    assert code == 2 and "Traceback" not in stderr, stderr[-3000:]
    assert last_line == (f"error: the disk holding {run_dir}/evoforge.db is full; free some space, then "
                         f"continue with `evoforge resume {run_dir}` (everything stored so far is kept).")
    stored = json.loads(outcome(logs, "show")[1])
    assert 0 < stored["samples"] < 40 and stored["evaluated"] >= 1
    code, _, stderr = outcome(logs, "resume")
    assert code == 0, stderr[-3000:]
    after = json.loads((logs / "after.json").read_text())
    assert after["samples"] == 40 and after["evaluated"] >= stored["evaluated"]
    assert after["missing"] == []


def test_disk_too_small_to_create_the_run_says_so_in_one_sentence(tmp_path: Path) -> None:
    problem = make_small_bin_packing(tmp_path / "problem")
    mount, logs = tmp_path / "disk", tmp_path / "logs"
    logs.mkdir()
    on_small_disk(mount, "64k", [evoforge_line(*run_args(problem, mount / "run", 8), into=logs)])
    code, _, stderr = outcome(logs, "run")
    assert code == 2 and "Traceback" not in stderr, stderr[-3000:]
    assert stderr.strip().splitlines()[-1].startswith(f"error: the disk holding {mount / 'run'}")
    assert "is full; free some space, then" in stderr
