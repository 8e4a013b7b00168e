"""The freeze switch: runtime state in the database, so every replica sees it at once.

While frozen, nothing may move to SUBMITTING; drafting and approving go on. The worker's
``storage.work.begin_submission`` calls ``ensure_not_frozen`` inside its own transaction, under
a shared row lock on PostgreSQL, so a freeze waits for a submission already past the check to
commit, and once ``freeze`` returns no new submission can start. (On SQLite every write
transaction is already serial.)

Who may unfreeze is decided by the caller: two approvers in Slack, or an operator with database
access on the CLI. Storage records every name it is given in the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select, update

from storage import audit
from storage.columns import utc
from storage.engine import Database
from storage.failures import Frozen
from storage.tables import FreezeRow

__all__ = ["FreezeChange", "FreezeState", "ensure_not_frozen", "freeze", "freeze_state", "unfreeze"]

_ROW = 1


@dataclass(frozen=True, slots=True)
class FreezeState:
    """Whether withdrawals are frozen, and who last froze or unfroze them, when and why."""

    frozen: bool
    by: str | None
    reason: str | None
    at: datetime | None


@dataclass(frozen=True, slots=True)
class FreezeChange:
    """The state after a freeze or unfreeze; ``changed`` is False if it already was so."""

    state: FreezeState
    changed: bool


def _load(session: Session, *, lock: bool, shared: bool = False) -> FreezeState:
    statement = select(FreezeRow.frozen, FreezeRow.by, FreezeRow.reason, FreezeRow.at).where(
        col(FreezeRow.id) == _ROW
    )
    if lock:
        statement = statement.with_for_update(read=shared)
    frozen, by, reason, at = session.exec(statement).one()
    return FreezeState(frozen=frozen, by=by, reason=reason, at=at)


def freeze_state(database: Database) -> FreezeState:
    with database.read() as session:
        return _load(session, lock=False)


def ensure_not_frozen(session: Session) -> None:
    """Raise ``Frozen`` if frozen; otherwise hold off any freeze until this transaction ends."""
    state = _load(session, lock=True, shared=True)
    if state.frozen:
        raise Frozen(state.by, state.reason)


def freeze(
    database: Database, *, by: str, now: datetime, reason: str | None = None
) -> FreezeChange:
    """Stop every new submission; already frozen is not an error (it changes nothing)."""
    if not by.strip():
        raise ValueError("say who freezes withdrawals")
    return _switch(database, frozen=True, by=[by], reason=reason, now=now)


def unfreeze(database: Database, *, by: Sequence[str], now: datetime) -> FreezeChange:
    """Let submissions start again; ``by`` names everyone who agreed to it."""
    names = [name for name in by if name.strip()]
    if not names:
        raise ValueError("say who unfreezes withdrawals")
    return _switch(database, frozen=False, by=names, reason=None, now=now)


def _switch(
    database: Database, *, frozen: bool, by: list[str], reason: str | None, now: datetime
) -> FreezeChange:
    now = utc(now)
    with database.write() as session:
        current = _load(session, lock=True)
        if current.frozen == frozen:
            return FreezeChange(current, changed=False)
        who = " and ".join(by)
        session.exec(
            update(FreezeRow)
            .where(col(FreezeRow.id) == _ROW)
            .values(frozen=frozen, by=who, reason=reason, at=now)
        )
        audit.append(
            session,
            at=now,
            actor=who,
            action="freeze" if frozen else "unfreeze",
            detail={"by": by, "reason": reason},
        )
        session.commit()
    return FreezeChange(FreezeState(frozen=frozen, by=who, reason=reason, at=now), changed=True)
