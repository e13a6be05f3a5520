"""The cascade's decisions and memory: screen, pick what the exact solver re-checks, learn from it.

Given screen estimates for a batch of designs, `Cascade.select` sends a
candidate to the exact solver when it is among the first `warmup` ever seen,
when its estimate is in the top `top_fraction` of all estimates so far (the
running distribution, shared by the run's evaluators), or when it falls in the
random calibration sample (drawn from the candidate's code hash, so a resumed
run draws the same). Every exact solve becomes a training pair; with the
surrogate screen, once a batch is done, every `finetune_every` new pairs
fine-tune the network (mixed with the base data, so it does not forget) and
bump its version. Only the run's surrogate owner fine-tunes (`ownership.py`);
the other evaluators reload its checkpoint before each batch.

State lives in `state_dir` (the run directory's `surrogate/` folder), written
so a kill -9 at any instant loses at most the pairs of the batch in flight:
a batch's estimates are appended in one write, pairs are one file each, and a
new checkpoint is written whole and then renamed over the old one.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from evoforge.surrogates.model import Surrogate
from evoforge.surrogates.ownership import CheckpointWatch, Ownership
from evoforge.surrogates.running import RunningDistribution
from evoforge.surrogates.screens import Screen, SurrogateScreen
from evoforge.surrogates.training import fit_epochs

CHECKPOINT = "surrogate.pt"
FINETUNE_LOG = "finetunes.jsonl"


@dataclass(frozen=True)
class CascadeConfig:
    """How much the exact solver re-checks (top share, calibration share, warm-up), and the batch size."""

    screen: str = "surrogate"
    top_fraction: float = 0.05
    calibration: float = 0.02
    warmup: int = 4
    finetune_every: int = 8
    finetune_epochs: int = 4
    base_pairs: int = 128
    batch: int = 16  # the most candidates a run's evaluator screens in one forward pass


@dataclass(frozen=True)
class Verdict:
    exact: bool
    reason: str
    estimate: float | None
    threshold: float | None


class Cascade:
    """Decisions over a stream of candidates for one problem; `sign` is +1 to maximise, -1 to minimise."""

    def __init__(self, screen: Screen, config: CascadeConfig, sign: float, state_dir: Path | None = None,
                 base: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        self.screen = screen
        self.config = config
        self.sign = sign
        self.state_dir = state_dir
        self.base = base
        self.pairs: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # the owner's: every exact solve
        self.finetune_seconds = 0.0
        self.forward_passes = 0
        if state_dir is not None:
            (state_dir / "pairs").mkdir(parents=True, exist_ok=True)
            if not (state_dir / "cascade.json").exists():
                (state_dir / "cascade.json").write_text(json.dumps(asdict(config)))
        self.distribution = RunningDistribution(sign, state_dir / "estimates.txt" if state_dir else None)
        self.ownership = Ownership(state_dir)
        self._checkpoint = CheckpointWatch(state_dir / CHECKPOINT) if state_dir is not None else None
        if self.owner:
            self._read_pairs()
            self._keep_starting_checkpoint()

    def _keep_starting_checkpoint(self) -> None:
        """A new run's first checkpoint is the one it starts from; only the owner writes it (no race)."""
        state_dir = self.state_dir
        if state_dir and isinstance(self.screen, SurrogateScreen) and not (state_dir / CHECKPOINT).exists():
            self.screen.surrogate.save(state_dir / CHECKPOINT)

    @property
    def version(self) -> int | None:
        return self.screen.surrogate.version if isinstance(self.screen, SurrogateScreen) else None

    @property
    def owner(self) -> bool:
        return self.ownership.owner

    # -- before a batch ----------------------------------------------------
    def refresh(self) -> None:
        """The run's newest estimates and checkpoint; take over fine-tuning if its owner is gone."""
        self.distribution.sync()
        if self.owner or self._checkpoint is None:
            return
        if isinstance(self.screen, SurrogateScreen) and self._checkpoint.changed():
            self.screen.surrogate = Surrogate.load(self._checkpoint.path)
        if self.ownership.claim():
            self._read_pairs()

    # -- decisions ---------------------------------------------------------
    def select(self, estimates: np.ndarray | None, codes: list[str]) -> list[Verdict]:
        """One verdict per candidate, in order; the batch's estimates join the running distribution."""
        if estimates is None:
            return [Verdict(True, "no screen", None, None) for _ in codes]
        verdicts, entries = [], []
        for estimate, code in zip(estimates, codes, strict=True):
            verdicts.append(self._one(float(estimate), code))
            entries.append((float(estimate), code_id(code)))
            self.distribution.add(*entries[-1])
        self.distribution.append_to_log(entries)
        self.forward_passes += 1
        return verdicts

    def _one(self, estimate: float, code: str) -> Verdict:
        if len(self.distribution) < self.config.warmup:
            return Verdict(True, "warm-up", estimate, None)
        cut = self.distribution.quantile(1.0 - self.config.top_fraction)
        threshold = cut * self.sign
        if self.sign * estimate >= cut:
            return Verdict(True, "top", estimate, threshold)
        if _uniform(code) < self.config.calibration:
            return Verdict(True, "calibration", estimate, threshold)
        return Verdict(False, "screened out", estimate, threshold)

    # -- learning ----------------------------------------------------------
    def learn(self, design: np.ndarray, solution: np.ndarray, code: str) -> None:
        """Keep an exactly solved pair, on disk for the owner (and a resume) and in the owner's memory."""
        ident = code_id(code)
        if self.owner:
            self.pairs[ident] = (design, solution)
        if self.state_dir is not None:
            name = self.state_dir / "pairs" / f"{ident}.npz"
            np.savez(name.with_suffix(".partial.npz"), design=design, solution=solution)
            name.with_suffix(".partial.npz").replace(name)

    def after_batch(self) -> int | None:
        """The owner fine-tunes once enough new pairs (anyone's) came in: the new version, or None."""
        if not (self.owner and isinstance(self.screen, SurrogateScreen)):
            return None
        self._read_pairs()
        surrogate = self.screen.surrogate
        if len(self.pairs) - int(surrogate.meta.get("finetuned_pairs", 0)) < self.config.finetune_every:
            return None
        self._finetune(surrogate)
        return surrogate.version

    def _finetune(self, surrogate: Surrogate) -> None:
        designs = np.stack([d for d, _ in self.pairs.values()])
        solutions = np.stack([s for _, s in self.pairs.values()])
        if self.base is not None:
            order = np.random.default_rng(len(self.pairs)).permutation(len(self.base[0]))
            pick = order[: self.config.base_pairs]
            designs = np.concatenate([designs, self.base[0][pick]])
            solutions = np.concatenate([solutions, self.base[1][pick]])
        surrogate.meta["version"] = surrogate.version + 1
        started = time.perf_counter()
        fit_epochs(surrogate, designs, solutions, self.config.finetune_epochs, lr=3e-4)
        seconds = time.perf_counter() - started
        self.finetune_seconds += seconds
        surrogate.meta["finetuned_pairs"] = len(self.pairs)
        if self.state_dir is not None:
            surrogate.save(self.state_dir / CHECKPOINT)
            record = {"version": surrogate.version, "pairs": len(self.pairs), "pid": os.getpid(),
                      "seconds": round(seconds, 3), "at": time.time()}
            with open(self.state_dir / FINETUNE_LOG, "a") as log:
                log.write(json.dumps(record) + "\n")

    def _read_pairs(self) -> None:
        """Take in the pairs on disk not yet in memory (written by other evaluators, or before a resume)."""
        if self.state_dir is None:
            return
        new = [p for p in self.state_dir.glob("pairs/*[0-9a-f].npz") if p.stem not in self.pairs]
        for name in sorted(new, key=lambda p: p.stat().st_mtime):
            with np.load(name) as pair:
                self.pairs[name.stem] = (pair["design"], pair["solution"])

    def close(self) -> None:
        self.ownership.release()


