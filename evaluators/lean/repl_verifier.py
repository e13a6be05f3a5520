"""The verifier over leanprover-community/repl: static rules, incremental check, final check.

1. The static rules (rules.py) reject what the candidate's text shows, without Lean.
2. The theorem is checked in the header's environment (`env` reuse): errors,
   `sorry` and unsolved goals come back from Lean as REJECTED.
3. What passed is checked again as one whole file in a fresh environment, ending
   with `#print axioms NAME`, which must list only the standard axioms.
A crashed REPL is restarted and the check retried once; a check past its time
kills its process and ends in TIMEOUT.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from evoforge.evaluators.lean.discovery import LeanSettings, find_repl
from evoforge.evaluators.lean.outcome import LeanMessage, Status, VerifyResult
from evoforge.evaluators.lean.repl_pool import HeaderFailed, ReplPool
from evoforge.evaluators.lean.repl_process import ReplCrashed, ReplProcess, ReplTimeout
from evoforge.evaluators.lean.rules import (
    axioms_used,
    judge_response,
    names_declared,
    nonstandard_axioms,
    static_violations,
)
from evoforge.evaluators.lean.task import ProofTask


class ReplVerifier:
    """One verifier for the search, `verify-lean` and the tests; raises BackendUnavailable if no Lean."""

    name = "repl"

    def __init__(self, settings: LeanSettings | None = None) -> None:
        self.settings = settings or LeanSettings.from_environment()
        self.command = find_repl(self.settings)
        self.pool = ReplPool(
            self.command,
            self.settings.processes,
            self.settings.memory_mb,
            header_timeout=max(600.0, self.settings.timeout_seconds),
        )

    @property
    def backend(self) -> str:
        return f"repl: {self.command.describe()}"

    def verify(self, task: ProofTask) -> VerifyResult:
        started = time.perf_counter()
        try:
            result = self._verify(task)
        except ReplTimeout as error:
            result = VerifyResult(
                Status.TIMEOUT, reason=f"{error} (limit {self.settings.timeout_seconds:g} s)"
            )
        except (ReplCrashed, HeaderFailed) as error:
            result = VerifyResult(Status.INTERNAL_ERROR, reason=str(error))
        except Exception as error:  # a bug or an odd answer must not end a batch of thousands
            result = VerifyResult(Status.INTERNAL_ERROR, reason=f"{type(error).__name__}: {error}")
        return _finish(result, started, self.backend)

    def _verify(self, task: ProofTask) -> VerifyResult:
        if self.settings.allow_native_decide and not task.allow_native_decide:
            from dataclasses import replace

            task = replace(task, allow_native_decide=True)
        violations = static_violations(task, names_declared(task.preamble))
        if violations:
            return VerifyResult(
                Status.REJECTED,
                tuple(v.message() for v in violations),
                reason=violations[0].text,
                extra={"rule": violations[0].rule},
            )
        timeout = self.settings.timeout_seconds
        incremental = self._with_process(
            task.header, lambda p: p.command(task.theorem_command(), env=p.header_env, timeout=timeout)
        )
        rejected = _rejection(incremental, "")
        if rejected is not None:
            return rejected
        final = self._with_process(task.header, lambda p: p.command(task.whole_file(), timeout=timeout))
        return _final_verdict(final, task.name, task.axioms_line)

    def _with_process(self, header: str, work: Callable[[ReplProcess], dict[str, Any]]) -> dict[str, Any]:
        """Run `work` on a leased process; after a crash, once more on a fresh one."""
        for attempt in (1, 2):
            try:
                with self.pool.lease(header) as process:
                    return work(process)
            except ReplCrashed:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def verify_stream(self, tasks: list[ProofTask], workers: int = 1) -> Iterator[tuple[int, VerifyResult]]:
        """(index, result) as each check finishes, at most `workers` in flight. The next check is
        submitted only when the consumer takes a result, so one that stops early (closes the
        stream: `stop_on_error`) starts no further check."""
        waiting = iter(enumerate(tasks))
        running: dict[Future[VerifyResult], int] = {}
        pool = ThreadPoolExecutor(max_workers=max(1, workers))

        def submit_next() -> None:
            for index, task in waiting:
                running[pool.submit(self.verify, task)] = index
                return

        try:
            for _ in range(max(1, workers)):
                submit_next()
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield running.pop(future), future.result()
                    submit_next()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> ReplVerifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _rejection(answer: dict[str, Any], stage: str) -> VerifyResult | None:
    """REJECTED (or INTERNAL_ERROR for a REPL-level failure) if Lean's answer breaks a rule."""
    judged = judge_response(answer)
    if judged.repl_error is not None:
        return VerifyResult(
            Status.INTERNAL_ERROR, judged.messages, reason=f"the REPL answered: {judged.repl_error}"
        )
    if judged.accepted:
        return None
    reason = f"{stage}{judged.errors[0].one_line()}" if judged.errors else f"{stage}the proof uses sorry"
    rule = {"rule": "sorry"} if judged.sorry else {}  # a rule broken, not a near miss: scores 0 in a search
    return VerifyResult(Status.REJECTED, judged.messages, judged.goals, reason=reason, extra=rule)


def _final_verdict(answer: dict[str, Any], name: str, axioms_line: int) -> VerifyResult:
    rejected = _rejection(answer, "the whole-file check in a fresh environment failed: ")
    if rejected is not None:
        return rejected
    messages = judge_response(answer).messages
    # Only the `#print axioms` line counts: a proof could `trace` a look-alike message of its own.
    axioms = axioms_used(tuple(m for m in messages if m.line == axioms_line), name)
    if axioms is None:
        return VerifyResult(Status.INTERNAL_ERROR, messages, reason=f"`#print axioms {name}` printed nothing")
    extra = nonstandard_axioms(axioms)
    if extra:
        message = LeanMessage.evoforge(f"[axioms] {name} depends on non-standard axioms: {', '.join(extra)}")
        return VerifyResult(
            Status.REJECTED,
            (*messages, message),
            axioms=axioms,
            extra={"rule": "axioms"},
            reason=f"depends on axioms beyond propext, Classical.choice, Quot.sound: {', '.join(extra)}",
        )
    return VerifyResult(Status.VERIFIED, messages, axioms=axioms)


def _finish(result: VerifyResult, started: float, backend: str) -> VerifyResult:
    from dataclasses import replace

    return replace(result, seconds=time.perf_counter() - started, backend=backend)
