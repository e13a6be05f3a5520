"""The cascade's decisions and memory: screen, pick what the exact solver re-checks, learn from it.

Given screen estimates for a batch of designs, `Cascade.select` sends a
candidate to the exact solver when it is among the first `warmup` ever seen,
when its estimate is in the top `top_fraction` of all estimates so far (the
running distribution), or when it falls in the random calibration sample
(drawn from the candidate's code hash, so a resumed run draws the same). Every
exact solve becomes a training pair; with the surrogate screen, every
`finetune_every` new pairs fine-tune the network (mixed with the base data, so
it does not forget) and bump its version.

State lives in `state_dir` (the run directory's `surrogate/` folder), written
so a kill -9 at any instant loses at most the pairs of the batch in flight:
estimates are appended line by line, pairs are one file each, and a new
checkpoint is written whole and then renamed over the old one.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from evoforge.surrogates.model import Surrogate
from evoforge.surrogates.screens import Screen, SurrogateScreen
from evoforge.surrogates.training import fit_epochs

CHECKPOINT = "surrogate.pt"


@dataclass(frozen=True)
class CascadeConfig:
    """How much the exact solver re-checks: the top share, a calibration share, a warm-up."""

    screen: str = "surrogate"
    top_fraction: float = 0.05
    calibration: float = 0.02
    warmup: int = 4
    finetune_every: int = 8
    finetune_epochs: int = 4
    base_pairs: int = 128


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
        self.history: list[float] = []
        self.pairs: list[tuple[np.ndarray, np.ndarray]] = []
        self.unlearned = 0
        self.finetune_seconds = 0.0
        if state_dir is not None:
            self._restore(state_dir)

    @property
    def version(self) -> int | None:
        return self.screen.surrogate.version if isinstance(self.screen, SurrogateScreen) else None

    # -- decisions ---------------------------------------------------------
    def select(self, estimates: np.ndarray | None, codes: list[str]) -> list[Verdict]:
        """One verdict per candidate, in order; each estimate joins the running distribution."""
        if estimates is None:
            return [Verdict(True, "no screen", None, None) for _ in codes]
        verdicts = []
        for estimate, code in zip(estimates, codes, strict=True):
            verdicts.append(self._one(float(estimate), code))
            self._remember(float(estimate))
        return verdicts

    def _one(self, estimate: float, code: str) -> Verdict:
        if len(self.history) < self.config.warmup:
            return Verdict(True, "warm-up", estimate, None)
        cut = float(np.quantile(np.asarray(self.history) * self.sign, 1.0 - self.config.top_fraction))
        threshold = cut * self.sign
        if self.sign * estimate >= cut:
            return Verdict(True, "top", estimate, threshold)
        if _uniform(code) < self.config.calibration:
            return Verdict(True, "calibration", estimate, threshold)
        return Verdict(False, "screened out", estimate, threshold)

    def _remember(self, estimate: float) -> None:
        self.history.append(estimate)
        if self.state_dir is not None:
            with open(self.state_dir / "estimates.txt", "a") as log:
                log.write(f"{estimate!r}\n")

    # -- learning ----------------------------------------------------------
    def learn(self, design: np.ndarray, solution: np.ndarray, code: str) -> None:
        """Keep an exactly solved pair; fine-tune when enough new ones have come in."""
        self.pairs.append((design, solution))
        if self.state_dir is not None:
            name = self.state_dir / "pairs" / f"{hashlib.sha256(code.encode()).hexdigest()[:20]}.npz"
            np.savez(name.with_suffix(".partial.npz"), design=design, solution=solution)
            name.with_suffix(".partial.npz").replace(name)
        self.unlearned += 1
        if isinstance(self.screen, SurrogateScreen) and self.unlearned >= self.config.finetune_every:
            self._finetune(self.screen.surrogate)

    def _finetune(self, surrogate: Surrogate) -> None:
        designs = np.stack([d for d, _ in self.pairs])
        solutions = np.stack([s for _, s in self.pairs])
        if self.base is not None:
            order = np.random.default_rng(len(self.pairs)).permutation(len(self.base[0]))
            pick = order[: self.config.base_pairs]
            designs = np.concatenate([designs, self.base[0][pick]])
            solutions = np.concatenate([solutions, self.base[1][pick]])
        surrogate.meta["version"] = surrogate.version + 1
        started = time.perf_counter()
        fit_epochs(surrogate, designs, solutions, self.config.finetune_epochs, lr=3e-4)
        self.finetune_seconds += time.perf_counter() - started
        surrogate.meta["finetuned_pairs"] = len(self.pairs)
        self.unlearned = 0
        if self.state_dir is not None:
            surrogate.save(self.state_dir / CHECKPOINT)

    # -- state -------------------------------------------------------------
    def _restore(self, state_dir: Path) -> None:
        (state_dir / "pairs").mkdir(parents=True, exist_ok=True)
        settings = state_dir / "cascade.json"
        if not settings.exists():
            settings.write_text(json.dumps(asdict(self.config)))
        log = state_dir / "estimates.txt"
        if log.exists():
            self.history = [float(v) for v in log.read_text().split("\n")[:-1]]  # a torn last line is dropped
        for name in sorted(state_dir.glob("pairs/*[0-9a-f].npz"), key=lambda p: p.stat().st_mtime):
            with np.load(name) as pair:
                self.pairs.append((pair["design"], pair["solution"]))
        learned = int(self.screen.surrogate.meta.get("finetuned_pairs", 0)) if isinstance(
            self.screen, SurrogateScreen) else 0
        self.unlearned = max(0, len(self.pairs) - learned)


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
