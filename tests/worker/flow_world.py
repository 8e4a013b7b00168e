"""The V2 worker tests' world: a simulator V2 account, a USDC policy on Edge chain, flows.

Kept apart from conftest so spawned worker processes (the kill -9 tests) can import it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from approvals.decisions import Decision
from approvals.drafts import CrossDraft
from approvals.lifecycle import State
from approvals.policy import Policy, parse_policy
from bot.edgex.client import RetryPolicy
from bot.edgex.v2.flow_client import FlowClient
from bot.edgex.v2.wallet import WalletKey
from bot.exchange_terms import flow_metadata
from bot.worker.config import WorkerConfig
from bot.worker.flow_access import FlowAccess
from bot.worker.loop import Worker
from storage import transactions
from storage.engine import Database
from storage.repository import StoredRequest
from tests.worker.world import APPROVER, REQUESTER, Sim, fast_config, membership

FLOW_ACCOUNT = "777000111"
WALLET_HEX = "0x" + "4c" * 32
WALLET = WalletKey(WALLET_HEX)
PAYOUT = "0xFCAd0B19bB29D4674531d6f115237E16AfCE377c"
EDGE = 3343

FLOW_POLICY = f"""
version = 1
requesters = ["{REQUESTER}"]

[groups]
treasury = ["{APPROVER}", "UT2"]

[approval]
expiry = "24h"

[cross_fee]
headroom = "0.5"
max_share_of_amount = "0.01"

[coins.USDC]
max_amount = "5000000"
daily_limit = "100000000"

[[coins.USDC.tiers]]
name = "standard"
above = "0"
require = [{{ group = "treasury", count = 1 }}]

[[coins.USDC.allowlist]]
chain_id = {EDGE}
address = "{PAYOUT}"
label = "Edge treasury"
"""


def flow_policy() -> Policy:
    return parse_policy(FLOW_POLICY)


def setup_flows(sim: Sim, *, step_ms: int = 40) -> dict[str, Any]:
    """The V2 account with its wallet and API key, walking its flows every ``step_ms``."""
    sim.post("config", flowStepMs=step_ms)
    made: dict[str, Any] = sim.post(
        "v2/accounts",
        accountId=FLOW_ACCOUNT,
        walletAddress=WALLET.address,
        balances={"USDC": "10000000"},
    )
    return made


def flow_client(url: str, keys: dict[str, Any]) -> FlowClient:
    return FlowClient(
        url,
        rest_url=url,
        account_id=FLOW_ACCOUNT,
        api_key=keys["apiKey"],
        api_secret=keys["apiSecret"],
        passphrase=keys["passphrase"],
        read_timeout=3.0,
        retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02),
    )


def flow_worker(
    database: Database,
    url: str,
    keys: dict[str, Any],
    config: WorkerConfig | None = None,
    **access: Any,
) -> Worker:
    return Worker(
        database=database,
        exchange=FlowAccess(flow_client(url, keys), WALLET, **access),
        config=config or fast_config(),
        policy=flow_policy(),
        membership=membership,
    )


def flow_draft(amount: str = "1000") -> CrossDraft:
    return CrossDraft(
        account_id=FLOW_ACCOUNT,
        coin="USDC",
        amount=amount,
        destination=PAYOUT,
        chain_id=EDGE,
        quote=None,
    )


def approved_flow(database: Database, worker: Worker, amount: str = "1000") -> StoredRequest:
    """A flow drafted unpriced, priced by the worker's quoter, and approved."""
    pol = flow_policy()
    now = datetime.now(UTC)
    stored = transactions.draft(
        database,
        draft=flow_draft(amount),
        requester=REQUESTER,
        exchange=flow_metadata(),
        policy=pol,
        membership=membership(pol),
        now=now,
    )
    assert stored.request.state is State.AWAITING_QUOTE
    worker.quoter.run_once()
    after = transactions.decide(
        database,
        request_id=stored.id,
        approver=APPROVER,
        decision=Decision.APPROVE,
        policy=pol,
        membership=membership(pol),
        now=datetime.now(UTC),
    )
    assert after.request.state is State.APPROVED, after.request.note
    return after
