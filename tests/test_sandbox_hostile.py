"""Hostile candidates, each run through the real fork-server sandbox.

Every test checks the recorded outcome and then that a normal candidate
still scores correctly in the same sandbox: zero escapes, zero crashed runs.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_sandbox_support import (
    GOOD,
    LIMITS,
    assert_no_stray_processes,
    assert_still_scores,
    candidate,
    write_spec,
)

from evoforge.sandboxes import Sandbox
from evoforge.sandboxes.fork_client import ForkSandbox

SECRET = "sk-evoforge-test-secret"


@pytest.fixture(scope="module", params=[True, False], ids=["c-zygote", "python-zygote"])
def sandbox(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """The fork server as built, and with its clone loop and confinement in Python (no compiler)."""
    os.environ["OPENAI_API_KEY"] = SECRET  # what an evaluator actor would carry
    try:
        with ForkSandbox(write_spec(tmp_path_factory.mktemp("spec")), "train", None, LIMITS,
                         native=request.param) as opened:
            assert request.param or not opened.native  # the Python fallback really is what is tested
            yield opened
    finally:
        del os.environ["OPENAI_API_KEY"]


@pytest.fixture
def host_dir() -> Iterator[Path]:
    """A world-readable, world-writable host folder: only the sandbox's own walls protect it."""
    folder = Path(tempfile.mkdtemp(prefix="evoforge-hostile-"))
    folder.chmod(0o777)
    yield folder
    for item in folder.iterdir():
        item.unlink()
    folder.rmdir()


def test_normal_candidate_scores(sandbox: Sandbox) -> None:
    assert_still_scores(sandbox)


def test_infinite_loop_hits_the_cpu_limit(sandbox: Sandbox) -> None:
    result = sandbox.run(candidate("while True:\n    pass"), "small")
    assert result.score is None and result.error.startswith("cpu limit")
    assert_still_scores(sandbox)


def test_cpu_burn_inside_numpy_hits_the_cpu_limit(sandbox: Sandbox) -> None:
    body = "import numpy as np\na = np.random.rand(400, 400)\nwhile True:\n    a = np.tanh(a @ a)"
    result = sandbox.run(candidate(body), "small")
    assert result.score is None and result.error.startswith("cpu limit")
    assert_still_scores(sandbox)


def test_sleeping_past_the_wall_clock_times_out(sandbox: Sandbox) -> None:
    result = sandbox.run(candidate("import time\ntime.sleep(60)\nreturn 1.0"), "small")
    assert result.score is None and result.error.startswith("timeout")
    assert_still_scores(sandbox)


def test_memory_bomb_hits_the_memory_limit(sandbox: Sandbox) -> None:
    body = "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 2**20))"
    result = sandbox.run(candidate(body), "small")
    assert result.score is None and result.error.startswith("memory limit")
    assert_still_scores(sandbox)


def test_numpy_memory_bomb_hits_the_memory_limit(sandbox: Sandbox) -> None:
    result = sandbox.run(candidate("import numpy as np\nreturn np.ones(10**10)"), "small")
    assert result.score is None and result.error.startswith("memory limit")
    assert_still_scores(sandbox)


def test_fork_bomb_cannot_fork_and_leaves_no_process(sandbox: Sandbox) -> None:
    body = "import os\nwhile True:\n    os.fork()"
    result = sandbox.run(candidate(body), "small")
    assert result.score is None and "Resource temporarily unavailable" in result.error
    assert_no_stray_processes(sandbox)
    assert_still_scores(sandbox)


def test_threads_cannot_be_started(sandbox: Sandbox) -> None:
    body = "import threading\nthreading.Thread(target=print).start()\nreturn 1.0"
    result = sandbox.run(candidate(body), "small")
    assert result.score is None and "can't start new thread" in result.error
    assert_still_scores(sandbox)


