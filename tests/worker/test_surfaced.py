"""A withdrawal confirmed absent by people that edgeX shows after all: never silence, never a match.

The simulator records the first send and drops the connection, then answers the resend with an
error, so the request needs reconciliation while edgeX does have the withdrawal; two approvers
confirm it absent before the worker matched it (the case a late listing at edgeX makes real).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from approvals.lifecycle import ABSENCE_WAIT, State
from bot.worker.loop import Worker
from bot.worker.watch import AccountWatch
from storage import alerts, reconciliation
from storage.engine import Database
from storage.repository import StoredRequest
from storage.tables import RequestRow
from tests.worker.world import (
    APPROVER,
    Sim,
    approved,
    membership,
    outbox,
    policy,
    state_of,
    wait_for,
)

CREATE_NORMAL = "/api/v1/private/assets/createNormalWithdraw"
ORDERS = "/api/v1/private/assets/getAllOrdersPage"
SECOND = "UT2"


def _recorded_but_unknown(db: Database, sim: Sim, idle: Worker) -> StoredRequest:
    sim.post("faults", kind="drop_after_record", path=CREATE_NORMAL)
    sim.post("faults", kind="http_error", status=400, path=CREATE_NORMAL)
    stored = approved(db)
    idle.submitter.run_once()
    assert state_of(db, stored.id) is State.NEEDS_RECONCILIATION
    assert len(sim.withdrawals()) == 1
    return stored


def _confirm_absent(db: Database, request_id: int, now: datetime) -> None:
    pol = policy()
    for who in (APPROVER, SECOND):
        reconciliation.confirm_absent(
            db,
            request_id=request_id,
            confirmer=who,
            policy=pol,
            membership=membership(pol),
            now=now,
        )
    assert state_of(db, request_id) is State.FAILED


def _reported_once(db: Database, request_id: int) -> None:
    [alert] = alerts.pending(db)
    assert alert.event == reconciliation.FOUND_AT_EXCHANGE
    text = alert.payload["detail"]["alert"]["text"]
    assert f"Withdrawal #{request_id} is at edgeX after all" in text
    assert "two approvers confirmed it was not at edgeX" in text
    event = outbox(db, request_id)[-1]
    assert event["event"] == reconciliation.FOUND_AT_EXCHANGE
    assert event["state"] == "failed"
    assert event["detail"]["alert"]["text"] == text


def test_the_watch_reports_it_even_when_it_is_older_than_a_cycle_reads(
    sqlite_db: Database, sim: Sim, idle: Worker
) -> None:
    stored = _recorded_but_unknown(sqlite_db, sim, idle)
    clock = [datetime.now(UTC)]
    watch = AccountWatch(
        sqlite_db, idle.exchange, idle.config, stop=threading.Event(), clock=lambda: clock[0]
    )
    # Ours and unresolved: not foreign, and not reported.
    assert watch.run_once() == (0, 0)
    # An hour on, a cycle reads only the last few minutes: the withdrawal is out of its reach.
    clock[0] += timedelta(hours=1)
    assert watch.run_once() == (0, 0)
    clock[0] += timedelta(minutes=1)
    _confirm_absent(sqlite_db, stored.id, clock[0])
    clock[0] += timedelta(minutes=1)
    assert watch.run_once() == (1, 0)
    assert watch.run_once() == (0, 0)
    _reported_once(sqlite_db, stored.id)
    # Failed for good: the worker neither matches nor sends it again.
    assert idle.poller.reconcile_once() == 0
    idle.submitter.run_once()
    assert state_of(sqlite_db, stored.id) is State.FAILED
    assert len(sim.withdrawals()) == 1
    assert sim.calls("createNormalWithdraw") == 1


def test_a_match_found_after_people_confirmed_it_absent_is_reported(
    sqlite_db: Database, sim: Sim, idle: Worker
) -> None:
    stored = _recorded_but_unknown(sqlite_db, sim, idle)
    sim.post("faults", kind="slow", seconds=1.0, path=ORDERS)
    matched: list[int] = []
    search = threading.Thread(target=lambda: matched.append(idle.poller.reconcile_once()))
    search.start()

    def leased() -> bool:
        with sqlite_db.read() as session:
            owner = session.exec(
                select(RequestRow.lease_owner).where(col(RequestRow.id) == stored.id)
            ).one()
        return owner is not None

    wait_for(leased)
    # People confirm once the wait is over, while this search is still under way.
    _confirm_absent(sqlite_db, stored.id, datetime.now(UTC) + ABSENCE_WAIT)
    search.join()
    assert matched == [0]
    assert state_of(sqlite_db, stored.id) is State.FAILED
    _reported_once(sqlite_db, stored.id)
