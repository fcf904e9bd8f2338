"""``dyad``: the command line, thin over ``pipeline.jobs``.

``app`` holds the Typer application, the global options, the settings and the db and sample
commands; the others live in ``ingest`` (ingest, summarize, run), ``digest`` (digest, send),
``inspect`` (status, extract, detect, feeds), ``subscriptions`` (unsubscribe, resubscribe) and
``maintain`` (purge); ``report`` prints what
the jobs return. They are registered here, in the order ``dyad --help`` lists them.
"""

from pipeline.cli import digest, ingest, inspect, maintain, subscriptions
from pipeline.cli.app import app, feeds_app

for command in (
    ingest.ingest,
    ingest.summarize,
    ingest.run,
    inspect.status,
    digest.digest,
    digest.send,
    subscriptions.unsubscribe,
    subscriptions.resubscribe,
    inspect.extract,
    inspect.detect,
    maintain.purge,
):
    app.command()(command)
feeds_app.command("list")(inspect.feeds_list)
feeds_app.command("import-opml")(inspect.feeds_import_opml)
feeds_app.command("export-opml")(inspect.feeds_export_opml)

__all__ = ["app"]