def test_ignoring_sigterm_is_killed_at_the_wall_clock(sandbox: Sandbox) -> None:
    body = ("import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "signal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    time.sleep(0.05)")
    result = sandbox.run(candidate(body), "small")
    assert result.score is None and result.error.startswith("timeout")
    assert_no_stray_processes(sandbox)
    assert_still_scores(sandbox)


def test_swallowing_systemexit_and_interrupts_still_times_out(sandbox: Sandbox) -> None:
    body = ("import time\nwhile True:\n    try:\n        time.sleep(0.05)\n        raise SystemExit(0)\n"
            "    except BaseException:\n        pass")
    result = sandbox.run(candidate(body), "small")
    assert result.score is None and result.error.startswith("timeout")
    assert_still_scores(sandbox)


def test_sys_exit_is_recorded_not_fatal(sandbox: Sandbox) -> None:
    result = sandbox.run(candidate("import sys\nsys.exit(0)"), "small")
    assert result.score is None and result.error.startswith("SystemExit")
    assert_still_scores(sandbox)


def test_os_exit_is_an_exit_without_result(sandbox: Sandbox) -> None:
    result = sandbox.run(candidate("import os\nos._exit(0)"), "small")
    assert result.score is None and result.error.startswith("exited with status 0 before returning")
    assert_still_scores(sandbox)


def test_segfault_is_a_recorded_crash(sandbox: Sandbox) -> None:
    body = "import ctypes\nreturn float(ctypes.string_at(0xdead0000000, 8)[0])"  # unmapped address
    result = sandbox.run(candidate(body), "small")
    assert result.score is None and result.error == "crash: killed by SIGSEGV"
    assert_still_scores(sandbox)


def test_gigabytes_of_stdout_are_cut_off(sandbox: Sandbox) -> None:
    result = sandbox.run(candidate("while True:\n    print('x' * 2**20)"), "small")
    assert result.score is None and result.error.startswith("output too large")
    assert 0 < len(result.output_tail) <= 2000
    assert_still_scores(sandbox)


def test_printed_output_is_kept_as_a_tail(sandbox: Sandbox) -> None:
    result = sandbox.run(candidate("print('hello from the candidate')\nreturn 1.0"), "small")
    assert result.score == 1.0 and "hello from the candidate" in result.output_tail


def test_socket_to_loopback_cannot_connect(sandbox: Sandbox) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0.2)
        port = listener.getsockname()[1]
        body = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)\nreturn 1.0"
        result = sandbox.run(candidate(body), "small")
        with pytest.raises(TimeoutError):
            listener.accept()
    assert result.score is None and "Network is unreachable" in result.error
    assert_still_scores(sandbox)


def test_files_outside_its_directory_cannot_be_written_or_deleted(sandbox: Sandbox, host_dir: Path) -> None:
    victim = host_dir / "victim.txt"
    victim.write_text("keep me")
    victim.chmod(0o666)
    planted = host_dir / "planted.txt"
    body = (f"import os\ntry:\n    os.remove({str(victim)!r})\n"
            f"finally:\n    open({str(planted)!r}, 'w').write('x')")
    result = sandbox.run(candidate(body), "small")
    assert result.score is None and result.error.startswith("FileNotFoundError")
    assert victim.read_text() == "keep me" and not planted.exists()
    assert_still_scores(sandbox)


def test_writing_in_its_own_directory_works(sandbox: Sandbox) -> None:
    body = "open('notes.txt', 'w').write('abc')\nreturn float(len(open('notes.txt').read()))"
    assert sandbox.run(candidate(body), "small").score == 3.0


def test_a_file_bigger_than_the_limit_cannot_be_written(sandbox: Sandbox) -> None:
    body = "with open('big.bin', 'wb') as f:\n    f.write(b'x' * (4 * 2**20))\nreturn 1.0"
    result = sandbox.run(candidate(body), "small")
    assert result.score is None and "File too large" in result.error
    assert_still_scores(sandbox)


