"""The `evoforge` command. It only wires: parse options, call the library, print.

Errors a user can cause (bad spec, missing or damaged run, full disk,
unreachable model) end in one red sentence and exit code 2; anything else is a
bug and keeps its traceback. Which is which is decided in one place,
`evoforge.user_errors`. Text that comes from users, specs, candidates or runs
is printed as plain text, never as rich markup, so "[limits]" in a message
survives.
"""

from __future__ import annotations

import contextlib
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from evoforge.agents.base import LLAMA_CPP_XTC_PROBABILITY
from evoforge.user_errors import user_error_sentence

if TYPE_CHECKING:
    from evoforge.run_report import RunSummary
    from evoforge.sandboxes import SandboxMode
    from evoforge.spec import ProblemSpec

app = typer.Typer(add_completion=False, no_args_is_help=True, help="LLM-driven evolutionary search.")
out = Console()
err = Console(stderr=True)


def _print_error(message: str, label: str = "error:") -> None:
    """One red label and the message as plain text, unwrapped so paths stay whole."""
    err.print(Text.assemble((label, "red"), " ", message), soft_wrap=True)


ALSO_LLM_HELP = (
    "Another backend, as KEY=VALUE,... changes to this run's LLM settings (e.g. "
    "base_url=http://gpu-box:8000/v1,model=NAME, or backend=openai,...); repeatable. The strategy bandit "
    "then chooses the backend of each prompt too, rewarded by improvements.")
VLLM_ARG_HELP = "--llm vllm: an engine argument KEY=VALUE (JSON value), repeatable; kept for resume."
OUTAGE_HELP = "Minutes an LLM server that has answered may stay away before the run stops."


def _fail(message: str) -> typer.Exit:
    """Print one red sentence; the caller raises the returned Exit (code 2)."""
    _print_error(message)
    return typer.Exit(code=2)


@contextlib.contextmanager
def _user_errors(run_dir: Path | None = None) -> Iterator[None]:
    """Turn an error the user can fix into one red sentence and exit 2; bugs keep their traceback."""
    try:
        yield
    except Exception as error:
        sentence = user_error_sentence(error, run_dir)
        if sentence is None:
            raise
        _print_error(sentence)
        raise typer.Exit(code=2) from None


def _say(console: Console, text: str) -> None:
    """Print text that may hold brackets from users, specs or candidates, as it is."""
    console.print(text, markup=False, soft_wrap=True)


@app.command()
def problems() -> None:
    """List the built-in problems."""
    from evoforge.spec import builtin_problem_names, load_problem

    table = Table("name", "direction", "description")
    with _user_errors():
        for name in builtin_problem_names():
            spec = load_problem(name)
            first_line = (spec.description.strip().splitlines() or [""])[0]
            table.add_row(Text(name), spec.direction.value, Text(first_line))
    out.print(table)


