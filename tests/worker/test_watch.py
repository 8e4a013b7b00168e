"""The account watch, batched polling, the start-up key check and the PostgreSQL wakeup."""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import replace
from datetime import timedelta

import pytest

from approvals.content import Kind
from approvals.lifecycle import State
from bot.edgex import signing
from bot.edgex.simulator import SimulatorServer
from bot.refused import Refused
from bot.startup import check_account
from bot.wakeups import Wakeup
from bot.worker.exchange_access import ExchangeAccess
from bot.worker.listen import listen
from bot.worker.loop import Worker
from storage import alerts
from storage.engine import CONNECT_TIMEOUT_SECONDS as CONNECT_TIMEOUT
from storage.engine import Database, database_url
from tests.edgex.vectors import vector_key
from tests.worker.world import (
    ACCOUNT,
    LISTED,
    Sim,
    approved,
    client,
    cross,
    fast_config,
    normal,
    outbox,
    state_of,
    wait_for,
    worker,
)


def test_withdrawal_made_outside_withdrawbot_is_reported_once(
    sqlite_db: Database, sim: Sim, idle: Worker
) -> None:
    ours = approved(sqlite_db)
    idle.submitter.run_once()
    assert state_of(sqlite_db, ours.id) is State.SUBMITTED
    v1 = idle.exchange
    assert isinstance(v1, ExchangeAccess)
    edgex = v1.client
    body = signing.build_normal_withdraw_body(
        vector_key(),
        account_id=ACCOUNT,
        coin=v1.coin("1000"),
        amount="100",
        eth_address=LISTED,
        client_withdraw_id="someone-else-1",
        expire_time_ms=signing.hour_aligned_expire_time(edgex.server_time_ms()),
    )
    foreign_id = edgex.create_normal_withdraw(body)

    assert idle.watch.run_once() == (1, 0)
    assert idle.watch.run_once() == (0, 0)
    [alert] = alerts.pending(sqlite_db)
    assert alert.event == "foreign_withdrawal"
    assert alert.payload["detail"]["order"]["orderId"] == foreign_id
    assert alert.payload["detail"]["client_id"] == "someone-else-1"
    assert "did not make" in alert.payload["detail"]["text"]
    assert alerts.mark_delivered(sqlite_db, key=alert.key, now=alert.created_at, slack_ts="1.2")
    assert alerts.pending(sqlite_db) == []


def test_request_without_change_is_reported_stalled_once(sqlite_db: Database, sim: Sim) -> None:
    sim.post("config", normalStepMs=600_000, crossStepMs=600_000)
    config = fast_config(
        stall_after={Kind.NORMAL: timedelta(seconds=0.3), Kind.CROSS: timedelta(hours=1)}
    )
    slow = worker(sqlite_db, sim.url, config)
    try:
        stored = approved(sqlite_db)
        other = approved(sqlite_db, cross())
        slow.submitter.run_once()
        slow.poller.run_once()
        assert slow.watch.run_once() == (0, 0)
        time.sleep(0.4)
        assert slow.watch.run_once() == (0, 1)
        assert slow.watch.run_once() == (0, 0)
    finally:
        slow.exchange.client.close()
    stalled = [e for e in outbox(sqlite_db, stored.id) if e["event"] == "stalled"]
    assert len(stalled) == 1
    assert stalled[0]["exchange_status"] == "NORMAL_WITHDRAW_PENDING_RISK_CHECKING"
    assert stalled[0]["detail"]["alert"]["kind"] == "stalled"
    assert not [e for e in outbox(sqlite_db, other.id) if e["event"] == "stalled"]


def test_one_status_call_per_batch_of_ids(sqlite_db: Database, sim: Sim) -> None:
    sim.post("config", normalStepMs=600_000, crossStepMs=600_000)
    batched = worker(sqlite_db, sim.url, replace(fast_config(), poll_batch=3, submit_batch=20))
    try:
        for _ in range(7):
            approved(sqlite_db, normal())
        for _ in range(3):
            approved(sqlite_db, cross())
        batched.submitter.run_once()
        assert batched.poller.run_once() == 10
        assert batched.poller.calls == 3 + 1
        assert sim.calls("getNormalWithdrawById") == 3
        assert sim.calls("getCrossWithdrawById") == 1
        assert batched.poller.run_once() == 0  # nothing moved, nothing written
    finally:
        batched.exchange.client.close()


def test_a_key_that_is_not_the_accounts_is_refused(sim: Sim) -> None:
    """The account is read with the right key, so the l2Key comparison itself refuses."""
    other = signing.StarkKey.from_int(12345)
    with client(sim.url) as edgex:
        account = check_account(edgex, vector_key(), key_setting="KEY", base_url=sim.url)
        assert signing.l2_keys_equal(account.l2_key, vector_key().l2_key)
        with pytest.raises(Refused) as refused:
            check_account(edgex, other, key_setting="KEY", base_url=sim.url)
    assert refused.value.problems == [
        f"KEY is not the L2 key of edgeX account {ACCOUNT} (the account's l2Key is "
        f"{account.l2_key})"
    ]


@pytest.mark.parametrize("engine_name", ["postgresql"], indirect=True)
def test_postgres_notify_wakes_the_submitter(
    db: Database, simulator: SimulatorServer, sim: Sim
) -> None:
    sleepy = worker(db, sim.url, replace(fast_config(), submit_tick=30.0))
    sleepy.start()
    try:
        time.sleep(0.5)  # the listener is connected and the first tick has passed
        started = time.monotonic()
        stored = approved(db)
        wait_for(lambda: state_of(db, stored.id) is not State.APPROVED, timeout=5)
        assert time.monotonic() - started < 3
    finally:
        sleepy.stop()
        sleepy.exchange.client.close()


def test_the_listener_gives_up_on_a_database_that_never_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Its connection attempt times out like the engine's, so it retries and can be stopped."""
    caplog.set_level(logging.WARNING, logger="bot.worker.wakeup")
    stop = threading.Event()
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = database_url(f"postgresql://x@127.0.0.1:{silent.getsockname()[1]}/wb")
        listener = threading.Thread(target=listen, args=(url, Wakeup(), stop), daemon=True)
        listener.start()
        try:
            wait_for(lambda: "worker.listen_failed" in caplog.text, timeout=CONNECT_TIMEOUT + 5)
        finally:
            stop.set()
            listener.join(10)
    assert not listener.is_alive()
