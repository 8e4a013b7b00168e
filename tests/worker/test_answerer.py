"""The answerer against the simulator and the Slack stand-in: each query answered once, by URL.

A web-only process leaves ``/withdraw history`` and ``claimable`` in ``exchange_queries``; these
tests store them as it does and let real workers answer through real ``response_url`` posts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from bot.edgex.client import ALL_ORDERS_PATH, NORMAL_WITHDRAWABLE_PATH
from bot.slack.standin import SlackStandIn
from bot.slack.standin.workspace import ResponseTarget
from bot.worker.answerer import EXPIRES_AFTER
from bot.worker.loop import Worker
from storage import exchange_queries
from storage.engine import Database
from storage.exchange_queries import QueryKind
from tests.slack.e2e.conftest import ack_text
from tests.worker.world import LISTED, Sim, fast_config, wait_for, worker

CHANNEL = "C0TREASURY"
EXCHANGE_DOWN = "edgeX did not answer as expected ("


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        standin.workspace.add_channel(CHANNEL, "treasury")
        yield standin


def _ask(
    db: Database,
    slack: SlackStandIn,
    user: str,
    kind: QueryKind = QueryKind.CLAIMABLE,
    *,
    asked_at: datetime | None = None,
) -> tuple[int, str]:
    """A query as a web-only process stores it; returns its id and its response_url."""
    url = slack.response_url(ResponseTarget(CHANNEL, user, None))
    query_id = exchange_queries.ask(
        db,
        kind=kind,
        argument="30" if kind is QueryKind.HISTORY else LISTED,
        requester=user,
        response_url=url,
        now=asked_at or datetime.now(UTC),
    )
    return query_id, url


def _answers(slack: SlackStandIn, user: str) -> list[dict[str, Any]]:
    return [m for m in slack.workspace.ephemerals_for(user) if m.get("via") == "respond"]


def _row(db: Database, query_id: int) -> dict[str, Any]:
    with db.read() as session:
        found = session.connection().execute(
            text("SELECT * FROM exchange_queries WHERE id = :id"), {"id": query_id}
        )
        return dict(found.mappings().one())


def _ours(caplog: pytest.LogCaptureFixture) -> str:
    """Every log line but the stand-in's own (it plays Slack, the URL's other end)."""
    return "\n".join(
        record.getMessage()
        for record in caplog.records
        if not record.name.startswith("bot.slack.standin")
    )


def _finished(db: Database, query_id: int) -> bool:
    return _row(db, query_id)["finished_at"] is not None


@pytest.fixture
def answerer(sqlite_db: Database, sim: Sim) -> Iterator[Worker]:
    """A worker whose answerer the test steps itself; no retry pause to wait out."""
    built = worker(sqlite_db, sim.url, fast_config(error_backoff=0.0, max_error_backoff=0.0))
    yield built
    built.exchange.client.close()


def test_two_workers_answer_each_query_once(db: Database, sim: Sim, slack: SlackStandIn) -> None:
    people = [f"U0P{i}" for i in range(12)]
    asked = {
        person: _ask(db, slack, person, QueryKind.HISTORY if i % 2 else QueryKind.CLAIMABLE)[0]
        for i, person in enumerate(people)
    }
    workers = [worker(db, sim.url, fast_config(owner=name)) for name in ("w1", "w2")]
    for started in workers:
        started.start()
    try:
        wait_for(lambda: all(_finished(db, query_id) for query_id in asked.values()), timeout=30)
    finally:
        for started in workers:
            started.stop()
            started.exchange.client.close()
    posts = slack.calls_to("response_url")
    assert len(posts) == len(people), "one post per query, never two"
    assert all(call.ok for call in posts)
    assert {(c.args["response_type"], c.args["replace_original"]) for c in posts} == {
        ("ephemeral", False)
    }
    for i, person in enumerate(people):
        [answer] = _answers(slack, person)
        said = ack_text(answer)
        if i % 2:
            assert "in the last 30 days" in said, said
        else:
            assert f"`{LISTED}` can claim *0 USDT*" in said, said
        row = _row(db, asked[person])
        assert (row["outcome"], row["response_url"], row["lease_owner"]) == ("answered", None, None)


def test_an_expired_query_is_dropped_without_a_post(
    sqlite_db: Database, answerer: Worker, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    late = datetime.now(UTC) - EXPIRES_AFTER - timedelta(seconds=1)
    old, url = _ask(sqlite_db, slack, "U0BOB", asked_at=late)
    fresh, _ = _ask(sqlite_db, slack, "U0CAROL")
    with caplog.at_level(logging.DEBUG):
        assert answerer.answerer.run_once() == 2
    assert _row(sqlite_db, old)["outcome"] == "expired"
    assert _row(sqlite_db, old)["response_url"] is None
    assert _answers(slack, "U0BOB") == []
    assert len(_answers(slack, "U0CAROL")) == 1
    assert _row(sqlite_db, fresh)["outcome"] == "answered"
    assert f"worker.query_expired query_id={old} kind=claimable requester=U0BOB" in caplog.text
    assert url not in _ours(caplog)


def test_an_edgex_refusal_is_answered_with_the_words_of_a_single_process(
    sqlite_db: Database, answerer: Worker, sim: Sim, slack: SlackStandIn
) -> None:
    sim.post("faults", kind="http_error", path=NORMAL_WITHDRAWABLE_PATH, status=400)
    query_id, _ = _ask(sqlite_db, slack, "U0BOB")
    answerer.answerer.run_once()
    [answer] = _answers(slack, "U0BOB")
    said = ack_text(answer)
    assert EXCHANGE_DOWN in said
    assert "try again in a minute" in said
    assert _row(sqlite_db, query_id)["outcome"] == "failed"
    assert sim.calls(NORMAL_WITHDRAWABLE_PATH) == 0, "a refusal is not asked again"


def test_an_outage_is_tried_again_and_answered_when_it_passes(
    sqlite_db: Database, answerer: Worker, sim: Sim, slack: SlackStandIn
) -> None:
    # The client itself tries twice per read: this fails the worker's first try only.
    sim.post("faults", kind="http_error", path=ALL_ORDERS_PATH, status=503, count=2)
    query_id, _ = _ask(sqlite_db, slack, "U0BOB", QueryKind.HISTORY)
    answerer.answerer.run_once()
    assert _answers(slack, "U0BOB") == []
    assert _row(sqlite_db, query_id)["attempts"] == 1
    answerer.answerer.run_once()
    [answer] = _answers(slack, "U0BOB")
    assert "in the last 30 days" in ack_text(answer)
    assert _row(sqlite_db, query_id)["outcome"] == "answered"


def test_an_outage_that_lasts_is_answered_with_the_failure(
    sqlite_db: Database, answerer: Worker, sim: Sim, slack: SlackStandIn
) -> None:
    sim.post("faults", kind="http_error", path=NORMAL_WITHDRAWABLE_PATH, status=503, count=100)
    query_id, _ = _ask(sqlite_db, slack, "U0BOB")
    for _ in range(answerer.config.query_attempts):
        answerer.answerer.run_once()
    [answer] = _answers(slack, "U0BOB")
    assert EXCHANGE_DOWN in ack_text(answer)
    row = _row(sqlite_db, query_id)
    assert (row["outcome"], row["attempts"]) == ("failed", answerer.config.query_attempts - 1)
    assert answerer.answerer.run_once() == 0


def test_a_slack_outage_is_tried_again_and_a_dead_url_given_up(
    sqlite_db: Database, answerer: Worker, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fail_next("response_url", status=503)
    query_id, url = _ask(sqlite_db, slack, "U0BOB")
    dead = exchange_queries.ask(
        sqlite_db,
        kind=QueryKind.HISTORY,
        argument="7",
        requester="U0CAROL",
        response_url=slack.url + "/response/no-such-token",
        now=datetime.now(UTC),
    )
    with caplog.at_level(logging.DEBUG):
        answerer.answerer.run_once()
        assert _answers(slack, "U0BOB") == []
        assert _row(sqlite_db, dead)["outcome"] == "undelivered"
        answerer.answerer.run_once()
    assert len(_answers(slack, "U0BOB")) == 1
    assert _row(sqlite_db, query_id)["outcome"] == "answered"
    assert "worker.query_undelivered" in caplog.text
    assert url not in _ours(caplog)
    assert "no-such-token" not in _ours(caplog)


def test_a_stopping_worker_gives_its_leases_back(
    sqlite_db: Database, answerer: Worker, slack: SlackStandIn
) -> None:
    query_id, _ = _ask(sqlite_db, slack, "U0BOB")
    exchange_queries.claim(
        sqlite_db, owner=answerer.answerer.owner, now=datetime.now(UTC), lease_for=timedelta(1)
    )
    answerer.stop(timeout=1)
    assert _row(sqlite_db, query_id)["lease_owner"] is None


def test_a_url_nothing_answers_at_is_tried_again_then_given_up_unlogged(
    sqlite_db: Database, answerer: Worker, caplog: pytest.LogCaptureFixture
) -> None:
    urls = ["http://127.0.0.1:9/response/secret-one", "ftp://127.0.0.1/response/secret-two"]
    asked = [
        exchange_queries.ask(
            sqlite_db,
            kind=QueryKind.CLAIMABLE,
            argument=LISTED,
            requester="U0BOB",
            response_url=url,
            now=datetime.now(UTC),
        )
        for url in urls
    ]
    with caplog.at_level(logging.DEBUG):
        for _ in range(answerer.config.query_attempts):
            answerer.answerer.run_once()
    assert [_row(sqlite_db, query_id)["outcome"] for query_id in asked] == ["undelivered"] * 2
    assert "worker.query_deferred" in caplog.text
    assert "secret-" not in _ours(caplog)
