"""The safe HTTP client against real loopback servers: guards, limits, politeness."""

from __future__ import annotations

import ipaddress
import itertools
import threading
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.errors import (
    BlockedAddress,
    BlockedByRobots,
    EmptyResponse,
    FetchTimeout,
    HostDeferred,
    HTTPStatusError,
    InvalidURL,
    RobotsUnavailable,
    TLSFailed,
    TooLarge,
    TooManyRedirects,
    UnsupportedContentType,
    UnsupportedEncoding,
)
from pipeline.http import HttpClient, LiveExchanger, build_client, parse_retry_after
from pipeline.http.guard import forbidden_reason
from tests.conftest import make_settings
from tests.servers import LoopbackServer, drip, endless, gzip_bomb, hang


def client_for(settings: Settings) -> HttpClient:
    return build_client(settings)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "::1",
        "::ffff:127.0.0.1",
        "64:ff9b::7f00:1",
        "fc00::1",
        "fe80::1",
        "2002:7f00:1::1",
        "::",
        "192.0.0.8",  # IETF protocol assignments (IANA IPv4 special-purpose registry)
        "fec0::1",  # deprecated site-local (RFC 3879)
    ],
)
def test_forbidden_addresses_have_a_reason(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize(
    "address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "1.1.1.1"]
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert forbidden_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "localhost", "127.1", "2130706433", "0.0.0.0", "[::ffff:127.0.0.1]"]
)
def test_private_targets_refused_by_default_and_no_request_arrives(
    tmp_path: Path, server: LoopbackServer, host: str
) -> None:
    server.add("/feed", "<rss/>", content_type="application/rss+xml")
    settings = make_settings(tmp_path, http={"allow_private_networks": False})
    with client_for(settings) as client, pytest.raises(BlockedAddress):
        client.fetch(f"http://{host}:{server.port}/feed")
    assert server.requests == []


def test_allowlist_lets_one_network_through(tmp_path: Path, server: LoopbackServer) -> None:
    server.add("/feed", "<rss/>", content_type="application/rss+xml")
    settings = make_settings(
        tmp_path, http={"allow_private_networks": False, "private_allowlist": ["127.0.0.1/32"]}
    )
    with client_for(settings) as client:
        assert client.fetch(server.url("/feed")).status == 200


def test_redirect_to_a_private_address_is_refused_on_that_hop(tmp_path: Path) -> None:
    inner = LoopbackServer("127.0.0.2")  # "private" target, not on the allowlist
    outer = LoopbackServer("127.0.0.1")  # stands in for an allowed public host
    try:
        inner.add("/secret", "metadata")
        outer.add("/feed", status=302, headers={"Location": inner.url("/secret")})
        settings = make_settings(
            tmp_path, http={"allow_private_networks": False, "private_allowlist": ["127.0.0.1/32"]}
        )
        with client_for(settings) as client, pytest.raises(BlockedAddress):
            client.fetch(outer.url("/feed"))
        assert len(outer.hits("/feed")) == 1
        assert inner.requests == []
    finally:
        inner.close()
        outer.close()


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/hostname",
        "ftp://example.com/x",
        "javascript:alert(1)",
        "data:text/plain,hi",
        "gopher://x/",
    ],
)
def test_non_http_schemes_refused_before_any_io(settings: Settings, url: str) -> None:
    with client_for(settings) as client, pytest.raises(InvalidURL):
        client.fetch(url)


def test_redirect_to_file_scheme_refused(settings: Settings, server: LoopbackServer) -> None:
    server.add("/feed", status=301, headers={"Location": "file:///etc/passwd"})
    with client_for(settings) as client, pytest.raises(InvalidURL):
        client.fetch(server.url("/feed"))


def test_redirect_cap_is_exact(settings: Settings, server: LoopbackServer) -> None:
    for i in range(7):
        server.add(f"/r{i}", status=302, headers={"Location": f"/r{i + 1}"})
    server.add("/r7", "<rss/>", content_type="application/rss+xml")
    with client_for(settings) as client:
        ok = client.fetch(server.url("/r2"))  # 5 redirects: allowed
        assert ok.status == 200 and len(ok.redirects) == 5
        with pytest.raises(TooManyRedirects):
            client.fetch(server.url("/r1"))  # 6 redirects: one too many