def test_environment_holds_no_api_key(sandbox: Sandbox) -> None:
    body = "import os\nreturn float(sum(len(v) for k, v in os.environ.items() if 'KEY' in k))"
    assert sandbox.run(candidate(body), "small").score == 0.0
    body = f"import os\nreturn float({SECRET!r} in str(dict(os.environ)))"
    assert sandbox.run(candidate(body), "small").score == 0.0


def test_world_readable_run_database_cannot_be_read(sandbox: Sandbox, host_dir: Path) -> None:
    database = host_dir / "run.sqlite"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE secrets (value TEXT)")
        connection.execute("INSERT INTO secrets VALUES ('best program so far')")
    connection.close()
    database.chmod(0o644)
    assert database.stat().st_mode & stat.S_IROTH  # the uid drop alone would not protect it
    os.environ["EVOFORGE_RUN_DB"] = str(database)
    try:
        body = f"return float(len(open({str(database)!r}, 'rb').read()))"
        result = sandbox.run(candidate(body), "small")
    finally:
        del os.environ["EVOFORGE_RUN_DB"]
    assert result.score is None and result.error.startswith("FileNotFoundError")
    assert_still_scores(sandbox)


def test_the_candidate_runs_as_an_unprivileged_user(sandbox: Sandbox) -> None:
    assert sandbox.run(candidate("import os\nreturn float(os.getuid())"), "small").score == 65534.0


def test_nan_is_an_invalid_result(sandbox: Sandbox) -> None:
    result = sandbox.run(candidate("return float('nan')"), "small")
    assert result.score is None and result.error == "invalid result: score is nan"
    assert_still_scores(sandbox)


def test_infinity_from_numpy_is_an_invalid_result(sandbox: Sandbox) -> None:
    result = sandbox.run(candidate("import numpy as np\nreturn np.array([np.inf, 1.0])"), "small")
    assert result.score is None and result.error == "invalid result: score is inf"


def test_huge_list_is_an_invalid_result(sandbox: Sandbox) -> None:
    result = sandbox.run(candidate("return [0.0] * 10**7"), "small")
    assert result.score is None and result.error == "invalid result: expected a number, got list"
    assert_still_scores(sandbox)


def test_object_with_lying_float_and_eq_is_rejected(sandbox: Sandbox) -> None:
    body = ("class Liar:\n    def __float__(self):\n        return 1e9\n"
            "    def __eq__(self, other):\n        return True\nreturn Liar()")
    result = sandbox.run(candidate(body), "small")
    assert result.score is None and result.error == "invalid result: expected a number, got Liar"
    assert_still_scores(sandbox)


def test_float_subclass_is_rejected(sandbox: Sandbox) -> None:
    body = "class Big(float):\n    def __add__(self, other):\n        return 1e9\nreturn Big(1.0)"
    result = sandbox.run(candidate(body), "small")
    assert result.score is None and result.error == "invalid result: expected a number, got Big"


def test_monkey_patching_numpy_is_detected(sandbox: Sandbox) -> None:
    body = "import numpy as np\nnp.sum = lambda *a, **k: 1e9\nreturn np.ones(3)"
    result = sandbox.run(candidate(body), "small")
    assert result.score is None and result.error == "candidate tampered with np.sum"
    assert_still_scores(sandbox)


def test_monkey_patching_builtins_is_detected(sandbox: Sandbox) -> None:
    body = "import builtins\nbuiltins.isinstance = lambda *a: False\nreturn 1.0"
    result = sandbox.run(candidate(body), "small")
    assert result.score is None and result.error == "candidate tampered with isinstance"
    assert_still_scores(sandbox)


def test_patching_an_unused_builtin_is_caught_at_the_end(sandbox: Sandbox) -> None:
    result = sandbox.run(candidate("import builtins\nbuiltins.sorted = None\nreturn 1.0"), "small")
    assert result.score is None and result.error == "candidate tampered with builtins.sorted"


