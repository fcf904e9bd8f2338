"""Idle-hour benchmark: wall time of an hourly ``dyad ingest`` in which every feed answers 304.

Most hourly runs find nothing new: every feed answers ``304 Not Modified`` to the validators
Dyad stored the hour before (RFC 9110 section 13.1.2, If-None-Match against the ETag). Such a
run should cost little more than starting the command. This serves ``--feeds`` feeds from
loopback servers (one address per outlet) that honour ``If-None-Match`` as RFC 9110 says (304
with the ETag and no body when it matches), runs ``dyad ingest`` once to fill a fresh SQLite
store, then times ``--repeat`` more runs of the real command as a user starts it (a new
process each time) and prints the median wall and CPU time, beside ``dyad --help`` for the
start-up floor. Target: <= 1.5 s wall.

Usage: python bench/bench_idle.py [--feeds 30] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import write_feeds  # noqa: E402
from tests.servers import LoopbackServer, article_html, rss  # noqa: E402

DYAD = Path(sys.executable).with_name("dyad")


def conditional(body: bytes, etag: str, content_type: str) -> object:
    """A handler that answers 304 (ETag, no body) when If-None-Match names ``etag``."""

    def handler(request: BaseHTTPRequestHandler) -> None:
        if request.headers.get("If-None-Match") == etag:
            request.send_response(304)
            request.send_header("ETag", etag)
            request.end_headers()
            return
        request.send_response(200)
        for key, value in (("Content-Type", content_type), ("ETag", etag)):
            request.send_header(key, value)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    return handler


def serve(feeds: int) -> tuple[list[LoopbackServer], list[str]]:
    """``feeds`` feeds, each on its own loopback address as outlets are on their own hosts
    (one host's feeds are spaced by ``http.per_host_delay``), with two article pages each."""
    servers = [LoopbackServer(f"127.0.0.{n}") for n in range(1, feeds + 1)]
    urls = []
    for i in range(feeds):
        server = servers[i % len(servers)]
        server.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
        items = []
        for j in range(2):
            path = f"/a/{i}/{j}"
            page = article_html(
                f"Story {i}.{j}", [f"Paragraph {k} of story {i}." for k in range(5)]
            )
            server.add(path, page, content_type="text/html; charset=utf-8")
            items.append({"title": f"Story {i}.{j}", "link": server.url(path), "guid": path})
        body = rss(items).encode("utf-8")
        handler = conditional(body, f'"feed-{i}"', "application/rss+xml")
        urls.append(server.add(f"/feed/{i}.xml", handler=handler))  # type: ignore[arg-type]
    return servers, urls


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run of ``command``; raises if it
    fails. CPU time is what other load on the machine disturbs least."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median_line(runs: list[tuple[float, float]]) -> str:
    walls = ", ".join(f"{wall:.2f}" for wall, _ in runs)
    wall = statistics.median(w for w, _ in runs)
    cpu = statistics.median(c for _, c in runs)
    return f"{wall:.2f} s wall median ({walls}), {cpu:.2f} CPU-s median"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    servers, urls = serve(args.feeds)
    with tempfile.TemporaryDirectory() as tmp:
        feeds = write_feeds(Path(tmp) / "feeds.yaml", urls)
        env = {
            **os.environ,
            "DYAD_DATA_DIR": tmp,
            "DYAD_DATABASE_URL": f"sqlite:///{tmp}/dyad.db",
            "DYAD_HTTP__ALLOW_PRIVATE_NETWORKS": "true",
        }
        ingest = [str(DYAD), "ingest", "--feeds", str(feeds)]
        subprocess.run([str(DYAD), "db", "upgrade"], env=env, check=True, capture_output=True)
        first, _ = timed(ingest, env)
        idle = [timed(ingest, env) for _ in range(args.repeat)]
        helps = [timed([str(DYAD), "--help"], env) for _ in range(args.repeat)]
    fetched = sum(len(s.requests) for s in servers)
    for server in servers:
        server.close()
    print(f"idle-hour benchmark: {args.feeds} feeds on loopback, {fetched} requests served")
    print(f"  first run (fills the store): {first:.2f} s")
    print(f"  all-304 run: {median_line(idle)}; target <= 1.5 s wall")
    print(f"  dyad --help (start-up floor): {median_line(helps)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
