"""digest.sources.fetch against a real HTTP server on 127.0.0.1 that misbehaves on purpose."""

from __future__ import annotations

import gzip
import socket
import tracemalloc
import zlib
from datetime import UTC, datetime

import pytest
from feedserver import FeedServer, Route, fixture, gzip_bomb

from digest.config import FetchConfig
from digest.errors import FetchError, FetchFailure
from digest.sources.fetch import Fetcher, HostSpacer, Validators, inflate, retry_after_seconds
from digest.sources.netguard import AddressRefused, address_problem

LIMIT = 1 << 20


def settings(**changes: object) -> FetchConfig:
    base = dict(
        connect_timeout=2,
        read_timeout=0.3,
        total_timeout=3,
        max_bytes=LIMIT,
        max_redirects=3,
        retries=0,
        per_host_delay=0,
        user_agent="digest-tests/1 (+https://digest.invalid)",
    )
    return FetchConfig.model_validate({**base, **changes})


def fetch(url: str, validators: Validators | None = None, **changes: object):
    with Fetcher(settings(**changes), backoff=0.01) as fetcher:
        return fetcher.fetch(url, validators or Validators())


def test_fetch_sends_user_agent_and_returns_body_and_validators(feed_server):
    body = fixture("news.rss")
    url = feed_server.route("/news.rss", Route(body, etag='"v1"', last_modified="Mon, 06 May 2024 09:00:00 GMT"))
    fetched = fetch(url)
    assert (fetched.status, fetched.body, fetched.url) == (200, body, url)
    assert fetched.validators == Validators('"v1"', "Mon, 06 May 2024 09:00:00 GMT")
    assert feed_server.requests[0].headers["user-agent"] == "digest-tests/1 (+https://digest.invalid)"
    assert "if-none-match" not in feed_server.requests[0].headers


def test_matching_etag_gets_304_and_no_body(feed_server):
    url = feed_server.route("/news.rss", Route(fixture("news.rss"), etag='"v1"'))
    fetched = fetch(url, Validators(etag='"v1"'))
    assert fetched.not_modified and fetched.body == b""
    assert feed_server.requests[0].headers["if-none-match"] == '"v1"'


def test_matching_last_modified_gets_304(feed_server):
    stamp = "Mon, 06 May 2024 09:00:00 GMT"
    url = feed_server.route("/news.rss", Route(fixture("news.rss"), last_modified=stamp))
    fetched = fetch(url, Validators(last_modified=stamp))
    assert fetched.not_modified
    assert feed_server.requests[0].headers["if-modified-since"] == stamp


def test_slow_server_times_out_and_is_retried(feed_server):
    url = feed_server.route("/slow", Route(fixture("news.rss"), delay=5))
    with pytest.raises(FetchError, match=r"^timeout \(no data for 0.3s\) after 2 attempts$"):
        fetch(url, retries=1)
    assert len(feed_server.requests_to("/slow")) == 2


def test_trickling_server_hits_the_total_timeout(feed_server):
    url = feed_server.route("/trickle", Route(b"<rss>" + b" " * 100, trickle=0.05))
    with pytest.raises(FetchError, match=r"no complete response within 0.5s"):
        fetch(url, read_timeout=1, total_timeout=0.5)


def test_gzip_bomb_is_stopped_without_inflating_it(feed_server):
    bomb = gzip_bomb(64 * LIMIT)
    url = feed_server.route("/bomb", Route(bomb, headers={"Content-Encoding": "gzip"}))
    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match=r"larger than 1 MB after decompression"):
            fetch(url)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * LIMIT, f"inflating took {peak} bytes of memory"


def test_gzip_bytes_without_content_encoding_are_inflated_within_the_cap(feed_server):
    url = feed_server.route("/bomb.gz", Route(gzip_bomb(4 * LIMIT), content_type="application/gzip"))
    with pytest.raises(FetchError, match="after decompression"):
        fetch(url)


def test_gzip_and_deflate_bodies_are_decoded(feed_server):
    body = fixture("news.rss")
    gz = feed_server.route("/gz", Route(gzip.compress(body), headers={"Content-Encoding": "gzip"}))
    zl = feed_server.route("/zlib", Route(zlib.compress(body), headers={"Content-Encoding": "deflate"}))
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    raw = raw_deflate.compress(body) + raw_deflate.flush()
    rd = feed_server.route("/raw", Route(raw, headers={"Content-Encoding": "deflate"}))
    assert [fetch(u).body for u in (gz, zl, rd)] == [body, body, body]


def test_unknown_content_encoding_is_refused(feed_server):
    url = feed_server.route("/br", Route(b"xx", headers={"Content-Encoding": "br"}))
    with pytest.raises(FetchError, match="unsupported content encoding 'br'"):
        fetch(url)


def test_oversized_body_with_content_length_is_refused_before_reading(feed_server):
    url = feed_server.route("/big", Route(b"x" * (LIMIT + 1)))
    with pytest.raises(FetchError, match=r"^response larger than 1 MB \(Content-Length: 1048577 bytes\)$"):
        fetch(url)


def test_oversized_body_without_content_length_is_cut_off(feed_server):
    url = feed_server.route("/big", Route(b"x" * (3 * LIMIT), content_length=False))
    with pytest.raises(FetchError, match=r"^response larger than 1 MB$"):
        fetch(url)


def test_redirect_loop_is_stopped(feed_server):
    feed_server.redirect("/a", feed_server.url("/b"))
    url = feed_server.redirect("/b", feed_server.url("/a"))
    with pytest.raises(FetchError, match=r"too many redirects \(more than 3\)"):
        fetch(url)
    assert len(feed_server.requests) == 4


def test_redirect_is_followed_and_final_url_reported(feed_server):
    target = feed_server.route("/feed.xml", Route(fixture("news.rss")))
    url = feed_server.redirect("/old", target, status=301)
    assert fetch(url).url == target


def test_redirect_to_a_file_url_is_refused(feed_server):
    url = feed_server.redirect("/sneaky", "file:///etc/passwd")
    with pytest.raises(FetchError, match="unsupported URL"):
        fetch(url)


def test_server_errors_are_retried_until_they_pass(feed_server):
    answers = iter([Route(b"", 503), Route(b"", 502), Route(fixture("news.rss"))])
    url = feed_server.route("/flaky", lambda request: next(answers))
    fetched = fetch(url, retries=2)
    assert (fetched.status, fetched.attempts) == (200, 3)


def test_persistent_server_error_reports_attempts(feed_server):
    url = feed_server.route("/down", Route(b"", 503))
    with pytest.raises(FetchError, match=r"^HTTP 503 Service Unavailable after 3 attempts$"):
        fetch(url, retries=2)


def test_client_errors_are_not_retried(feed_server):
    url = feed_server.route("/gone", Route(b"", 410))
    with pytest.raises(FetchError, match=r"^HTTP 410 Gone$"):
        fetch(url, retries=2)
    assert len(feed_server.requests) == 1


@pytest.mark.parametrize("content_type", ["image/png", "video/mp4", "application/pdf"])
def test_media_content_types_are_refused(feed_server, content_type):
    url = feed_server.route("/media", Route(b"\x89PNG....", content_type=content_type))
    with pytest.raises(FetchError, match=f"not a feed \\(content type {content_type}\\)"):
        fetch(url)


def test_refused_connection_is_reported_as_unreachable_naming_host_and_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError, match=rf"^unreachable \(127\.0\.0\.1 port {port} refused the connection\)$") as caught:
        fetch(f"http://127.0.0.1:{port}/feed")
    assert caught.value.kind is FetchFailure.UNREACHABLE
    assert caught.value.detail == f"127.0.0.1 port {port} refused the connection"


def test_a_refused_connection_to_port_0_names_port_0_not_the_scheme_s_default():
    with pytest.raises(FetchError, match=r"^unreachable \(127\.0\.0\.1 port 0 refused the connection\)$"):
        fetch("http://127.0.0.1:0/feed")


@pytest.mark.parametrize("url", ["http://[::1/feed", "http://a.example/\x00"])
def test_malformed_urls_are_a_fetch_error(url):
    with pytest.raises(FetchError, match=r"^invalid URL \("):
        fetch(url)


def test_host_spacer_hands_out_slots_per_host():
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)

    spacer = HostSpacer(2.0, clock=lambda: now[0], sleep=sleep)
    spacer.wait("http://a.example/1")
    spacer.wait("http://A.example/2")
    spacer.wait("http://b.example/1")
    spacer.wait("http://a.example/3")
    assert slept == [2.0, 4.0]


def test_inflate_handles_concatenated_gzip_members():
    data = gzip.compress(b"first ") + gzip.compress(b"second")
    assert inflate([data[:7], data[7:]], ["gzip"], 100) == b"first second"


def test_inflate_reports_corrupt_data():
    with pytest.raises(FetchError, match="corrupt gzip data"):
        inflate([b"\x1f\x8bnot really gzip"], ["gzip"], 100)


def test_headers_sent_one_byte_at_a_time_hit_the_total_timeout(feed_server):
    url = feed_server.route("/drip", Route(b"", header_trickle=0.05))
    with pytest.raises(FetchError, match=r"^timeout \(no complete response within 0.5s\)$"):
        fetch(url, read_timeout=1, total_timeout=0.5)
    assert len(feed_server.requests_to("/drip")) == 1