def code_id(code: str) -> str:
    """A candidate's short id in the cascade's files: the first 20 hex digits of its code's SHA-256."""
    return hashlib.sha256(code.encode()).hexdigest()[:20]


def choose_screen(run_dir: Path, screen: str, kind: str) -> None:
    """Record `--screen` for a new run before it starts; its evaluator (and every resume) reads it."""
    from evoforge.spec_errors import SpecError
    from evoforge.surrogates.screens import SCREENS

    if kind != "surrogate_program":
        raise SpecError(f"--screen applies to surrogate-backed problems (kind surrogate_program), "
                        f"not to kind {kind!r}; drop --screen.")
    if screen not in SCREENS:
        raise SpecError(f"--screen {screen!r}: use one of {', '.join(SCREENS)}.")
    if (Path(run_dir) / "evoforge.db").exists():
        return  # an existing run keeps the screen it started with; run_search says the dir is taken
    state_dir = Path(run_dir) / "surrogate"
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "cascade.json").write_text(json.dumps(asdict(CascadeConfig(screen=screen))))


def stored_config(state_dir: Path | None) -> CascadeConfig | None:
    """The settings a run started with, so a resume screens the same way."""
    if state_dir is None or not (state_dir / "cascade.json").exists():
        return None
    return CascadeConfig(**json.loads((state_dir / "cascade.json").read_text()))


def _uniform(code: str) -> float:
    """A number in [0, 1) fixed by the code text: the calibration draw, the same after a resume."""
    return int(hashlib.sha256(code.encode()).hexdigest()[:12], 16) / 16**12
