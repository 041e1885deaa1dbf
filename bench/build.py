"""How long `digest build` takes on generated feeds, as the corpus grows, and with nothing new.

    .venv/bin/python bench/build.py [--sizes 1000,5000,10000] [--runs 5] [--big-runs 5]

For each size (entries = feeds x 20), bench/corpus.py writes the feeds into a
temporary folder, a local HTTP server (in a process of its own, so that its
request handling shares no interpreter lock with this one's memory sampling)
serves them with ETag and Last-Modified over kept-alive HTTP/1.1 connections, and a copy of the bundled schedule.yaml enables them (seeds
off, so only the feeds are measured; a temporary store; per_host_delay 0,
since every feed is on 127.0.0.1 and the default spacing would serialise
them). Then, per run, with a fresh store:

- build: the real `digest build` command in a fresh process, timed as a
  whole (interpreter start, imports, fetch, every stage, writing the five
  files), with the processor time of it and its worker processes (less
  sensitive than wall time to a machine shared with other work), its per-stage times (BuildResult.timings; render+write timed
  around write_outputs) and its memory: peak RSS of the process (ru_maxrss),
  of its largest worker process (forked, so that counts the pages it still
  shares with the main one), and the peak of all of them together as PSS
  (shared pages split between the processes sharing them), sampled;
- publish: `digest send` at the same time to the outbox (one reader), which
  closes the edition's window (a build alone writes a draft and consumes
  nothing, so a second build would find the same entries new again); timed,
  not part of the figures;
- re-build: `digest build` again, a week later on the same store: every
  feed answers 304 and no entry is new since the published edition.

Medians over the runs (--big-runs for 10,000 entries and up). Also, once per
size: fetching alone (every feed downloaded, nothing parsed) and feedparser
parsing alone (one process), to split the "sources" stage, where both overlap.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

from ruamel.yaml import YAML  # noqa: E402

# The generator and the test server (which imports pytest) are imported where they are used,
# not here: the --child process must start like `digest build`, with digest's imports alone.

ENTRIES_PER_FEED = 20
A_WEEK = timedelta(days=7)
"""The re-build runs a week after the build."""


def write_config(folder: Path, base_url: str, feeds: list) -> Path:
    """The bundled schedule.yaml with the generated feeds enabled and everything else in ``folder``."""
    yaml = YAML()
    data = yaml.load((ROOT / "schedule.yaml").read_text(encoding="utf-8"))
    data["sources"]["seeds"] = None
    data["feeds"] = [
        {"url": f"{base_url}/{feed.filename}", "name": feed.name, "enabled": True}
        | ({"themes": list(feed.themes)} if feed.themes else {})
        | ({"include": list(feed.include)} if feed.include else {})
        for feed in feeds
    ]
    data["store"] = str(folder / "digest.sqlite")
    data["fetch"] = {"per_host_delay": 0}
    data["delivery"]["outbox"] = str(folder / "outbox")
    data["delivery"]["archive"] = str(folder / "archive")
    for edition in data["editions"].values():
        edition["recipients"] = ["reader@example.org"]
    path = folder / "schedule.yaml"
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(data, out)
    return path


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process it started (and they started), from /proc."""
    parent_of = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parent_of[int(stat.parent.name)] = int(fields[1])
    family = [pid]
    for candidate, parent in sorted(parent_of.items()):
        if parent in family:
            family.append(candidate)
    return family


def _pss_megabytes(pids: list[int]) -> float:
    """Proportional set size of these processes together: shared pages counted once in all."""
    total = 0
    for pid in pids:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:"))
    return total / 1024


