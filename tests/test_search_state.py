"""The run state rebuilt from its SQLite file equals the state that wrote it."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from evoforge.agents.prompts import build_prompt
from evoforge.code_text import code_hash
from evoforge.records import BehaviourDuplicate, Candidate, Completion, Evaluation, TrialResult
from evoforge.search_state import SearchState
from evoforge.spec import load_problem
from tests.run_fixtures import make_small_bin_packing

DB_CONFIG = {"num_islands": 4, "reset_period_programs": 5}


def _candidate(k: int) -> Candidate:
    code = f"def priority(item, bins):\n    return -(bins - item) * {k + 1}\n"
    return Candidate(code, code_hash(code))


def _evaluation(rng: np.random.Generator) -> Evaluation:
    if rng.random() < 0.2:
        return Evaluation((TrialResult("uniform", None, "timeout"), TrialResult("small_items", -0.1)))
    scores = np.round(-rng.random(2) / 10, 2)
    trials = (TrialResult("uniform", float(scores[0])), TrialResult("small_items", float(scores[1])))
    return Evaluation(trials)


def _drive(state: SearchState, steps: int, seed: int) -> None:
    """Sample, evaluate and register like a run does, with made-up scores."""
    rng = np.random.default_rng(seed)
    for step in range(steps):
        prompt = state.next_prompt()
        k = int(rng.integers(0, 12))
        candidates = [_candidate(k), Candidate(None, None, "no function in the reply")]
        completions = [Completion(f"raw {step}a", "m", 5, 7), Completion(f"raw {step}b", "m", 5, 3)]
        for pending in state.record_batch(prompt, "prompt", completions, candidates):
            state.record_evaluation(pending, _evaluation(rng))


def _seeded_state(tmp_path: Path) -> SearchState:
    spec = load_problem(make_small_bin_packing(tmp_path / "problem"))
    state = SearchState(tmp_path / "run", spec, DB_CONFIG, seed=3)
    seed = state.seed_if_new()
    trials = (TrialResult("uniform", -0.2), TrialResult("small_items", -0.3))
    state.record_evaluation(seed, Evaluation(trials))
    return state


def test_reopened_state_has_the_same_islands_best_and_counters(tmp_path: Path) -> None:
    state = _seeded_state(tmp_path)
    _drive(state, 30, seed=0)
    expected = (state.best(), state.database.island_summaries(), vars(state.counters).copy())
    state.close()
    reopened = SearchState(tmp_path / "run", state.spec, DB_CONFIG, seed=3)
    assert (reopened.best(), reopened.database.island_summaries(), vars(reopened.counters)) == expected


def test_reopened_state_continues_the_prompt_stream(tmp_path: Path) -> None:
    state = _seeded_state(tmp_path)
    _drive(state, 12, seed=1)
    next_prompt = state.next_prompt()
    state.close()
    reopened = SearchState(tmp_path / "run", state.spec, DB_CONFIG, seed=3)
    assert reopened.next_prompt() == next_prompt


def test_duplicates_are_detected_across_a_reopen(tmp_path: Path) -> None:
    state = _seeded_state(tmp_path)
    prompt = state.next_prompt()
    first = state.record_batch(prompt, "p", [Completion("a", "m")], [_candidate(1)])
    assert len(first) == 1
    state.close()
    reopened = SearchState(tmp_path / "run", state.spec, DB_CONFIG, seed=3)
    again = reopened.record_batch(reopened.next_prompt(), "p", [Completion("b", "m")], [_candidate(1)])
    assert again == [] and reopened.counters.duplicates == 1
    assert [p.candidate_id for p in reopened.pending()] == [first[0].candidate_id]


def test_seed_is_only_added_to_a_new_run(tmp_path: Path) -> None:
    state = _seeded_state(tmp_path)
    assert state.seed_if_new() is None
    assert state.best() is not None and state.counters.valid == 1


def test_best_is_reported_as_the_spec_scores_it_whichever_the_direction(tmp_path: Path) -> None:
    """Islands rank "higher is better"; best() and the counters give back the raw @run score."""
    folder = make_small_bin_packing(tmp_path / "problem")
    toml = folder / "problem.toml"
    best_raw = {}
    for direction in ("maximize", "minimize"):
        toml.write_text(re.sub(r'direction = "\w+"', f'direction = "{direction}"', toml.read_text()))
        state = SearchState(tmp_path / direction, load_problem(folder), DB_CONFIG, seed=0)
        state.record_evaluation(state.seed_if_new(), Evaluation((TrialResult("uniform", 0.5),)))
        for pending in state.record_batch(state.next_prompt(), "p", [Completion("a", "m")], [_candidate(1)]):
            state.record_evaluation(pending, Evaluation((TrialResult("uniform", 0.1),)))
        best = state.best()
        assert best is not None and best.score == state.counters.best_score
        best_raw[direction] = best.score
        state.close()
    assert best_raw == {"maximize": 0.5, "minimize": 0.1}


def test_a_batch_past_the_budget_is_cut_so_stored_samples_never_exceed_it(tmp_path: Path) -> None:
    state = _seeded_state(tmp_path)
    completions = [Completion(f"raw {k}", "m") for k in range(5)]
    fresh = state.record_batch(state.next_prompt(), "p", completions, [_candidate(k) for k in range(5)],
                               budget=3)
    assert len(fresh) == 3 and state.counters.samples == 3
    assert state.record_batch(state.next_prompt(), "p", completions[:1], [_candidate(9)], budget=3) == []
    assert state.storage.count("samples") == 3


def test_a_behaviour_duplicate_raises_its_prompts_temperature_once_decided(tmp_path: Path) -> None:
    spec = load_problem(make_small_bin_packing(tmp_path / "problem"))
    state = SearchState(tmp_path / "run", spec, {"num_islands": 1}, seed=3, temperature=1.0,
                        temperature_ceiling=1.4)
    seed = state.seed_if_new()
    state.record_evaluation(seed, Evaluation((TrialResult("uniform", -0.2),)))
    prompt = state.next_prompt()
    assert prompt.temperature == 1.0
    pending = state.record_batch(prompt, "p", [Completion("a", "m"), Completion("b", "m")],
                                 [_candidate(1), _candidate(2)])
    state.record_behaviour_duplicate(pending[0], BehaviourDuplicate("same outputs", 0.01))
    assert state.temperatures.temperature(prompt.parent_ids) == 1.0  # one candidate still undecided
    state.record_evaluation(pending[1], Evaluation((TrialResult("uniform", -0.1),)))
    raised = state.temperatures.temperature(prompt.parent_ids)
    state.close()
    reopened = SearchState(tmp_path / "run", spec, {"num_islands": 1}, seed=3, temperature=1.0,
                        temperature_ceiling=1.4)
    assert raised == reopened.temperatures.temperature(prompt.parent_ids) == 1.1


def test_a_copy_of_a_behaviour_duplicate_stays_a_code_duplicate_after_a_resume(tmp_path: Path) -> None:
    state = _seeded_state(tmp_path)
    pending = state.record_batch(state.next_prompt(), "p", [Completion("a", "m")], [_candidate(1)])
    state.record_behaviour_duplicate(pending[0], BehaviourDuplicate("same outputs", 0.01))
    state.close()
    reopened = SearchState(tmp_path / "run", state.spec, DB_CONFIG, seed=3)
    assert reopened.record_batch(reopened.next_prompt(), "p", [Completion("b", "m")], [_candidate(1)]) == []
    assert reopened.storage.duplicate_reasons() == {"behaviour": 1, "code": 1}


def test_a_prompt_answered_with_known_code_asks_again_with_a_hint_a_resume_repeats(tmp_path: Path) -> None:
    spec = load_problem(make_small_bin_packing(tmp_path / "problem"))
    settings = {"temperature": 1.0, "temperature_ceiling": 1.4}
    state = SearchState(tmp_path / "run", spec, {"num_islands": 1}, seed=3, **settings)
    seed = state.seed_if_new()
    state.record_evaluation(seed, Evaluation((TrialResult("uniform", -0.2),)))
    first = state.next_prompt()
    asked = "Improved version of `priority_v0`."
    assert first.hint is None and f'{asked}"""' in build_prompt(spec, first, "completion").text
    copy_of_seed = Candidate(seed.code, code_hash(seed.code))
    assert state.record_batch(first, "p", [Completion("c", "m")], [copy_of_seed]) == []
    hinted, following = state.next_prompt(), state.next_prompt()
    assert hinted.parent_ids == first.parent_ids and hinted.temperature == 1.1
    assert hinted.hint and f"{asked} {hinted.hint}" in build_prompt(spec, hinted, "completion").text
    assert following.hint not in (None, hinted.hint)  # each prompt of a repeating pair asks another way
    state.close()
    reopened = SearchState(tmp_path / "run", spec, {"num_islands": 1}, seed=3, **settings)
    again = reopened.next_prompt()  # the two unanswered prompts were never stored: asked again, as they were
    assert (again.seed, again.temperature, again.hint) == (hinted.seed, 1.1, hinted.hint)
