"""Hostile candidates: one table of attacks, each run through the real sandbox in fork and spawn mode.

Every case checks its recorded outcome, then the same things after every
attack: the host folder (a world-writable victim file, a world-readable run
database) and a loopback listener are untouched, no process the candidate
started is left, and (fork mode, where trials share a server) the server was
not restarted and a normal candidate still scores exactly right in it. Zero
escapes, zero crashed runs.
"""

from __future__ import annotations

import dataclasses
import os
import re
import socket
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from string import Template

import pytest
from test_sandbox_support import GOOD, LIMITS, assert_no_stray_processes, candidate, write_spec

import evoforge.spec
from evoforge.sandboxes import Sandbox, SandboxMode, open_sandbox
from evoforge.sandboxes.fork_client import ForkSandbox

SECRET = "sk-evoforge-test-secret"
# A spawned trial's clock includes starting an interpreter; on a loaded shared machine 1 s of CPU
# can take many seconds of wall clock, so CPU burners run where the wall clock is far off.
HOSTILE_LIMITS = dataclasses.replace(LIMITS, wall_seconds=5.0)
PATIENT_LIMITS = dataclasses.replace(LIMITS, wall_seconds=60.0)
VICTIM_TEXT = "keep me"


@dataclass(frozen=True)
class Attack:
    """What the candidate runs (`$names` filled in from the host), and what must be recorded:
    a score, or an error matching `expect` (a regex searched in the error)."""

    name: str
    code: str
    expect: float | str
    input_key: str = "small"
    tail: str = ""  # text the output tail must hold
    patient: bool = False  # run under a long wall clock: the CPU limit must be what stops it


def attack(name: str, body: str, expect: float | str, **extra: str | bool) -> Attack:
    return Attack(name, candidate(body), expect, **extra)  # type: ignore[arg-type]


NOT_FOUND = r"^FileNotFoundError"
CHILD_STATE = """import ctypes, signal
nnp = ctypes.CDLL(None).prctl(39, 0, 0, 0, 0)
defaults = [signal.getsignal(s) == signal.SIG_DFL for s in (signal.SIGINT, signal.SIGTERM, signal.SIGXCPU)]
return float(nnp * 1000 + sum(d * 10 ** i for i, d in enumerate(defaults)))"""
OWN_DIRECTORY = """import os, tempfile
here = os.getcwd()
found = len(os.listdir(here))
open('left-behind', 'w').write('x')
tempfile.NamedTemporaryFile(delete=False).write(b'x')
same = os.environ['HOME'] == os.environ['TMPDIR'] == tempfile.gettempdir() == here
return float(found) if same else -1.0"""