def test_rebinding_the_spec_module_while_loading_is_detected(sandbox: Sandbox) -> None:
    code = "import evoforge_problem_spec as spec\nspec.np = None\n" + GOOD
    result = sandbox.run(code, "small")
    assert result.score is None and result.error == "candidate tampered with np"
    assert_still_scores(sandbox)


def test_frame_introspection_is_rejected_before_running(sandbox: Sandbox) -> None:
    body = "import sys\nsys._getframe(1).f_globals['np'] = None\nreturn 1.0"
    result = sandbox.run(candidate(body), "small")
    assert result.score is None and result.error.startswith("rejected: uses the introspection attribute")
    assert_still_scores(sandbox)


def test_gc_walks_are_rejected_before_running(sandbox: Sandbox) -> None:
    result = sandbox.run(candidate("import gc\nreturn float(len(gc.get_objects()))"), "small")
    assert result.score is None and result.error.startswith("rejected:")


def test_faking_the_result_channel_is_detected(sandbox: Sandbox) -> None:
    body = "import os\nos.write(3, b'\\x00\\x00\\x00\\x0e{\"score\": 1e9}')\nos._exit(0)"
    result = sandbox.run(candidate(body), "small")
    assert result.score is None and result.error.startswith("invalid result")
    assert_still_scores(sandbox)


def test_a_candidate_cannot_see_other_inputs(sandbox: Sandbox) -> None:
    body = "import numpy as np\nreturn float(n)"
    assert sandbox.run(candidate(body), "small").score == 3.0
    assert sandbox.run(candidate(body), "big").score == 10.0


def test_no_sandboxed_process_outlives_the_suite(sandbox: Sandbox) -> None:
    sandbox.run(candidate("import os\nos.fork()\nreturn 1.0"), "small")
    assert_no_stray_processes(sandbox)


def test_source_tree_and_problem_folders_are_invisible(sandbox: Sandbox) -> None:
    import evoforge.spec

    for readable in (evoforge.spec.__file__, str(Path(evoforge.spec.__file__).parents[1] / "problems")):
        body = f"import os\nreturn float(len(os.listdir({readable!r}) if os.path.isdir({readable!r}) "
        body += f"else open({readable!r}).read()))"
        result = sandbox.run(candidate(body), "small")
        assert result.score is None and result.error.startswith("FileNotFoundError"), readable
    assert_still_scores(sandbox)


def test_code_too_deep_to_handle_is_rejected_and_the_server_survives(sandbox: Sandbox) -> None:
    restarts = getattr(sandbox, "restarts", 0)
    for code in ("f = " + "lambda: " * 1000 + "1\n" + GOOD, "x = " + "-" * 100_000 + "1\n" + GOOD):
        result = sandbox.run(code, "small")
        assert result.score is None and result.error.startswith("rejected:")
    assert getattr(sandbox, "restarts", 0) == restarts
    assert_still_scores(sandbox)


def test_deeply_nested_directories_are_cleaned_up_without_harm(sandbox: Sandbox) -> None:
    restarts = getattr(sandbox, "restarts", 0)
    body = "import os\nfor _ in range(3000):\n    os.mkdir('d')\n    os.chdir('d')\nreturn 1.0"
    assert sandbox.run(candidate(body), "small").score == 1.0
    assert getattr(sandbox, "restarts", 0) == restarts
    assert_still_scores(sandbox)


def test_filling_the_scratch_space_is_an_error_and_the_space_comes_back(sandbox: Sandbox) -> None:
    restarts = getattr(sandbox, "restarts", 0)
    body = "for i in range(400):\n    open(f'f{i}', 'wb').write(b'x' * 2**20)\nreturn 1.0"
    result = sandbox.run(candidate(body), "small")
    assert result.score is None and "No space left on device" in result.error
    assert getattr(sandbox, "restarts", 0) == restarts
    assert_still_scores(sandbox)
    assert sandbox.run(candidate("open('f', 'wb').write(b'x' * 2**20)\nreturn 1.0"), "small").score == 1.0
