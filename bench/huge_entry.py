"""One huge single-paragraph document through `digest build`: time and peak memory.

Run: .venv/bin/python bench/huge_entry.py [--megabytes 1,2] [--runs 3]

For each size, a seed folder holds one document: a single paragraph of that
many megabytes of news-like sentences (no line break anywhere), and `digest
build` runs on it in a fresh process, as a user would. Prints the median wall
time, processor time and peak RSS (ru_maxrss of the build process) over the runs.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SENTENCES = (
    "The court ordered the government to halt exports of fighter jet parts within seven days.",
    "Aid agencies warned that food would run out within a week in the besieged district.",
    "Settlers set fire to olive groves near the village on Tuesday night, residents said.",
    "Dockworkers in the port refused to load a weapons shipment bound for the region.",
    "At least 41 people are missing after the boat capsized off the coast, the coast guard said.",
)


def write_project(folder: Path, megabytes: float) -> Path:
    seeds = folder / "seeds"
    seeds.mkdir()
    target = int(megabytes * 1024 * 1024)
    parts, size, i = [], 0, 0
    while size < target:
        sentence = f"{SENTENCES[i % len(SENTENCES)][:-1]} (report {i})."
        parts.append(sentence)
        size += len(sentence) + 1
        i += 1
    (seeds / "huge.txt").write_text(" ".join(parts) + "\n", encoding="utf-8")
    config = (ROOT / "schedule.yaml").read_text(encoding="utf-8")
    (folder / "schedule.yaml").write_text(config, encoding="utf-8")
    return folder / "schedule.yaml"


def run_build(config: Path, out: Path) -> tuple[float, float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "digest.cli.main", "build", "--config", str(config), "--out", str(out),
         "--now", "2026-12-01T07:00:00+00:00", "--offline"],
        capture_output=True, text=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"digest build failed:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", default="1,2")
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    for megabytes in (float(m) for m in options.megabytes.split(",")):
        walls, cpus, peaks = [], [], []
        for run in range(options.runs):
            folder = Path(tempfile.mkdtemp())
            try:
                wall, cpu, peak = run_build(write_project(folder, megabytes), folder / f"out{run}")
            finally:
                shutil.rmtree(folder)
            walls.append(wall)
            cpus.append(cpu)
            peaks.append(peak)
        print(f"{megabytes:g} MB single paragraph: build median {statistics.median(walls):.2f} s "
              f"({statistics.median(cpus):.2f} s of processor time), peak RSS of the largest build process "
              f"{max(peaks):.0f} MB ({options.runs} runs)", flush=True)


if __name__ == "__main__":
    main()
