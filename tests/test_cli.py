"""The `dyad` command line, run as a user runs it (a real process)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.servers import LoopbackServer, article_html

PARAGRAPHS = [
    "Egypt and Ethiopia exchanged protests over the filling of the Nile dam on Thursday.",
    "Cairo said it reserved the right to defend its water security by all legal means.",
    "Addis Ababa said the project would not harm downstream countries.",
]


def dyad(tmp_path: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {
        "DYAD_DATA_DIR": str(tmp_path / "var"),
        "DYAD_HTTP__ALLOW_PRIVATE_NETWORKS": "true",
        "DYAD_EXTRACT__WORKERS": "1",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_extract_json_one_line_per_input(tmp_path: Path, server: LoopbackServer) -> None:
    saved = tmp_path / "page.html"
    saved.write_text(article_html("Nile dam row flares", PARAGRAPHS))
    url = server.add("/story", article_html("Online story", PARAGRAPHS), content_type="text/html")
    result = dyad(tmp_path, "extract", "--json", str(saved), url, str(tmp_path / "missing.html"))
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["title"] for line in lines] == ["Nile dam row flares", "Online story", None]
    assert (
        "Nile dam" in lines[0]["text"]
        and lines[0]["language"] == "en"
        and lines[0]["error"] is None
    )
    assert lines[2]["error"] and lines[2]["text"] is None


def test_extract_plain_prints_title_and_text(tmp_path: Path) -> None:
    saved = tmp_path / "page.html"
    saved.write_text(article_html("Nile dam row flares", PARAGRAPHS))
    out = dyad(tmp_path, "extract", str(saved)).stdout
    assert "Nile dam row flares" in out and "Addis Ababa said" in out


def test_opml_import_then_export(tmp_path: Path) -> None:
    opml = tmp_path / "subs.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><body><outline text="Asia">'
        '<outline text="Ledger" xmlUrl="https://asia.example/feed"/></outline></body></opml>'
    )
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text("feeds:\n  - name: Wire\n    url: https://wire.example/rss\n")
    assert (
        "1 feeds added"
        in dyad(tmp_path, "feeds", "import-opml", str(opml), "--feeds", str(feeds)).stdout
    )
    assert (
        "0 feeds added"
        in dyad(tmp_path, "feeds", "import-opml", str(opml), "--feeds", str(feeds)).stdout
    )
    exported = dyad(tmp_path, "feeds", "export-opml", "--feeds", str(feeds)).stdout
    assert "https://wire.example/rss" in exported and 'category="Asia"' in exported


def test_unsafe_opml_is_refused_with_a_message(tmp_path: Path) -> None:
    opml = tmp_path / "bomb.opml"
    opml.write_text(
        '<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
        "<opml><body/></opml>"
    )
    result = dyad(
        tmp_path,
        "feeds",
        "import-opml",
        str(opml),
        "--feeds",
        str(tmp_path / "f.yaml"),
        check=False,
    )
    assert result.returncode == 1 and "unsafe OPML" in result.stderr


def test_feeds_list_after_sample_ingest(tmp_path: Path) -> None:
    dyad(tmp_path, "ingest", "--sample", "--json")
    rows = [
        json.loads(line) for line in dyad(tmp_path, "feeds", "list", "--json").stdout.splitlines()
    ]
    assert len(rows) == 6 and all(r["last_status"] == "ok" for r in rows)
    assert sum(r["entries"] for r in rows) == 62


def test_bad_settings_stop_with_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "dyad.yaml").write_text("http:\n  deadline: -3\n")
    result = dyad(tmp_path, "feeds", "list", check=False)
    assert result.returncode == 2 and "deadline" in result.stderr