def test_redirect_loop_stops(settings: Settings, server: LoopbackServer) -> None:
    server.add("/a", status=302, headers={"Location": "/b"})
    server.add("/b", status=302, headers={"Location": "/a"})
    with client_for(settings) as client, pytest.raises(TooManyRedirects):
        client.fetch(server.url("/a"))
    assert len(server.requests) == 6


def test_oversize_body_by_content_length_is_refused(tmp_path: Path, server: LoopbackServer) -> None:
    server.add("/big", b"x" * 2_000_000, content_type="application/rss+xml")
    settings = make_settings(tmp_path, http={"feed_max_bytes": 1_000_000})
    with client_for(settings) as client, pytest.raises(TooLarge):
        client.fetch(server.url("/big"))


def test_endless_chunked_body_cut_at_the_cap(tmp_path: Path, server: LoopbackServer) -> None:
    server.add("/endless", handler=endless())
    settings = make_settings(tmp_path, http={"page_max_bytes": 1_000_000, "respect_robots": False})
    tracemalloc.start()
    try:
        with client_for(settings) as client, pytest.raises(TooLarge):
            client.fetch(server.url("/endless"), purpose="page")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20


def test_gzip_bomb_cut_with_bounded_memory(tmp_path: Path, server: LoopbackServer) -> None:
    bomb = gzip_bomb(512)
    assert bomb.payload_size < 600_000  # type: ignore[attr-defined]
    server.add("/bomb", handler=bomb)
    settings = make_settings(tmp_path, http={"feed_max_bytes": 5 * 2**20})
    tracemalloc.start()
    try:
        with client_for(settings) as client, pytest.raises(TooLarge):
            client.fetch(server.url("/bomb"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 24 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_gzip_body_within_cap_is_decoded(settings: Settings, server: LoopbackServer) -> None:
    import gzip

    payload = gzip.compress(b"<rss version='2.0'><channel><title>t</title></channel></rss>")
    server.add(
        "/gz", payload, headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"}
    )
    with client_for(settings) as client:
        assert client.fetch(server.url("/gz")).body.startswith(b"<rss")


@pytest.mark.parametrize("encoding", ["br", "zstd", "gzip, gzip", "compress"])
def test_unbounded_encodings_refused(
    settings: Settings, server: LoopbackServer, encoding: str
) -> None:
    server.add("/enc", b"\x00\x01garbage", headers={"Content-Encoding": encoding})
    with client_for(settings) as client, pytest.raises(UnsupportedEncoding):
        client.fetch(server.url("/enc"))


def test_drip_server_cut_at_the_whole_request_deadline(
    tmp_path: Path, server: LoopbackServer
) -> None:
    server.add("/drip", handler=drip(total_seconds=12, interval=0.3))
    settings = make_settings(tmp_path, http={"deadline": 2.0, "read_timeout": 1.0})
    started = time.monotonic()
    with client_for(settings) as client, pytest.raises(FetchTimeout):
        client.fetch(server.url("/drip"))
    elapsed = time.monotonic() - started
    assert 1.9 <= elapsed < 3.5, elapsed
    assert len(server.hits("/drip")) == 1  # a deadline is not retried within the run


def test_silent_server_times_out(tmp_path: Path, server: LoopbackServer) -> None:
    server.add("/silent", handler=hang(10))
    settings = make_settings(tmp_path, http={"deadline": 1.5, "read_timeout": 1.0})
    started = time.monotonic()
    with client_for(settings) as client, pytest.raises(FetchTimeout):
        client.fetch(server.url("/silent"))
    assert time.monotonic() - started < 3


def test_5xx_is_retried_with_backoff_then_reported(
    settings: Settings, server: LoopbackServer
) -> None:
    server.add("/flaky", "oops", status=502)
    with client_for(settings) as client, pytest.raises(HTTPStatusError) as info:
        client.fetch(server.url("/flaky"))
    assert info.value.status == 502 and info.value.retryable
    assert len(server.hits("/flaky")) == 3  # one try plus two retries


def test_connection_refused_is_retried(settings: Settings) -> None:
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    from pipeline.errors import ConnectFailed

    with client_for(settings) as client, pytest.raises(ConnectFailed):
        client.fetch(f"http://127.0.0.1:{port}/feed")


def test_429_with_retry_after_defers_only_that_host(
    settings: Settings, server: LoopbackServer, second_server: LoopbackServer
) -> None:
    server.add("/feed", "slow down", status=429, headers={"Retry-After": "120"})
    server.add("/other", "<rss/>", content_type="application/rss+xml")
    second_server.add("/feed", "<rss/>", content_type="application/rss+xml")
    with client_for(settings) as client:
        with pytest.raises(HostDeferred) as info:
            client.fetch(server.url("/feed"))
        wait = (info.value.not_before - datetime.now(UTC)).total_seconds()
        assert 100 < wait <= 120
        with pytest.raises(HostDeferred):
            client.fetch(server.url("/other"))  # same host: not asked before the time
        assert client.fetch(second_server.url("/feed")).status == 200  # other hosts go on
    assert len(server.requests) == 1


def test_two_clients_sharing_the_store_keep_one_spacing_and_one_retry_after(
    tmp_path: Path, server: LoopbackServer
) -> None:
    """Two ingests (two processes or Celery workers: separate clients, separate gates) share
    the per-host spacing and Retry-After through the store, not only within one process."""
    from pipeline.store.db import open_engine
    from pipeline.store.hosts import StoreSchedule

    for i in range(6):
        server.add(f"/f{i}", "<rss/>", content_type="application/rss+xml")
    settings = make_settings(tmp_path, http={"per_host_concurrency": 4, "per_host_delay": 0.25})
    engine = open_engine(settings.effective_database_url)
    clients = [client_for(settings), client_for(settings)]
    for client in clients:
        client.gate.shared = StoreSchedule(engine)
    threads = [
        threading.Thread(target=clients[i % 2].fetch, args=(server.url(f"/f{i}"),))
        for i in range(6)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    starts = sorted(r.at for r in server.requests)
    # The gate spaces request starts by 0.25 s; the server sees them a few scheduling delays
    # later (tens of ms on a loaded machine), so gaps are checked against half the spacing.
    # Two gates that did not share the schedule would send both clients' requests at once.
    assert min(b - a for a, b in itertools.pairwise(starts)) >= 0.125
    assert starts[-1] - starts[0] >= 1.0  # five gaps of 0.25 s, less arrival jitter
    # A Retry-After one client receives holds the other back too.
    server.add("/busy", "slow down", status=429, headers={"Retry-After": "3600"})
    with pytest.raises(HostDeferred):
        clients[0].fetch(server.url("/busy"))
    asked = len(server.requests)
    with pytest.raises(HostDeferred):
        clients[1].fetch(server.url("/f0"))
    assert len(server.requests) == asked  # not contacted
    for client in clients:
        client.close()
    engine.dispose()


def test_retry_after_parsing_and_clamping() -> None:
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now, 60, 86400) == 120
    assert parse_retry_after("5", now, 60, 86400) == 60
    assert parse_retry_after("1000000000000", now, 60, 86400) == 86400
    assert parse_retry_after("-5", now, 60, 86400) == 60
    assert parse_retry_after("garbage", now, 60, 86400) == 60
    assert parse_retry_after(None, now, 60, 86400) == 60
    later = now + timedelta(minutes=10)
    assert parse_retry_after(later.strftime("%a, %d %b %Y %H:%M:%S GMT"), now, 60, 86400) == 600
    assert parse_retry_after("Mon, 01 Jan 2001 00:00:00 GMT", now, 60, 86400) == 60


def test_per_host_concurrency_and_spacing(tmp_path: Path, server: LoopbackServer) -> None:
    for i in range(8):
        server.add(f"/f{i}", "<rss/>", content_type="application/rss+xml", delay=0.2)
    settings = make_settings(tmp_path, http={"per_host_concurrency": 2, "per_host_delay": 0.1})
    with client_for(settings) as client:
        threads = [
            threading.Thread(target=client.fetch, args=(server.url(f"/f{i}"),)) for i in range(8)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert server.max_in_flight <= 2
    starts = sorted(r.at for r in server.requests)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # Spacing is enforced where requests start; the server stamps them when its thread runs,
    # which on a loaded 2-core machine lagged by up to 10 ms (one full run saw a 0.0896 s gap).
    # Without spacing, the 8 requests start in two bursts with gaps near 0.
    assert min(gaps) >= 0.07


def test_robots_disallow_rules_are_honoured(settings: Settings, server: LoopbackServer) -> None:
    server.add(
        "/robots.txt",
        "User-agent: *\nDisallow: /*?print=\nDisallow: /private$\n"
        "Allow: /news/\nDisallow: /news/drafts/\n",
        content_type="text/plain",
    )
    for path in ("/news/a", "/news/drafts/b", "/private", "/private/x", "/story?print=1"):
        server.add(
            path.split("?")[0], "<html><body><p>hi</p></body></html>", content_type="text/html"
        )
    with client_for(settings) as client:
        for blocked in ("/news/drafts/b", "/private", "/story?print=1"):
            with pytest.raises(BlockedByRobots):
                client.fetch(server.url(blocked), purpose="page")
        for allowed in ("/news/a", "/private/x"):
            assert client.fetch(server.url(allowed), purpose="page").status == 200
    assert server.hits("/news/drafts/b") == [] and server.hits("/private") == []
    assert len(server.hits("/robots.txt")) == 1  # cached per origin


def test_robots_5xx_means_no_page_fetch(settings: Settings, server: LoopbackServer) -> None:
    server.add("/robots.txt", "down", status=503)
    server.add("/news/a", "<html><body>hi</body></html>", content_type="text/html")
    with client_for(settings) as client, pytest.raises((RobotsUnavailable, HostDeferred)):
        client.fetch(server.url("/news/a"), purpose="page")
    assert server.hits("/news/a") == []


def test_a_page_on_a_refused_address_is_refused_for_good(
    tmp_path: Path, server: LoopbackServer
) -> None:
    """The guard refuses robots.txt and the page alike: blocked_address (not retried), not the
    transient robots_unavailable that made ingest ask again every run."""
    server.add("/news/a", "<html><body>hi</body></html>", content_type="text/html")
    settings = make_settings(tmp_path, http={"allow_private_networks": False})
    with client_for(settings) as client, pytest.raises(BlockedAddress) as caught:
        client.fetch(server.url("/news/a"), purpose="page")
    assert caught.value.kind == "blocked_address" and not caught.value.retryable
    assert server.hits("/news/a") == [] and server.hits("/robots.txt") == []


def test_robots_404_means_everything_allowed(settings: Settings, server: LoopbackServer) -> None:
    server.add("/news/a", "<html><body>hi</body></html>", content_type="text/html")
    with client_for(settings) as client:
        assert client.fetch(server.url("/news/a"), purpose="page").status == 200


@pytest.mark.parametrize("ctype", ["application/pdf", "image/png", "application/octet-stream"])
def test_pages_must_be_html(settings: Settings, server: LoopbackServer, ctype: str) -> None:
    server.add("/doc", b"%PDF-1.7 ...", content_type=ctype)
    with client_for(settings) as client, pytest.raises(UnsupportedContentType):
        client.fetch(server.url("/doc"), purpose="page")


def test_empty_200_is_an_error(settings: Settings, server: LoopbackServer) -> None:
    server.add("/empty", b"", content_type="application/rss+xml")
    with client_for(settings) as client, pytest.raises(EmptyResponse):
        client.fetch(server.url("/empty"))


def test_challenge_page_is_named(settings: Settings, server: LoopbackServer) -> None:
    server.add(
        "/feed",
        "<html>Just a moment...</html>",
        status=403,
        headers={"cf-mitigated": "challenge", "Content-Type": "text/html"},
    )
    with client_for(settings) as client, pytest.raises(HTTPStatusError, match="challenge"):
        client.fetch(server.url("/feed"))


def test_user_agent_names_dyad_and_contact(settings: Settings, server: LoopbackServer) -> None:
    server.add("/feed", "<rss/>", content_type="application/rss+xml")
    with client_for(settings) as client:
        client.fetch(server.url("/feed"))
    agent = server.requests[0].headers["user-agent"]
    assert "Dyad" in agent and settings.http.contact_url in agent
    assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"


def test_tls_self_signed_fails_closed(settings: Settings, tmp_path: Path) -> None:
    import http.server
    import ssl

    from tests.tls import self_signed_cert

    cert, key = self_signed_cert(tmp_path)
    httpd = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        with client_for(settings) as client, pytest.raises(TLSFailed):
            client.fetch(f"https://127.0.0.1:{httpd.server_address[1]}/")
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_live_exchanger_ignores_proxy_environment(
    settings: Settings, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    server.add("/feed", "<rss/>", content_type="application/rss+xml")
    exchanger = LiveExchanger(settings.http)
    try:
        assert exchanger.exchange(server.url("/feed"), {}, 1000).status == 200
    finally:
        exchanger.close()
