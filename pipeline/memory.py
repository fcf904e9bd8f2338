"""glibc's allocator kept from holding on to freed page bodies (Linux with glibc; elsewhere a
no-op).

Ingest handles one page body after another (a few hundred KB to a few MB each: the bytes read,
their text, the copy sent to a worker) from several threads. glibc maps a block that large on
its own and unmaps it when freed, but each time it frees one it raises its mmap threshold to
that size, so from then on such blocks come from the threads' heap arenas and stay resident
after they are freed (the GNU C Library manual, "Malloc Tunable Parameters": ``M_MMAP_THRESHOLD``
is adjusted dynamically unless it is set; setting it turns the adjustment off). The resident
memory of the ingest process and its extraction workers then grows with the number of pages.
``pin_mmap_threshold`` fixes the threshold at glibc's own starting value, 128 KiB, so every
page-sized block goes back to the system when freed. The price is a page fault for each fresh
block: 2-4 % more CPU in the extraction workers. ``bench/README.md`` has the figures.

The environment's own ``MALLOC_MMAP_THRESHOLD_`` (read by glibc at start-up) is left to win.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

M_MMAP_THRESHOLD = -3
"""glibc's ``mallopt`` parameter number (``<malloc.h>``)."""
PINNED_MMAP_THRESHOLD = 128 * 1024
"""glibc's default starting threshold."""

log = logging.getLogger("dyad.memory")


def pin_mmap_threshold(size: int = PINNED_MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at ``size`` bytes for this process (and the processes it
    forks afterwards). False, changing nothing, off Linux, without glibc's ``mallopt``, or when
    the environment sets ``MALLOC_MMAP_THRESHOLD_``."""
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    done = bool(mallopt(M_MMAP_THRESHOLD, size))
    if not done:
        log.debug("mallopt(M_MMAP_THRESHOLD, %d) refused", size)
    return done
