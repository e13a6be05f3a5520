"""The spawn and in-process modes, the fork-server's own failures, and spec loading in a sandbox."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from test_sandbox_support import GOOD, LIMITS, assert_still_scores, candidate, write_spec

from evoforge.records import Limits
from evoforge.sandboxes import SandboxMode, open_sandbox
from evoforge.spec import load_problem
from evoforge.spec_errors import SpecError


def test_spawn_mode_scores_like_the_fork_server(tmp_path: Path) -> None:
    spec = write_spec(tmp_path)
    with open_sandbox(spec, mode=SandboxMode.SPAWN, limits=LIMITS) as spawned:
        assert_still_scores(spawned)


def test_in_process_mode_records_errors_instead_of_raising(tmp_path: Path) -> None:
    with open_sandbox(write_spec(tmp_path), mode=SandboxMode.IN_PROCESS) as local:
        assert_still_scores(local)
        assert local.run(candidate("raise ValueError('no')"), "small").error == "ValueError: no"
        assert local.run(candidate("import sys\nsys.exit(3)"), "small").error == "SystemExit: 3"
        assert local.run(candidate("return float('inf')"), "small").error == "invalid result: score is inf"


def test_in_process_mode_still_detects_tampering(tmp_path: Path) -> None:
    import numpy as np

    original = np.sum
    with open_sandbox(write_spec(tmp_path), mode=SandboxMode.IN_PROCESS) as local:
        try:
            body = "import numpy as np\nnp.sum = lambda *a, **k: 1e9\nreturn np.ones(3)"
            result = local.run(candidate(body), "small")
        finally:
            np.sum = original
    assert result.error == "candidate tampered with np.sum"


def test_fork_server_death_is_recorded_and_the_server_restarted(tmp_path: Path) -> None:
    with open_sandbox(write_spec(tmp_path), limits=LIMITS) as sandbox:
        os.kill(sandbox.server_pid, signal.SIGKILL)
        result = sandbox.run(GOOD, "small")
        assert result.score is None and result.error.startswith("sandbox server died")
        assert sandbox.restarts == 1
        assert_still_scores(sandbox)


def test_unknown_input_key_is_a_caller_error(tmp_path: Path) -> None:
    with open_sandbox(write_spec(tmp_path), limits=LIMITS) as sandbox, pytest.raises(KeyError):
        sandbox.run(GOOD, "no-such-input")


@pytest.mark.parametrize("mode", [SandboxMode.FORK, SandboxMode.IN_PROCESS])
def test_spec_that_fails_to_load_raises_spec_error(tmp_path: Path, mode: SandboxMode) -> None:
    path = tmp_path / "broken.py"
    path.write_text("import funsearch\nraise RuntimeError('bad spec')\n\n@funsearch.evolve\n"
                    "def f(n):\n    return n\n\n@funsearch.run\ndef g(n):\n    return f(n)\n")
    spec = load_problem(path, inputs_json="[1]")
    with pytest.raises(SpecError, match=r"broken\.py: the spec failed to load \(RuntimeError: bad spec\)"):
        open_sandbox(spec, mode=mode, limits=LIMITS)


def test_missing_dataset_file_is_reported_as_the_spec_loader_words_it(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"^--dataset .*nowhere\.json: no such file"):
        open_sandbox(write_spec(tmp_path), dataset=tmp_path / "nowhere.json", limits=LIMITS)


def test_evoforge_style_spec_runs(tmp_path: Path) -> None:
    path = tmp_path / "native.py"
    path.write_text("from evoforge import evolve, run\n\n@evolve\ndef f(n):\n    return n\n\n"
                    "@run\ndef g(n):\n    return f(n) + 1\n")
    with open_sandbox(load_problem(path, inputs_json="[4]"), limits=LIMITS) as sandbox:
        assert sandbox.run("def f(n):\n    return n * 10\n", "4").score == 41.0


def test_memory_limit_counts_what_the_candidate_adds(tmp_path: Path) -> None:
    limits = Limits(wall_seconds=5, cpu_seconds=5, memory_mb=200)
    with open_sandbox(write_spec(tmp_path), limits=limits) as sandbox:
        fits = sandbox.run(candidate("return float(np.ones(10 * 2**20).sum())"), "small")
        too_big = sandbox.run(candidate("return float(np.ones(40 * 2**20).sum())"), "small")
    assert fits.score == float(10 * 2**20)  # 80 MB of float64 fits in 200 MB
    assert too_big.error.startswith("memory limit")  # 320 MB does not


def test_candidates_can_import_modules_the_server_did_not_import(tmp_path: Path) -> None:
    with open_sandbox(write_spec(tmp_path), limits=LIMITS) as sandbox:
        body = "import decimal, textwrap, scipy.special\nreturn float(decimal.Decimal('2.5') * 2)"
        assert sandbox.run(candidate(body), "small").score == 5.0


def test_two_sandboxes_run_side_by_side(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    spec = write_spec(tmp_path)
    with (open_sandbox(spec, limits=LIMITS) as first, open_sandbox(spec, limits=LIMITS) as second,
          ThreadPoolExecutor(max_workers=2) as pool):
        futures = [pool.submit(box.run, GOOD, key) for _ in range(10)
                   for box in (first, second) for key in ("small", "big")]
        scores = [future.result().score for future in futures]
    assert scores == [6.0, 20.0, 6.0, 20.0] * 10


@pytest.mark.parametrize("mode", [SandboxMode.FORK, SandboxMode.SPAWN])
def test_kill_all_from_a_candidate_reaches_no_other_sandbox(tmp_path: Path, mode: SandboxMode) -> None:
    spec = write_spec(tmp_path)
    with (open_sandbox(spec, limits=LIMITS) as bystander,
          open_sandbox(spec, mode=mode, limits=LIMITS) as attacker):
        body = ("import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\n"
                "except ProcessLookupError:\n    return 0.0\nreturn 1.0")
        assert attacker.run(candidate(body), "small").score == 0.0  # no process it may signal is visible
        assert_still_scores(bystander)
        assert bystander.restarts == 0  # type: ignore[attr-defined]


@pytest.mark.parametrize("mode", [SandboxMode.FORK, SandboxMode.SPAWN])
def test_every_trial_starts_from_the_same_random_state(tmp_path: Path, mode: SandboxMode) -> None:
    """A score is a function of the program and the input: scored again (a held-out report,
    `compare`), a candidate that draws random numbers scores the same."""
    bodies = ("import random\nreturn random.random()", "import numpy as np\nreturn float(np.random.rand())")
    with open_sandbox(write_spec(tmp_path), mode=mode, limits=LIMITS) as sandbox:
        for body in bodies:
            scores = {sandbox.run(candidate(body), "small").score for _ in range(3)}
            assert len(scores) == 1 and None not in scores


def test_a_spec_that_leaves_threads_running_is_warned_about(tmp_path: Path,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "threaded.py"
    path.write_text("import threading, time\nimport funsearch\n"
                    "threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()\n\n"
                    "@funsearch.evolve\ndef f(n):\n    return n\n\n"
                    "@funsearch.run\ndef g(n):\n    return f(n)\n")
    with caplog.at_level("WARNING", logger="evoforge.sandboxes"), \
            open_sandbox(load_problem(path, inputs_json="[2]"), limits=LIMITS) as sandbox:
        assert sandbox.run("def f(n):\n    return n + 1\n", "2").score == 3.0
    assert "1 more thread(s) running" in caplog.text and "--sandbox spawn" in caplog.text


def test_limits_that_would_fail_every_trial_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="open files"):
        open_sandbox(write_spec(tmp_path), limits=Limits(max_open_files=2))
    with pytest.raises(ValueError, match="positive"):
        open_sandbox(write_spec(tmp_path), limits=Limits(wall_seconds=0))


def test_the_fork_server_runs_no_after_fork_hook_of_threading(tmp_path: Path) -> None:
    """The server as it starts for real must not load `threading`: its after-fork hook would run in
    every forked trial (about a fifth of the per-trial overhead, see bench/sandbox_overhead.py)."""
    import pickle
    import subprocess
    import sys

    from evoforge.sandboxes.confine import scrubbed_environment

    setup = {"spec": write_spec(tmp_path), "split": "train", "dataset": None, "limits": LIMITS,
             "private_root": True, "pid_namespaces": True}
    report = ("import pickle, sys\nfrom evoforge.sandboxes import forkserver\n"
              "forkserver.start(pickle.load(sys.stdin.buffer))\n"
              "print(sorted({'threading', 'logging', 'subprocess'} & set(sys.modules)))")
    started = subprocess.run([sys.executable, "-P", "-c", report], input=pickle.dumps(setup), cwd="/",
                             capture_output=True, env=scrubbed_environment(), timeout=120, check=True)
    assert started.stdout.decode().strip() == "[]"


def test_the_fork_server_does_not_grow_with_its_trials(tmp_path: Path) -> None:
    """Every fork copies the server's page tables, so per-trial state that outlives its trial makes
    each later trial slower: setting a new HOME per trial kept its strings in glibc's store of every
    value setenv has seen (+15 MB and ~2x the CPU of a fork after 100k trials)."""
    def anonymous_kb(pid: int) -> int:
        status = Path(f"/proc/{pid}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("RssAnon")))

    with open_sandbox(write_spec(tmp_path), limits=LIMITS) as sandbox:
        server = sandbox.server_pid  # type: ignore[attr-defined]
        for _ in range(50):
            sandbox.run(GOOD, "small")
        before = anonymous_kb(server)
        for _ in range(1000):
            assert sandbox.run(GOOD, "small").score == 6.0
        assert anonymous_kb(server) - before < 24  # 0 kB measured; the old per-trial HOME: 64-76 kB
