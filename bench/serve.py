"""How fast `digest serve` answers: one-click unsubscribes, the sign-up form, an archive page.

    .venv/bin/python bench/serve.py [--requests 200] [--readers 1000]

Starts the application under uvicorn (in this process, on a free port, as the
browser tests do) with a store of --readers subscribers and a published
edition, then times sequential requests from one httpx client: POST one-click
unsubscribes (each a different reader: signature check, one SQLite write),
GET the sign-up form, GET the archive index. Prints the median and 95th
percentile latency of each, the server's processor time per request, and the
core count.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from smtpserver import delivery_config, free_port  # noqa: E402

from digest.delivery import subscribers  # noqa: E402
from digest.delivery.signing import signing_key, unsubscribe_url  # noqa: E402
from digest.store import connect  # noqa: E402
from digest.web.app import create_app  # noqa: E402


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(label: str, make: Callable[[int], httpx.Response], count: int) -> None:
    latencies = []
    started_cpu = cpu()
    for i in range(count):
        start = time.perf_counter()
        response = make(i)
        latencies.append(time.perf_counter() - start)
        assert response.status_code == 200, (label, response.status_code)
    spent = (cpu() - started_cpu) / count
    latencies.sort()
    p95 = latencies[int(0.95 * (count - 1))]
    print(f"{label:<34} median {statistics.median(latencies) * 1000:6.2f} ms  p95 {p95 * 1000:6.2f} ms  "
          f"processor {spent * 1000:6.2f} ms/request (client and server)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--readers", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        config = delivery_config(tmp, recipients=[], delivery={"base_url": base})
        readers = [f"reader{i}@example.org" for i in range(args.readers)]
        now = datetime.now(UTC)
        with closing(subscribers.ensure_subscribers(connect(config.store))) as conn:
            subscribers.add(conn, "weekly", readers, source=subscribers.Source.IMPORT, now=now)
            key = signing_key(config, conn)
        archive = tmp / "archive"
        archive.mkdir()
        (archive / "index.html").write_text("<!DOCTYPE html><title>archive</title>" + "<p>x</p>" * 500)
        (archive / "editions.json").write_text(json.dumps({"editions": []}))
        server = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning",
                                               access_log=False))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            with httpx.Client() as client:
                links = [unsubscribe_url(base, "weekly", reader, key, issued=now) for reader in readers]
                count = min(args.requests, len(links))
                timed("POST one-click unsubscribe", lambda i: client.post(links[i], data={
                    "List-Unsubscribe": "One-Click"}), count)
                timed("GET /subscribe/weekly (form)", lambda i: client.get(f"{base}/subscribe/weekly"), count)
                timed("GET / (archive index, 5 kB)", lambda i: client.get(f"{base}/"), count)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    print(f"{args.requests} requests each, {args.readers} subscribers; {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
