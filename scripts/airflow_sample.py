"""`make run`: the whole pipeline on the bundled offline sample, through Airflow.

Prepares a local AIRFLOW_HOME with SQLite inside the project (var/airflow), then runs the
`dyad_ingest` DAG over the offline sample (every fetch answered from its WARC recording) and the
`dyad_digest` DAG for the sample's date, both with `dag.test()` (no scheduler needed), and prints
a short report with the paths of the digest. Airflow's metadata database is recreated on each
run; Dyad's own store (var/dyad.db) keeps its data, so a second run is idempotent: no new rows,
no second message to the same recipient.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATE = "2026-11-25"  # the sample's stories run from 2 to 24 November 2026
HOME = Path(os.environ.get("AIRFLOW_HOME") or ROOT / "var" / "airflow")


def prepare_environment() -> None:
    sys.path.insert(0, str(ROOT))
    from pipeline.config import SAMPLE_DIR
    from pipeline.sample import build_sample

    HOME.mkdir(parents=True, exist_ok=True)
    data_dir = Path(os.environ.get("DYAD_DATA_DIR") or ROOT / "var")
    warc = build_sample(SAMPLE_DIR, data_dir / "sample" / "sample.warc.gz")
    defaults = {
        "AIRFLOW_HOME": str(HOME),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{HOME / 'airflow.db'}",
        "DYAD_DATA_DIR": str(data_dir),
        "DYAD_REPLAY_PATH": str(warc),
        "DYAD_FEEDS_FILE": str(warc.parent / "feeds.yaml"),
        "DYAD_RECIPIENTS": json.dumps([{"address": "reader@example.org"}]),
    }
    for key, value in defaults.items():
        os.environ.setdefault(key, value)


def main() -> int:
    started = time.monotonic()
    prepare_environment()
    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils import db

    db.resetdb()
    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        print(f"DAG import errors: {bag.import_errors}")
        return 1
    ingest = bag.dags["dyad_ingest"].test(logical_date=None)
    digest = bag.dags["dyad_digest"].test(
        logical_date=None, run_conf={"date": SAMPLE_DATE, "days": 30}
    )

    from pipeline.config import load_settings
    from pipeline.store.db import open_engine
    from pipeline.store.runs import table_counts

    settings = load_settings()
    engine = open_engine(settings.effective_database_url)
    counts = table_counts(engine)
    engine.dispose()
    folder = settings.data_dir / "digests" / SAMPLE_DATE
    print()
    print(
        f"dyad_ingest: {ingest.state}; dyad_digest: {digest.state} "
        f"({time.monotonic() - started:.0f} s, Airflow home {HOME})"
    )
    print(
        f"Store {settings.effective_database_url}: {counts['articles']} articles, "
        f"{counts['feeds']} feeds"
    )
    for path in sorted(folder.glob("digest-*")):
        print(f"  {path}")
    print(f"  archive: {settings.data_dir / 'site' / 'index.html'}")
    return 0 if ingest.state == "success" and digest.state == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
