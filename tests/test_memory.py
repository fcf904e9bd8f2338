"""Freed page bodies go back to the system (``pipeline.memory``): a process that handles
page-sized blocks from several threads, as ingest does, keeps its resident memory flat."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.memory import pin_mmap_threshold

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="glibc's allocator only"
)

# Eight threads each read 200 page bodies of 150 KB to 3 MB, decode each to text and drop both,
# keeping a few bytes per page (as ingest keeps a record per page): the resident memory grown
# by the end, in MiB, is printed.
PAGES_IN_THREADS = """
import os, random, sys, threading
sys.path.insert(0, {root!r})
if {pin!r}:
    from pipeline.memory import pin_mmap_threshold
    assert pin_mmap_threshold()
def resident():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") >> 20
def pages(seed):
    rng, kept = random.Random(seed), []
    for _ in range(200):
        body = bytes(rng.randrange(150_000, 3_000_000))
        text = body.decode("latin-1")
        kept.append(bytes(200))
        del body, text
before = resident()
threads = [threading.Thread(target=pages, args=(n,)) for n in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(resident() - before)
"""


def grown_mib(pin: bool) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    done = subprocess.run(
        [sys.executable, "-c", PAGES_IN_THREADS.format(root=str(ROOT), pin=pin)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env=env,
    )
    return int(done.stdout.split()[-1])


def test_page_bodies_freed_in_threads_leave_no_resident_memory_behind() -> None:
    """With the threshold pinned the process grows by at most a few MiB (glibc's default
    dynamic threshold left 23-27 MiB behind in this script on the development machine)."""
    assert grown_mib(pin=True) <= 8


def test_the_environment_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert pin_mmap_threshold() is False
