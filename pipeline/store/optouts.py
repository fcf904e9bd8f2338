"""Opt-outs: who left the digest and who came back, the latest change per address.

Addresses are compared lowercased. A change dated before the address's latest change is
ignored (``set_opt_out`` returns False), so processing an old mailbox again cannot undo a later
``dyad resubscribe``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from pipeline.store.db import upsert_insert
from pipeline.store.tables import OptOutRow


def set_opt_out(
    engine: Engine,
    address: str,
    unsubscribed: bool,
    at: datetime,
    source: str,
    detail: str | None = None,
) -> bool:
    """Record that ``address`` left (``unsubscribed``) or rejoined the digest at ``at``.
    True when recorded; False when the address's latest change is later than ``at``."""
    values = {
        "unsubscribed": unsubscribed,
        "changed_at": at,
        "source": source,
        "detail": (detail or "")[:2000] or None,
    }
    key = address.strip().lower()
    with engine.begin() as conn:
        result = conn.execute(
            upsert_insert(conn, OptOutRow)
            .values(address=key, **values)
            .on_conflict_do_update(
                index_elements=["address"],
                set_=values,
                where=OptOutRow.changed_at <= at,
            )
        )
    return bool(result.rowcount)


def opted_out(engine: Engine, addresses: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The unsubscribed ones among ``addresses``: lowercased address -> its opt-out row."""
    keys = sorted({a.strip().lower() for a in addresses})
    if not keys:
        return {}
    stmt = select(OptOutRow).where(OptOutRow.address.in_(keys), OptOutRow.unsubscribed.is_(True))
    with engine.connect() as conn:
        return {r["address"]: dict(r) for r in conn.execute(stmt).mappings()}


def opt_outs(engine: Engine) -> list[dict[str, Any]]:
    """Every address currently unsubscribed, the latest first."""
    stmt = (
        select(OptOutRow)
        .where(OptOutRow.unsubscribed.is_(True))
        .order_by(OptOutRow.changed_at.desc(), OptOutRow.address)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]