def run_child(config: Path, out: Path, now: str) -> dict:
    """One `digest build` in a fresh process: its wall time, what it reported, and the peak
    memory of it and its worker processes together (PSS, sampled every 100 ms)."""
    out.mkdir(parents=True, exist_ok=True)
    report, errors = out / "report.json", out / "stderr.txt"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, __file__, "--child", str(config), str(out), now, str(report)],
            stdout=subprocess.DEVNULL, stderr=stderr,
        )
        peak = 0.0
        while process.poll() is None:
            peak = max(peak, _pss_megabytes(_descendants(process.pid)))
            time.sleep(0.1)
    wall = time.perf_counter() - start
    if process.returncode:
        sys.exit(f"digest build failed:\n{errors.read_text()}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"wall": wall, "cpu": cpu, "pss_all": peak, **json.loads(report.read_text(encoding="utf-8"))}


def publish(config: Path, now: str) -> float:
    """`digest send` to the outbox in a fresh process (it publishes the edition); its wall time."""
    start = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).with_name("digest")), "--quiet", "send", "--config", str(config), "--now", now],
        capture_output=True, text=True,
    )
    if done.returncode:
        sys.exit(f"digest send failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return time.perf_counter() - start


def child(config: str, out: str, now: str, report: str) -> None:
    """Run the `digest build` command with build_edition and write_outputs timed."""
    import digest.outputs
    import digest.pipeline
    from digest.cli.main import main as digest_main

    found: dict = {}
    build_edition, write_outputs = digest.pipeline.build_edition, digest.outputs.write_outputs

    def timed_build(*args, **kwargs):
        result = build_edition(*args, **kwargs)
        found["result"] = result
        return result

    def timed_write(*args, **kwargs):
        start = time.perf_counter()
        paths = write_outputs(*args, **kwargs)
        found["render+write"] = time.perf_counter() - start
        return paths

    digest.pipeline.build_edition, digest.outputs.write_outputs = timed_build, timed_write
    digest_main(["build", "--config", config, "--out", out, "--now", now], standalone_mode=False)
    result = found["result"]
    Path(report).write_text(json.dumps({
        "timings": dict(result.timings) | {"render+write": found["render+write"]},
        "stories": len(result.edition.stories),
        "drops": len(result.drops),
        "decisions": len(result.decisions),
        "pages": {source: sum(note.source == source for note in result.pages)
                  for source in ("fetched", "reused", "refused")},
        "warnings": list(result.warnings),
        "rss_self": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_workers": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }), encoding="utf-8")


def fetch_and_parse_alone(config_path: Path) -> tuple[float, float, int]:
    """Seconds to download every feed (no parsing), and to parse them all in one process
    (in a fresh process, as digest build runs)."""
    done = subprocess.run([sys.executable, __file__, "--alone", str(config_path)], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"fetching alone failed:\n{done.stderr}")
    fetch_seconds, parse_seconds, entries = json.loads(done.stdout)
    return fetch_seconds, parse_seconds, entries


def alone(config_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from digest.config import load_config
    from digest.sources.feeds import parse_feed
    from digest.sources.fetch import Fetcher, Validators

    config = load_config(config_path)
    urls = [feed.url for feed in config.feeds]
    start = time.perf_counter()
    with Fetcher(config.fetch) as fetcher, ThreadPoolExecutor(config.fetch.concurrency) as pool:
        fetched = list(pool.map(lambda url: fetcher.fetch(url, Validators()), urls))
    fetch_seconds = time.perf_counter() - start
    start = time.perf_counter()
    entries = sum(len(parse_feed(f.body, url=f.url, content_type=f.content_type).entries) for f in fetched)
    print(json.dumps([fetch_seconds, time.perf_counter() - start, entries]))


def _serve(routes: dict, connection) -> None:
    """In the server's own process: serve ``routes``, say where, and stop when the bench says so."""
    from feedserver import FeedServer

    server = FeedServer(keep_alive=True)
    for path, route in routes.items():
        server.route(path, route)
    connection.send(server.base)
    connection.recv()
    server.close()


def bench_size(entries: int, runs: int) -> dict:
    from corpus import NOW, write_corpus
    from feedserver import Route

    feeds_count = max(1, entries // ENTRIES_PER_FEED)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        corpus = folder / "corpus"
        feeds = write_corpus(corpus, feeds_count, ENTRIES_PER_FEED)
        modified = format_datetime(NOW - timedelta(hours=1), usegmt=True)
        routes = {}
        for feed in feeds:
            body = (corpus / feed.filename).read_bytes()
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
            routes[f"/{feed.filename}"] = Route(body, etag=etag, last_modified=modified)
        size = sum(len(route.body) for route in routes.values())
        ours, theirs = multiprocessing.Pipe()
        server = multiprocessing.get_context("fork").Process(target=_serve, args=(routes, theirs), daemon=True)
        server.start()
        del routes
        config = write_config(folder, ours.recv(), feeds)
        first: list[dict] = []
        sent: list[float] = []
        again: list[dict] = []
        try:
            for run in range(runs):
                (folder / "digest.sqlite").unlink(missing_ok=True)
                for suffix in ("-wal", "-shm", ".identity.json"):
                    (folder / f"digest.sqlite{suffix}").unlink(missing_ok=True)
                first.append(run_child(config, folder / f"out{run}", NOW.isoformat()))
                sent.append(publish(config, NOW.isoformat()))
                again.append(run_child(config, folder / f"again{run}", (NOW + A_WEEK).isoformat()))
                print(f"    run {run + 1}: build {first[-1]['wall']:.2f} s, send {sent[-1]:.2f} s, "
                      f"re-build {again[-1]['wall']:.2f} s ({again[-1]['stories']} stories)", flush=True)
            fetch_seconds, parse_seconds, parsed = fetch_and_parse_alone(config)
        finally:
            ours.send("stop")
            server.join(5)
    return {"entries": entries, "feeds": feeds_count, "megabytes": size / 2**20, "first": first,
            "sent": sent, "again": again, "fetch": fetch_seconds, "parse": parse_seconds, "parsed": parsed}


def median(values) -> float:
    return statistics.median(list(values))


def report(result: dict) -> None:
    first, again = result["first"], result["again"]
    stages: dict[str, list[float]] = defaultdict(list)
    for run in first:
        for stage, seconds in run["timings"].items():
            stages[stage].append(seconds)
    last = first[-1]
    print(f"  {result['entries']:,} entries ({result['feeds']} feeds x {ENTRIES_PER_FEED}, "
          f"{result['megabytes']:.1f} MB of RSS), {len(first)} runs:")
    print(f"    build, whole command: median {median(r['wall'] for r in first):.2f} s "
          f"({median(r['cpu'] for r in first):.1f} s of processor time, all its processes); "
          f"peak RSS {median(r['rss_self'] for r in first):.0f} MB (worker processes: "
          f"{median(r['rss_workers'] for r in first):.0f} MB at most, pages shared with it included); "
          f"all processes together {median(r['pss_all'] for r in first):.0f} MB at most (PSS)")
    print("    stages (median s): " + "  ".join(f"{s} {median(seconds):.2f}" for s, seconds in stages.items()))
    print(f"    sources split up (once): fetching alone {result['fetch']:.2f} s, "
          f"parsing alone {result['parse']:.2f} s in one process ({result['parsed']:,} entries)")
    pages = last["pages"]
    print(f"    full text (feeds' full_text: auto): {pages['fetched']} pages fetched, {pages['reused']} reused, "
          f"{pages['refused']} refused")
    print(f"    edition: {last['stories']} stories of {last['decisions']} after dedupe, "
          f"{last['drops']:,} items dropped, {len(last['warnings'])} warnings")
    print(f"    publish (digest send to the outbox, after the build): median {median(result['sent']):.2f} s")
    print(f"    re-build after it, nothing new: median {median(r['wall'] for r in again):.2f} s "
          f"({median(r['cpu'] for r in again):.1f} s of processor time) "
          f"(sources {median(r['timings']['sources'] for r in again):.2f} s, "
          f"{again[-1]['stories']} stories)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,5000,10000", help="entries per corpus, comma-separated")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--big-runs", type=int, default=5, help="runs for corpora of 10,000 entries or more")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--alone", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.alone:
        alone(args.alone)
        return
    print(f"cores: {os.cpu_count()} (usable: {len(os.sched_getaffinity(0))})  python {sys.version.split()[0]}")
    results = []
    for entries in (int(s) for s in args.sizes.split(",")):
        runs = args.big_runs if entries >= 10_000 else args.runs
        print(f"  generating and building {entries:,} entries ...", flush=True)
        results.append(bench_size(entries, runs))
        report(results[-1])
    if len(results) > 1:
        small, big = results[0], results[-1]
        ratio = median(r["wall"] for r in big["first"]) / median(r["wall"] for r in small["first"])
        print(f"  growth: {big['entries'] / small['entries']:.0f}x the entries -> {ratio:.1f}x the time")


if __name__ == "__main__":
    main()