@app.command()
def run(
    problem: Annotated[str, typer.Argument(help="Built-in name, problem folder, or FunSearch spec file.")],
    llm: Annotated[str | None, typer.Option(help="embedded|openai|vllm|transformers|PATH.gguf")] = None,
    base_url: Annotated[str | None, typer.Option(help="OpenAI-compatible endpoint (--llm openai).")] = None,
    model: Annotated[str | None, typer.Option(help="Model name or path for the backend.")] = None,
    samples: Annotated[int | None, typer.Option(help="Budget: LLM samples in total.")] = None,
    minutes: Annotated[float | None, typer.Option(help="Budget: wall-clock minutes in total.")] = None,
    run_dir: Annotated[Path | None, typer.Option(help="Where the run's database goes.")] = None,
    seed: Annotated[int | None, typer.Option(
        help="Seed for the program database and the sampling seeds (default: a fresh one, stored).")] = None,
    inputs: Annotated[str | None, typer.Option(help="Inputs as JSON (FunSearch spec files).")] = None,
    dataset: Annotated[Path | None, typer.Option(help="Published test set to report on.")] = None,
    samplers: Annotated[int | None, typer.Option(help="Sampler actors (prompts in flight).")] = None,
    evaluators: Annotated[int | None, typer.Option(help="Evaluator actors.")] = None,
    samples_per_prompt: Annotated[int | None, typer.Option(help="Completions per prompt.")] = None,
    temperature: Annotated[float | None, typer.Option(help="Sampling temperature.")] = None,
    max_temperature: Annotated[float | None, typer.Option(
        help="Ceiling of prompts answered with known code (default: 3.0 llama.cpp, else 1.2; the "
        "random arm: --temperature); at --temperature, such a prompt gets only a hint.")] = None,
    xtc_probability: Annotated[float | None, typer.Option(
        help="llama.cpp's XTC on completion prompts (funsearch, random): how often the model skips its "
        f"likeliest choices where it hesitates (default {LLAMA_CPP_XTC_PROBABILITY} for a model evoforge "
        "serves, 0 off).")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="Max new tokens per completion.")] = None,
    prompt_mode: Annotated[str | None, typer.Option("--mode", help="chat | completion | auto")] = None,
    strategy: Annotated[str | None, typer.Option(help="Prompts: funsearch|chat|diff|random|mix.")] = None,
    also_llm: Annotated[list[str] | None, typer.Option(help=ALSO_LLM_HELP, metavar="KEY=VALUE,...")] = None,
    threads: Annotated[int | None, typer.Option(
        help="CPU threads of a locally served model (default: every core, less one per evaluator when "
        "scoring a candidate takes over a second).")] = None,
    llm_outage_minutes: Annotated[float | None, typer.Option(help=OUTAGE_HELP)] = None,
    address: Annotated[str | None, typer.Option(help="Join this Ray cluster.")] = None,
    sandbox: Annotated[str | None, typer.Option(help="fork | spawn")] = None,
    unsafe_in_process: Annotated[bool, typer.Option(help="Run candidates in-process (debug).")] = False,
    theorem: Annotated[str | None, typer.Option(help="lean_proof problems: the statement to prove.")] = None,
    equation: Annotated[str | None, typer.Option(help="feynman: one equation id, e.g. I.10.7.")] = None,
    tier: Annotated[str | None, typer.Option(help="feynman: a tier, easy|medium|hard.")] = None,
    all_instances: Annotated[
        bool, typer.Option("--all", help="A search per instance: every feynman equation or lean statement.")
    ] = False,
    noise: Annotated[float, typer.Option(help="feynman: training noise, e.g. 0.01.")] = 0.0,
    csv: Annotated[Path | None, typer.Option(help="expression: your table (CSV with a header).")] = None,
    target: Annotated[str | None, typer.Option(help="expression: the column to explain.")] = None,
    split_column: Annotated[str | None, typer.Option(help="expression: train/valid/test/ood column.")] = None,
    screen: Annotated[str | None, typer.Option(help="Surrogate problems: surrogate|coarse|none.")] = None,
    vllm_arg: Annotated[list[str] | None, typer.Option(help=VLLM_ARG_HELP)] = None,
    gpu_memory_utilization: Annotated[float | None, typer.Option(help="--llm vllm: GPU share.")] = None,
    max_model_len: Annotated[int | None, typer.Option(help="--llm vllm: context length.")] = None,
    dtype: Annotated[str | None, typer.Option(help="--llm vllm: weight dtype, e.g. bfloat16.")] = None,
    tensor_parallel_size: Annotated[int | None, typer.Option(help="--llm vllm: GPUs per engine.")] = None,
) -> None:
    """Run an evolutionary search (an option not given takes RunConfig's / LLMConfig's default)."""
    from evoforge.agents.vllm_settings import engine_args_from_options
    from evoforge.commands.expressions import ExpressionOptions, plan_expression_run, run_expression_suite
    from evoforge.commands.lean import is_lean_problem, run_every_theorem, theorem_inputs
    from evoforge.run_config import RunConfig, parse_llm_changes
    from evoforge.runtime.session import run_search

    every_theorem = all_instances and is_lean_problem(problem)
    name = Path(problem).stem if problem.endswith(".py") else Path(problem).name
    run_dir = run_dir or _new_run_dir(name)
    with _user_errors():
        options = ExpressionOptions(equation, tier, all_instances and not every_theorem, noise, dataset, csv,
                                    target, split_column)
        plan = plan_expression_run(problem, options, run_dir)
    inputs = theorem_inputs(theorem, dataset) if theorem else inputs
    with _user_errors():
        engine_args = engine_args_from_options(
            vllm_arg, gpu_memory_utilization=gpu_memory_utilization, max_model_len=max_model_len,
            dtype=dtype, tensor_parallel_size=tensor_parallel_size,
        )  # fmt: skip
    llm_settings = {
        "backend": llm, "base_url": base_url, "model": model, "temperature": temperature,
        "max_temperature": max_temperature, "xtc_probability": xtc_probability,
        "max_tokens": max_tokens, "mode": prompt_mode, "threads": threads,
        "outage_seconds": llm_outage_minutes * 60 if llm_outage_minutes is not None else None,
        "engine_args": engine_args,
    }

    def session(problem: str, run_dir: Path, dataset: Path | None = dataset, inputs: str | None = inputs):
        with _user_errors():
            config = RunConfig.from_options(
                problem=str(Path(problem).resolve()) if Path(problem).exists() else problem,
                run_dir=run_dir, llm=llm_settings,
                also_llms=[parse_llm_changes(text) for text in also_llm or []],
                samples=samples, minutes=minutes, seed=seed,
                inputs_json=inputs, dataset=str(dataset.resolve()) if dataset else None,
                samplers=samplers, evaluators=evaluators, samples_per_prompt=samples_per_prompt,
                sandbox_mode="in-process" if unsafe_in_process else sandbox, address=address,
                strategy=strategy,
            )
            if screen is not None:
                from evoforge.spec import load_problem
                from evoforge.surrogates.cascade import choose_screen

                choose_screen(config.run_dir, screen, load_problem(config.problem, config.inputs_json).kind)
        return _run_session(lambda progress: run_search(config, progress), config.problem,
                            config.inputs_json, config.samples, config.run_dir)

    if every_theorem:  # one search per statement, each in RUN_DIR/NAME
        run_every_theorem(problem, dataset, run_dir, lambda theorem, directory: session(
            problem, directory, inputs=theorem_inputs(theorem, dataset)))
    elif plan is None:
        session(problem, run_dir)
    else:  # one line per equation (formula, recovered, out-of-domain error), then a summary
        run_expression_suite(plan, lambda folder, directory: session(folder, directory, None), out.print)


