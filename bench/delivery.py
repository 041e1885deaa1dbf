"""Delivery speed: 1,000 personalised messages through digest's real send path,
next to a raw smtplib loop sending one prebuilt message to the same SMTP sink.

    .venv/bin/python bench/delivery.py [--readers 1000] [--runs 5]

The sink is a minimal asyncio SMTP server in its own process that only counts
messages, so the figures measure the sender, not a mail store. digest's path
includes everything a real send does: the per-reader ledger in SQLite
(pending -> sending -> sent, each a commit), per-reader substitution of To,
Message-ID and the unsubscribe link, and SMTP over one reused connection.
Prints medians and the machine's core count.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import smtplib
import socket
import statistics
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 23, 7, tzinfo=UTC)


def run_sink(port: int, ready: multiprocessing.Event) -> None:
    """An SMTP server that accepts everything and counts messages; `XCOUNT` asks how many."""
    import asyncio

    count = 0

    class Session(asyncio.Protocol):
        def connection_made(self, transport: asyncio.Transport) -> None:
            self.transport, self.buffer, self.in_data = transport, b"", False
            transport.write(b"220 sink ESMTP\r\n")

        def data_received(self, data: bytes) -> None:
            nonlocal count
            self.buffer += data
            while True:
                if self.in_data:
                    end = self.buffer.find(b"\r\n.\r\n")
                    if end < 0:
                        return
                    self.buffer, self.in_data = self.buffer[end + 5 :], False
                    count += 1
                    self.transport.write(b"250 OK queued\r\n")
                    continue
                line_end = self.buffer.find(b"\r\n")
                if line_end < 0:
                    return
                line, self.buffer = self.buffer[:line_end], self.buffer[line_end + 2 :]
                verb = line[:4].upper()
                if verb == b"EHLO":
                    self.transport.write(b"250-sink\r\n250-8BITMIME\r\n250 PIPELINING\r\n")
                elif verb == b"DATA":
                    self.in_data = True
                    self.transport.write(b"354 go ahead\r\n")
                elif verb == b"QUIT":
                    self.transport.write(b"221 bye\r\n")
                    self.transport.close()
                    return
                elif verb == b"XCOU":
                    self.transport.write(f"250 {count}\r\n".encode())
                else:
                    self.transport.write(b"250 OK\r\n")

    async def serve() -> None:
        server = await asyncio.get_running_loop().create_server(Session, "127.0.0.1", port)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sink_count(port: int) -> int:
    with smtplib.SMTP("127.0.0.1", port) as client:
        return int(client.docmd("XCOUNT")[1])


def readers(n: int) -> list[str]:
    return [f"reader{i:05d}@example.org" for i in range(n)]


def bench_config(folder: Path, port: int):
    from digest.config import load_config

    data = YAML(typ="safe").load((ROOT / "schedule.yaml").read_text(encoding="utf-8"))
    data["sources"]["seeds"] = str(ROOT / "seeds")
    data["feeds"] = []
    data["store"] = str(folder / "digest.sqlite")
    data["delivery"] = {"outbox": str(folder / "outbox"), "archive": str(folder / "archive"),
                        "base_url": "https://digest.example.org"}
    data["smtp"] = {"host": "127.0.0.1", "port": port, "security": "none", "rate": 1_000_000}
    path = folder / "schedule.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")
    return load_config(path)


def raw_seconds(port: int, message: bytes, addresses: list[str]) -> float:
    """The transport limit: one connection, one prebuilt message, smtplib's sendmail."""
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as client:
        for address in addresses:
            client.sendmail("digest@example.org", [address], message)
    return time.perf_counter() - start


def digest_seconds(port: int, addresses: list[str], result) -> tuple[float, int]:
    """digest's real send of an already built edition: ledger, personalisation, SMTP."""
    from digest.delivery.compose import compose
    from digest.delivery.ledger import SendKind, ensure_ledger
    from digest.delivery.sender import begin_send, deliver_send
    from digest.delivery.smtp import SmtpTransport
    from digest.store import connect

    with tempfile.TemporaryDirectory() as folder:
        config = bench_config(Path(folder), port)
        with closing(ensure_ledger(connect(config.store))) as conn:
            transport = SmtpTransport(config.smtp)
            start = time.perf_counter()
            outgoing = compose(config, "weekly", result.edition, date=NOW)
            record = begin_send(conn, outgoing, kind=SendKind.MANUAL, run_at=NOW, recipients=addresses,
                                transport=transport, now=NOW)
            report = deliver_send(conn, config, record, transport)
            elapsed = time.perf_counter() - start
            transport.close()
    return elapsed, report.sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readers", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from digest.config import load_config
    from digest.outputs import write_outputs
    from digest.pipeline import build_edition

    port = free_port()
    ready = multiprocessing.Event()
    sink = multiprocessing.Process(target=run_sink, args=(port, ready), daemon=True)
    sink.start()
    ready.wait(10)
    try:
        config = load_config(ROOT / "schedule.yaml")
        result = build_edition(config, None, now=NOW)
        with tempfile.TemporaryDirectory() as out:
            eml = next(p for p in write_outputs(result, Path(out), config) if p.suffix == ".eml").read_bytes()
        addresses = readers(args.readers)
        raw, ours = [], []
        for _ in range(args.runs):
            before = sink_count(port)
            raw.append(raw_seconds(port, eml, addresses))
            seconds, sent = digest_seconds(port, addresses, result)
            ours.append(seconds)
            assert sent == args.readers and sink_count(port) - before == 2 * args.readers
    finally:
        sink.terminate()
    raw_rate = args.readers / statistics.median(raw)
    our_rate = args.readers / statistics.median(ours)
    print(f"cores: {os.cpu_count()}  readers: {args.readers}  runs: {args.runs}  message: {len(eml):,} bytes")
    print(f"raw smtplib loop, prebuilt bytes: {raw_rate:8.0f} msgs/s (median {statistics.median(raw):.2f} s)")
    print(f"digest send (ledger + personalise): {our_rate:8.0f} msgs/s (median {statistics.median(ours):.2f} s)"
          f" = {100 * our_rate / raw_rate:.0f}% of raw")


if __name__ == "__main__":
    main()
