"""scripts/bench (issue 18): its statistics, and one tiny run end to end on SQLite."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.cli import main as bench_main
from bench.stats import median, percentile, ratio

REPO = Path(__file__).resolve().parents[2]


def test_median_of_odd_and_even_counts() -> None:
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 3, 2]) == 2.5
    assert median([7]) == 7


def test_percentile_is_the_nearest_rank() -> None:
    values = list(range(1, 21))  # 1 … 20
    assert percentile(values, 95) == 19
    assert percentile(values, 100) == 20
    assert percentile(values, 50) == 10
    assert percentile([5.0], 95) == 5.0
    assert percentile(list(range(100, 0, -1)), 95) == 95  # order of the input does not matter


def test_statistics_refuse_what_has_no_answer() -> None:
    with pytest.raises(ValueError):
        median([])
    with pytest.raises(ValueError):
        percentile([], 95)
    with pytest.raises(ValueError):
        percentile([1.0], 0)
    assert ratio(3.0, 0.0) is None
    assert ratio(None, 2.0) is None
    assert ratio(3.0, 2.0) == 1.5


def test_an_unknown_key_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as leaving:
        bench_main(["--only", "import_ratio,speed_of_light"])
    assert leaving.value.code == 2
    assert "speed_of_light" in capsys.readouterr().err


def test_a_tiny_run_writes_the_keys_it_was_asked_for(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "bench", "--size", "300", "--repeat", "1"),
            *("--only", "import_ratio,dashboard_ms", "--json", str(out)),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["import_ratio"] > 0
    import_ratio = figures["raw"]["import_ratio"]
    assert figures["import_ratio"] == import_ratio["value"] / import_ratio["baseline"]
    assert figures["dashboard_ms"] > 0
    assert figures["raw"]["import_ratio"]["rows"] == 300
    assert figures["run"] == figures["run"] | {"db": "sqlite", "size": 300}
    assert "verify_ratio" not in figures  # only the keys asked for
    assert "import_ratio" in done.stdout  # the table