ATTACKS = [
    # Resources: CPU, wall clock, memory, processes, output, files.
    attack("cpu-loop", "while True:\n    pass", r"^cpu limit", patient=True),
    attack("cpu-in-numpy", "import numpy as np\na = np.random.rand(400, 400)\nwhile True:\n"
                           "    a = np.tanh(a @ a)", r"^cpu limit", patient=True),
    attack("sleep", "import time\ntime.sleep(60)\nreturn 1.0", r"^timeout"),
    attack("ignore-sigterm", "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
                             "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                             "while True:\n    time.sleep(0.05)", r"^timeout"),
    attack("swallow-systemexit", "import time\nwhile True:\n    try:\n        time.sleep(0.05)\n"
                                 "        raise SystemExit(0)\n    except BaseException:\n        pass",
           r"^timeout"),
    attack("memory-bytearrays", "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 2**20))",
           r"^memory limit"),
    attack("memory-numpy", "import numpy as np\nreturn np.ones(10**10)", r"^memory limit"),
    attack("memory-small-objects", "kept = [bytes(400) for _ in range(700_000)]\nreturn float(len(kept))",
           r"^memory limit"),  # about 300 MB of Python objects under a 256 MB limit
    attack("fork-bomb", "import os\nwhile True:\n    os.fork()", "Resource temporarily unavailable"),
    attack("one-fork", "import os\nos.fork()\nreturn 1.0", "Resource temporarily unavailable"),
    attack("threads", "import threading\nthreading.Thread(target=print).start()\nreturn 1.0",
           "can't start new thread"),
    attack("stdout-flood", "while True:\n    print('x' * 2**20)", r"^output too large", tail="xxxx"),
    attack("print", "print('hello from the candidate')\nreturn 1.0", 1.0, tail="hello from the candidate"),
    attack("big-file", "with open('big.bin', 'wb') as f:\n    f.write(b'x' * (4 * 2**20))\nreturn 1.0",
           "File too large"),
    attack("fill-scratch", "for i in range(400):\n    open(f'f{i}', 'wb').write(b'x' * 2**20)\nreturn 1.0",
           "No space left on device"),
    attack("scratch-space-back", "open('f', 'wb').write(b'x' * 2**20)\nreturn 1.0", 1.0),
    attack("deep-directories", "import os\nfor _ in range(3000):\n    os.mkdir('d')\n    os.chdir('d')\n"
                               "return 1.0", 1.0),
    attack("own-directory", "open('notes.txt', 'w').write('abc')\n"
                            "return float(len(open('notes.txt').read()))", 3.0),
    attack("fresh-empty-directory", OWN_DIRECTORY, 0.0),  # nothing the cases above wrote
    # Ending the trial its own way.
    attack("sys-exit", "import sys\nsys.exit(0)", r"^SystemExit"),
    attack("os-exit", "import os\nos._exit(0)", r"^exited with status 0 before returning"),
    attack("segfault", "import ctypes\nreturn float(ctypes.string_at(0xdead0000000, 8)[0])",
           r"^crash: killed by SIGSEGV$"),
    # The host: network, files, processes, environment, privileges.
    attack("loopback", "import socket\nsocket.create_connection(('127.0.0.1', $port), timeout=1)\nreturn 1.0",
           "Network is unreachable"),
    attack("host-files", "import os\ntry:\n    os.remove('$victim')\n"
                         "finally:\n    open('$planted', 'w').write('x')", NOT_FOUND),
    attack("run-database", "return float(len(open('$database', 'rb').read()))", NOT_FOUND),
    attack("source-tree", "return float(len(open('$source_file').read()))", NOT_FOUND),
    attack("problem-folders", "import os\nreturn float(len(os.listdir('$problems')))", NOT_FOUND),
    attack("signal-the-evaluator", "import os, signal\nos.kill($host_pid, signal.SIGCONT)\nreturn 1.0",
           r"^ProcessLookupError"),
    attack("signal-the-server", "import os, signal\nos.kill($server_pid, signal.SIGCONT)\nreturn 1.0",
           r"^ProcessLookupError"),
    attack("kill-everything", "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\n"
                              "except ProcessLookupError:\n    return 0.0\nreturn 1.0", 0.0),
    attack("api-key", "import os\nreturn float(sum(len(v) for k, v in os.environ.items() if 'KEY' in k))",
           0.0),
    attack("secret-anywhere", "import os\nreturn float('$secret' in str(dict(os.environ)))", 0.0),
    attack("read-stdin", "import os\nreturn float(len(os.read(0, 1 << 20)))", 0.0),
    attack("uid", "import os\nreturn float(os.getuid())", 65534.0),
    attack("no-new-privileges", CHILD_STATE, 1111.0),
    attack("other-inputs", "return float(n)", 10.0, input_key="big"),
    # Faking the score: invalid results, lying objects, tampering, escape hatches, the result channel.
    attack("nan", "return float('nan')", r"^invalid result: score is nan$"),
    attack("numpy-inf", "import numpy as np\nreturn np.array([np.inf, 1.0])",
           r"^invalid result: score is inf$"),
    attack("huge-list", "return [0.0] * 10**7", r"^invalid result: expected a number, got list$"),
    attack("lying-object", "class Liar:\n    def __float__(self):\n        return 1e9\n"
                           "    def __eq__(self, other):\n        return True\nreturn Liar()",
           r"^invalid result: expected a number, got Liar$"),
    attack("float-subclass", "class Big(float):\n    def __add__(self, other):\n        return 1e9\n"
                             "return Big(1.0)", r"^invalid result: expected a number, got Big$"),
    attack("patch-numpy", "import numpy as np\nnp.sum = lambda *a, **k: 1e9\nreturn np.ones(3)",
           r"^candidate tampered with np\.sum$"),
    attack("patch-builtin", "import builtins\nbuiltins.isinstance = lambda *a: False\nreturn 1.0",
           r"^candidate tampered with isinstance$"),
    attack("patch-unused-builtin", "import builtins\nbuiltins.sorted = None\nreturn 1.0",
           r"^candidate tampered with builtins\.sorted$"),
    Attack("rebind-spec-while-loading", "import evoforge_problem_spec as spec\nspec.np = None\n" + GOOD,
           r"^candidate tampered with np$"),
    attack("frame-introspection", "import sys\nsys._getframe(1).f_globals['np'] = None\nreturn 1.0",
           r"^rejected: uses the introspection attribute"),
    attack("gc-walk", "import gc\nreturn float(len(gc.get_objects()))", r"^rejected:"),
    attack("fake-result-channel",
           "import os\nos.write(3, b'\\x00\\x00\\x00\\x0e{\"score\": 1e9}')\nos._exit(0)",
           r"^invalid result"),
    Attack("nested-lambdas", "f = " + "lambda: " * 1000 + "1\n" + GOOD, 6.0),  # deep, and harmless
    Attack("deep-expression", "x = " + "-" * 100_000 + "1\n" + GOOD, r"^rejected:"),
]


@dataclass
class Host:
    """What a candidate must not reach: files in a folder anyone may write, and a listening socket."""

    folder: Path
    listener: socket.socket

    @property
    def victim(self) -> Path:
        return self.folder / "victim.txt"

    @property
    def planted(self) -> Path:
        return self.folder / "planted.txt"

    @property
    def database(self) -> Path:
        return self.folder / "run.sqlite"

    def fill_in(self, code: str, sandbox: Sandbox) -> str:
        source = Path(evoforge.spec.__file__)
        return Template(code).substitute(
            victim=self.victim, planted=self.planted, database=self.database, secret=SECRET,
            port=self.listener.getsockname()[1], host_pid=os.getpid(), source_file=source,
            problems=source.parents[1] / "problems",
            server_pid=getattr(sandbox, "server_pid", None) or os.getpid())  # spawn mode has no server

    def assert_untouched(self) -> None:
        assert self.victim.read_text() == VICTIM_TEXT and not self.planted.exists()
        with pytest.raises(BlockingIOError):
            self.listener.accept()  # nothing connected


@pytest.fixture(scope="module")
def host() -> Iterator[Host]:
    folder = Path(tempfile.mkdtemp(prefix="evoforge-hostile-"))
    folder.chmod(0o777)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        opened = Host(folder, listener)
        opened.victim.write_text(VICTIM_TEXT)
        opened.victim.chmod(0o666)
        with sqlite3.connect(opened.database) as connection:
            connection.execute("CREATE TABLE secrets (value TEXT)")
            connection.execute("INSERT INTO secrets VALUES ('best program so far')")
        connection.close()
        opened.database.chmod(0o644)
        assert opened.database.stat().st_mode & stat.S_IROTH  # the uid drop alone would not protect it
        yield opened
    for item in folder.iterdir():
        item.unlink()
    folder.rmdir()


@pytest.fixture(scope="module", params=[SandboxMode.FORK, SandboxMode.SPAWN])
def sandboxes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
              host: Host) -> Iterator[dict[bool, Sandbox]]:
    """Per mode: the sandbox most attacks run in, and one with a far-off wall clock (by `patient`)."""
    spec = write_spec(tmp_path_factory.mktemp("spec"))
    os.environ.update(OPENAI_API_KEY=SECRET, EVOFORGE_RUN_DB=str(host.database))  # an evaluator's own
    try:
        with (open_sandbox(spec, mode=request.param, limits=HOSTILE_LIMITS) as usual,
              open_sandbox(spec, mode=request.param, limits=PATIENT_LIMITS) as patient):
            yield {False: usual, True: patient}
    finally:
        for name in ("OPENAI_API_KEY", "EVOFORGE_RUN_DB"):
            del os.environ[name]


@pytest.mark.parametrize("case", ATTACKS, ids=[case.name for case in ATTACKS])
def test_attack_is_contained(sandboxes: dict[bool, Sandbox], host: Host, case: Attack) -> None:
    sandbox = sandboxes[case.patient]
    restarts = getattr(sandbox, "restarts", 0)
    result = sandbox.run(host.fill_in(case.code, sandbox), case.input_key)
    if isinstance(case.expect, float):
        assert (result.error, result.score) == (None, case.expect), result
    else:
        assert result.score is None and re.search(case.expect, result.error or ""), result
    assert case.tail in result.output_tail and len(result.output_tail) <= 2000
    host.assert_untouched()
    assert_no_stray_processes(sandbox)
    if isinstance(sandbox, ForkSandbox):  # a spawned trial shares nothing with the next one
        assert sandbox.restarts == restarts
        assert sandbox.run(GOOD, "big").score == 20.0
