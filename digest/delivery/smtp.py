"""SMTP: one connection, opened on first use and reused for every message, with the
ledger commits placed around the end-of-data dot (see digest.delivery.sender)."""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping

from digest.config import SmtpConfig
from digest.delivery.transport import PermanentFailure, TemporaryFailure
from digest.errors import ConfigError, DeliveryError, variables_not_set


def _dot_stuffed(message: bytes) -> bytes:
    """The DATA payload without its terminator (RFC 5321 4.5.2).

    smtplib.SMTP.data() writes payload and terminating dot in one call; we
    need the ledger commit between the two, so the quoting is repeated here.
    """
    message = message.replace(b"\n.", b"\n..")
    if message.startswith(b"."):
        message = b"." + message
    return message if message.endswith(b"\r\n") else message + b"\r\n"


class SmtpTransport:
    """One SMTP connection, opened on first use and reused for every message."""

    def __init__(self, config: SmtpConfig, *, environ: Mapping[str, str] = os.environ):
        self.config = config
        self.rate = config.rate
        self.description = f"SMTP {config.host}:{config.port} ({config.security})"
        self._credentials = self._read_credentials(config, environ)
        self._smtp: smtplib.SMTP | None = None

    @staticmethod
    def _read_credentials(config: SmtpConfig, environ: Mapping[str, str]) -> tuple[str, str] | None:
        """User name and password, only ever from the environment variables the config names."""
        if not config.username_env and not config.password_env:
            return None
        if not (config.username_env and config.password_env):
            raise ConfigError("smtp: set both username_env and password_env, or neither")
        missing = [name for name in (config.username_env, config.password_env) if name not in environ]
        if missing:
            raise DeliveryError(f"SMTP credentials: {variables_not_set(missing)}")
        return environ[config.username_env], environ[config.password_env]

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        context = ssl.create_default_context()
        try:
            if config.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    config.host, config.port, timeout=config.timeout, context=context
                )
            else:
                smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        except (smtplib.SMTPException, OSError) as exc:
            raise self._connect_failure(exc) from None
        assert smtp.sock is not None, "given a host, smtplib connects in its constructor"
        try:
            # The end-of-data dot is a tiny write after a large one: without
            # this, Nagle's algorithm holds it until the body is acknowledged.
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo()
            if config.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if self._credentials:
                smtp.login(*self._credentials)
        except (smtplib.SMTPException, OSError) as exc:
            smtp.close()
            raise self._connect_failure(exc) from None
        return smtp

    def _connect_failure(self, exc: Exception) -> Exception:
        """A setup problem (login, TLS, a 5xx greeting) stops the send; anything else is retried."""
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return DeliveryError(f"{self.description}: login refused: {exc.smtp_code} {_text(exc.smtp_error)}")
        if isinstance(exc, (smtplib.SMTPNotSupportedError, ssl.SSLCertVerificationError)):
            return DeliveryError(f"{self.description}: {exc}")
        if isinstance(exc, smtplib.SMTPResponseException):
            reply = f"{exc.smtp_code} {_text(exc.smtp_error)}"
            if exc.smtp_code >= 500:
                return DeliveryError(f"{self.description}: refused the connection: {reply}")
            return TemporaryFailure(f"cannot connect: {reply}", connection_lost=True)
        return TemporaryFailure(f"cannot connect: {exc}", connection_lost=True)

    def deliver(
        self,
        envelope_from: str,
        recipient: str,
        message: bytes,
        *,
        edition_id: str,
        message_id: str,
        commit: Callable[[], None],
    ) -> str:
        if self._smtp is None:
            self._smtp = self._connect()
        smtp = self._smtp
        try:
            self._expect(smtp.mail(envelope_from), "MAIL FROM", sender=True)
            self._expect(smtp.rcpt(recipient), "RCPT TO")
            self._expect(smtp.docmd("DATA"), "DATA", wanted=354)
            smtp.send(_dot_stuffed(message))
            try:
                commit()
            except BaseException:
                self._drop()  # without the dot, the server discards the message
                raise
            smtp.send(b".\r\n")
            # Only the 250 says the server took the message: one that is still answering when
            # this process dies may drop the message with the connection (aiosmtpd does).
            return self._expect(smtp.getreply(), "end of data")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise TemporaryFailure(f"connection lost: {exc}", connection_lost=True) from None

    def _expect(self, reply: tuple[int, bytes], step: str, *, wanted: int = 250, sender: bool = False) -> str:
        code, raw = reply
        text = f"{code} {_text(raw)}"
        if code == wanted or (wanted == 250 and code == 251):
            return text
        if code == 421:
            self._drop()
            raise TemporaryFailure(f"{step}: {text}", connection_lost=True)
        self._reset()
        if 400 <= code < 500:
            raise TemporaryFailure(f"{step}: {text}")
        if sender:
            raise DeliveryError(f"{self.description} refused the sender {step}: {text}")
        raise PermanentFailure(f"{step}: {text}")

    def _reset(self) -> None:
        """Abandon the transaction; a server that will not even do that is dropped."""
        if self._smtp is None:
            return
        try:
            self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    def delivered_before(self, edition_id: str, recipient: str, message_id: str) -> bool | None:
        return None

    def close(self) -> None:
        if self._smtp is None:
            return
        try:
            self._smtp.quit()
        except (smtplib.SMTPException, OSError):
            self._smtp.close()
        self._smtp = None


def _text(raw: bytes | str) -> str:
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    return " ".join(text.split())
