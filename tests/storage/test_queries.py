"""The Slack side's reads and small records, on both engines."""

from __future__ import annotations

from datetime import timedelta

from storage import outbox, queries, transactions
from storage.engine import Database, open_database
from storage.freeze import freeze, unfreeze
from tests.approvals import helpers as h
from tests.approvals.helpers import EXCHANGE, REQUESTER, normal
from tests.storage.world import MEMBERSHIP, POLICY


def test_only_one_notifier_at_a_time(db: Database) -> None:
    with queries.only_one(db, name="n") as first:
        assert first
        other = open_database(db.engine.url.render_as_string(hide_password=False))
        try:
            with queries.only_one(other, name="n") as second:
                assert second is db.is_sqlite
        finally:
            other.dispose()
    with queries.only_one(db, name="n") as again:
        assert again


def test_unfreeze_votes_belong_to_one_freeze_and_count_within_the_window(db: Database) -> None:
    start = h.T0
    hour = timedelta(hours=1)
    queries.record_unfreeze_vote(db, by="U0DAVE", now=start - timedelta(minutes=1))
    freeze(db, by="U0ERIN", now=start)
    queries.record_unfreeze_vote(db, by="U0BOB", now=start)
    queries.record_unfreeze_vote(db, by="U0BOB", now=start + timedelta(minutes=1))
    assert queries.unfreeze_voters(db, window=hour) == ["U0BOB"]
    queries.record_unfreeze_vote(db, by="U0CAROL", now=start + timedelta(hours=2))
    assert queries.unfreeze_voters(db, window=hour) == ["U0CAROL"]
    # Unfrozen from a shell, frozen again at the same clock reading: earlier votes are gone.
    unfreeze(db, by=["ops"], now=start + timedelta(hours=2))
    freeze(db, by="U0ERIN", now=start + timedelta(hours=2))
    assert queries.unfreeze_voters(db, window=hour) == []
    queries.record_unfreeze_vote(db, by="U0BOB", now=start + timedelta(hours=2))
    assert queries.unfreeze_voters(db, window=hour) == ["U0BOB"]


def test_reasons_roots_and_batch_marks(db: Database) -> None:
    stored = transactions.draft(
        db,
        draft=normal(),
        requester=REQUESTER,
        exchange=EXCHANGE,
        policy=POLICY,
        membership=MEMBERSHIP,
        now=h.T0,
        reason="rent & <b>",
    )
    assert queries.reasons(db, request_ids=[stored.id]) == {stored.id: "rent & <b>"}
    assert outbox.root_message(db, request_id=stored.id) is None
    [entry] = outbox.pending(db)
    marked = outbox.mark_delivered_many(
        db, delivered=[(entry.key, "1.000100"), (entry.key, "2")], now=h.T0
    )
    assert marked == 1
    assert outbox.root_message(db, request_id=stored.id) == "1.000100"
    assert outbox.pending(db) == []
