"""Limits under every socket of a fetch: one deadline for all of it, and where it may connect.

httpx's timeouts bound each socket operation, not a whole request: a server
that sends its headers one byte a second never trips a 20 s read timeout.
This is an httpcore network backend (the layer under httpx that opens
sockets), so the limits hold for connecting, TLS, headers and body alike,
and for every hop of a redirect:

- each connect, read and write gets at most the time left before the
  fetch's deadline; at the deadline the next one fails with a timeout;
- a connection to any host and port other than the fetch's own URL's
  (that is, after a redirect) goes only to public addresses: a feed
  cannot steer digest to loopback, private or link-local services.
  Names are resolved here and the checked address is the one connected
  to, so a name cannot resolve one way for the check and another way
  for the connection.

The fetch in progress is per thread (one Fetcher serves many threads).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpcore
import httpx

from digest.errors import FetchError, FetchFailure

T = TypeVar("T")


class AddressRefused(FetchError):
    """A redirect led to an address digest does not fetch from."""

    def __init__(self, message: str):
        super().__init__(message, FetchFailure.ADDRESS_REFUSED)


@dataclass(frozen=True)
class Origin:
    host: str
    port: int


def origin_of(url: str) -> Origin:
    parsed = httpx.URL(url)
    default = 443 if parsed.scheme == "https" else 80
    return Origin(parsed.raw_host.decode("ascii").lower(), parsed.port or default)


def address_problem(address: str) -> str | None:
    """Why ``address`` is not public, or None when it is."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global or ip.is_multicast:
        return "not a public address"
    return None


@dataclass
class FetchLimits:
    origin: Origin
    deadline: float
    ran_out: bool = False
    """A timeout came from the deadline, not from a per-operation timeout."""


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's own socket backend under the current fetch's deadline and address rule."""

    def __init__(self) -> None:
        self.inner = httpcore.SyncBackend()
        self.current = threading.local()
        self.resolver = ThreadPoolExecutor(max_workers=4, thread_name_prefix="digest-dns")

    @contextmanager
    def fetching(self, url: str, total_timeout: float) -> Iterator[FetchLimits]:
        """Every socket this thread opens or uses inside the block serves a fetch of ``url``."""
        limits = FetchLimits(origin_of(url), time.monotonic() + total_timeout)
        self.current.fetch = limits
        try:
            yield limits
        finally:
            self.current.fetch = None

    def bounded(self, operation: Callable[[float | None], T], timeout: float | None, error: type[Exception]) -> T:
        """``operation(timeout)`` with the timeout cut to the time left before the deadline."""
        limits: FetchLimits | None = getattr(self.current, "fetch", None)
        if limits is None:
            return operation(timeout)
        left = limits.deadline - time.monotonic()
        if left <= 0:
            limits.ran_out = True
            raise error("the fetch's total time ran out")
        try:
            return operation(left if timeout is None else min(timeout, left))
        except error:
            if timeout is None or left < timeout:
                limits.ran_out = True
            raise

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        limits: FetchLimits | None = getattr(self.current, "fetch", None)
        own = limits is None or Origin(host.lower(), port) == limits.origin
        addresses = self.bounded(lambda left: self._resolve(host, port, left), timeout, httpcore.ConnectTimeout)
        if not own:
            for address in addresses:
                problem = address_problem(address)
                if problem:
                    raise AddressRefused(
                        f"redirected to {host}:{port} ({address}), {problem}: refused "
                        f"(only the feed's own host and port may be non-public)"
                    )
        last: Exception = httpcore.ConnectError(f"{host}: no address")
        for address in addresses:
            try:
                stream = self.bounded(
                    lambda left: self.inner.connect_tcp(address, port, left, local_address, socket_options),  # noqa: B023
                    timeout,
                    httpcore.ConnectTimeout,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
                continue
            return _GuardedStream(stream, self)
        raise last

    def _resolve(self, host: str, port: int, timeout: float | None) -> list[str]:
        """The host's addresses, within the time left (the system resolver has no timeout of its own)."""
        job = self.resolver.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
        try:
            infos = job.result(timeout)
        except FutureTimeout:
            raise httpcore.ConnectTimeout(f"{host}: name lookup took too long") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from None
        return list(dict.fromkeys(str(info[4][0]) for info in infos))

    def connect_unix_socket(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("digest fetches only over TCP")

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)

    def close(self) -> None:
        self.resolver.shutdown(wait=False, cancel_futures=True)


class _GuardedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, backend: GuardedBackend):
        self.inner = inner
        self.backend = backend

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.backend.bounded(lambda left: self.inner.read(max_bytes, left), timeout, httpcore.ReadTimeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.backend.bounded(lambda left: self.inner.write(buffer, left), timeout, httpcore.WriteTimeout)

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None) -> Any:
        stream = self.backend.bounded(
            lambda left: self.inner.start_tls(ssl_context, server_hostname, left), timeout, httpcore.ConnectTimeout
        )
        return _GuardedStream(stream, self.backend)

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)
