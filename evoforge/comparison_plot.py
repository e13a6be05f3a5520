"""A comparison as a picture: per arm, the median best score against samples with its IQR band."""

from __future__ import annotations

from pathlib import Path

from evoforge.comparison import Comparison, RunCurve
from evoforge.comparison_stats import quartiles
from evoforge.run_report import check_plot_path

GRID_POINTS = 200


def plot_comparison(comparison: Comparison, out: Path) -> Path:
    """Median curves with interquartile bands per arm, up to the common budget (PNG, SVG, ...)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    check_plot_path(out)
    step = max(1, comparison.budget // GRID_POINTS)
    grid = list(range(0, comparison.budget + 1, step))
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for arm in comparison.arms:
        runs = [run for run in comparison.runs if run.arm == arm]
        xs, lows, mids, highs = _band(runs, grid)
        line, = ax.plot(xs, mids, drawstyle="steps-post", label=f"{arm} (n={len(runs)})")
        ax.fill_between(xs, lows, highs, step="post", alpha=0.2, color=line.get_color())
    unit = f" ({comparison.unit})" if comparison.unit else ""
    ax.set_xlabel("samples drawn")
    ax.set_ylabel(f"best {comparison.label}{unit}, {comparison.basis}")
    better = "higher" if comparison.higher_is_better else "lower"
    ax.set_title(f"evoforge compare · {comparison.problem} · median and IQR ({better} is better)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return Path(out)


def _band(runs: list[RunCurve], grid: list[int]) -> tuple[list[int], list[float], list[float], list[float]]:
    """Quartiles across runs at each grid point where at least one run has a score."""
    xs, lows, mids, highs = [], [], [], []
    for samples in grid:
        values = [v for v in (run.value_at(samples) for run in runs) if v is not None]
        if values:
            q1, median, q3 = quartiles(values)
            xs.append(samples)
            lows.append(q1)
            mids.append(median)
            highs.append(q3)
    return xs, lows, mids, highs