def test_redirect_to_another_port_on_loopback_is_refused(feed_server):
    other = FeedServer()
    try:
        secret = other.route("/token", Route(b"secret token", content_type="text/plain"))
        url = feed_server.redirect("/feed", secret)
        port = other.httpd.server_address[1]
        with pytest.raises(AddressRefused, match=rf"redirected to 127.0.0.1:{port} \(127.0.0.1\), a loopback"):
            fetch(url)
        assert other.requests == []
    finally:
        other.close()


def test_redirect_to_another_name_for_the_same_loopback_host_is_refused(feed_server):
    target = feed_server.route("/feed.xml", Route(fixture("news.rss")))
    url = feed_server.redirect("/old", target.replace("127.0.0.1", "localhost"))
    with pytest.raises(AddressRefused, match=r"redirected to localhost:\d+ \(.*\), a loopback address"):
        fetch(url)
    assert feed_server.requests_to("/feed.xml") == []


@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("http://10.1.2.3/feed", "a private address"),
        ("http://192.168.0.10:8080/feed", "a private address"),
        ("http://169.254.169.254/latest/meta-data/", "a link-local address"),
        ("https://[::1]/feed", "a loopback address"),
        ("http://[fe80::1]/feed", "a link-local address"),
        ("http://0.0.0.0/feed", "a private address"),
    ],
)
def test_redirect_to_a_non_public_address_is_refused_before_connecting(feed_server, target, problem):
    url = feed_server.redirect("/feed", target)
    with pytest.raises(AddressRefused, match=problem):
        fetch(url)


def test_redirect_on_the_feeds_own_host_and_port_upgrades_to_https(feed_server):
    """Same host and port: allowed even on loopback; here the plain-HTTP server cannot speak TLS."""
    url = feed_server.redirect("/feed", feed_server.base.replace("http://", "https://") + "/feed")
    with pytest.raises(FetchError) as caught:
        fetch(url)
    assert not isinstance(caught.value, AddressRefused)
    assert "redirected" not in str(caught.value)


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("93.184.216.34", None),
        ("2606:2800:220:1:248:1893:25c8:1946", None),
        ("127.0.0.1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("172.16.5.4", "a private address"),
        ("100.64.0.1", "not a public address"),
        ("224.0.0.1", "not a public address"),
    ],
)
def test_only_public_addresses_pass(address, problem):
    assert address_problem(address) == problem


def test_redirect_to_another_scheme_is_refused(feed_server):
    url = feed_server.redirect("/ftp", "ftp://example.org/feed.xml")
    with pytest.raises(FetchError, match="unsupported URL"):
        fetch(url)


def retrying_fetch(url: str, **changes: object) -> tuple[object, list[float]]:
    slept: list[float] = []
    with Fetcher(settings(**changes), backoff=0.01, sleep=slept.append) as fetcher:
        return fetcher.fetch(url), slept


def test_retry_after_in_seconds_is_waited(feed_server):
    answers = iter([Route(b"", 429, headers={"Retry-After": "7"}), Route(fixture("news.rss"))])
    url = feed_server.route("/busy", lambda request: next(answers))
    fetched, slept = retrying_fetch(url, retries=2)
    assert (fetched.status, fetched.attempts, slept) == (200, 2, [7.0])


def test_retry_after_as_a_date_is_waited():
    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("Fri, 04 Dec 2026 12:00:30 GMT", now) == 30.0
    assert retry_after_seconds("Fri, 04 Dec 2026 11:00:00 GMT", now) == 0.0
    assert retry_after_seconds("Fri, 04 Dec 2026 12:00:30 -0000", now) == 30.0  # no zone given: read as UTC
    assert retry_after_seconds("soon", now) is None


def test_retry_after_beyond_the_cap_is_not_waited(feed_server):
    url = feed_server.route("/later", Route(b"", 503, headers={"Retry-After": "3600"}))
    slept: list[float] = []
    with (
        Fetcher(settings(retries=3), sleep=slept.append) as fetcher,
        pytest.raises(FetchError, match=r"^HTTP 503 Service Unavailable \(the server asks to wait 3600s"),
    ):
        fetcher.fetch(url)
    assert slept == [] and len(feed_server.requests_to("/later")) == 1


def test_retries_back_off_exponentially_without_retry_after(feed_server):
    url = feed_server.route("/down", Route(b"", 503))
    slept: list[float] = []
    with (
        Fetcher(settings(retries=2), backoff=0.5, sleep=slept.append) as fetcher,
        pytest.raises(FetchError, match="after 3 attempts"),
    ):
        fetcher.fetch(url)
    assert slept == [0.5, 1.0]
