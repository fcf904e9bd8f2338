"""The `dyad` command line, run as a user runs it (a real process)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import LoopbackServer, article_html

PARAGRAPHS = [
    "Egypt and Ethiopia exchanged protests over the filling of the Nile dam on Thursday.",
    "Cairo said it reserved the right to defend its water security by all legal means.",
    "Addis Ababa said the project would not harm downstream countries.",
]


def dyad(
    tmp_path: Path,
    *args: str,
    check: bool = True,
    env: dict[str, str] | None = None,
    prefix: tuple[str, ...] = (),
) -> subprocess.CompletedProcess[str]:
    env = {
        "DYAD_DATA_DIR": str(tmp_path / "var"),
        "DYAD_HTTP__ALLOW_PRIVATE_NETWORKS": "true",
        "DYAD_EXTRACT__WORKERS": "1",
        "PATH": "/usr/bin:/bin",
        **(env or {}),
    }
    result = subprocess.run(
        [*prefix, sys.executable, "-m", "pipeline.cli", *args],
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
    assert sum(r["entries"] for r in rows) == 74


def test_bad_settings_stop_with_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "dyad.yaml").write_text("http:\n  deadline: -3\n")
    result = dyad(tmp_path, "feeds", "list", check=False)
    assert result.returncode == 2 and "deadline" in result.stderr


def assert_message(result: subprocess.CompletedProcess[str], code: int, *parts: str) -> None:
    """A failure reported as a short ``error: ...`` message: the exit code, the words, no
    traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == code, result.stderr
    assert result.stderr.startswith("error: "), result.stderr
    assert len(result.stderr.splitlines()) <= 4, result.stderr
    for part in parts:
        assert part in result.stderr, result.stderr


