"""The audit log: an append-only hash chain of everything that was decided and done.

Each row stores the hash of the row before it and a hash over all of its own columns, so
editing a row breaks its own hash and deleting one leaves a gap in ``seq``. Appends lock the
one-row chain head (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's write transactions are
already serial), read the newest hash from it and move it forward in the same transaction, so
two transactions can never both append after the same row. Truncating the newest rows and the
head together is the one change the chain cannot see from inside; ``verify`` prints the head
hash so people can compare it with one they noted earlier (later issues show it in Slack).
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from sqlmodel import Session, col, select, update

from approvals.policy import Policy, describe_policy
from storage.columns import canonical_json, utc
from storage.engine import Database
from storage.tables import AuditHead, AuditRow

__all__ = [
    "CSV_COLUMNS",
    "GENESIS",
    "POLICY_LOADED",
    "SYSTEM_ACTOR",
    "AuditVerdict",
    "append",
    "export_csv",
    "lock_head",
    "record_policy",
    "row_hash",
    "verify",
]

GENESIS = "0" * 64
POLICY_LOADED = "policy_loaded"
SYSTEM_ACTOR = "withdrawbot"
_DOMAIN = "withdrawbot/audit/v1"
_HEAD = 1
CSV_COLUMNS = (
    "seq",
    "at",
    "actor",
    "action",
    "request_id",
    "content_hash",
    "policy_hash",
    "detail",
    "prev_hash",
    "row_hash",
)


def row_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    request_id: int | None,
    content_hash: str | None,
    policy_hash: str | None,
    detail: str,
    prev_hash: str,
) -> str:
    """SHA-256 over every column but the hash itself, in one canonical spelling."""
    canonical = {
        "domain": _DOMAIN,
        "seq": seq,
        "at": utc(at).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "request_id": request_id,
        "content_hash": content_hash,
        "policy_hash": policy_hash,
        "detail": detail,
        "prev_hash": prev_hash,
    }
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(encoded.encode("ascii")).hexdigest()


def lock_head(session: Session) -> tuple[int, str]:
    """The newest row's ``seq`` and hash, locked until this transaction ends."""
    seq, head_hash = session.exec(
        select(AuditHead.seq, AuditHead.row_hash)
        .where(col(AuditHead.id) == _HEAD)
        .with_for_update()
    ).one()
    return seq, head_hash


def append(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    detail: Mapping[str, object],
    request_id: int | None = None,
    content_hash: str | None = None,
    policy_hash: str | None = None,
) -> AuditRow:
    """Add one row after the current head and move the head to it."""
    prev_seq, prev_hash = lock_head(session)
    row = AuditRow(
        seq=prev_seq + 1,
        at=utc(at),
        actor=actor,
        action=action,
        request_id=request_id,
        content_hash=content_hash,
        policy_hash=policy_hash,
        detail=canonical_json(detail),
        prev_hash=prev_hash,
        row_hash="",
    )
    row.row_hash = _hash_of(row)
    session.add(row)
    session.flush()
    session.exec(
        update(AuditHead)
        .where(col(AuditHead.id) == _HEAD)
        .values(seq=row.seq, row_hash=row.row_hash)
    )
    return row


def record_policy(
    database: Database, *, policy: Policy, now: datetime, actor: str = SYSTEM_ACTOR
) -> bool:
    """Log the policy's hash and wording if it differs from the last one logged.

    The app calls this whenever it loads a policy; returns whether a row was added.
    """
    with database.write() as session:
        lock_head(session)
        last = session.exec(
            select(AuditRow.policy_hash)
            .where(col(AuditRow.action) == POLICY_LOADED)
            .order_by(col(AuditRow.seq).desc())
            .limit(1)
        ).first()
        if last == policy.hash:
            return False
        append(
            session,
            at=now,
            actor=actor,
            action=POLICY_LOADED,
            policy_hash=policy.hash,
            detail={"previous_policy_hash": last, "policy": describe_policy(policy)},
        )
        session.commit()
    return True


@dataclass(frozen=True, slots=True)
class AuditVerdict:
    """What ``verify`` found: the chain's length and head, or the first bad row."""

    rows: int
    head_seq: int
    head_hash: str
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.problem is None


def verify(database: Database) -> AuditVerdict:
    """Walk the whole chain in order and name the first row that was edited or deleted."""
    with database.read() as session:
        head = session.exec(
            select(AuditHead.seq, AuditHead.row_hash).where(col(AuditHead.id) == _HEAD)
        ).one_or_none()
        if head is None:
            return AuditVerdict(0, 0, "", "the audit chain head row was deleted")
        head_seq, head_hash = head
        rows = session.exec(
            select(AuditRow).order_by(col(AuditRow.seq)).execution_options(yield_per=1000)
        )
        seen, prev_seq, prev_hash = 0, 0, GENESIS
        for row in rows:
            problem = _check(row, prev_seq=prev_seq, prev_hash=prev_hash)
            if problem is not None:
                return AuditVerdict(seen, head_seq, head_hash, problem)
            seen, prev_seq, prev_hash = seen + 1, row.seq, row.row_hash
    if prev_seq < head_seq:
        problem = (
            f"audit row {prev_seq + 1} is missing: the chain head names row {head_seq} but the "
            f"log ends at row {prev_seq}"
        )
    elif prev_seq > head_seq or prev_hash != head_hash:
        problem = (
            f"the audit chain head was changed: it names row {head_seq}, but the log ends at "
            f"row {prev_seq} with another hash"
        )
    else:
        problem = None
    return AuditVerdict(seen, head_seq, head_hash, problem)


def _check(row: AuditRow, *, prev_seq: int, prev_hash: str) -> str | None:
    if row.seq != prev_seq + 1:
        after = f"row {prev_seq}" if prev_seq else "the start of the log"
        return f"audit row {prev_seq + 1} is missing: row {row.seq} follows {after}"
    if row.prev_hash != prev_hash:
        return f"audit row {row.seq} was edited: its prev_hash does not match row {prev_seq}"
    if row.row_hash != _hash_of(row):
        return f"audit row {row.seq} was edited: its content does not match its hash"
    return None


def _hash_of(row: AuditRow) -> str:
    return row_hash(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        action=row.action,
        request_id=row.request_id,
        content_hash=row.content_hash,
        policy_hash=row.policy_hash,
        detail=row.detail,
        prev_hash=row.prev_hash,
    )


def export_csv(database: Database, out: TextIO) -> int:
    """Every audit row as CSV, oldest first, with a header; returns the number of rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    with database.read() as session:
        rows = session.exec(
            select(AuditRow).order_by(col(AuditRow.seq)).execution_options(yield_per=1000)
        )
        for row in rows:
            writer.writerow(
                [
                    row.seq,
                    utc(row.at).isoformat(timespec="microseconds"),
                    row.actor,
                    row.action,
                    "" if row.request_id is None else row.request_id,
                    row.content_hash or "",
                    row.policy_hash or "",
                    row.detail,
                    row.prev_hash,
                    row.row_hash,
                ]
            )
            count += 1
    return count
