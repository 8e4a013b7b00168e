"""Exchange queries on both engines: leased like other work, finished once, the URL dropped."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from storage import exchange_queries
from storage.engine import Database, open_database
from storage.exchange_queries import ExchangeQuery, Outcome, QueryKind
from storage.failures import StorageError
from tests.approvals.helpers import T0

LEASE = timedelta(minutes=1)
URL = "https://hooks.slack.invalid/commands/T0/1/secret-part"
ADDRESS = "0x52908400098527886E0F7030069857D2E4169EE7"


def _ask(db: Database, kind: QueryKind = QueryKind.HISTORY, argument: str = "30") -> int:
    return exchange_queries.ask(
        db, kind=kind, argument=argument, requester="U0BOB", response_url=URL, now=T0
    )


def _claim(db: Database, owner: str, now: datetime = T0) -> list[ExchangeQuery]:
    return exchange_queries.claim(db, owner=owner, now=now, lease_for=LEASE)


def _row(db: Database, query_id: int) -> dict[str, object]:
    with db.read() as session:
        row = session.connection().execute(
            text("SELECT * FROM exchange_queries WHERE id = :id"), {"id": query_id}
        )
        return dict(row.mappings().one())


def test_a_query_is_leased_to_one_worker_until_its_lease_runs_out(db: Database) -> None:
    first = _ask(db)
    second = _ask(db, QueryKind.CLAIMABLE, ADDRESS)
    claimed = _claim(db, "a")
    assert [(q.id, q.kind, q.argument) for q in claimed] == [
        (first, QueryKind.HISTORY, "30"),
        (second, QueryKind.CLAIMABLE, ADDRESS),
    ]
    assert {(q.requester, q.response_url, q.created_at, q.attempts) for q in claimed} == {
        ("U0BOB", URL, T0, 0)
    }
    assert _claim(db, "b") == []
    assert [q.id for q in _claim(db, "b", now=T0 + LEASE)] == [first, second]


def test_finishing_drops_the_url_and_the_query_is_never_claimed_again(db: Database) -> None:
    query_id = _ask(db)
    _claim(db, "a")
    assert not exchange_queries.finish(
        db, query_id=query_id, owner="b", outcome=Outcome.ANSWERED, now=T0
    )
    assert exchange_queries.finish(
        db, query_id=query_id, owner="a", outcome=Outcome.ANSWERED, now=T0 + LEASE / 2
    )
    row = _row(db, query_id)
    assert row["response_url"] is None
    assert row["outcome"] == "answered"
    assert row["lease_owner"] is None
    assert _claim(db, "b", now=T0 + 10 * LEASE) == []
    assert not exchange_queries.finish(
        db, query_id=query_id, owner="a", outcome=Outcome.FAILED, now=T0
    )


def test_a_deferred_query_waits_for_its_time_then_counts_the_attempt(db: Database) -> None:
    query_id = _ask(db)
    _claim(db, "a")
    retry_at = T0 + 3 * LEASE
    assert exchange_queries.defer(db, query_id=query_id, owner="a", until=retry_at)
    assert not exchange_queries.defer(db, query_id=query_id, owner="a", until=retry_at)
    assert _claim(db, "b", now=retry_at - timedelta(seconds=1)) == []
    [again] = _claim(db, "b", now=retry_at)
    assert again.attempts == 1


def test_renew_needs_a_live_lease_of_ones_own(db: Database) -> None:
    query_id = _ask(db)
    _claim(db, "a")
    assert exchange_queries.renew(db, query_id=query_id, owner="a", now=T0, lease_for=LEASE)
    assert not exchange_queries.renew(db, query_id=query_id, owner="b", now=T0, lease_for=LEASE)
    late = T0 + 2 * LEASE
    assert not exchange_queries.renew(db, query_id=query_id, owner="a", now=late, lease_for=LEASE)


def test_released_leases_are_claimable_at_once(db: Database) -> None:
    kept, given = _ask(db), _ask(db)
    _claim(db, "a")
    assert exchange_queries.release_leases(db, owner="a", query_ids=[given]) == 1
    assert [q.id for q in _claim(db, "b")] == [given]
    assert exchange_queries.release_leases(db, owner="a") == 1
    assert [q.id for q in _claim(db, "c")] == [kept]


def _update(db: Database, sql: str, query_id: int) -> None:
    with db.write() as session:
        session.connection().execute(text(sql), {"id": query_id})
        session.commit()


def test_the_database_keeps_no_url_on_a_finished_query(db: Database) -> None:
    query_id = _ask(db)
    finished = "UPDATE exchange_queries SET finished_at = created_at, outcome = 'answered'"
    with pytest.raises(IntegrityError):
        _update(db, finished + " WHERE id = :id", query_id)
    with pytest.raises(IntegrityError):
        _update(db, "UPDATE exchange_queries SET kind = 'balance' WHERE id = :id", query_id)
    _update(db, finished + ", response_url = NULL WHERE id = :id", query_id)


def test_a_query_not_stored_never_shows_its_url(db: Database) -> None:
    with db.write() as session:
        session.connection().execute(text("DROP TABLE exchange_queries"))
        session.commit()
    with pytest.raises(StorageError) as failed:
        _ask(db)
    assert "secret-part" not in str(failed.value)
    assert failed.value.__cause__ is None
    assert failed.value.__suppress_context__


def test_the_url_never_shows_in_a_repr(db: Database) -> None:
    _ask(db)
    [query] = _claim(db, "a")
    assert "secret-part" not in repr(query)
    assert "secret-part" not in str(query)


@pytest.fixture
def busy_db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url, pool_size=8)
    yield database
    database.dispose()


def test_eight_workers_claiming_at_once_never_share_a_query(busy_db: Database) -> None:
    asked = {_ask(busy_db) for _ in range(40)}
    start = threading.Barrier(8)
    taken: dict[str, list[int]] = {}

    def worker(owner: str) -> None:
        start.wait()
        mine: list[int] = []
        while batch := exchange_queries.claim(
            busy_db, owner=owner, now=T0, lease_for=LEASE, limit=3
        ):
            mine += [query.id for query in batch]
        taken[owner] = mine

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    claimed = [query_id for mine in taken.values() for query_id in mine]
    assert len(taken) == 8
    assert sorted(claimed) == sorted(asked), "each query claimed exactly once"
