"""The README and docs/ are the user's manual: every command, make target and setting must appear
in them (the README is the front page; the details live in docs/)."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from pipeline.cli import app
from pipeline.config import Settings

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
MANUAL = README + "".join(
    p.read_text(encoding="utf-8") for p in sorted((ROOT / "docs").glob("*.md"))
)


def setting_names(model: type[BaseModel], prefix: str = "") -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += setting_names(annotation, f"{prefix}{name}.")
        else:
            names.append(prefix + name)
    return names


def test_readme_starts_with_the_two_commands() -> None:
    block = README.split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make run", "make test"]


def test_every_setting_is_documented() -> None:
    missing = [n for n in setting_names(Settings) if f"`{n}`" not in MANUAL]
    assert not missing, f"settings missing from README and docs/: {missing}"


def test_every_command_is_documented() -> None:
    from typer.main import get_command

    root = get_command(app)
    commands = []
    for name, command in root.commands.items():  # type: ignore[attr-defined]
        subs = getattr(command, "commands", None)
        commands += [f"dyad {name} {sub}" for sub in subs] if subs else [f"dyad {name}"]
    missing = [c for c in commands if c not in MANUAL]
    assert not missing, f"commands missing from README and docs/: {missing}"


def test_every_make_target_is_documented() -> None:
    makefile = (ROOT / "Makefile").read_text()
    targets = re.findall(r"^([a-z-]+):.*## ", makefile, re.M)
    assert targets
    missing = [t for t in targets if f"make {t}" not in README]
    assert not missing, f"make targets missing from README: {missing}"


def test_links_between_the_readme_and_docs_resolve() -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" in target:
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken
