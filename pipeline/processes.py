"""Worker processes that start lean: forked from a forkserver that imported only the modules it
was told to, and never re-running the program that started them.

multiprocessing's forkserver tells every new process to re-run the parent's ``__main__`` (as
``__mp_main__``) so that functions defined there can be unpickled. For Dyad the parent is the
``dyad`` script, Airflow's task runner, pytest or a benchmark: every extraction worker imported
their libraries again (openai, datasketch/scipy, alembic, pygments: seconds of CPU and about
100 MiB each), and again whenever pebble replaced a worker (every 500 pages). Dyad's workers run
only functions of importable modules, so ``lean_context`` leaves that instruction out; the rest
is multiprocessing's own forkserver, which forks each worker from one process that imported the
preload list once and that lives as long as the parent (so later pools start in milliseconds).
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from multiprocessing import context, forkserver, popen_forkserver, reduction, spawn, util
from typing import Any

_MAIN_KEYS = ("init_main_from_name", "init_main_from_path", "main_path")


def preparation_data(name: str) -> dict[str, Any]:
    """What a new process is told about its parent (``multiprocessing.spawn``), minus the
    parent's main module, which the process would otherwise import again."""
    data = spawn.get_preparation_data(name)
    for key in _MAIN_KEYS:
        data.pop(key, None)
    return data


def _close_fds(*fds: int) -> None:
    for fd in fds:
        os.close(fd)


class _LeanPopen(popen_forkserver.Popen):
    """CPython 3.11's ``popen_forkserver.Popen`` with ``preparation_data`` for the child."""

    def _launch(self, process_obj: Any) -> None:
        buf = io.BytesIO()
        context.set_spawning_popen(self)
        try:
            reduction.dump(preparation_data(process_obj._name), buf)
            reduction.dump(process_obj, buf)
        finally:
            context.set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)  # type: ignore[attr-defined]
        # The parent's duplicate of the data pipe is the child's sentinel of its parent.
        parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, _close_fds, (parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _LeanProcess(context.ForkServerProcess):
    @staticmethod
    def _Popen(process_obj: Any) -> _LeanPopen:
        return _LeanPopen(process_obj)


class LeanForkServerContext(context.ForkServerContext):
    """The forkserver start method, for processes that do not re-import the parent's main."""

    Process = _LeanProcess


def lean_context(preload: Sequence[str]) -> LeanForkServerContext:
    """A multiprocessing context whose processes fork from the forkserver, which imports
    ``preload`` once (only when this process has not started its forkserver yet: the first
    pool's list holds for the process's life)."""
    lean = LeanForkServerContext()
    lean.set_forkserver_preload(list(preload))
    return lean
