"""The `evoforge` command. It only wires: parse options, call the library, print.

Errors a user can cause (bad spec, missing run, unreachable model) end in one
red sentence and exit code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from evoforge.spec_errors import SpecError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="LLM-driven evolutionary search.")
out = Console()
err = Console(stderr=True)

USER_ERRORS: tuple[type[BaseException], ...] = (SpecError, FileNotFoundError, FileExistsError)


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}")
    return typer.Exit(code=2)


@app.command()
def problems() -> None:
    """List the built-in problems."""
    from evoforge.spec import builtin_problem_names, load_problem

    table = Table("name", "direction", "description")
    for name in builtin_problem_names():
        spec = load_problem(name)
        table.add_row(name, spec.direction.value, spec.description.strip().splitlines()[0])
    out.print(table)


@app.command()
def run(
    problem: Annotated[str, typer.Argument(help="Built-in name, problem folder, or FunSearch spec file.")],
    llm: Annotated[str, typer.Option(help="embedded|openai|vllm|transformers|PATH.gguf")] = "embedded",
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint (--llm openai).")] = None,
    model: Annotated[str | None, typer.Option(help="Model name or path for the backend.")] = None,
    samples: Annotated[int, typer.Option(help="Budget: LLM samples in total.")] = 200,
    minutes: Annotated[float | None, typer.Option(help="Budget: wall-clock minutes in total.")] = None,
    run_dir: Annotated[Path | None, typer.Option(help="Where the run's database goes.")] = None,
    seed: Annotated[int, typer.Option(help="Seed for the program database.")] = 0,
    inputs: Annotated[str | None, typer.Option(help="Inputs as JSON (FunSearch spec files).")] = None,
    dataset: Annotated[Path | None, typer.Option(help="Published test set to report on.")] = None,
    samplers: Annotated[int, typer.Option(help="Sampler actors (prompts in flight).")] = 2,
    evaluators: Annotated[int, typer.Option(help="Evaluator actors.")] = 1,
    samples_per_prompt: Annotated[int, typer.Option(help="Completions per prompt.")] = 4,
    temperature: Annotated[float, typer.Option(help="Sampling temperature.")] = 1.0,
    max_tokens: Annotated[int, typer.Option(help="Max new tokens per completion.")] = 384,
    prompt_mode: Annotated[str, typer.Option("--mode", help="chat | completion | auto")] = "auto",
    threads: Annotated[int, typer.Option(help="CPU threads of a locally served model.")] = 1,
    address: Annotated[str | None, typer.Option(help="Join this Ray cluster.")] = None,
    sandbox: Annotated[str, typer.Option(help="fork | spawn")] = "fork",
    unsafe_in_process: Annotated[bool, typer.Option(help="Run candidates in-process (debug).")] = False,
    screen: Annotated[str | None, typer.Option(help="Surrogate problems: surrogate|coarse|none.")] = None,
) -> None:
    """Run an evolutionary search."""
    from evoforge.run_config import RunConfig
    from evoforge.runtime.session import run_search

    llm_settings = {
        "backend": llm, "base_url": base_url, "model": model, "temperature": temperature,
        "max_tokens": max_tokens, "mode": prompt_mode, "threads": threads,
    }
    name = Path(problem).stem if problem.endswith(".py") else Path(problem).name
    config = RunConfig(
        problem=str(Path(problem).resolve()) if Path(problem).exists() else problem,
        run_dir=run_dir or Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}",
        samples=samples, minutes=minutes, seed=seed, inputs_json=inputs,
        dataset=str(dataset.resolve()) if dataset else None,
        llm={k: v for k, v in llm_settings.items() if v is not None},
        samplers=samplers, evaluators=evaluators, samples_per_prompt=samples_per_prompt,
        sandbox_mode="in-process" if unsafe_in_process else sandbox, address=address,
    )
    if screen is not None:
        from evoforge.spec import load_problem
        from evoforge.surrogates.cascade import choose_screen

        try:
            choose_screen(config.run_dir, screen, load_problem(config.problem, config.inputs_json).kind)
        except USER_ERRORS as error:
            raise _fail(str(error)) from None
    _run_session(lambda progress: run_search(config, progress), config.problem, config.inputs_json,
                 config.samples, config.run_dir)


@app.command()
def resume(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    samples: Annotated[int | None, typer.Option(help="New total sample budget.")] = None,
    minutes: Annotated[float | None, typer.Option(help="New total minutes budget.")] = None,
) -> None:
    """Continue a stopped or killed run where it left off."""
    from evoforge.runtime.session import load_run_config, resume_search

    try:
        config = load_run_config(run_dir)
    except USER_ERRORS as error:
        raise _fail(str(error)) from None
    _run_session(
        lambda progress: resume_search(run_dir, progress, samples=samples, minutes=minutes),
        config.problem, config.inputs_json, samples or config.samples, run_dir,
    )


def _run_session(start, problem: str, inputs_json: str | None, budget: int, run_dir: Path) -> None:
    from evoforge.agents.base import LLMUnavailable
    from evoforge.progress import Progress
    from evoforge.spec import load_problem

    try:
        spec = load_problem(problem, inputs_json)
        err.print(f"run directory: {run_dir}")
        with Progress(spec, budget, err) as progress:
            outcome = start(progress.update)
    except (*USER_ERRORS, LLMUnavailable) as error:
        raise _fail(str(error)) from None
    except KeyboardInterrupt:
        err.print(f"\nstopped; continue with: evoforge resume {run_dir}")
        raise typer.Exit(code=130) from None
    _print_outcome(spec, outcome)
    if outcome.stopped_because:
        err.print(f"[red]stopped:[/red] {outcome.stopped_because}")
        err.print(f"the run is saved; continue with: evoforge resume {run_dir}")
        raise typer.Exit(code=1)


def _print_outcome(spec, outcome) -> None:
    c = outcome.counters
    out.print(
        f"samples {c.samples}, evaluated {c.evaluated}, valid {c.valid}, duplicates {c.duplicates}"
    )
    if outcome.best_code is None:
        out.print("no valid program yet")
        return
    out.print(f"best {spec.report.label}: {spec.report.show(outcome.best_score)} (raw {outcome.best_score})")
    out.print(Syntax(outcome.best_code, "python"))
    for key, result in outcome.held_out.items():
        shown = result["shown"] if result["error"] is None else f"error: {result['error']}"
        out.print(f"held-out {key}: {shown}")
    out.print(f"run directory: {outcome.run_dir}")


@app.command()
def show(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Write best score vs samples to this PNG.")] = None,
) -> None:
    """Show a run: best program, score history, counts."""
    from evoforge.run_report import plot_history, summarize_run
    from evoforge.spec import ReportFormat
    from evoforge.surrogates.fidelity import line as fidelity_line
    from evoforge.surrogates.report import plot_best_design

    try:
        summary = summarize_run(run_dir)
    except USER_ERRORS as error:
        raise _fail(str(error)) from None
    report = summary.report
    shown = ReportFormat(**report).show
    if plot:
        label = report.get("label", "score") + (f" ({report['unit']})" if report.get("unit") else "")
        plot_history(summary, plot, scale=report.get("scale", 1.0), label=label)
    if as_json:
        sys.stdout.write(json.dumps(summary.to_json(), indent=2) + "\n")
        return
    table = Table(show_header=False, title=f"{summary.problem} · {summary.run_dir}")
    for key in ("samples", "budget", "evaluated", "valid", "duplicates", "unparsed", "pending",
                "completion_tokens"):
        table.add_row(key, str(getattr(summary, key)))
    table.add_row("seed", f"{shown(summary.seed_score)} (raw {summary.seed_score})")
    table.add_row("best", f"{shown(summary.best_score)} (raw {summary.best_score})")
    for key, result in summary.held_out.items():
        table.add_row(f"held-out {key}", result["shown"] or f"error: {result['error']}")
    out.print(table)
    out.print("best so far (samples: score): " + ", ".join(f"{x}: {shown(y)}" for x, y in summary.history))
    for why, count in summary.top_errors:
        out.print(f"  {count:5d} × {why}")
    if summary.fidelity:
        out.print("screen fidelity (re-checked candidates): " + fidelity_line(summary.fidelity))
    if summary.best_code:
        out.print(Syntax(summary.best_code, "python"))
    if plot:
        out.print(f"plot written to {plot}")
        if summary.fidelity and summary.best_candidate_id is not None:
            design_plot = plot.with_name(f"{plot.stem}-design{plot.suffix}")
            if plot_best_design(run_dir, summary.best_candidate_id, summary.problem, design_plot):
                out.print(f"best design and its solution: {design_plot}")


@app.command()
def evaluate(
    problem: Annotated[str, typer.Argument(help="Built-in name, problem folder, or FunSearch spec file.")],
    candidate: Annotated[Path, typer.Argument(help="A .py file with the function to score.")],
    dataset: Annotated[list[Path] | None, typer.Option(help="Published test set(s) to score on.")] = None,
    inputs: Annotated[str | None, typer.Option(help="Inputs as JSON (FunSearch spec files).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    unsafe_in_process: Annotated[bool, typer.Option(help="Run in-process (debug).")] = False,
) -> None:
    """Score a hand-written function on the problem's held-out inputs (or --dataset files)."""
    from evoforge.candidate_file import read_candidate_function
    from evoforge.evaluators import open_evaluator
    from evoforge.spec import load_problem

    try:
        spec = load_problem(problem, inputs)
        code = read_candidate_function(candidate, spec.evolve_name)
    except USER_ERRORS as error:
        raise _fail(str(error)) from None
    from evoforge.sandboxes import SandboxMode

    mode = SandboxMode.IN_PROCESS if unsafe_in_process else SandboxMode.FORK
    results = {}
    for path in dataset or [None]:
        try:
            evaluator = open_evaluator(spec, split="test", dataset=path, mode=mode)
        except USER_ERRORS as error:
            raise _fail(str(error)) from None
        try:
            evaluation = evaluator.evaluate(code)
        finally:
            evaluator.close()
        for t in evaluation.trials:
            results[t.input_key] = {
                "score": t.score, "shown": spec.report.show(t.score) if t.score is not None else None,
                "error": t.error, "seconds": round(t.seconds, 4),
            }
    _print_evaluation(spec, candidate, results, as_json)
    if any(r["error"] for r in results.values()):
        raise typer.Exit(code=1)


def _print_evaluation(spec, candidate: Path, results: dict, as_json: bool) -> None:
    if as_json:
        payload = {"problem": spec.name, "candidate": str(candidate), "metric": spec.report.label,
                   "scale": spec.report.scale, "unit": spec.report.unit, "results": results}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    table = Table("input", spec.report.label, "raw score", "error")
    for key, r in results.items():
        table.add_row(key, r["shown"] or "-", str(r["score"]), r["error"] or "")
    out.print(table)


from evoforge.commands.surrogate import app as surrogate_app  # noqa: E402

app.add_typer(surrogate_app, name="surrogate")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
