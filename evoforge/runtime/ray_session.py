"""Start or join a Ray cluster for one run.

Locally Ray is started with the machine's CPUs and no dashboard (it costs
memory and a port and a laptop user never opens it); `--address` joins an
existing cluster instead, where the actors then spread.
"""

from __future__ import annotations

import logging
import os

import ray

from evoforge.spec_errors import RunError


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
    ray.init(
        num_cpus=os.cpu_count() or 1,
        include_dashboard=False,
        logging_level=logging.WARNING,
        log_to_driver=True,
        configure_logging=True,
    )
