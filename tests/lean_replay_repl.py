#!/usr/bin/env python3
"""A REPLAY of real Lean REPL output, for tests on machines without Lean. Not a verifier.

It speaks leanprover-community/repl's wire protocol and answers each command with
what real Lean answered to the same command in the REPL's own test transcripts
(`../shared/data/lean/repl_transcripts/NAME.in` / `NAME.expected.out`, Lean
v4.33.0-rc2). Environment and proof-state ids are renumbered per process as the
REPL numbers them, and a command in an environment is matched to the recorded
command in the same recorded environment where it can be. `--constructed FILE`
adds answers that were NOT recorded from Lean (JSON lines with a "constructed"
note, same wire format) for cases the transcripts lack. A command with no
recorded answer gets `{"message": "replay: no recorded answer ..."}`.

For failure tests: `--stall-on TEXT` never answers a command containing TEXT,
`--exit-on TEXT` exits without answering, `--once-flag PATH` does either only
while PATH does not exist (then creates it), `--log PATH` appends every command.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

Entry = tuple[str, dict[str, Any], dict[str, Any]]


def default_transcripts() -> Path:
    from evoforge.data_paths import published_data_dir

    return published_data_dir() / "lean" / "repl_transcripts"


def blocks(text: str) -> list[str]:
    return [b for b in text.split("\n\n") if b.strip()]


def load_transcripts(folder: Path) -> list[Entry]:
    entries: list[Entry] = []
    for commands_file in sorted(folder.glob("*.in")):
        answers_file = commands_file.with_suffix(".expected.out")
        if not answers_file.is_file():
            continue
        commands = blocks(commands_file.read_text(encoding="utf-8"))
        answers = blocks(answers_file.read_text(encoding="utf-8"))
        for command_text, answer_text in zip(commands, answers, strict=False):
            try:
                entries.append((commands_file.stem, json.loads(command_text), json.loads(answer_text)))
            except json.JSONDecodeError:
                continue  # e.g. invalid_line_break.in sends a raw newline inside a string on purpose
    return entries


def load_constructed(path: Path) -> list[Entry]:
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            assert item.get("constructed"), f"{path}: every constructed answer must say so"
            entries.append(("constructed:" + item.get("name", "?"), item["command"], item["response"]))
    return entries


class Replay:
    """Recorded answers plus the per-process numbering of environments and proof states."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.envs: dict[int, tuple[str, int]] = {}
        self.states: dict[int, tuple[str, int]] = {}

    def answer(self, command: dict[str, Any]) -> dict[str, Any]:
        if "pickleTo" in command:
            return self._pickle(command)
        if "env" in command and command["env"] not in self.envs:
            return {"message": "Unknown environment."}
        if "tactic" in command and command.get("proofState") not in self.states:
            return {"message": "Unknown proof state."}
        found = self._find(command)
        if found is None:
            print(f"replay: no recorded answer for {json.dumps(command)[:300]}", file=sys.stderr)
            return {"message": "replay: no recorded answer for this command"}
        return self._renumber(*found)

    def _find(self, command: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        where = None
        if "env" in command:
            where = self.envs[command["env"]]
        elif "proofState" in command:
            where = self.states[command["proofState"]]
        same_kind = [(t, c, r) for t, c, r in self.entries if self._same_text(c, command)]
        for transcript, recorded, response in same_kind:
            recorded_id = recorded.get("env", recorded.get("proofState"))
            if where == (transcript, recorded_id):
                return transcript, response
        for transcript, recorded, response in same_kind:
            if ("env" in recorded) == ("env" in command) or "tactic" in command:
                return transcript, response
        return None

    @staticmethod
    def _same_text(recorded: dict[str, Any], command: dict[str, Any]) -> bool:
        keys = (
            "cmd",
            "tactic",
            "path",
            "pickleTo",
            "unpickleEnvFrom",
            "unpickleProofStateFrom",
            "allTactics",
            "rootGoals",
        )
        return all(recorded.get(k) == command.get(k) for k in keys)

    def _renumber(self, transcript: str, response: dict[str, Any]) -> dict[str, Any]:
        answer = json.loads(json.dumps(response))
        for item in [*answer.get("sorries", []), *answer.get("tactics", [])]:
            if "proofState" in item:
                item["proofState"] = self._new_state(transcript, item["proofState"])
        if "proofState" in answer:
            answer["proofState"] = self._new_state(transcript, answer["proofState"])
        if "env" in answer:
            live = len(self.envs)
            self.envs[live] = (transcript, answer["env"])
            answer["env"] = live
        return answer

    def _new_state(self, transcript: str, recorded: int) -> int:
        live = len(self.states)
        self.states[live] = (transcript, recorded)
        return live

    def _pickle(self, command: dict[str, Any]) -> dict[str, Any]:
        Path(command["pickleTo"]).parent.mkdir(parents=True, exist_ok=True)
        Path(command["pickleTo"]).write_text(json.dumps(command), encoding="utf-8")
        if "env" in command:
            return (
                {"env": command["env"]}
                if command["env"] in self.envs
                else {"message": "Unknown environment."}
            )
        if command.get("proofState") not in self.states:
            return {"message": "Unknown proof state."}
        found = self._find(command)
        return self._renumber(*found) if found else {"message": "replay: no recorded answer for this command"}


def read_commands(stream: Any) -> Any:
    """Commands as the REPL reads them: JSON objects separated by blank lines."""
    lines: list[str] = []
    for line in stream:
        if line.strip():
            lines.append(line)
            continue
        if lines:
            yield "".join(lines)
            lines = []
    if lines:
        yield "".join(lines)


def misbehave(text: str, args: argparse.Namespace) -> None:
    """Stall or exit on the chosen command (once, with --once-flag), as a hung or crashed Lean would."""
    for trigger, action in ((args.stall_on, "stall"), (args.exit_on, "exit")):
        if not trigger or trigger not in text:
            continue
        if args.once_flag:
            if Path(args.once_flag).exists():
                continue
            Path(args.once_flag).write_text(action, encoding="utf-8")
        if action == "stall":
            while True:
                time.sleep(60)
        sys.exit(3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transcripts", type=Path, default=default_transcripts())
    parser.add_argument("--constructed", type=Path, action="append", default=[])
    parser.add_argument("--stall-on")
    parser.add_argument("--exit-on")
    parser.add_argument("--once-flag")
    parser.add_argument("--log", type=Path)
    args = parser.parse_args()
    entries = load_transcripts(args.transcripts)
    for path in args.constructed:
        entries += load_constructed(path)
    replay = Replay(entries)
    for text in read_commands(sys.stdin):
        if args.log:
            with args.log.open("a", encoding="utf-8") as log:
                log.write(json.dumps(json.loads(text)) + "\n")
        misbehave(text, args)
        answer = replay.answer(json.loads(text))
        sys.stdout.write(json.dumps(answer, ensure_ascii=False, indent=1) + "\n\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
