"""Start or join a Ray cluster for one run.

Locally Ray is started with the machine's CPUs and no dashboard (it costs
memory and a port and a laptop user never opens it); `--address` joins an
existing cluster instead, where the actors then spread. Without `--address` a
run always starts its own local Ray (`address="local"`), even when a `ray start`
cluster is running on the machine: joining one is what `--address` is for.

Ray gives its node a fixed 30 s to register; on a busy machine (a laptop
compiling, a CI box running tests side by side) that start can time out while a
second try succeeds, so a timed-out start is tried again before it becomes the
run's error.
"""

from __future__ import annotations

import logging
import os

import ray

from evoforge.spec_errors import RunError

START_TRIES = 3
NODE_START_TIMEOUT = "failed to startup or the GCS has become overloaded"  # Ray's own words


def start_ray(address: str | None = None) -> None:
    """Idempotent: reuse a Ray already started in this process (tests, notebooks)."""
    if ray.is_initialized():
        return
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    if address:
        try:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=True)
        except ConnectionError as error:
            raise RunError(
                f"could not join the Ray cluster at {address} ({error}); start it with "
                "`ray start --head` or give the address it printed."
            ) from None
        return
    for attempt in range(1, START_TRIES + 1):
        try:
            _start_local_ray()
            return
        except Exception as error:  # Ray raises a bare Exception when its node misses the 30 s
            if NODE_START_TIMEOUT not in " ".join(str(error).split()):
                raise
            ray.shutdown()
            logging.getLogger(__name__).warning(
                "Ray's node did not start within Ray's fixed 30 s (try %d of %d); the machine is busy.",
                attempt, START_TRIES)
    raise RunError(f"Ray did not start in {START_TRIES} tries of 30 s each (the machine is too busy); "
                   "try again when it is less loaded, or join a running cluster with --address.")


def _start_local_ray() -> None:
    ray.init(
        address="local",
        num_cpus=os.cpu_count() or 1,
        include_dashboard=False,
        logging_level=logging.WARNING,
        log_to_driver=True,
        configure_logging=True,
    )
