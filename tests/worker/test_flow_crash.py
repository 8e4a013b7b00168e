"""kill -9 of a real edgeX V2 ``withdrawbot worker`` at every step of sign, submit and poll.

As ``test_crash`` does for V1, on SQLite and PostgreSQL: the worker quotes the draft (edgeX's
fee), the test approves it, and each kill happens at a moment observed from outside (the
database, the simulator's book, the Slack stand-in). After a restart there is exactly one asset
flow at the simulator, carrying the stored attempt, and each event reaches the thread once.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from approvals.decisions import Decision
from approvals.lifecycle import State
from bot.edgex.simulator import SimulatorServer
from bot.exchange_terms import flow_metadata
from bot.slack.standin import SlackStandIn
from storage import transactions, work
from storage.engine import Database, open_database
from storage.outbox import pending, root_message
from tests.worker.flow_world import (
    FLOW_ACCOUNT,
    FLOW_POLICY,
    WALLET_HEX,
    flow_draft,
    flow_policy,
    setup_flows,
)
from tests.worker.processes import (
    WorkerProcess,
    expected_keys,
    flow_env,
    slack_env,
    start_worker,
    thread_keys,
)
from tests.worker.world import APPROVER, REQUESTER, Sim, membership, outbox, state_of, wait_for

SUBMIT = "/api/v1/private/unified-asset/submitAssetFlow"


@pytest.fixture
def crash_db(database_url: str) -> Iterator[Database]:
    database = open_database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


@pytest.fixture
def flows_at(simulator: SimulatorServer) -> Iterator[tuple[Sim, dict[str, Any]]]:
    admin = Sim(simulator.url)
    keys = setup_flows(admin, step_ms=300)
    yield admin, keys
    admin.close()


def _start(
    tmp_path: Path, url: str, sim: Sim, keys: dict[str, Any], slack: SlackStandIn, name: str
) -> WorkerProcess:
    return start_worker(
        tmp_path / "home",
        database_url=url,
        edgex_url=sim.url,
        name=name,
        account=FLOW_ACCOUNT,
        slack=slack_env(slack) if name == "first" else _slack(slack),
        policy_text=FLOW_POLICY,
        exchange=flow_env(sim.url, keys, WALLET_HEX),
    )


def _slack(standin: SlackStandIn) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": standin.bot_token,
        "SLACK_API_URL": standin.api_url,
        "WITHDRAWBOT_CHANNEL": "C0TREASURY",
    }


def _drafted(database: Database) -> int:
    pol = flow_policy()
    stored = transactions.draft(
        database,
        draft=flow_draft(),
        requester=REQUESTER,
        exchange=flow_metadata(),
        policy=pol,
        membership=membership(pol),
        now=datetime.now(UTC),
    )
    return stored.id


def _approve_once_priced(database: Database, request_id: int) -> None:
    wait_for(lambda: state_of(database, request_id) is State.PENDING_APPROVAL, timeout=30)
    pol = flow_policy()
    transactions.decide(
        database,
        request_id=request_id,
        approver=APPROVER,
        decision=Decision.APPROVE,
        policy=pol,
        membership=membership(pol),
        now=datetime.now(UTC),
    )


def _finish(database: Database, request_id: int, worker: WorkerProcess) -> None:
    try:
        wait_for(lambda: state_of(database, request_id) is State.COMPLETED, timeout=30)
        wait_for(lambda: not pending(database), timeout=30)
    finally:
        assert worker.terminate() == 0


def _exactly_once(database: Database, request_id: int, sim: Sim, slack: SlackStandIn) -> None:
    [flow] = list(sim.state()["flows"].values())
    submission = work.submissions(database, request_ids=[request_id])[request_id]
    assert flow["attempt"] == json.loads(submission.body)["attempt"]
    assert submission.exchange_withdraw_id == flow["flowId"]
    events = outbox(database, request_id)
    names = Counter(e["event"] for e in events)
    assert {name for name, count in names.items() if count > 1} <= {"exchange_status"}
    assert names["signed"] == names["exchange_accepted"] == names["exchange_completed"] == 1
    root = root_message(database, request_id=request_id)
    assert root is not None
    assert thread_keys(slack, root) == expected_keys(database, request_id)


def test_kill_after_signing_before_the_send_arrives(
    tmp_path: Path,
    database_url: str,
    crash_db: Database,
    flows_at: tuple[Sim, dict[str, Any]],
    slack: SlackStandIn,
) -> None:
    sim, keys = flows_at
    sim.post("faults", kind="drop", path=SUBMIT, count=1000)
    request_id = _drafted(crash_db)
    first = _start(tmp_path, database_url, sim, keys, slack, "first")
    _approve_once_priced(crash_db, request_id)
    wait_for(lambda: state_of(crash_db, request_id) is State.SUBMITTING, timeout=30)
    first.kill()
    assert sim.state()["flows"] == {}
    sim.http.delete("/_sim/faults")
    second = _start(tmp_path, database_url, sim, keys, slack, "second")
    _finish(crash_db, request_id, second)
    _exactly_once(crash_db, request_id, sim, slack)
    secrets = (keys["apiSecret"], WALLET_HEX.removeprefix("0x"), keys["passphrase"])
    logs = first.output() + second.output()
    assert not [s for s in secrets if s in logs]


def test_kill_after_edgex_recorded_it_before_the_flow_id_was_stored(
    tmp_path: Path,
    database_url: str,
    crash_db: Database,
    flows_at: tuple[Sim, dict[str, Any]],
    slack: SlackStandIn,
) -> None:
    sim, keys = flows_at
    sim.post("faults", kind="drop_after_record", path=SUBMIT, count=1000)
    request_id = _drafted(crash_db)
    first = _start(tmp_path, database_url, sim, keys, slack, "first")
    _approve_once_priced(crash_db, request_id)
    wait_for(lambda: len(sim.state()["flows"]) == 1, timeout=30)
    first.kill()
    assert state_of(crash_db, request_id) in (State.SUBMITTING, State.NEEDS_RECONCILIATION)
    sim.http.delete("/_sim/faults")
    second = _start(tmp_path, database_url, sim, keys, slack, "second")
    _finish(crash_db, request_id, second)
    _exactly_once(crash_db, request_id, sim, slack)


def test_kill_after_a_status_was_recorded_before_it_was_posted(
    tmp_path: Path,
    database_url: str,
    crash_db: Database,
    flows_at: tuple[Sim, dict[str, Any]],
    slack: SlackStandIn,
) -> None:
    sim, keys = flows_at
    request_id = _drafted(crash_db)
    first = _start(tmp_path, database_url, sim, keys, slack, "first")
    _approve_once_priced(crash_db, request_id)
    wait_for(lambda: state_of(crash_db, request_id) is State.SUBMITTED, timeout=30)
    slack.fail_next("chat.postMessage", status=503, count=10_000)
    wait_for(
        lambda: any(e["event"] == "exchange_status" for e in outbox(crash_db, request_id)),
        timeout=30,
    )
    first.kill()
    slack.clear_faults()
    second = _start(tmp_path, database_url, sim, keys, slack, "second")
    _finish(crash_db, request_id, second)
    _exactly_once(crash_db, request_id, sim, slack)
