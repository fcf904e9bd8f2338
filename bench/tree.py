"""CPU-seconds and peak RSS of a process tree while a block runs (psutil), for the benchmarks."""

from __future__ import annotations

import threading
import time

import psutil


def _cpu(times: psutil._common.pcputimes) -> float:  # type: ignore[name-defined]
    return float(times.user + times.system)


class TreeMeter:
    """Measures this process (unless ``include_self`` is off) and all its descendants.

    A thread samples the tree every ``interval`` seconds. A descendant's CPU is its user+system
    time at its last sample minus its time when the block began (0 when born inside it), so a
    process that ends between two samples loses under one interval of its CPU. This process's
    own CPU is read exactly at both ends, minus the sampling thread's own. ``peak_rss`` is the
    largest sum of RSS over the tree at one sample (pages shared by forked workers counted in
    each, as ``ps`` shows them). After the block: ``wall``, ``cpu``, ``own_cpu`` (this process's
    part), ``peak_rss`` and ``peak_own_rss`` (bytes).
    """

    def __init__(self, *, include_self: bool = True, interval: float = 0.05) -> None:
        self.include_self = include_self
        self.interval = interval
        self.wall = self.cpu = self.own_cpu = 0.0
        self.peak_rss = self.peak_own_rss = 0
        self._me = psutil.Process()
        self._first: dict[tuple[int, float], float] = {}
        self._last: dict[tuple[int, float], float] = {}
        self._sampler_cpu = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        own = self._me.memory_info().rss if self.include_self else 0
        self.peak_own_rss = max(self.peak_own_rss, own)
        total = own
        for child in self._me.children(recursive=True):
            try:
                with child.oneshot():
                    key = (child.pid, child.create_time())
                    self._last[key] = _cpu(child.cpu_times())
                    total += child.memory_info().rss
            except psutil.Error:
                continue
        self.peak_rss = max(self.peak_rss, total)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()
        self._sampler_cpu = time.thread_time()

    def __enter__(self) -> TreeMeter:
        self._sample()
        self._first = dict(self._last)
        self._self_cpu = _cpu(self._me.cpu_times())
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._started
        self._stop.set()
        self._thread.join()
        self._sample()
        children = sum(cpu - self._first.get(key, 0.0) for key, cpu in self._last.items())
        own = _cpu(self._me.cpu_times()) - self._self_cpu - self._sampler_cpu
        self.own_cpu = own if self.include_self else 0.0
        self.cpu = children + self.own_cpu
