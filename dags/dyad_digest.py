"""
### dyad_digest: the morning digest, built, rendered and mailed exactly once (daily)

Runs daily at the settings' `digest.send_time` (HH:MM, default 07:00) in `digest.timezone`
(default UTC), read from Dyad's settings (`DYAD_CONFIG` / `dyad.yaml` / `DYAD_DIGEST__*`) when
the DAG is parsed, so the run closes the digest window it builds. `DYAD_DIGEST_SCHEDULE=none`:
manual runs only. Also runnable by hand with the Params below.

1. **build**: the digest for the date (param, else the run's date in the digest time zone):
   the stories of the window before the send time, grouped by country pair, with trends and the
   run ledger; stored in Dyad's database.
2. **render**: JSON, Markdown, HTML (+ text) and the Atom feed / archive site.
3. **deliver**: one message per recipient (settings `recipients`, or the `recipients` param),
   claimed atomically before sending: clearing and re-running this run never mails anyone twice
   (`force` resends on purpose). Skipped on `dry_run`. SMTP from the `smtp_default` Connection,
   else the settings; without any SMTP host the messages are written as .eml files. With no
   recipients at all (settings and param both empty) the task is **skipped** with a warning
   ("no recipients"), so the run is green but the UI shows that nothing was mailed.
4. **record**: the outcome per recipient. A recipient refused for good fails alone; if the
   server was unreachable the task fails so Airflow retries it later, and nothing is lost.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from dyad_airflow import digest_schedule, dyad_settings, record_failure

log = logging.getLogger(__name__)
FORMATS = ["json", "md", "html", "atom"]


@task
def build() -> dict[str, Any]:
    """Build and store the digest; return its id and size."""
    from datetime import date
    from zoneinfo import ZoneInfo

    from pipeline import jobs

    context = get_current_context()
    params = context["params"]
    settings = dyad_settings()
    if params.get("date"):
        day = date.fromisoformat(params["date"])
    else:
        day = context["dag_run"].run_after.astimezone(ZoneInfo(settings.digest.timezone)).date()
    digest = jobs.build_digest(settings, day, days=int(params.get("days") or 1))
    return {
        "digest_id": digest.id,
        "pairs": len(digest.dyads),
        "stories": sum(len(d.stories) for d in digest.dyads),
    }


@task
def render(built: dict[str, Any]) -> dict[str, str]:
    """Write the digest's formats; return their paths."""
    from pipeline import jobs

    settings = dyad_settings()
    digest = jobs.load_digest(settings, built["digest_id"])
    formats = get_current_context()["params"].get("formats") or list(jobs.FORMATS)
    return {kind: str(path) for kind, path in jobs.write_outputs(settings, digest, formats).items()}


@task
def deliver(built: dict[str, Any], rendered: dict[str, str]) -> list[dict[str, Any]]:
    """Mail each recipient exactly once (skipped on dry_run)."""
    from airflow.sdk.exceptions import AirflowSkipException

    from pipeline import jobs

    params = get_current_context()["params"]
    if params.get("dry_run"):
        raise AirflowSkipException("dry run: built and rendered, not sent")
    settings = dyad_settings()
    to = list(params.get("recipients") or [])
    if not to and not settings.recipients:
        message = (
            "no recipients: the digest was built and rendered but mailed to no one "
            "(set `recipients` in the settings, or the recipients param)"
        )
        log.warning(message)
        raise AirflowSkipException(message)
    digest = jobs.load_digest(settings, built["digest_id"])
    if params.get("follow"):
        digest = digest.for_recipient(list(params["follow"]))
    report = jobs.send_digest(settings, digest, to=to or None, force=bool(params.get("force")))
    return [r.model_dump() for r in report.results]


@task(trigger_rule="none_failed")
def record(built: dict[str, Any], results: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Summarise the outcome; fail (so Airflow retries) while any delivery is pending."""
    outcome: dict[str, int] = {}
    for result in results or []:
        outcome[result["status"]] = outcome.get(result["status"], 0) + 1
    if outcome.get("pending"):
        raise RuntimeError(f"{outcome['pending']} deliveries pending (SMTP unavailable)")
    return {"digest_id": built["digest_id"], "deliveries": outcome}


@dag(
    dag_id=Path(__file__).stem,
    schedule=digest_schedule(),
    description="Daily digest: build, render and mail the stories of the window before send time",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["dyad", "digest"],
    doc_md=__doc__,
    default_args={
        "retries": 3,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": True,
        "on_failure_callback": record_failure,
    },
    params={
        "date": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Digest date",
            description="Send date (YYYY-MM-DD); empty = the run's date.",
        ),
        "days": Param(
            1,
            type="integer",
            minimum=1,
            maximum=366,
            title="Window in days",
            description="How many days before the send time the digest covers (1 = last 24 h).",
        ),
        "recipients": Param(
            None,
            type=["null", "array"],
            items={"type": "string"},
            title="Recipients",
            description="Send only to these addresses, one per line (empty = the settings).",
        ),
        "follow": Param(
            None,
            type=["null", "array"],
            items={"type": "string"},
            title="Pairs or countries",
            description='Limit to pairs like "IN-RU" or countries like "IN-*" (empty = all).',
        ),
        # The trigger form shows a multi-select for an array with `examples` (or `enum`), as in
        # Airflow's example_params_ui_tutorial; `items.enum` makes validation refuse others.
        "formats": Param(
            FORMATS,
            type=["null", "array"],
            items={"type": "string", "enum": FORMATS},
            examples=FORMATS,
            title="Formats",
            description="Which files to write (empty = all four).",
        ),
        "dry_run": Param(
            False, type="boolean", title="Dry run", description="Build and render, but do not send."
        ),
        "force": Param(
            False,
            type="boolean",
            title="Force resend",
            description="Send again to recipients who already got this digest.",
        ),
    },
)
def dyad_digest() -> None:
    built = build()
    rendered = render(built)
    record(built, deliver(built, rendered))


dyad_digest()
