"""The audit chain: intact on a clean log, and any single edited or deleted row is named."""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from approvals.decisions import Decision
from approvals.policy import parse_policy
from storage import audit, transactions
from storage.engine import Database
from storage.freeze import freeze, unfreeze
from tests.approvals.helpers import POLICY_TEXT, REQUESTER, T0, T1, T2, normal
from tests.storage.databases import allow_tampering
from tests.storage.world import MEMBERSHIP, MINUTE, POLICY, approve, store

# column -> a different value of the right type
EDITS: dict[str, Callable[[object], object]] = {
    "at": lambda value: "2030-01-01 00:00:00",
    "actor": lambda value: f"{value}x",
    "action": lambda value: "approve" if value != "approve" else "reject",
    "request_id": lambda value: 999,
    "content_hash": lambda value: "e" * 64,
    "policy_hash": lambda value: "f" * 64,
    "detail": lambda value: '{"edited":true}',
    "prev_hash": lambda value: "a" * 64,
    "row_hash": lambda value: "b" * 64,
}


def _history(db: Database) -> int:
    """A few of everything; returns the number of audit rows."""
    audit.record_policy(db, policy=POLICY, now=T0)
    first = store(db)
    second = store(db, normal("20000"))
    approve(db, first.id, T1)
    approve(db, second.id, T2)
    transactions.decide(
        db,
        request_id=second.id,
        approver=T1,
        decision=Decision.REJECT,
        policy=POLICY,
        membership=MEMBERSHIP,
        now=T0 + 2 * MINUTE,
        reason="not today",
    )
    freeze(db, by="ops-oncall", reason="incident", now=T0 + 3 * MINUTE)
    unfreeze(db, by=["alice", "bob"], now=T0 + 4 * MINUTE)
    return 8


def _rows(db: Database) -> list[dict[str, object]]:
    with db.read() as session:
        result = session.connection().execute(text("SELECT * FROM audit_log ORDER BY seq"))
        return [dict(row._mapping) for row in result]


def _execute(db: Database, sql: str, **params: object) -> None:
    with db.write() as session:
        session.connection().execute(text(sql), params)
        session.commit()


def test_clean_log_is_intact_and_names_its_head(db: Database) -> None:
    count = _history(db)
    verdict = audit.verify(db)
    assert verdict.intact, verdict.problem
    assert (verdict.rows, verdict.head_seq) == (count, count)
    rows = _rows(db)
    assert verdict.head_hash == rows[-1]["row_hash"]
    assert [row["seq"] for row in rows] == list(range(1, count + 1))
    assert rows[0]["prev_hash"] == audit.GENESIS
    assert all(b["prev_hash"] == a["row_hash"] for a, b in itertools.pairwise(rows))


def test_empty_log_is_intact(db: Database) -> None:
    assert audit.verify(db) == audit.AuditVerdict(rows=0, head_seq=0, head_hash=audit.GENESIS)


def test_every_edit_of_any_row_is_named(db: Database) -> None:
    count = _history(db)
    allow_tampering(db)
    rows = _rows(db)
    for row in rows:
        seq = row["seq"]
        assert isinstance(seq, int)
        for column, edit in EDITS.items():
            original = row[column]
            change = f"UPDATE audit_log SET {column} = :v WHERE seq = :s"  # noqa: S608
            _execute(db, change, v=edit(original), s=seq)
            verdict = audit.verify(db)
            assert not verdict.intact, f"row {seq} {column}"
            assert verdict.problem == (
                f"audit row {seq} was edited: its prev_hash does not match row {seq - 1}"
                if column == "prev_hash"
                else f"audit row {seq} was edited: its content does not match its hash"
            ), f"row {seq} {column}: {verdict.problem}"
            _execute(db, change, v=original, s=seq)
    assert audit.verify(db).intact
    assert count == len(rows)


def test_every_deleted_row_is_named(db: Database) -> None:
    count = _history(db)
    allow_tampering(db)
    columns = ", ".join(_rows(db)[0])
    values = ", ".join(f":{name}" for name in _rows(db)[0])
    for row in _rows(db):
        seq = row["seq"]
        _execute(db, "DELETE FROM audit_log WHERE seq = :s", s=seq)
        verdict = audit.verify(db)
        assert not verdict.intact
        assert verdict.problem is not None
        assert verdict.problem.startswith(f"audit row {seq} is missing"), verdict.problem
        _execute(db, f"INSERT INTO audit_log ({columns}) VALUES ({values})", **row)  # noqa: S608
    assert audit.verify(db).intact
    _execute(db, "DELETE FROM audit_log WHERE seq = :s", s=count)
    assert audit.verify(db).problem == (
        f"audit row {count} is missing: the chain head names row {count} but the log ends at "
        f"row {count - 1}"
    )


def test_truncation_with_the_head_shows_in_the_head_hash(db: Database) -> None:
    count = _history(db)
    before = audit.verify(db)
    allow_tampering(db)
    previous = _rows(db)[-2]
    _execute(db, "DELETE FROM audit_log WHERE seq = :s", s=count)
    _execute(
        db,
        "UPDATE audit_head SET seq = :s, row_hash = :h",
        s=count - 1,
        h=previous["row_hash"],
    )
    after = audit.verify(db)
    assert after.intact
    assert after.head_hash != before.head_hash


def test_the_database_refuses_to_change_the_log(db: Database) -> None:
    _history(db)
    for sql in ("UPDATE audit_log SET actor = 'x' WHERE seq = 1", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="the audit log is append-only"):
            _execute(db, sql)
    assert audit.verify(db).intact


def test_policy_hash_is_logged_once_per_new_policy(db: Database) -> None:
    other = parse_policy(POLICY_TEXT.replace('expiry = "24h"', 'expiry = "12h"'))
    assert audit.record_policy(db, policy=POLICY, now=T0)
    assert not audit.record_policy(db, policy=POLICY, now=T0 + MINUTE)
    assert audit.record_policy(db, policy=other, now=T0 + 2 * MINUTE)
    assert audit.record_policy(db, policy=POLICY, now=T0 + 3 * MINUTE)
    rows = _rows(db)
    assert [(r["action"], r["policy_hash"]) for r in rows] == [
        ("policy_loaded", POLICY.hash),
        ("policy_loaded", other.hash),
        ("policy_loaded", POLICY.hash),
    ]
    assert f"sha256 {POLICY.hash}" in str(rows[0]["detail"])


def test_rows_carry_actor_request_content_and_policy(db: Database) -> None:
    stored = store(db)
    approve(db, stored.id, T1)
    rows = _rows(db)
    assert [(r["actor"], r["action"], r["request_id"]) for r in rows] == [
        (REQUESTER, "draft_stored", stored.id),
        (T1, "approve", stored.id),
    ]
    assert {r["content_hash"] for r in rows} == {stored.request.content_hash}
    assert {r["policy_hash"] for r in rows} == {POLICY.hash}


def test_export_writes_every_row_as_csv(db: Database) -> None:
    count = _history(db)
    out = io.StringIO()
    assert audit.export_csv(db, out) == count
    exported = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [int(r["seq"]) for r in exported] == list(range(1, count + 1))
    assert list(exported[0]) == list(audit.CSV_COLUMNS)
    assert exported[-1]["row_hash"] == audit.verify(db).head_hash
    assert exported[1]["at"] == "2025-01-02T10:00:00.000000+00:00"


def test_a_deleted_chain_head_is_reported(db: Database) -> None:
    _history(db)
    _execute(db, "DELETE FROM audit_head")
    assert audit.verify(db).problem == "the audit chain head row was deleted"