def _new_run_dir(name: str) -> Path:
    return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}"


@app.command()
def resume(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    samples: Annotated[int | None, typer.Option(help="New total sample budget.")] = None,
    minutes: Annotated[float | None, typer.Option(help="New total minutes budget.")] = None,
    llm_outage_minutes: Annotated[float | None, typer.Option(help=OUTAGE_HELP)] = None,
    base_url: Annotated[str | None, typer.Option(help="A new OpenAI-compatible endpoint.")] = None,
    model: Annotated[str | None, typer.Option(help="A new model name or path.")] = None,
) -> None:
    """Continue a stopped or killed run where it left off (on a server that moved: --base-url)."""
    from evoforge.runtime.session import load_run_config, resume_search

    with _user_errors(run_dir):
        config = load_run_config(run_dir)
    _run_session(
        lambda progress: resume_search(run_dir, progress, samples=samples, minutes=minutes,
                                       llm_outage_minutes=llm_outage_minutes,
                                       llm={"base_url": base_url, "model": model}),
        config.problem, config.inputs_json, samples or config.samples, run_dir,
    )


def _run_session(start, problem: str, inputs_json: str | None, budget: int, run_dir: Path) -> None:
    from evoforge.progress import Progress
    from evoforge.spec import load_problem

    try:
        with _user_errors(run_dir):
            spec = load_problem(problem, inputs_json)
            from evoforge.evaluators import check_backend

            check_backend(spec)  # e.g. no Lean: BACKEND_UNAVAILABLE before any actor starts
            _say(err, f"run directory: {run_dir}")
            with Progress(spec, budget, err, run_dir=run_dir) as progress:
                outcome = start(progress.update)
    except KeyboardInterrupt as interrupt:  # Ctrl-C, or SIGTERM (runtime.interrupts.Terminated)
        _say(err, f"\nstopped; continue with: evoforge resume {run_dir}")
        from evoforge.runtime.interrupts import interrupt_exit_code

        raise typer.Exit(code=interrupt_exit_code(interrupt)) from None
    _print_outcome(spec, outcome)
    if outcome.stopped_because:
        _print_error(outcome.stopped_because, label="stopped:")
        _say(err, f"the run is saved; continue with: evoforge resume {run_dir}")
        raise typer.Exit(code=1)
    return outcome


def _print_outcome(spec, outcome) -> None:
    c = outcome.counters
    _say(out, f"samples {c.samples}, evaluated {c.evaluated}, valid {c.valid}, duplicates {c.duplicates}")
    if outcome.best_code is None:
        _say(out, "no valid program yet")
        return
    _say(out, f"best {spec.report.label}: {spec.report.show(outcome.best_score)} (raw {outcome.best_score})")
    out.print(Syntax(outcome.best_code, "python"))
    for key, result in outcome.held_out.items():
        shown = result["shown"] if result["error"] is None else f"error: {result['error']}"
        _say(out, f"held-out {key}: {shown}")
    _say(out, f"run directory: {outcome.run_dir}")


