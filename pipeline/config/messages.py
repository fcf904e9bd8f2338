"""Short, human messages for the two ways a settings or feed-list file goes wrong: invalid
YAML or text, and values the models refuse. No tracebacks, no pydantic help links."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pipeline.errors import ConfigError


def validation_lines(exc: ValidationError) -> list[str]:
    """One ``field: message`` line per invalid field (``include_url=False`` drops pydantic's
    "For further information visit https://errors.pydantic.dev/..." line)."""
    lines = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(part) for part in error["loc"]) or "settings"
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field"
        lines.append(f"{field}: {message}")
    return lines


def yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML syntax error on one line: what is wrong and where (``line L, column C``)."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else problem


def read_yaml_file(path: Path, what: str) -> Any:
    """The parsed YAML of ``path``; raises ``ConfigError`` naming ``what`` and the file when it
    cannot be read, is not UTF-8 text, or is not valid YAML."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{what} {path} is not UTF-8 text (byte {exc.object[exc.start]:#04x} at offset "
            f"{exc.start}): save it as UTF-8"
        ) from exc
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} {path} is not valid YAML: {yaml_problem(exc)}") from exc
