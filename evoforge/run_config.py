"""One run's settings, stored in the run's database so `resume` needs nothing else.

Every default is defined once: here for the run, in `LLMConfig` for the
model. The CLI leaves an option it was not given as None and `from_options`
fills it from these classes, so the command line, a notebook and a stored run
can never disagree about a default.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import secrets
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from evoforge.agents.config import LLMConfig
from evoforge.agents.strategies import DEFAULT_STRATEGY, check_strategy
from evoforge.spec_errors import RunError


@dataclass(frozen=True)
class RunConfig:
    """What `evoforge run` was asked to do.

    `samples` counts LLM completions (the budget FunSearch reports); `minutes`
    bounds wall time across all sessions of the run, resumes included. `llm`
    holds every field of an `LLMConfig` (see `llm_settings`); `also_llms`, the
    same for each further backend, which the strategy bandit chooses among.
    """

    problem: str
    run_dir: Path
    samples: int = 200
    minutes: float | None = None
    seed: int = 0
    inputs_json: str | None = None
    dataset: str | None = None
    llm: dict[str, Any] = field(default_factory=dict)
    # Prompts in flight. A request holds the sampler until its slowest completion ends, so with 2
    # samplers x 4 the server decoded only 4.5 of its 8 slots on average; on the embedded model
    # 16 sequences decode at 1.7x the tok/s of 8 and 2.9x of 4 (see README, "Keeping the LLM busy").
    samplers: int = 4
    evaluators: int = 1
    samples_per_prompt: int = 4
    eval_queue_size: int = 16
    sandbox_mode: str = "fork"
    database: dict[str, Any] = field(default_factory=dict)
    address: str | None = None
    strategy: str = DEFAULT_STRATEGY  # how prompts are built: agents/strategies (mix: a bandit over them)
    also_llms: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        try:
            check_strategy(self.strategy)
        except ValueError as error:
            raise RunError(str(error)) from None
        if self.samples < 1:
            raise RunError(f"--samples {self.samples}: a run needs a budget of at least one sample.")
        if self.minutes is not None and self.minutes <= 0:
            raise RunError(f"--minutes {self.minutes}: give a positive number of minutes, or leave it out.")
        self.llm_arms()  # two backends with one label would be one arm: refused before anything starts

    def llm_arms(self) -> dict[str, dict[str, Any]]:
        """Every backend's settings by its label, the run's `llm` first."""
        arms: dict[str, dict[str, Any]] = {}
        for settings in (self.llm, *self.also_llms):
            label = llm_label(settings)
            if label in arms and settings.get("base_url") not in (None, arms[label].get("base_url")):
                # one model on two servers
                label = f"{label}@{urlsplit(settings['base_url']).netloc}"
            if label in arms:
                raise RunError(f"--also-llm: two backends are both called {label!r}; "
                               "give each its own model= or base_url=.")
            arms[label] = settings
        return arms

    @classmethod
    def from_options(cls, problem: str, run_dir: Path, llm: dict[str, Any],
                     also_llms: list[dict[str, Any]] | None = None, **options: Any) -> RunConfig:
        """A config from command-line options; one left as None takes the default defined here.
        Each of `also_llms` (from `--also-llm`) changes some of `llm`'s settings."""
        given = {key: value for key, value in options.items() if value is not None}
        given.setdefault("seed", fresh_run_seed())  # stored with the run, so a resume continues its seeds
        also = [further_llm_settings(llm, changes) for changes in also_llms or []]
        return cls(problem=problem, run_dir=run_dir, llm=llm_settings(llm), also_llms=also, **given)

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["run_dir"] = str(self.run_dir)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["run_dir"] = Path(values["run_dir"])
        return cls(**values)


def fresh_run_seed() -> int:
    """A run seed for a user who gave none: runs differ from each other, yet each one is replayable."""
    return secrets.randbelow(1 << 31)


def llm_settings(given: dict[str, Any]) -> dict[str, Any]:
    """All LLM settings, unset ones (None) at `LLMConfig`'s defaults, checked before anything starts."""
    try:
        config = LLMConfig(**{key: value for key, value in given.items() if value is not None})
    except ValueError as error:
        raise RunError(str(error)) from None
    return dataclasses.asdict(config)


def _number_settings() -> dict[str, bool]:
    """LLMConfig's number fields, each with whether it may be None (`null` clears an inherited one)."""
    hints = typing.get_type_hints(LLMConfig)
    numbers = {}
    for name, hint in hints.items():
        kinds = set(typing.get_args(hint)) or {hint}
        if kinds - {type(None)} <= {int, float} and kinds - {type(None)}:
            numbers[name] = type(None) in kinds
    return numbers


NUMBER_SETTINGS = _number_settings()


def llm_label(settings: dict[str, Any]) -> str:
    """How a backend is named in the run's samples and reports: its model, else its backend."""
    return str(settings.get("model") or Path(str(settings.get("backend") or "embedded")).name)


def further_llm_settings(llm: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A further backend's full settings: the run's LLM settings with `changes` (a new `backend`
    starts without the run's endpoint and model, which belong to the other backend), or one sentence
    naming the `--also-llm` that is wrong."""
    inherited = {k: v for k, v in llm.items() if "backend" not in changes or k not in ("base_url", "model")}
    try:
        return llm_settings({**inherited, **changes})
    except RunError as error:
        given = ",".join(f"{key}={value}" for key, value in changes.items())
        raise RunError(f"--also-llm {given}: {error}") from None


def parse_llm_changes(text: str) -> dict[str, Any]:
    """`--also-llm KEY=VALUE,...` as settings: numbers where LLMConfig has numbers (`null` for one
    that may be unset), JSON for `engine_args`, text for everything else."""
    known = {f.name for f in dataclasses.fields(LLMConfig)} - {"engine_actor"}
    changes: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, equals, value = part.partition("=")
        key, value = key.strip().replace("-", "_"), value.strip()
        if not equals or key not in known:
            raise RunError(f"--also-llm {text!r}: {part!r} is not KEY=VALUE with KEY one of "
                           f"{', '.join(sorted(known))}.")
        changes[key] = _setting_value(text, key, value)
    if not changes:
        raise RunError(f"--also-llm {text!r}: give the backend's settings, e.g. base_url=URL,model=NAME.")
    return changes


def _setting_value(text: str, key: str, value: str) -> Any:
    if key == "engine_args":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise RunError(f"--also-llm {text!r}: engine_args takes a JSON object.") from None
    if key not in NUMBER_SETTINGS:
        return value
    if value == "null" and NUMBER_SETTINGS[key]:
        return None
    for number in (int, float):
        with contextlib.suppress(ValueError):
            return number(value)
    raise RunError(f"--also-llm {text!r}: {key} takes a number, not {value!r}.")
