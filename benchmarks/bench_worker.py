"""The worker on loopback: approve-to-submitted latency, status-to-Slack latency, poll cost.

Run: ``python benchmarks/bench_worker.py`` (``--quick`` for CI: fewer approvals). Everything
runs in this process on a SQLite file: the edgeX simulator, the Slack stand-in, the worker's
threads with the notifier and the sweep as ``withdrawbot worker`` runs them with Slack settings
(``bot.bootstrap.slack_loops``), and the approvals (as the Slack side makes them, followed by the
in-process wakeup it sends).

1. Approve to SUBMITTED: the approving transaction's time to the time the exchange id was
   stored, one approval at a time (target p50 < 300 ms).
2. Status change to outbox row: from the moment the simulator moved a withdrawal to a status
   to the moment that status was written to the outbox, with a 1 s poll interval; and on to
   the moment the notifier's ``chat.postMessage`` of it into the request's thread was answered
   by the stand-in (target for the post: < poll interval + 1 s).
3. Exchange calls per poll cycle with 1,000 withdrawals in flight (target <= 1,000 / batch;
   ``--quick`` puts 250 in flight, as the setup costs about 33 ms a request on SQLite). They
   are put in flight through the same storage steps the submitter takes; the simulator records
   them directly, without the HTTP round trips, to keep the setup short.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from slack_sdk.web import SlackResponse
from sqlmodel import col, select

from approvals.decisions import Decision
from approvals.drafts import NormalDraft
from approvals.lifecycle import State, Trigger
from approvals.membership import resolve_membership
from approvals.metadata import Coin, ExchangeMetadata
from approvals.policy import parse_policy
from bot.bootstrap import NOTIFY_INTERVAL, slack_loops, slack_side
from bot.edgex import signing
from bot.edgex.client import EdgeXClient, EdgeXPublicClient
from bot.edgex.simulator import SimulatorServer
from bot.edgex.statuses import WithdrawKind
from bot.exchange_side import ExchangeSide
from bot.slack.standin import SlackStandIn
from bot.wakeups import Wakeups
from bot.worker.config import WorkerConfig
from bot.worker.exchange_access import ExchangeAccess, signed_terms
from bot.worker.loop import Worker
from storage import outbox, tracking, transactions, work
from storage.engine import Database, create_database_engine, open_database
from storage.migrations import upgrade
from storage.tables import OutboxRow

KEY = signing.StarkKey.from_hex("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
ACCOUNT = "551109015904453258"
DESTINATION = "0x52908400098527886E0F7030069857D2E4169EE7"
REQUESTER, APPROVER = "UREQ1", "UT1"
CHANNEL = "C0TREASURY"
POLICY = parse_policy(f"""
version = 1
requesters = ["{REQUESTER}"]

[groups]
treasury = ["{APPROVER}"]

[coins.USDT]
max_amount = "1000000"
daily_limit = "100000000"

[[coins.USDT.tiers]]
name = "standard"
above = "0"
require = [{{ group = "treasury", count = 1 }}]

