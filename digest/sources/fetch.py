"""HTTP for feeds: polite, bounded and never trusting the server.

One ``Fetcher`` is shared by every feed of a run (httpx's client is safe to
share across threads). It sends conditional requests, spaces requests to the
same host, retries what may pass (timeouts, 5xx, 429) with tenacity's
exponential backoff, waiting what a ``Retry-After`` asks up to a cap, and caps
both time and size. The total timeout covers connecting, headers and body, and
a redirect may lead only to public addresses (digest.sources.netguard, under
every socket). The size cap counts *decompressed* bytes: httpx's own
decoders inflate each network chunk without a bound (a 64 KB gzip chunk can
become 64 MB), so bodies are read raw and inflated here with ``max_length``.
Every HTTP request digest makes goes through ``Fetcher.fetch``: feeds and pages alike.
"""

from __future__ import annotations

import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from urllib.parse import urlsplit

import httpcore
import httpx
import tenacity

from digest.config import FetchConfig
from digest.errors import FetchError, FetchFailure
from digest.models import assume_utc
from digest.sources.netguard import GuardedBackend

GZIP_MAGIC = b"\x1f\x8b"
NOT_FEEDS = ("image/", "audio/", "video/", "font/", "application/pdf", "application/zip")
"""Content types no feed is ever served as: refused before parsing a byte."""


MAX_RETRY_AFTER = 60.0
"""Seconds: the longest a ``Retry-After`` is waited for; a server asking more is not retried."""


class TransientFetchError(FetchError):
    """A failure that may pass on its own (timeout, 5xx, 429): worth a retry."""

    def __init__(
        self,
        message: str,
        retry_after: float | None = None,
        *,
        kind: FetchFailure = FetchFailure.OTHER,
        status: int | None = None,
        detail: str | None = None,
    ):
        super().__init__(message, kind, status, detail)
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """A Retry-After header (seconds or an HTTP date) as seconds from ``now``; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = assume_utc(parsedate_to_datetime(value))
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class Validators:
    """What the server gave us to make the next request conditional."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Fetched:
    url: str
    """The final URL, after redirects: relative links in the feed resolve against it."""
    status: int
    body: bytes
    content_type: str | None
    validators: Validators
    attempts: int = 1

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def human_size(size: int) -> str:
    for unit, factor in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= factor:
            return f"{size / factor:g} {unit}"
    return f"{size} bytes"


