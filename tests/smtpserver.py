"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, recording, with faults on demand.

Faults are queued replies or actions consumed in order:

- ``fail_mail``: replies to the next MAIL FROM commands (e.g. "421 ...");
  ``refuse_sender`` answers a reply for a sender address every time.
- ``fail_rcpt[address]``: replies to the next RCPT TO for that address;
  ``reject`` answers a permanent reply for an address every time.
- ``fail_data``: replies given after the next messages' data instead of 250.
- ``drop_mid_data``: how many of the next DATA transfers the server cuts
  off after the first line, closing the connection without an answer.
- ``hang_up_after_accept``: how many of the next messages the server keeps
  and then hangs up without saying 250: the window no client can see into.
- ``slow_replies`` / ``slow_reply``: how many of the next messages (after
  ``slow_after`` prompt ones) wait this many seconds before their 250 and are kept
  only then (``replying`` is set while one waits); a client that dies meanwhile loses the message, as with aiosmtpd
  itself, which cancels the handler when the connection goes.

With ``credentials``, the server offers AUTH (LOGIN/PLAIN, over plain TCP
here) and accepts only those. With ``tls`` it demands STARTTLS, or speaks
TLS from the start (``implicit_tls``). The port comes from binding a socket first: aiosmtpd's Controller
cannot be given port 0. ``delivery_config`` writes a config that points
digest at such a server.
"""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import subprocess
import threading
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import default
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from ruamel.yaml import YAML

from digest.config import Config, load_config


def server_tls(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A TLS context for 127.0.0.1 with a fresh self-signed certificate, and that certificate's file."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context, cert


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Received:
    mail_from: str
    recipients: tuple[str, ...]
    content: bytes

    @property
    def headers(self):
        return BytesHeaderParser(policy=default).parsebytes(self.content)


@dataclass
class Faults:
    fail_mail: deque[str] = field(default_factory=deque)
    fail_rcpt: dict[str, deque[str]] = field(default_factory=lambda: defaultdict(deque))
    reject: dict[str, str] = field(default_factory=dict)
    fail_data: deque[str] = field(default_factory=deque)
    refuse_sender: dict[str, str] = field(default_factory=dict)
    """MAIL FROM addresses answered with this reply every time."""
    drop_mid_data: int = 0
    hang_up_after_accept: int = 0
    slow_replies: int = 0
    slow_reply: float = 0.0
    slow_after: int = 0


class RecordingHandler:
    def __init__(self, faults: Faults):
        self.faults = faults
        self.messages: list[Received] = []
        self.lock = threading.Lock()
        self.connections = 0
        self.replying = threading.Event()
        self.dropped = 0
        """Messages whose client went away while their reply was delayed."""

    async def handle_EHLO(self, server, session: Session, envelope: Envelope, hostname: str, responses):
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, options):
        if self.faults.fail_mail:
            return self.faults.fail_mail.popleft()
        if address in self.faults.refuse_sender:
            return self.faults.refuse_sender[address]
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, options):
        queued = self.faults.fail_rcpt.get(address)
        if queued:
            return queued.popleft()
        if address in self.faults.reject:
            return self.faults.reject[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.faults.fail_data:
            return self.faults.fail_data.popleft()
        if self.faults.slow_replies and self.faults.slow_after:
            self.faults.slow_after -= 1
        elif self.faults.slow_replies:
            self.faults.slow_replies -= 1
            self.replying.set()
            try:
                await asyncio.sleep(self.faults.slow_reply)
            except asyncio.CancelledError:
                with self.lock:
                    self.dropped += 1
                raise
            finally:
                self.replying.clear()
        with self.lock:
            self.messages.append(Received(envelope.mail_from, tuple(envelope.rcpt_tos), envelope.original_content))
        if self.faults.hang_up_after_accept:
            self.faults.hang_up_after_accept -= 1
            server.transport.close()
        return "250 2.0.0 queued"


class _Authenticator:
    def __init__(self, credentials: tuple[str, str]):
        self.credentials = credentials

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            given = (auth_data.login.decode(), auth_data.password.decode())
            return AuthResult(success=given == self.credentials, handled=False)
        return AuthResult(success=False, handled=False)


class FaultySMTP(SMTP):
    """aiosmtpd's SMTP, able to hang up in the middle of a message's data."""

    async def smtp_DATA(self, arg: str) -> None:
        faults: Faults = self.event_handler.faults
        if faults.drop_mid_data and self.envelope.rcpt_tos and not arg:
            faults.drop_mid_data -= 1
            await self.push("354 End data with <CR><LF>.<CR><LF>")
            await self._reader.readuntil(b"\r\n")
            self.transport.close()
            return
        await super().smtp_DATA(arg)


class FaultyController(Controller):
    def factory(self) -> SMTP:
        return FaultySMTP(self.handler, **self.SMTP_kwargs)


class SmtpServer:
    """Start with ``with SmtpServer() as server:``; ``server.port`` is where it listens."""

    def __init__(
        self,
        credentials: tuple[str, str] | None = None,
        *,
        tls: ssl.SSLContext | None = None,
        implicit_tls: bool = False,
    ) -> None:
        self.faults = Faults()
        self.handler = RecordingHandler(self.faults)
        self.port = free_port()
        options: dict = {}
        if credentials is not None:
            options |= {"auth_require_tls": False, "authenticator": _Authenticator(credentials)}
        if tls is not None:
            options |= {"ssl_context": tls} if implicit_tls else {"tls_context": tls, "require_starttls": True}
        self.controller = FaultyController(self.handler, hostname="127.0.0.1", port=self.port, **options)

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[Received]:
        with self.handler.lock:
            return list(self.handler.messages)

    def copies_per_recipient(self) -> Counter[str]:
        return Counter(rcpt for message in self.messages for rcpt in message.recipients)

    def message_ids_per_recipient(self) -> dict[str, set[str]]:
        ids: dict[str, set[str]] = defaultdict(set)
        for message in self.messages:
            for rcpt in message.recipients:
                ids[rcpt].add(str(message.headers["Message-ID"]))
        return ids


REPO = Path(__file__).resolve().parent.parent


def delivery_config(
    tmp_path: Path,
    *,
    recipients: list[str] | str,
    port: int | None = None,
    smtp: dict | None = None,
    edition: dict | None = None,
    delivery: dict | None = None,
    feeds: list[str] | None = None,
) -> Config:
    """The bundled schedule.yaml, pointed at tmp_path (store, outbox, archive) and, given a port, an SMTP server."""
    data = YAML(typ="safe").load((REPO / "schedule.yaml").read_text(encoding="utf-8"))
    data["sources"]["seeds"] = str(REPO / "seeds")
    data["feeds"] = [{"url": url} for url in feeds or []]  # the seeds only, or local feed servers
    data["store"] = str(tmp_path / "digest.sqlite")
    data["delivery"] = {
        "outbox": str(tmp_path / "outbox"),
        "archive": str(tmp_path / "archive"),
        "base_url": "https://digest.example.org",
        **(delivery or {}),
    }
    data["editions"]["weekly"].update({"recipients": recipients, **(edition or {})})
    if port is not None:
        data["smtp"] = {
            "host": "127.0.0.1", "port": port, "security": "none", "rate": 10000, "retries": 3,
            "retry_delay": 0.01, "timeout": 10, **(smtp or {}),
        }
    path = tmp_path / "schedule.yaml"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")  # JSON is YAML
    return load_config(path)
