"""Every bad draft of the approval tests leaves the database byte-for-byte as it was.

The database is not empty: it already holds approved USDT withdrawals (499,500 USDT in flight,
so the daily-limit case is refused by the sum storage reads), decisions, audit rows and outbox
events. After each refused draft a dump of every table (and PostgreSQL's sequences) must be
unchanged, and on SQLite the database file too, byte for byte, after a checkpoint.
"""

from __future__ import annotations

import pytest

from approvals.policy import parse_policy
from approvals.refusals import DraftRefused
from storage.engine import Database
from tests.approvals.helpers import F1, T1, T2, normal
from tests.approvals.test_drafts import BAD_DRAFTS
from tests.storage.databases import dump, sqlite_file_bytes
from tests.storage.world import approve, store

SEEDED_IN_FLIGHT = "499500"
# These two need other amounts in flight; with 499,500 stored they are refused the same way.
NEEDS_OTHER_WINDOW = {"daily-limit-used-up"}
REPRESENTATIVE = {
    "unknown-coin",
    "too-many-decimals",
    "negative",
    "zero",
    "exponent",
    "above-tier-maximum",
    "over-daily-limit",
    "not-on-allowlist",
    "bad-checksum",
    "lowercase-address",
    "drafter-outside-requester-group",
}


def _seed(db: Database) -> None:
    for amount in ("250000", "249500"):
        stored = store(db, normal(amount))
        for approver in (T1, T2, F1):
            approve(db, stored.id, approver)
    store(db)  # one more, still waiting


def test_the_representative_set_is_covered() -> None:
    assert set(BAD_DRAFTS) >= REPRESENTATIVE
    assert {case.withdrawn for case in BAD_DRAFTS.values()} <= {"0", SEEDED_IN_FLIGHT, "500000"}


def test_every_bad_draft_leaves_the_database_unchanged(db: Database) -> None:
    _seed(db)
    before = dump(db)
    file_before = sqlite_file_bytes(db) if db.is_sqlite else b""
    refused = []
    for name, case in BAD_DRAFTS.items():
        if name in NEEDS_OTHER_WINDOW:
            continue
        with pytest.raises(DraftRefused) as err:
            store(db, case.draft, requester=case.requester, pol=parse_policy(case.policy_text))
        assert case.fragment in err.value.message, name
        assert err.value.field == case.field, name
        assert dump(db) == before, f"{name} changed the database"
        if db.is_sqlite:
            assert sqlite_file_bytes(db) == file_before, f"{name} changed the SQLite file"
        refused.append(name)
    assert set(refused) >= REPRESENTATIVE
    store(db)  # and the comparison does see a draft that is stored
    assert dump(db) != before
    if db.is_sqlite:
        assert sqlite_file_bytes(db) != file_before