class _Inflater:
    """Undo one Content-Encoding, never producing more than ``limit`` bytes in all."""

    def __init__(self, encoding: str, limit: int):
        self.encoding = encoding
        self.limit = limit
        self.produced = 0
        self.decompressor = self._new()
        self.started = False

    def _new(self) -> zlib._Decompress:
        if self.encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(zlib.MAX_WBITS | 16)
        return zlib.decompressobj(zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        while data:
            try:
                out = self.decompressor.decompress(data, self.limit - self.produced + 1)
            except zlib.error as exc:
                if self.encoding == "deflate" and not self.started:
                    # Some servers send raw deflate without the zlib header.
                    self.decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
                    self.started = True
                    continue
                raise FetchError(f"corrupt {self.encoding} data ({exc})") from None
            self.started = True
            self.produced += len(out)
            if self.produced > self.limit:
                raise FetchError(
                    f"response larger than {human_size(self.limit)} after decompression", FetchFailure.TOO_LARGE
                )
            if out:
                yield out
            if self.decompressor.unconsumed_tail:
                data = self.decompressor.unconsumed_tail
            elif self.decompressor.eof and self.decompressor.unused_data:
                # Concatenated gzip members: each inflates on its own.
                data = self.decompressor.unused_data
                self.decompressor = self._new()
            else:
                data = b""


def inflate(chunks: Iterable[bytes], encodings: Iterable[str], limit: int) -> bytes:
    """Join ``chunks`` after undoing ``encodings`` (in the order applied), bounded by ``limit``."""
    stream: Iterable[bytes] = chunks
    for encoding in encodings:
        if encoding in ("", "identity"):
            continue
        if encoding not in ("gzip", "x-gzip", "deflate"):
            raise FetchError(f"unsupported content encoding {encoding!r}")
        stream = _inflated(stream, _Inflater(encoding, limit))
    body = bytearray()
    for chunk in stream:
        body += chunk
        if len(body) > limit:
            raise FetchError(f"response larger than {human_size(limit)}", FetchFailure.TOO_LARGE)
    return bytes(body)


def _inflated(chunks: Iterable[bytes], inflater: _Inflater) -> Iterator[bytes]:
    for chunk in chunks:
        yield from inflater.feed(chunk)


def gunzip_if_gzipped(data: bytes, limit: int) -> bytes:
    """A .gz file served (or stored) without Content-Encoding is still a feed once inflated."""
    if data.startswith(GZIP_MAGIC):
        return inflate([data], ["gzip"], limit)
    return data


class HostSpacer:
    """Keeps requests to one host at least ``delay`` seconds apart, across threads."""

    def __init__(
        self,
        delay: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.delay = delay
        self.clock = clock
        self.sleep = sleep
        self.lock = threading.Lock()
        self.next_slot: dict[str, float] = {}

    def wait(self, url: str) -> None:
        """Block until this thread may send a request to ``url``'s host (slots are handed out in order)."""
        host = (urlsplit(url).hostname or "").lower()
        with self.lock:
            now = self.clock()
            slot = max(now, self.next_slot.get(host, now))
            self.next_slot[host] = slot + self.delay
        if slot > now:
            self.sleep(slot - now)


class Fetcher:
    """Fetches feed URLs under the limits of a FetchConfig."""

    def __init__(
        self, settings: FetchConfig, *, backoff: float = 1.0, sleep: Callable[[float], None] = time.sleep
    ):
        self.settings = settings
        self.backoff = backoff
        """Seconds before the first retry; doubled for each further one."""
        self.sleep = sleep
        self.spacer = HostSpacer(settings.per_host_delay)
        self.network = GuardedBackend()
        transport = httpx.HTTPTransport(limits=httpx.Limits(max_connections=settings.concurrency))
        # httpx takes no network backend of its own: its pool is rebuilt on the guarded one
        # (without proxies, which would connect on digest's behalf out of the guard's sight).
        transport._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=settings.concurrency,
            network_backend=self.network,
        )
        self.client = httpx.Client(
            transport=transport,
            headers={
                "User-Agent": settings.user_agent,
                "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
                "text/xml;q=0.9, */*;q=0.5",
                "Accept-Encoding": "gzip, deflate",
            },
            timeout=httpx.Timeout(
                connect=settings.connect_timeout,
                read=min(settings.read_timeout, settings.total_timeout),
                write=settings.read_timeout,
                pool=settings.total_timeout,
            ),
            follow_redirects=True,
            max_redirects=settings.max_redirects,
        )

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()
        self.network.close()

    def fetch(self, url: str, validators: Validators = Validators()) -> Fetched:
        """GET ``url``; a 304 comes back with an empty body. Raises FetchError."""
        try:
            httpx.URL(url)
            urlsplit(url)
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchError(f"invalid URL ({exc})") from None
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(self._worth_retrying),
            stop=tenacity.stop_after_attempt(self.settings.retries + 1),
            wait=self._wait,
            sleep=self.sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    fetched = self._attempt(url, validators)
        except TransientFetchError as exc:
            attempts = retrying.statistics["attempt_number"]
            more = f" after {attempts} attempts" if attempts > 1 else ""
            if exc.retry_after is not None and exc.retry_after > MAX_RETRY_AFTER:
                more += f" (the server asks to wait {exc.retry_after:g}s, more than {MAX_RETRY_AFTER:g}s)"
            raise FetchError(f"{exc}{more}", exc.kind, exc.status, f"{exc.detail}{more}") from None
        return replace(fetched, attempts=retrying.statistics["attempt_number"])

    @staticmethod
    def _worth_retrying(exc: BaseException) -> bool:
        if not isinstance(exc, TransientFetchError):
            return False
        return exc.retry_after is None or exc.retry_after <= MAX_RETRY_AFTER

    def _wait(self, state: tenacity.RetryCallState) -> float:
        """Exponential backoff, or what the server's Retry-After asked if that is longer."""
        backoff = self.backoff * 2.0 ** (state.attempt_number - 1)
        exc = state.outcome.exception() if state.outcome else None
        asked = exc.retry_after if isinstance(exc, TransientFetchError) else None
        return max(backoff, asked or 0.0)

    def _attempt(self, url: str, validators: Validators) -> Fetched:
        headers = {}
        if validators.etag:
            headers["If-None-Match"] = validators.etag
        if validators.last_modified:
            headers["If-Modified-Since"] = validators.last_modified
        self.spacer.wait(url)
        total = self.settings.total_timeout
        try:
            with self.network.fetching(url, total) as limits, self.client.stream(
                "GET", url, headers=headers
            ) as response:
                return self._read(response)
        except httpx.TooManyRedirects:
            raise FetchError(
                f"too many redirects (more than {self.settings.max_redirects})", FetchFailure.REDIRECT
            ) from None
        except httpx.UnsupportedProtocol as exc:
            raise FetchError(f"unsupported URL ({exc})") from None
        except httpx.InvalidURL as exc:
            raise FetchError(f"invalid redirect URL ({exc})") from None
        except httpx.ConnectTimeout as exc:
            detail = f"no connection to {_host_and_port(exc)} within {self.settings.connect_timeout:g}s"
            raise TransientFetchError(f"unreachable ({detail})", kind=FetchFailure.TIMEOUT, detail=detail) from None
        except httpx.TimeoutException:
            detail = (
                f"no complete response within {total:g}s" if limits.ran_out
                else f"no data for {min(self.settings.read_timeout, self.settings.total_timeout):g}s"
            )
            raise TransientFetchError(f"timeout ({detail})", kind=FetchFailure.TIMEOUT, detail=detail) from None
        except httpx.ConnectError as exc:
            detail = _connect_reason(exc)
            raise FetchError(f"unreachable ({detail})", FetchFailure.UNREACHABLE, detail=detail) from None
        except httpx.RemoteProtocolError as exc:
            raise TransientFetchError(f"broken response ({exc})") from None
        except httpx.HTTPError as exc:
            raise FetchError(f"request failed ({exc})") from None

    def _read(self, response: httpx.Response) -> Fetched:
        validators = Validators(response.headers.get("etag"), response.headers.get("last-modified"))
        content_type = response.headers.get("content-type")
        final_url = str(response.url)
        if response.status_code == 304:
            return Fetched(final_url, 304, b"", content_type, validators)
        if response.status_code >= 500 or response.status_code == 429:
            raise TransientFetchError(
                f"HTTP {response.status_code} {response.reason_phrase}".rstrip(),
                retry_after_seconds(response.headers.get("retry-after"), datetime.now(UTC)),
                kind=FetchFailure.STATUS,
                status=response.status_code,
            )
        if response.status_code >= 400:
            raise FetchError(
                f"HTTP {response.status_code} {response.reason_phrase}".rstrip(), FetchFailure.STATUS,
                response.status_code,
            )
        if response.status_code != 200:
            raise FetchError(
                f"unexpected HTTP {response.status_code} {response.reason_phrase}".rstrip(), FetchFailure.STATUS,
                response.status_code,
            )
        media_type = (content_type or "").split(";")[0].strip().lower()
        if media_type.startswith(NOT_FEEDS):
            raise FetchError(
                f"not a feed (content type {media_type})", FetchFailure.CONTENT_TYPE, detail=f"content type {media_type}"
            )
        limit = self.settings.max_bytes
        encodings = [
            e.strip().lower() for e in response.headers.get("content-encoding", "").split(",")
        ]
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and encodings in ([""], ["identity"]) and int(declared) > limit:
            raise FetchError(
                f"response larger than {human_size(limit)} (Content-Length: {declared} bytes)", FetchFailure.TOO_LARGE
            )
        body = inflate(response.iter_raw(), encodings, limit)
        return Fetched(final_url, 200, gunzip_if_gzipped(body, limit), content_type, validators)


def _connect_reason(exc: httpx.ConnectError) -> str:
    """Why no connection was made, naming the host (and port) tried: after a redirect it is not the feed's own."""
    text = str(exc)
    lowered = text.lower()
    if "name or service not known" in lowered or "name resolution" in lowered or "nodename" in lowered:
        url = _request_url(exc)
        return f"host {url.host} not found" if url is not None else "host not found"
    if "refused" in lowered:
        return f"{_host_and_port(exc)} refused the connection"
    if "certificate" in lowered:
        return f"TLS certificate problem with {_host_and_port(exc)}: {text}"
    return f"{_host_and_port(exc)}: {text or type(exc).__name__}"


def _request_url(exc: httpx.RequestError) -> httpx.URL | None:
    try:
        return exc.request.url
    except RuntimeError:  # an error raised without its request
        return None


def _host_and_port(exc: httpx.RequestError) -> str:
    """'example.org port 443': where a failed connection was made to."""
    url = _request_url(exc)
    if url is None:
        return "the host"
    port = url.port if url.port is not None else 443 if url.scheme == "https" else 80
    return f"{url.host} port {port}"