def test_feed_list_not_utf8_is_a_message(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_bytes(
        b"feeds:\n  - name: Caf\xe9\n    url: https://a.example/rss\n"
    )
    result = dyad(tmp_path, "ingest", "--feeds", "feeds.yaml", check=False)
    assert_message(result, 1, "feed list feeds.yaml is not UTF-8", "0xe9")


@pytest.mark.parametrize(
    "url, words",
    [
        ("foo://db.example/dyad", "unsupported or malformed URL"),
        ("mysql://dyad:secret@db.example/dyad", "driver for mysql is not installed"),
    ],
)
def test_unknown_database_scheme_is_a_message(tmp_path: Path, url: str, words: str) -> None:
    for command in (["feeds", "list"], ["db", "upgrade"]):
        result = dyad(tmp_path, *command, env={"DYAD_DATABASE_URL": url}, check=False)
        assert_message(result, 1, "database_url", words)
        assert "secret" not in result.stderr


def _as_unprivileged() -> tuple[str, ...]:
    """A command prefix under which file permissions apply: nothing for an ordinary user; for
    root, setpriv(1) dropping the capabilities that override them (CAP_DAC_OVERRIDE, ...)."""
    if os.geteuid() != 0:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: permissions cannot be enforced")
    return ("setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--")


@pytest.mark.parametrize("read_only", ["file", "directory"])
def test_read_only_database_is_a_message(tmp_path: Path, read_only: str) -> None:
    dyad(tmp_path, "db", "upgrade")
    database = tmp_path / "var" / "dyad.db"
    locked = database if read_only == "file" else database.parent
    mode = locked.stat().st_mode
    locked.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        (tmp_path / "feeds.yaml").write_text("feeds:\n  - name: A\n    url: https://a.example/\n")
        result = dyad(
            tmp_path, "ingest", "--feeds", "feeds.yaml", check=False, prefix=_as_unprivileged()
        )
    finally:
        locked.chmod(mode)
    assert_message(result, 1, "the database is read-only", f"{locked} is not writable")


def test_read_only_directory_for_a_new_database_is_a_message(tmp_path: Path) -> None:
    parent = tmp_path / "locked"
    parent.mkdir(mode=0o555)
    try:
        env = {"DYAD_DATA_DIR": str(parent / "var")}
        result = dyad(tmp_path, "feeds", "list", env=env, check=False, prefix=_as_unprivileged())
    finally:
        parent.chmod(0o755)
    assert_message(result, 1, "cannot create the database directory", "Permission denied")


def test_malformed_settings_yaml_is_a_message(tmp_path: Path) -> None:
    (tmp_path / "dyad.yaml").write_text("http:\n  deadline: [3\n")
    result = dyad(tmp_path, "feeds", "list", check=False)
    assert_message(result, 2, "settings file dyad.yaml is not valid YAML", "line 3, column 1")


def test_in_memory_database_is_refused(tmp_path: Path) -> None:
    for url in ("sqlite:///:memory:", "sqlite://"):
        result = dyad(tmp_path, "ingest", "--sample", env={"DYAD_DATABASE_URL": url}, check=False)
        assert_message(result, 2, "database_url: an in-memory SQLite database loses everything")


def test_tags_given_as_a_string_are_refused(tmp_path: Path) -> None:
    (tmp_path / "feeds.yaml").write_text(
        'feeds:\n  - name: A\n    url: https://a.example/rss\n    tags: "notalist"\n'
    )
    result = dyad(tmp_path, "feeds", "export-opml", "--feeds", "feeds.yaml", check=False)
    assert_message(result, 1, "entry 1: tags must be a list", "'notalist'")
    assert "category" not in result.stdout


def test_validation_errors_are_field_lines_without_the_pydantic_link(tmp_path: Path) -> None:
    (tmp_path / "dyad.yaml").write_text("http:\n  deadline: -3\nrecipients: [{address: 3}]\n")
    result = dyad(tmp_path, "feeds", "list", check=False)
    assert_message(result, 2, "invalid settings in dyad.yaml")
    assert result.stderr.splitlines()[1:] == [
        "  http.deadline: Input should be greater than 0",
        "  recipients.0.address: Input should be a valid string",
    ]
    (tmp_path / "dyad.yaml").unlink()
    (tmp_path / "feeds.yaml").write_text(
        "feeds:\n  - name: A\n    url: https://a.example/rss\n    enabled: maybe\n"
    )
    result = dyad(tmp_path, "ingest", "--feeds", "feeds.yaml", check=False)
    assert_message(result, 1, "feed list feeds.yaml: entry 1 is invalid:", "  enabled: Input")
    for text in (result.stderr,):
        assert "errors.pydantic.dev" not in text and "For further information" not in text


def test_the_command_line_loads_no_pipeline_library_until_a_command_needs_it() -> None:
    """`dyad --help` and a command's start-up do not import every job's libraries: the jobs
    load on first use (openai, datasketch/scipy, trafilatura, SQLAlchemy took seconds)."""
    code = (
        "import sys, pipeline.cli\n"
        "heavy = ('openai', 'datasketch', 'scipy', 'trafilatura', 'sqlalchemy', 'feedparser')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert loaded.stdout.strip() == "[]"
    from pipeline import jobs

    assert jobs.run_ingest.__module__ == "pipeline.jobs.ingest"  # loaded on first use
    # Every exported name is in the lazy table and resolves from the module it names.
    assert set(jobs.__all__) == set(jobs._WHERE)
    for name in jobs.__all__:
        assert getattr(jobs, name) is not None, name
    with pytest.raises(AttributeError):
        jobs.no_such_job  # noqa: B018


def test_digest_notes_an_unset_site_url(tmp_path: Path, sample_ingested_db: Path) -> None:
    from tests.conftest import copy_store

    copy_store(tmp_path, sample_ingested_db)
    args = ("digest", "--date", "2026-11-25", "--days", "30", "--format", "atom")
    result = dyad(tmp_path, *args)
    assert "note: digest.site_url is not set" in result.stdout
    assert "atom" in result.stdout
    result = dyad(tmp_path, *args, env={"DYAD_DIGEST__SITE_URL": "https://news.example/"})
    assert "note:" not in result.stdout


def test_unsubscribe_resubscribe_and_a_maildir_of_requests(tmp_path: Path) -> None:
    import mailbox
    from email.message import EmailMessage

    assert "a@example.org: unsubscribed" in dyad(tmp_path, "unsubscribe", "A@example.org").stdout
    folder = mailbox.Maildir(tmp_path / "Maildir", create=True)
    request = EmailMessage()
    request["From"] = "Reader <reader@example.org>"
    request["Subject"] = "Unsubscribe"
    request["Message-ID"] = "<r1@example.org>"
    request.set_content("")
    folder.add(request)
    result = dyad(tmp_path, "unsubscribe", "--from-mbox", str(tmp_path / "Maildir"))
    assert "1 messages, 1 unsubscribe requests applied" in result.stdout
    listed = dyad(tmp_path, "unsubscribe").stdout
    assert "2 unsubscribed" in listed and "reader@example.org: since" in listed
    assert "(mail, mail <r1@example.org>)" in listed and "a@example.org: since" in listed
    assert "subscribed again" in dyad(tmp_path, "resubscribe", "a@example.org").stdout
    assert "1 unsubscribed" in dyad(tmp_path, "unsubscribe").stdout
    bad = dyad(tmp_path, "unsubscribe", "not-an-address", check=False)
    assert bad.returncode == 2 and "invalid email address" in bad.stderr
    missing = dyad(tmp_path, "unsubscribe", "--from-mbox", str(tmp_path / "none"), check=False)
    assert missing.returncode == 1 and "no such mailbox" in missing.stderr
    token = dyad(tmp_path, "unsubscribe", "b@example.org", "--token", "00", check=False)
    assert token.returncode == 1 and "token" in token.stderr
