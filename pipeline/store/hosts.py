"""The per-host schedule every fetching process shares (``http.client.SharedSchedule``).

One row per host: the next booked request start (epoch seconds) and the Retry-After "not
before". A booking is one atomic UPDATE ... RETURNING (SQLite 3.35+ and PostgreSQL), so two
processes never get the same start: each start is ``delay`` after the previous booking.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, Engine, case, select, update

from pipeline.store.db import upsert_insert
from pipeline.store.tables import HostScheduleRow


class StoreSchedule:
    """``SharedSchedule`` kept in Dyad's store."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def reserve(self, host: str, delay: float, now: float) -> float:
        """Book the host's next start: ``now`` if the host is free, else ``delay`` after the
        last booking; returns it (epoch seconds)."""
        row = HostScheduleRow
        with self.engine.begin() as conn:
            _ensure_row(conn, host)
            booked = conn.execute(
                update(row)
                .where(row.host == host)
                .values(
                    next_start=case(
                        (row.next_start > now, row.next_start + delay), else_=now + delay
                    )
                )
                .returning(row.next_start)
            ).scalar_one()
        return float(booked) - delay

    def defer(self, host: str, until: datetime) -> None:
        """Keep the later of the stored and the new "not before" time."""
        row = HostScheduleRow
        with self.engine.begin() as conn:
            _ensure_row(conn, host)
            conn.execute(
                update(row)
                .where(row.host == host, (row.not_before.is_(None)) | (row.not_before < until))
                .values(not_before=until)
            )

    def deferred_until(self, host: str, now: datetime) -> datetime | None:
        """The stored "not before" of ``host`` when it is still in the future."""
        with self.engine.connect() as conn:
            until = conn.execute(
                select(HostScheduleRow.not_before).where(HostScheduleRow.host == host)
            ).scalar()
        return until if until is not None and until > now else None


def _ensure_row(conn: Connection, host: str) -> None:
    conn.execute(
        upsert_insert(conn, HostScheduleRow)
        .values(host=host, next_start=0.0)
        .on_conflict_do_nothing(index_elements=["host"])
    )
