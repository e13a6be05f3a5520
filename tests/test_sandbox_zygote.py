"""The fork server's zygote: what each cloned child starts with, what it is spared, and its death."""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_sandbox_support import LIMITS, assert_still_scores, candidate, write_spec

from evoforge.sandboxes import Sandbox, open_sandbox
from evoforge.sandboxes.fork_client import ForkSandbox
from evoforge.spec import load_problem


@pytest.fixture(scope="module", params=[True, False], ids=["c-zygote", "python-zygote"])
def sandbox(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    with ForkSandbox(write_spec(tmp_path_factory.mktemp("spec")), "train", None, LIMITS,
                     native=request.param) as opened:
        if not request.param:
            assert not opened.native  # the Python fallback really is what these runs test
        yield opened


def test_the_c_zygote_is_used_wherever_it_could_be_built(tmp_path: Path) -> None:
    compiler = shutil.which("cc") or shutil.which("gcc")
    with open_sandbox(write_spec(tmp_path), limits=LIMITS) as sandbox:
        assert sandbox.native == bool(compiler)  # type: ignore[attr-defined]
        assert_still_scores(sandbox)


def zygote_pid(sandbox: Sandbox) -> int:
    """The zygote: a child of the server in the server's own pid namespace (each trial has a new one)."""
    pid = sandbox.zygote_pid  # type: ignore[attr-defined]
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    assert int(status["PPid"]) == sandbox.server_pid and len(status["NSpid"].split()) == 1  # type: ignore[attr-defined]
    return pid


def mapped_libraries(pid: int) -> set[str]:
    maps = Path(f"/proc/{pid}/maps").read_text().splitlines()
    return {line.split()[5].rsplit("/", 1)[1] for line in maps if len(line.split()) > 5 and ".so" in line}


def test_each_trial_starts_in_an_empty_directory_that_is_its_home_and_tmpdir(sandbox: Sandbox) -> None:
    body = ("import os, tempfile\nhere = os.getcwd()\nfound = len(os.listdir(here))\n"
            "open('left-behind', 'w').write('x')\n"
            "tempfile.NamedTemporaryFile(delete=False).write(b'x')\n"
            "same = os.environ['HOME'] == os.environ['TMPDIR'] == tempfile.gettempdir() == here\n"
            "return float(found) if same else -1.0")
    for _ in range(3):
        assert sandbox.run(candidate(body), "small").score == 0.0  # nothing an earlier trial wrote


def test_trials_do_not_share_a_random_stream(sandbox: Sandbox) -> None:
    body = "import random\nreturn random.random()"
    scores = {sandbox.run(candidate(body), "small").score for _ in range(4)}
    assert len(scores) == 4


def test_a_module_a_trial_imports_is_preloaded_for_later_trials(sandbox: Sandbox) -> None:
    assert not any(name.startswith("_statistics") for name in mapped_libraries(zygote_pid(sandbox)))
    mean = sandbox.run(candidate("import statistics\nreturn statistics.mean([1, 2, 3])"), "small")
    assert mean.score == 2.0
    assert_still_scores(sandbox)  # the preload request is handled before the next clone
    assert any(name.startswith("_statistics") for name in mapped_libraries(zygote_pid(sandbox)))


def test_children_map_only_what_trials_need(sandbox: Sandbox) -> None:
    """Each mapping costs every trial a few microseconds; these come with modules no trial needs."""
    libraries = mapped_libraries(zygote_pid(sandbox))
    unwanted = {"liblzma", "libbz2", "libcrypto", "_posixsubprocess", "_generator", "_mt19937"}
    assert not {name.split(".")[0] for name in libraries} & unwanted


def test_a_dead_zygote_is_recorded_and_the_sandbox_recovers(tmp_path: Path) -> None:
    with open_sandbox(write_spec(tmp_path), limits=LIMITS) as sandbox:
        assert_still_scores(sandbox)
        os.kill(zygote_pid(sandbox), signal.SIGKILL)
        time.sleep(0.1)
        results = [sandbox.run(candidate("return 1.0"), "small") for _ in range(3)]
        assert any(result.error and "sandbox server died" in result.error for result in results)
        assert sandbox.restarts == 1
        assert_still_scores(sandbox)


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


def huge_pages_unavailable() -> str | None:
    """Why the zygote cannot collapse its heap into huge pages here, if it cannot."""
    try:
        setting = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return "this kernel has no transparent huge pages"
    if "[never]" in setting:
        return "transparent huge pages are turned off on this machine"
    major, minor = (int(part) for part in os.uname().release.split(".")[:2])
    if (major, minor) < (6, 1):
        return "MADV_COLLAPSE needs Linux 6.1 or later"
    return None


def test_the_memory_children_share_is_backed_by_huge_pages(tmp_path: Path) -> None:
    """Fewer page-table entries for every clone to copy and every exit to tear down (hugepages.py)."""
    reason = huge_pages_unavailable()
    if reason:
        pytest.skip(reason)
    with open_sandbox(write_spec(tmp_path), limits=LIMITS) as sandbox:
        if not sandbox.native:  # type: ignore[attr-defined]
            pytest.skip("the C part of the fork server was not built")
        assert_still_scores(sandbox)
        rollup = Path(f"/proc/{zygote_pid(sandbox)}/smaps_rollup").read_text().splitlines()
        fields = dict(line.split(":", 1) for line in rollup if ":" in line)
        assert int(fields["AnonHugePages"].split()[0]) >= 4096  # kB: the heap and the arenas, 2 MiB each


def test_python_objects_a_trial_makes_count_against_its_memory_limit(sandbox: Sandbox) -> None:
    """The server's arenas came from a reserve the address-space limit had counted; a trial's must
    not (about 300 MB of small objects, under a 256 MB limit)."""
    body = "kept = [bytes(400) for _ in range(700_000)]\nreturn float(len(kept))"
    result = sandbox.run(candidate(body), "small")
    assert result.error is not None and result.error.startswith("memory limit"), result
    assert_still_scores(sandbox)


def test_the_servers_loader_settings_do_not_reach_candidates(sandbox: Sandbox) -> None:
    body = "import os\nreturn float('LD_BIND_NOW' in os.environ)"
    assert sandbox.run(candidate(body), "small").score == 0.0
