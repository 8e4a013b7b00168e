"""Two worker processes on one PostgreSQL share 100 approved requests: each sent once, each
transition written once and posted to its Slack thread once (both replicas run notifiers)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from approvals.lifecycle import State
from bot.edgex.simulator import SimulatorServer
from bot.slack.standin import SlackStandIn
from storage.engine import Database
from storage.outbox import pending, root_message
from tests.worker.processes import expected_keys, slack_env, start_worker, thread_keys
from tests.worker.world import Sim, approved, outbox, state_of, wait_for

REQUESTS = 100


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        yield standin


@pytest.mark.parametrize("engine_name", ["postgresql"], indirect=True)
def test_two_workers_share_the_work_and_send_each_request_once(
    tmp_path: Path,
    database_url: str,
    db: Database,
    simulator: SimulatorServer,
    sim: Sim,
    slack: SlackStandIn,
) -> None:
    workers = [
        start_worker(
            tmp_path / name,
            database_url=database_url,
            edgex_url=sim.url,
            name=name,
            slack=slack_env(slack),
        )
        for name in ("replica-a", "replica-b")
    ]
    try:
        wait_for(lambda: all("worker.started" in w.output() for w in workers), timeout=20)
        ids = [approved(db).id for _ in range(REQUESTS)]
        wait_for(
            lambda: all(state_of(db, i) is State.COMPLETED for i in ids), timeout=40, every=0.2
        )
        wait_for(lambda: not pending(db), timeout=40, every=0.2)
    finally:
        codes = [w.terminate() for w in workers]
    assert codes == [0, 0]

    withdrawals = sim.withdrawals()
    assert len(withdrawals) == REQUESTS
    client_ids = Counter(w["body"]["clientWithdrawId"] for w in withdrawals)
    assert set(client_ids.values()) == {1}

    events: dict[int, list[dict[str, object]]] = defaultdict(list)
    for payload in outbox(db):
        events[int(str(payload["request_id"]))].append(payload)
    signers: Counter[str] = Counter()
    for request_id in ids:
        mine = events[request_id]
        names = Counter(str(e["event"]) for e in mine)
        assert names["signed"] == names["exchange_accepted"] == names["exchange_completed"] == 1
        assert {n for n, c in names.items() if c > 1} <= {"exchange_status"}
        statuses = [e["exchange_status"] for e in mine if str(e["event"]).startswith("exchange_")]
        assert len(statuses) == len(set(statuses))
        [signed] = [e for e in mine if e["event"] == "signed"]
        signers[str(signed["actor"]).split("/")[0]] += 1
    assert set(signers) == {"replica-a", "replica-b"}, signers
    for request_id in ids:
        root = root_message(db, request_id=request_id)
        assert root is not None
        assert thread_keys(slack, root) == expected_keys(db, request_id)
