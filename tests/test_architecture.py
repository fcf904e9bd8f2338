"""The layers stay apart: read every import (module level and inside functions) with ``ast``.

- ``pipeline/`` never imports Airflow;
- a stage (feeds, extract, detect, cluster, threads, summarize, digest, deliver, sample)
  imports only the foundation (config, errors, records, summary_record, textclean, urls, http,
  processes, lazy, memory), never another
  stage, the store, the jobs or the CLI; the store imports only the foundation;
- the CLI (``pipeline/cli``), ``dags/`` and ``dyad_airflow/`` import only ``pipeline.jobs`` and
  the settings (``pipeline.config``).

``test_the_check_finds_violations`` runs the same check on a small tree written for it, so a
violating import is shown to fail.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOUNDATION = frozenset(
    {
        "config",
        "errors",
        "records",
        "summary_record",
        "textclean",
        "urls",
        "http",
        "processes",
        "lazy",
        "memory",
    }
)
STAGES = frozenset(
    {"feeds", "extract", "detect", "cluster", "threads", "summarize", "digest", "deliver", "sample"}
)
EDGE_ALLOWED = ("pipeline.jobs", "pipeline.config")


def imported_modules(path: Path, package: str) -> list[tuple[int, str]]:
    """Every module ``path`` imports (absolute names; relative imports resolved), with lines."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base]) if base else ".".join(parts)
            found.append((node.lineno, base))
            # "from pipeline import jobs" imports the submodule pipeline.jobs
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def _layer(module: str) -> str | None:
    """The first component below ``pipeline`` ("detect" for pipeline.detect.features)."""
    parts = module.split(".")
    if parts[0] != "pipeline":
        return None
    return parts[1] if len(parts) > 1 else ""


def _allowed(source_layer: str, target: str) -> bool:
    layer = _layer(target)
    if layer is None or layer == "" or layer == source_layer:
        return True
    if source_layer in FOUNDATION:
        return layer in FOUNDATION
    if source_layer in STAGES or source_layer == "store":
        return layer in FOUNDATION
    if source_layer == "jobs":
        return layer != "cli"
    if source_layer == "cli":
        return target.startswith(EDGE_ALLOWED)
    return True


def violations(root: Path) -> list[str]:
    """Every import under ``root`` (a checkout: pipeline/, dags/, dyad_airflow/) that breaks
    the rules above, as "file:line imports module"."""
    found = []
    for path in sorted((root / "pipeline").rglob("*.py")):
        relative = path.relative_to(root)
        package = ".".join(relative.with_suffix("").parts[:-1])
        source_layer = relative.parts[1].removesuffix(".py") if len(relative.parts) > 1 else ""
        for line, module in imported_modules(path, package):
            if module == "airflow" or module.startswith("airflow."):
                found.append(f"{relative}:{line} imports {module} (pipeline/ runs without Airflow)")
            elif not _allowed(source_layer, module):
                found.append(f"{relative}:{line} imports {module} (layer {source_layer})")
    for folder in ("dags", "dyad_airflow"):
        for path in sorted((root / folder).rglob("*.py")):
            relative = path.relative_to(root)
            for line, module in imported_modules(path, folder):
                if _layer(module) not in (None, "") and not module.startswith(EDGE_ALLOWED):
                    found.append(f"{relative}:{line} imports {module} (only pipeline.jobs)")
    return found


def test_the_layers_are_kept() -> None:
    assert violations(ROOT) == []


def test_the_check_finds_violations(tmp_path: Path) -> None:
    files = {
        "pipeline/__init__.py": "",
        "pipeline/errors.py": "",
        "pipeline/detect/__init__.py": "from pipeline.errors import x\n",
        "pipeline/detect/rules.py": "from pipeline.summarize import schema\n",
        "pipeline/summarize/__init__.py": "def f():\n    import airflow.sdk\n",
        "pipeline/store/__init__.py": "from pipeline.detect import rules\n",
        "pipeline/jobs/__init__.py": "from pipeline import detect, store\n",
        "pipeline/cli/__init__.py": "from pipeline import jobs\nfrom pipeline.store import db\n",
        "dags/ok.py": "from pipeline import jobs\nfrom pipeline.config import Settings\n",
        "dags/bad.py": "from pipeline.records import FeedShard\n",
        "dyad_airflow/__init__.py": "from ..pipeline import jobs\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert violations(tmp_path) == [
        "pipeline/cli/__init__.py:2 imports pipeline.store (layer cli)",
        "pipeline/cli/__init__.py:2 imports pipeline.store.db (layer cli)",
        "pipeline/detect/rules.py:1 imports pipeline.summarize (layer detect)",
        "pipeline/detect/rules.py:1 imports pipeline.summarize.schema (layer detect)",
        "pipeline/store/__init__.py:1 imports pipeline.detect (layer store)",
        "pipeline/store/__init__.py:1 imports pipeline.detect.rules (layer store)",
        "pipeline/summarize/__init__.py:2 imports airflow.sdk (pipeline/ runs without Airflow)",
        "dags/bad.py:1 imports pipeline.records (only pipeline.jobs)",
        "dags/bad.py:1 imports pipeline.records.FeedShard (only pipeline.jobs)",
    ]