@app.command()
def show(
    run_dir: Annotated[Path, typer.Argument(help="A run directory.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    plot: Annotated[Path | None, typer.Option(help="Write best score vs samples to this PNG.")] = None,
) -> None:
    """Show a run: best program, score history, counts."""
    from evoforge.run_report import check_plot_path, missing_meta_sentence, plot_history, summarize_run

    with _user_errors(run_dir):
        if plot:
            check_plot_path(plot)
        summary = summarize_run(run_dir)
    report = summary.report
    if plot:
        label = report.get("label", "score") + (f" ({report['unit']})" if report.get("unit") else "")
        with _user_errors():
            plot_history(summary, plot, scale=report.get("scale", 1.0), label=label)
    missing = missing_meta_sentence(summary)
    if missing:
        _print_error(missing, label="incomplete run:")
    if as_json:
        sys.stdout.write(json.dumps(summary.to_json(), indent=2) + "\n")
        return
    _print_summary(summary)
    if plot:
        _say(out, f"plot written to {plot}")
        _plot_best_design(summary, run_dir, plot)


def _plot_best_design(summary: RunSummary, run_dir: Path, plot: Path) -> None:
    """Surrogate-screened runs: the best design and its exact solution, beside the score plot."""
    from evoforge.surrogates.report import plot_best_design

    if summary.fidelity and summary.best_candidate_id is not None:
        design_plot = plot.with_name(f"{plot.stem}-design{plot.suffix}")
        if plot_best_design(run_dir, summary.best_candidate_id, summary.problem, design_plot):
            _say(out, f"best design and its solution: {design_plot}")


def _print_summary(summary: RunSummary) -> None:
    from evoforge.duplicate_report import duplicates_line, repeated_lines
    from evoforge.spec import ReportFormat
    from evoforge.surrogates.fidelity import line as fidelity_line

    shown = ReportFormat(**summary.report).show
    table = Table(show_header=False, title=Text(f"{summary.problem} · {summary.run_dir}"))
    for key in ("samples", "budget", "evaluated", "valid", "duplicates", "unparsed", "pending",
                "completion_tokens"):
        table.add_row(key, str(getattr(summary, key)))
    if summary.tokens_per_second is not None:
        busy = "-" if summary.llm_busy is None else f"{summary.llm_busy:.0%}"
        table.add_row("LLM", f"{summary.tokens_per_second:.1f} tok/s, busy {busy} of the search time")
    if "direction" not in summary.missing:
        table.add_row("seed", Text(f"{shown(summary.seed_score)} (raw {summary.seed_score})"))
        table.add_row("best", Text(f"{shown(summary.best_score)} (raw {summary.best_score})"))
    for key, result in summary.held_out.items():
        table.add_row(Text(f"held-out {key}"), Text(result["shown"] or f"error: {result['error']}"))
    out.print(table)
    if "direction" not in summary.missing:
        points = ", ".join(f"{x}: {shown(y)}" for x, y in summary.history)
        _say(out, f"best so far (samples: score): {points}")
    _print_strategies(summary)
    _say(out, duplicates_line(summary.duplicate_rates))
    for line in repeated_lines(summary.duplicate_rates):
        _say(out, line)
    if summary.top_errors:
        _say(out, "errors most often:")
    for why, count in summary.top_errors:
        _say(out, f"  {count:5d} × {why}")
    if summary.best_code:
        out.print(Syntax(summary.best_code, "python"))
    if summary.best_details.get("formula"):  # expression kinds: the fitted formula
        _say(out, f"formula: {summary.best_details['formula']}")
    if summary.best_details.get("metrics"):  # OpenEvolve problems: what evaluator.py returned
        _say(out, "metrics: " + json.dumps(summary.best_details["metrics"]))
    if summary.fidelity:
        _say(out, "screen fidelity (re-checked candidates): " + fidelity_line(summary.fidelity))


def _print_strategies(summary: RunSummary) -> None:
    """Per prompt strategy: how many samples, and what share parsed, repeated, scored, improved."""
    table = Table("strategy", "samples", "parsed %", "duplicate %", "valid %", "improvements",
                  title=f"prompt strategies (--strategy {summary.strategy})")
    for name, row in summary.strategies.items():
        table.add_row(name, *(str(row[key]) for key in
                              ("samples", "parsed_pct", "duplicate_pct", "valid_pct", "improvements")))
    if summary.strategies:
        out.print(table)


@app.command()
def evaluate(
    problem: Annotated[str, typer.Argument(help="Built-in name, problem folder, or FunSearch spec file.")],
    candidate: Annotated[Path, typer.Argument(help="A .py file with the function to score.")],
    dataset: Annotated[list[Path] | None, typer.Option(help="Published test set(s) to score on.")] = None,
    inputs: Annotated[str | None, typer.Option(help="Inputs as JSON (FunSearch spec files).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    unsafe_in_process: Annotated[bool, typer.Option(help="Run in-process (debug).")] = False,
    equation: Annotated[str | None, typer.Option(help="feynman: the equation id, e.g. I.10.7.")] = None,
    csv: Annotated[Path | None, typer.Option(help="expression: your table (CSV with a header).")] = None,
    target: Annotated[str | None, typer.Option(help="expression: the column to explain.")] = None,
    noise: Annotated[float, typer.Option(help="feynman: fit on training points with this noise.")] = 0.0,
) -> None:
    """Score a hand-written function on the problem's held-out inputs (or --dataset files)."""
    from evoforge.candidate_file import read_candidate_function
    from evoforge.commands.expressions import ExpressionOptions, evaluate_folder
    from evoforge.sandboxes import SandboxMode
    from evoforge.spec import load_problem

    mode = SandboxMode.IN_PROCESS if unsafe_in_process else SandboxMode.FORK
    with _user_errors():
        options = ExpressionOptions(equation=equation, dataset=(dataset or [None])[0], csv=csv, target=target,
                                    noise=noise)
        folder = evaluate_folder(problem, options)
        problem, dataset = (folder, None) if folder else (problem, dataset)
        spec = load_problem(problem, inputs)
        code = read_candidate_function(candidate, spec)
        results = _score_candidate(spec, code, dataset or [None], mode)
    _print_evaluation(spec, candidate, results, as_json)
    if any(r["error"] for r in results.values()):
        raise typer.Exit(code=1)


def _score_candidate(
    spec: ProblemSpec, code: str, datasets: list[Path | None], mode: SandboxMode
) -> dict[str, dict]:
    """Per input: score, score as shown, error and seconds, over the test split or each dataset."""
    from evoforge.evaluators import open_evaluator

    results = {}
    for path in datasets:
        evaluator = open_evaluator(spec, split="test", dataset=path, mode=mode)
        if not evaluator.input_keys:  # no held-out inputs (an OpenEvolve folder without evaluate_test)
            evaluator.close()
            _say(err, f"{spec.name} has no held-out inputs: scored on its training inputs (not held-out).")
            evaluator = open_evaluator(spec, split="train", dataset=path, mode=mode)
        try:
            evaluation = evaluator.evaluate(code)
        finally:
            evaluator.close()
        for t in evaluation.trials:
            results[t.input_key] = {
                "score": t.score, "shown": spec.report.show(t.score) if t.score is not None else None,
                "error": t.error, "seconds": round(t.seconds, 4),
                **({"details": evaluation.input_details(t.input_key)} if evaluation.details else {}),
            }
    return results


def _print_evaluation(spec, candidate: Path, results: dict, as_json: bool) -> None:
    from evoforge.commands.expressions import evaluation_lines

    if as_json:
        payload = {"problem": spec.name, "candidate": str(candidate), "metric": spec.report.label,
                   "scale": spec.report.scale, "unit": spec.report.unit, "results": results}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    table = Table()
    for header in ("input", Text(spec.report.label), "raw score", "error"):
        table.add_column(header)
    for key, r in results.items():
        table.add_row(Text(key), Text(r["shown"] or "-"), str(r["score"]), Text(r["error"] or ""))
    out.print(table)
    for line in evaluation_lines(results):  # expression kinds: the formula and the verdict
        _say(out, line)


from evoforge.commands.compare import compare  # noqa: E402
from evoforge.commands.lean import verify_lean  # noqa: E402
from evoforge.commands.report import report, serve  # noqa: E402

app.command("verify-lean")(verify_lean)
app.command()(report)
app.command()(serve)
app.command()(compare)
from evoforge.commands.surrogate import app as surrogate_app  # noqa: E402

app.add_typer(surrogate_app, name="surrogate")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
