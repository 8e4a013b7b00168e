"""kill -9 at the three dangerous moments, then a restart: one withdrawal, each event once.

The worker runs as a real ``withdrawbot worker`` process on a SQLite file, with its notifier
posting to a Slack stand-in; the simulator and the stand-in run in this test process. Each kill
happens at a moment the test observes from outside (the database, the simulator's book, the
stand-in's channel), not at a hook inside the worker. After the restart the request's thread
shows each transition once: every outbox key in the messages' metadata once, in order.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import col, select

from approvals.lifecycle import State
from bot.edgex.simulator import SimulatorServer
from bot.slack.standin import SlackStandIn
from storage import work
from storage.engine import Database, open_database
from storage.outbox import pending, root_message
from storage.tables import RequestRow
from tests.worker.processes import (
    PRIVATE_KEY,
    WorkerProcess,
    expected_keys,
    slack_env,
    start_worker,
    thread_keys,
)
from tests.worker.world import Sim, approved, outbox, state_of, wait_for

CREATE_NORMAL = "/api/v1/private/assets/createNormalWithdraw"


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "withdrawbot.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def file_db(sqlite_url: str) -> Iterator[Database]:
    database = open_database(sqlite_url)
    yield database
    database.dispose()


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def settings(slack: SlackStandIn) -> dict[str, str]:
    return slack_env(slack)


def _start(
    tmp_path: Path, url: str, sim: Sim, name: str, settings: dict[str, str]
) -> WorkerProcess:
    return start_worker(
        tmp_path / "home", database_url=url, edgex_url=sim.url, name=name, slack=settings
    )


def _finish(database: Database, request_id: int, worker: WorkerProcess) -> None:
    """Wait for the request to complete and every event to be posted, then SIGTERM."""
    try:
        wait_for(lambda: state_of(database, request_id) is State.COMPLETED, timeout=20)
        wait_for(lambda: not pending(database), timeout=20)
    finally:
        assert worker.terminate() == 0  # SIGTERM: finishes its step, gives its leases back


def _posted(slack: SlackStandIn, database: Database, request_id: int) -> list[str]:
    root = root_message(database, request_id=request_id)
    return [] if root is None else thread_keys(slack, root)


def _each_transition_once_in_the_thread(
    slack: SlackStandIn, database: Database, request_id: int
) -> None:
    assert _posted(slack, database, request_id) == expected_keys(database, request_id)


def _exactly_once(database: Database, request_id: int, sim: Sim) -> None:
    """One withdrawal, carrying the stored bytes; every event and every status once."""
    [withdrawal] = sim.withdrawals()
    submission = work.submissions(database, request_ids=[request_id])[request_id]
    assert withdrawal["body"] == json.loads(submission.body)
    assert submission.exchange_withdraw_id == withdrawal["id"]
    events = outbox(database, request_id)
    names = Counter(e["event"] for e in events)
    assert {name for name, count in names.items() if count > 1} <= {"exchange_status"}
    assert names["signed"] == names["exchange_accepted"] == names["exchange_completed"] == 1
    statuses = [e["exchange_status"] for e in events if e["event"].startswith("exchange_")]
    assert len(statuses) == len(set(statuses)), statuses
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


def _leases(database: Database) -> list[str | None]:
    with database.read() as session:
        return list(session.exec(select(col(RequestRow.lease_owner))).all())


def test_kill_after_signing_before_the_send_arrives(
    tmp_path: Path,
    sqlite_url: str,
    file_db: Database,
    simulator: SimulatorServer,
    sim: Sim,
    slack: SlackStandIn,
    settings: dict[str, str],
) -> None:
    sim.post("faults", kind="drop", path=CREATE_NORMAL, count=1000)  # nothing reaches the book
    stored = approved(file_db)
    first = _start(tmp_path, sqlite_url, sim, "first", settings)
    wait_for(lambda: state_of(file_db, stored.id) is State.SUBMITTING, timeout=20)
    first.kill()
    assert sim.withdrawals() == []
    signed = work.submissions(file_db, request_ids=[stored.id])[stored.id]

    sim.http.delete("/_sim/faults")
    second = _start(tmp_path, sqlite_url, sim, "second", settings)
    _finish(file_db, stored.id, second)
    _exactly_once(file_db, stored.id, sim)
    _each_transition_once_in_the_thread(slack, file_db, stored.id)
    assert work.submissions(file_db, request_ids=[stored.id])[stored.id].body == signed.body
    assert PRIVATE_KEY.lower().removeprefix("0x") not in first.output() + second.output()


def test_kill_after_the_exchange_recorded_it_before_the_id_was_stored(
    tmp_path: Path,
    sqlite_url: str,
    file_db: Database,
    simulator: SimulatorServer,
    sim: Sim,
    slack: SlackStandIn,
    settings: dict[str, str],
) -> None:
    sim.post("faults", kind="drop_after_record", path=CREATE_NORMAL, count=1000)
    stored = approved(file_db)
    first = _start(tmp_path, sqlite_url, sim, "first", settings)
    wait_for(lambda: len(sim.withdrawals()) == 1, timeout=20)
    first.kill()
    assert state_of(file_db, stored.id) is State.SUBMITTING
    assert (
        work.submissions(file_db, request_ids=[stored.id])[stored.id].exchange_withdraw_id is None
    )

    sim.http.delete("/_sim/faults")
    second = _start(tmp_path, sqlite_url, sim, "second", settings)
    _finish(file_db, stored.id, second)
    _exactly_once(file_db, stored.id, sim)
    _each_transition_once_in_the_thread(slack, file_db, stored.id)


def test_kill_after_a_status_was_recorded_before_it_was_posted(
    tmp_path: Path,
    sqlite_url: str,
    file_db: Database,
    simulator: SimulatorServer,
    sim: Sim,
    slack: SlackStandIn,
    settings: dict[str, str],
) -> None:
    sim.post("config", normalStepMs=400, crossStepMs=400)
    stored = approved(file_db)
    first = _start(tmp_path, sqlite_url, sim, "first", settings)
    wait_for(lambda: bool(_posted(slack, file_db, stored.id)), timeout=20)
    slack.fail_next("chat.postMessage", status=503, count=10_000)  # nothing more is posted
    wait_for(
        lambda: any(e["event"] == "exchange_status" for e in outbox(file_db, stored.id)),
        timeout=20,
    )
    first.kill()
    recorded = outbox(file_db, stored.id)
    last = expected_keys(file_db, stored.id)[-1]
    assert last not in _posted(slack, file_db, stored.id)  # written, never posted

    slack.clear_faults()

    second = _start(tmp_path, sqlite_url, sim, "second", settings)
    _finish(file_db, stored.id, second)
    _exactly_once(file_db, stored.id, sim)
    _each_transition_once_in_the_thread(slack, file_db, stored.id)
    assert outbox(file_db, stored.id)[: len(recorded)] == recorded
    assert _leases(file_db) == [None]
    assert "worker.stopped" in second.output()
