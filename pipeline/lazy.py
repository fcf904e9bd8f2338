"""Packages whose names are imported on first use (PEP 562 module ``__getattr__``).

``pipeline.jobs`` and ``pipeline.feeds`` re-export names from modules with heavy imports
(openai, datasketch, trafilatura, httpx and the libraries they pull in); importing the package
must not import them, or every command, DAG file and extraction worker pays for all of them.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_getattr(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports ``name`` from ``where[name]`` on
    first use and keeps it in the package, so later lookups cost nothing."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
