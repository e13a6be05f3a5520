"""A user's own table: `evoforge evaluate/run expression --csv FILE --target COLUMN`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from evoforge.cli import app
from evoforge.expressions.table import read_table
from evoforge.spec_errors import SpecError


def kepler_table(path: Path, rows: int = 120, split_column: bool = False) -> Path:
    """Orbital periods T = 2 pi sqrt(a^3 / M), with column names that are not Python names."""
    rng = np.random.default_rng(1)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["semi major axis", "mass", "period", *(["split"] if split_column else [])])
        for i in range(rows):
            a, m = rng.uniform(0.5, 5), rng.uniform(0.5, 2)
            chosen = ["train", "valid", "test", "ood"][i % 4] if split_column else None
            writer.writerow([a, m, 2 * np.pi * np.sqrt(a**3 / m), *([chosen] if chosen else [])])
    return path


def test_the_automatic_split_holds_out_the_rows_farthest_from_the_centre(tmp_path) -> None:
    table = read_table(kepler_table(tmp_path / "kepler.csv"), "period")
    assert table.names == ["semi_major_axis", "mass"]
    counts = {s: int(np.sum(table.split == s)) for s in ("train", "valid", "test", "ood")}
    assert counts == {"train": 71, "valid": 15, "test": 16, "ood": 18}
    centre = np.median(table.x, axis=0)
    spread = np.median(np.abs(table.x - centre), axis=0)
    distance = np.max(np.abs(table.x - centre) / spread, axis=1)
    assert distance[table.split == "ood"].min() >= distance[table.split != "ood"].max()


def test_a_split_column_overrides_the_automatic_split(tmp_path) -> None:
    table = read_table(kepler_table(tmp_path / "kepler.csv", split_column=True), "period", "split")
    assert table.names == ["semi_major_axis", "mass"] and np.sum(table.split == "ood") == 30


def test_a_hand_written_law_is_scored_in_and_out_of_the_data_core(tmp_path) -> None:
    data = kepler_table(tmp_path / "kepler.csv")
    candidate = tmp_path / "kepler.py"
    candidate.write_text("import numpy as np\n\n\ndef equation(semi_major_axis, mass, params):\n"
                         "    return params[0] * np.sqrt(semi_major_axis**3 / mass)\n")
    result = CliRunner().invoke(app, ["evaluate", "expression", str(candidate), "--csv", str(data),
                                      "--target", "period", "--json"])
    assert result.exit_code == 0, result.output
    details = json.loads(result.stdout)["results"]["out_of_domain"]["details"]
    assert details["nmse_out_of_domain"] < 1e-20 and abs(details["constants"]["c0"] - 2 * np.pi) < 1e-9
    assert details["formula"] == "6.28319*sqrt(semi_major_axis**3/mass)"


def test_bad_tables_are_one_clear_sentence(tmp_path) -> None:
    data = kepler_table(tmp_path / "kepler.csv")
    with pytest.raises(SpecError, match="has no such column; its columns are semi major axis, mass, period"):
        read_table(data, "periode")
    broken = tmp_path / "broken.csv"
    broken.write_text(data.read_text().replace("\n", "\n0.5,oops,1\n", 1))
    with pytest.raises(SpecError, match=r"broken.csv:2: column mass holds 'oops', not a number"):
        read_table(broken, "period")
    result = CliRunner().invoke(app, ["run", "expression", "--csv", str(data)])
    assert result.exit_code == 2 and "--target COLUMN" in " ".join(result.output.split())
