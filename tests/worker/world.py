"""The worker tests' world: a simulator account, a policy without Slack groups, approved requests.

Kept apart from conftest so the benchmark and spawned processes can import it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlmodel import col, select

from approvals.content import Kind
from approvals.decisions import Decision
from approvals.drafts import CrossDraft, Draft, NormalDraft
from approvals.lifecycle import State
from approvals.membership import Membership, resolve_membership
from approvals.metadata import Chain, Coin, CrossQuote, ExchangeMetadata, Token
from approvals.policy import Policy, parse_policy
from bot.edgex.client import EdgeXClient, RetryPolicy
from bot.edgex.simulator.catalog import DEFAULT_QUOTE
from bot.worker.config import SendRetry, WorkerConfig
from bot.worker.exchange_access import ExchangeAccess
from bot.worker.loop import Worker
from storage import transactions
from storage.engine import Database
from storage.repository import StoredRequest
from storage.tables import OutboxRow
from tests.edgex.vectors import vector_key

ACCOUNT = "543429922991899150"
REQUESTER = "UREQ1"
APPROVER = "UT1"
LISTED = "0x52908400098527886E0F7030069857D2E4169EE7"
LISTED_ARB = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
USDT_ARB = "0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9"
BALANCE = "1000000"
STEP_MS = 40

POLICY_TEXT = f"""
version = 1
requesters = ["{REQUESTER}"]

[groups]
treasury = ["{APPROVER}", "UT2"]

[approval]
expiry = "24h"

[cross_fee]
headroom = "0.25"
max_share_of_amount = "0.01"

[coins.USDT]
max_amount = "5000000"
daily_limit = "100000000"

[[coins.USDT.tiers]]
name = "standard"
above = "0"
require = [{{ group = "treasury", count = 1 }}]

[[coins.USDT.allowlist]]
chain_id = 1
address = "{LISTED}"
label = "Cold wallet"

[[coins.USDT.allowlist]]
chain_id = 42161
address = "{LISTED_ARB}"
label = "Arbitrum wallet"
"""

EXCHANGE = ExchangeMetadata(
    l1_chain_id=1,
    coins=(
        Coin(
            coin_id="1000",
            name="USDT",
            step_size=Decimal("0.000001"),
            min_withdraw=Decimal("1"),
            max_withdraw=Decimal("1000000"),
            chains=(Chain("Arbitrum", 42161, True, (Token("USDT", USDT_ARB, 6, True),)),),
        ),
    ),
)
QUOTE = CrossQuote(
    lp_account_id=DEFAULT_QUOTE["lpAccountId"],
    lp_l2_key=DEFAULT_QUOTE["crossWithdrawL2Key"],
    max_amount=Decimal(DEFAULT_QUOTE["crossWithdrawMaxAmount"]),
    fee=Decimal(DEFAULT_QUOTE["fee"]),
)


def policy() -> Policy:
    return parse_policy(POLICY_TEXT)


def membership(pol: Policy) -> Membership:
    return resolve_membership(pol, {})


def normal(amount: str = "100") -> NormalDraft:
    return NormalDraft(account_id=ACCOUNT, coin="USDT", amount=amount, destination=LISTED)


def cross(amount: str = "1000") -> CrossDraft:
    return CrossDraft(
        account_id=ACCOUNT,
        coin="USDT",
        amount=amount,
        destination=LISTED_ARB,
        chain_id=42161,
        quote=QUOTE,
    )


def approved(database: Database, draft: Draft | None = None) -> StoredRequest:
    """A request drafted and approved now (the approval meets the one-approver tier)."""
    pol = policy()
    now = datetime.now(UTC)
    stored = transactions.draft(
        database,
        draft=draft or normal(),
        requester=REQUESTER,
        exchange=EXCHANGE,
        policy=pol,
        membership=membership(pol),
        now=now,
    )
    after = transactions.decide(
        database,
        request_id=stored.id,
        approver=APPROVER,
        decision=Decision.APPROVE,
        policy=pol,
        membership=membership(pol),
        now=now,
    )
    assert after.request.state is State.APPROVED
    return after


class Sim:
    """The simulator's admin API."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=10)

    def post(self, route: str, /, **spec: Any) -> Any:
        response = self.http.post(f"/_sim/{route}", json=spec)
        assert response.status_code == 200, response.text
        return response.json()

    def setup(self, step_ms: int = STEP_MS, balance: str = BALANCE) -> None:
        self.post("config", normalStepMs=step_ms, crossStepMs=step_ms)
        self.post(
            "accounts", l2Key=vector_key().l2_key, accountId=ACCOUNT, balances={"1000": balance}
        )

    def state(self) -> dict[str, Any]:
        data: dict[str, Any] = self.http.get("/_sim/state").json()
        return data

    def withdrawals(self) -> list[dict[str, Any]]:
        return list(self.state()["withdrawals"].values())

    def calls(self, path_end: str) -> int:
        requests = self.http.get("/_sim/requests").json()["requests"]
        return sum(1 for r in requests if r["path"].endswith(path_end))

    def close(self) -> None:
        self.http.close()


def fast_config(**change: Any) -> WorkerConfig:
    config = WorkerConfig(
        lease=timedelta(seconds=5),
        submit_tick=0.05,
        poll_interval=0.05,
        poll_batch=50,
        error_backoff=0.1,
        max_error_backoff=0.5,
        send_retry=SendRetry(attempts=3, base_delay=0.01, max_delay=0.05),
        watch_interval=0.1,
    )
    return replace(config, **change)


def client(url: str) -> EdgeXClient:
    return EdgeXClient(
        url,
        key=vector_key(),
        account_id=ACCOUNT,
        read_timeout=3.0,
        retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02),
    )


def worker(database: Database, url: str, config: WorkerConfig | None = None) -> Worker:
    return Worker(
        database=database,
        exchange=ExchangeAccess(client(url), vector_key()),
        config=config or fast_config(),
        policy=policy(),
        membership=membership,
    )


def wait_for(what: Callable[[], bool], timeout: float = 10.0, every: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not what():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(every)


def outbox(database: Database, request_id: int | None = None) -> list[dict[str, Any]]:
    """Every outbox payload (of one request), in order."""
    with database.read() as session:
        query = select(OutboxRow).order_by(col(OutboxRow.id))
        if request_id is not None:
            query = query.where(col(OutboxRow.request_id) == request_id)
        return [json.loads(row.payload) for row in session.exec(query).all()]


def state_of(database: Database, request_id: int) -> State:
    return transactions.get_request(database, request_id=request_id).request.state


def kind_of(stored: StoredRequest) -> Kind:
    return stored.request.content.kind
