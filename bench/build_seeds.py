"""How long `digest build` takes on the seeds: whole command (cold process) and per stage.

    .venv/bin/python bench/build_seeds.py [--runs 5]

Prints medians over the runs and the machine's core count.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-23T07:00:00+00:00"


def command_seconds(runs: int) -> list[float]:
    digest = Path(sys.executable).with_name("digest")
    times = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(runs):
            start = time.perf_counter()
            subprocess.run([str(digest), "build", "--config", str(ROOT / "schedule.yaml"), "--out", out,
                            "--now", NOW], check=True, capture_output=True)
            times.append(time.perf_counter() - start)
    return times


def stage_seconds(runs: int) -> dict[str, list[float]]:
    from digest.config import load_config
    from digest.outputs import write_outputs
    from digest.pipeline import build_edition

    config = load_config(ROOT / "schedule.yaml")
    stages: dict[str, list[float]] = defaultdict(list)
    with tempfile.TemporaryDirectory() as out:
        for _ in range(runs):
            result = build_edition(config, None, now=datetime(2026, 11, 23, 7, tzinfo=UTC))
            for stage, seconds in result.timings:
                stages[stage].append(seconds)
            start = time.perf_counter()
            write_outputs(result, Path(out), config)
            stages["render+write"].append(time.perf_counter() - start)
    return stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print(f"cores: {os.cpu_count()}  runs: {runs}")
    print(f"digest build (whole command, cold start): median {statistics.median(command_seconds(runs)):.2f} s")
    for stage, seconds in stage_seconds(runs).items():
        print(f"  {stage:<13} median {1000 * statistics.median(seconds):8.1f} ms")


if __name__ == "__main__":
    main()