[[coins.USDT.allowlist]]
chain_id = 1
address = "{DESTINATION}"
label = "Cold wallet"
""")
MEMBERSHIP = resolve_membership(POLICY, {})
EXCHANGE = ExchangeMetadata(
    l1_chain_id=1, coins=(Coin(coin_id="1000", name="USDT", step_size=Decimal("0.000001")),)
)


def now() -> datetime:
    return datetime.now(UTC)


def database(folder: Path) -> Database:
    url = f"sqlite:///{folder / 'bench.db'}"
    plain = Database(create_database_engine(url))
    upgrade(plain)
    plain.dispose()
    return open_database(url)


def draft(db: Database) -> int:
    stored = transactions.draft(
        db,
        draft=NormalDraft(account_id=ACCOUNT, coin="USDT", amount="10", destination=DESTINATION),
        requester=REQUESTER,
        exchange=EXCHANGE,
        policy=POLICY,
        membership=MEMBERSHIP,
        now=now(),
    )
    return stored.id


def approve(db: Database, request_id: int) -> datetime:
    at = now()
    transactions.decide(
        db,
        request_id=request_id,
        approver=APPROVER,
        decision=Decision.APPROVE,
        policy=POLICY,
        membership=MEMBERSHIP,
        now=at,
    )
    return at


def outbox_times(db: Database, event: str) -> dict[int, list[tuple[str | None, datetime]]]:
    found: dict[int, list[tuple[str | None, datetime]]] = {}
    with db.read() as session:
        rows = session.exec(select(OutboxRow).where(col(OutboxRow.event) == event)).all()
    for row in rows:
        status = json.loads(row.payload)["exchange_status"]
        found.setdefault(row.request_id, []).append((status, row.created_at))
    return found


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


class TimedSlack(WebClient):
    """A Slack client noting when each post of an outbox event was answered, by outbox key."""

    def __init__(self, slack: SlackStandIn) -> None:
        super().__init__(token=slack.bot_token, base_url=slack.api_url)
        self.posted_ms: dict[str, float] = {}

    def chat_postMessage(self, **kwargs: Any) -> SlackResponse:  # noqa: N802 - slack_sdk name
        response = super().chat_postMessage(**kwargs)
        self.posted_ms[kwargs["metadata"]["event_payload"]["key"]] = time.time() * 1000
        return response


def latencies(db: Database, sim: SimulatorServer, slack: SlackStandIn, count: int) -> None:
    config = WorkerConfig(submit_tick=2.0, poll_interval=1.0, watch_interval=60.0)
    client = EdgeXClient(sim.url, key=KEY, account_id=ACCOUNT)
    public = EdgeXPublicClient(sim.url)
    slack.workspace.add_channel(CHANNEL, "treasury")
    timed = TimedSlack(slack)
    wakeups = Wakeups()
    side = slack_side(
        database=db,
        policy=POLICY,
        slack=timed,
        channel=CHANNEL,
        team_id=slack.workspace.team_id,
        account_id=ACCOUNT,
        exchange=ExchangeSide.for_v1(public, client, KEY),
        paper=False,
        wakeups=wakeups,
    )
    worker = Worker(
        database=db,
        exchange=ExchangeAccess(client, KEY),
        config=config,
        policy=POLICY,
        membership=lambda policy: MEMBERSHIP,
        wakeup=wakeups.submitter,
        extra_loops=slack_loops(side),
    )
    worker.start()
    approved_at: dict[int, datetime] = {}
    try:
        for _ in range(count):
            request_id = draft(db)
            approved_at[request_id] = approve(db, request_id)
            wakeups.submitter.notify()  # what the use cases do after the approving commit
            while transactions.get_request(db, request_id=request_id).request.state in {
                State.APPROVED,
                State.SUBMITTING,
            }:
                time.sleep(0.002)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(
            transactions.get_request(db, request_id=i).request.state is not State.COMPLETED
            for i in approved_at
        ):
            time.sleep(0.1)
        while time.monotonic() < deadline and outbox.pending(db):
            time.sleep(0.05)
    finally:
        worker.stop()
        client.close()
        public.close()
    accepted = outbox_times(db, Trigger.EXCHANGE_ACCEPTED.value)
    submit_ms = [(accepted[i][0][1] - approved_at[i]).total_seconds() * 1000 for i in approved_at]
    print(
        f"approve -> SUBMITTED ({count} approvals, one at a time): "
        f"p50 {statistics.median(submit_ms):.0f} ms, p90 {percentile(submit_ms, 0.9):.0f} ms, "
        f"max {max(submit_ms):.0f} ms (target p50 < 300 ms)"
    )
    with sim.lock:
        walks = {
            w.body["clientWithdrawId"]: dict(w.transitions)
            for w in sim.exchange.books.withdrawals.values()
        }
    changes: list[float] = []
    posts: list[float] = []
    with db.read() as session:
        rows = session.exec(
            select(OutboxRow).where(
                col(OutboxRow.event).in_(["exchange_status", Trigger.EXCHANGE_COMPLETED.value])
            )
        ).all()
    for row in rows:
        payload = json.loads(row.payload)
        began_ms = walks[payload["client_withdraw_id"]][str(payload["exchange_status"])]
        changes.append(row.created_at.timestamp() * 1000 - began_ms)
        posts.append(timed.posted_ms[row.outbox_key] - began_ms)
    print(
        f"status change at edgeX -> outbox row ({len(changes)} changes, poll interval "
        f"{config.poll_interval:g} s): p50 {statistics.median(changes):.0f} ms, "
        f"p90 {percentile(changes, 0.9):.0f} ms, max {max(changes):.0f} ms"
    )
    print(
        f"status change at edgeX -> Slack thread post ({len(posts)} changes, poll interval "
        f"{config.poll_interval:g} s, notifier every {NOTIFY_INTERVAL:g} s): "
        f"p50 {statistics.median(posts):.0f} ms, p90 {percentile(posts, 0.9):.0f} ms, "
        f"max {max(posts):.0f} ms (target < {config.poll_interval + 1:g} s)"
    )


def poll_cost(db: Database, sim: SimulatorServer, in_flight: int) -> None:
    sim.script.configure({"normalStepMs": 3_600_000, "crossStepMs": 3_600_000})
    client = EdgeXClient(sim.url, key=KEY, account_id=ACCOUNT)
    access = ExchangeAccess(client, KEY)
    config = WorkerConfig(owner="bench", poll_claim=in_flight)
    target = -(-in_flight // config.poll_batch)
    worker = Worker(
        database=db, exchange=access, config=config, policy=POLICY, membership=lambda p: MEMBERSHIP
    )
    started = time.perf_counter()
    ids = [draft(db) for _ in range(in_flight)]
    for request_id in ids:
        approve(db, request_id)
    work.claim(
        db,
        owner="bench/submit",
        states={State.APPROVED},
        now=now(),
        lease_for=timedelta(hours=1),
        limit=in_flight,
    )
    sign = access.signer(
        EXCHANGE.coins[0].coin_id, quote=None, expire_time_ms=access.expire_time_ms()
    )
    account = sim.exchange.account(ACCOUNT)
    for request_id in ids:
        start = work.begin_submission(
            db,
            request_id=request_id,
            owner="bench/submit",
            policy=POLICY,
            membership=MEMBERSHIP,
            quote=None,
            now=now(),
            sign=sign,
            read_terms=signed_terms,
        )
        if start.submission is None:
            raise SystemExit(f"request {request_id} went back for approval: {start.request}")
        with sim.lock:
            withdraw_id = sim.exchange.create_withdrawal(
                WithdrawKind.NORMAL, account, json.loads(start.submission.body), sim.wall_ms()
            )
        work.record_exchange_outcome(
            db,
            request_id=request_id,
            owner="bench/submit",
            trigger=Trigger.EXCHANGE_ACCEPTED,
            now=now(),
            exchange_withdraw_id=withdraw_id,
        )
    tracking.release_leases(db, owner="bench/submit")
    print(f"setup: {in_flight} withdrawals in flight in {time.perf_counter() - started:.1f} s")
    for cycle in (1, 2):
        started = time.perf_counter()
        changes = worker.poller.run_once()
        seconds = time.perf_counter() - started
        print(
            f"poll cycle {cycle} with {in_flight} in flight: {worker.poller.calls} exchange calls "
            f"(batch {config.poll_batch}; target <= {target}, one call "
            f"per withdrawal would be {in_flight}), {changes} status changes written, "
            f"{seconds:.2f} s"
        )
    client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer approvals (CI)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, SimulatorServer() as sim, SlackStandIn() as slack:
        sim.script.create_account(
            {"l2Key": KEY.l2_key, "accountId": ACCOUNT, "balances": {"1000": "100000000"}},
            sim.wall_ms(),
        )
        sim.script.configure({"normalStepMs": 300, "crossStepMs": 300})
        db = database(Path(folder))
        try:
            latencies(db, sim, slack, 10 if args.quick else 50)
        finally:
            db.dispose()
        second = Path(folder) / "in-flight"
        second.mkdir()
        db = database(second)
        try:
            poll_cost(db, sim, 250 if args.quick else 1_000)
        finally:
            db.dispose()


if __name__ == "__main__":
    main()
