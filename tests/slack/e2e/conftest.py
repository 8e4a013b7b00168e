"""The running bot over real HTTP: uvicorn on an ephemeral port, the Slack stand-in, the simulator.

Requests reach the bot signed as Slack signs them (``SlackPlatform``); the bot answers through
the stand-in's Web API; drafts read the simulator's metadata and live LP quote. The worker does
not run here (approved requests stay approved), so every message can be checked exactly; the
whole flow through the worker is the worker's and the demo's to show.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlmodel import col, func, select

from approvals.policy import parse_policy
from bot.bootstrap import Stack, start_background
from bot.edgex.client import EdgeXClient, EdgeXPublicClient, RetryPolicy
from bot.edgex.simulator import SimulatorServer
from bot.edgex.v2.flow_client import FlowClient
from bot.edgex.v2.wallet import WalletKey
from bot.exchange_side import ExchangeSide
from bot.runner import serve_in_thread
from bot.slack.ids import ActionId, Field
from bot.slack.standin import Person, SlackPlatform, SlackStandIn
from bot.worker.config import WorkerConfig
from bot.worker.flow_access import FlowAccess
from storage import outbox
from storage.engine import open_database
from storage.tables import AuditRow
from tests.edgex.sim.conftest import ACCOUNT_ID, Admin
from tests.edgex.vectors import vector_key
from tests.storage.databases import (  # noqa: F401 - fixtures
    PostgresServer,
    postgres_server,
    postgres_template,
    sqlite_template,
)

CHANNEL = "C0TREASURY"
SECRET = "e2e-signing-secret"
LISTED = "0x52908400098527886E0F7030069857D2E4169EE7"
UNLISTED = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
L1_CHAIN = 11155111  # the simulator's starkExChainId (Sepolia)

POLICY = f"""
version = 1
requesters = ["U0ALICE", "U0DAVE"]

[groups]
treasury = ["@treasury"]
leads = ["U0ERIN"]

[approval]
expiry = "1h"
reminder_after = "20m"

[cross_fee]
headroom = "0.25"
max_share_of_amount = "0.05"

[coins.USDT]
max_amount = "100000"
daily_limit = "500000"
unlisted_destinations = "escalate"
escalate_to = "large"

[[coins.USDT.tiers]]
name = "standard"
above = "0"
require = [{{ group = "treasury", count = 2 }}]

[[coins.USDT.tiers]]
name = "large"
above = "10000"
require = [{{ group = "treasury", count = 2 }}, {{ group = "leads", count = 1 }}]

[[coins.USDT.allowlist]]
chain_id = {L1_CHAIN}
address = "{LISTED}"
label = "Cold wallet"

[[coins.USDT.allowlist]]
chain_id = 42161
address = "{LISTED}"
label = "Cold wallet on Arbitrum"
"""


FLOW_ACCOUNT = "777000222"
FLOW_WALLET = "0x" + "4c" * 32
PAYOUT = "0xFCAd0B19bB29D4674531d6f115237E16AfCE377c"
FLOW_POLICY = f"""
version = 1
requesters = ["U0ALICE", "U0DAVE"]

[groups]
treasury = ["@treasury"]

[approval]
expiry = "1h"

[cross_fee]
headroom = "0.5"
max_share_of_amount = "0.01"

[coins.USDC]
max_amount = "100000"
daily_limit = "500000"

[[coins.USDC.tiers]]
name = "standard"
above = "0"
require = [{{ group = "treasury", count = 2 }}]

[[coins.USDC.allowlist]]
chain_id = 3343
address = "{PAYOUT}"
label = "Edge treasury"
"""


class Clock:
    """The bot's clock, moved by tests to pass approval windows and reminder delays."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class World:
    slack: SlackStandIn
    platform: SlackPlatform
    stack: Stack
    admin: Admin
    clock: Clock
    url: str
    people: dict[str, Person] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Person:
        people = self.__dict__.get("people", {})
        if name in people:
            return people[name]  # type: ignore[no-any-return]
        raise AttributeError(name)

    # --- what people do --------------------------------------------------------------------

    def command(self, person: Person, text: str) -> dict[str, Any]:
        delivery = self.platform.command(person, text, channel=CHANNEL)
        assert delivery.status == 200, delivery.response.text
        return delivery.ack() or {}

    def say(self, person: Person, text: str) -> str:
        """What ``person`` is finally told: the ack, or for a draft the answer after "Drafting"."""
        answered = len(self._responses(person))
        said = ack_text(self.command(person, text))
        if "Drafting" not in said:
            return said
        wait_for(lambda: len(self._responses(person)) > answered)
        return ack_text(self._responses(person)[answered])

    def _responses(self, person: Person) -> list[dict[str, Any]]:
        shown = self.slack.workspace.ephemerals_for(person.user_id)
        return [m for m in shown if m.get("via") == "respond"]

    def draft(self, person: Person | None = None, text: str | None = None) -> int:
        """A valid draft; returns its id, with its message posted."""
        said = self.say(person or self.people["alice"], text or f"250 USDT to {LISTED} rent")
        assert "Drafted withdrawal #" in said, said
        request_id = int(said.split("#", 1)[1].split(";", 1)[0])
        self.flush()
        return request_id

    def click(self, person: Person, request_id: int, action_id: str) -> int:
        """Click a button of the request's message; returns once the bot acted on it."""
        before = self.audit_rows()
        shown = len(self.ephemerals(person))
        opened = len(self.slack.calls_to("views.open"))
        delivery = self.platform.click(
            person, channel=CHANNEL, ts=self.root_ts(request_id), action_id=action_id
        )
        if delivery.status == 200 and action_id == ActionId.REJECT:
            # Reject records nothing until its reason is given: it has acted once its form was
            # asked for (or its refusal shown), which happens after the ack.
            wait_for(
                lambda: (
                    len(self.slack.calls_to("views.open")) > opened
                    or len(self.ephemerals(person)) > shown
                )
            )
        elif delivery.status == 200:
            wait_for(lambda: self.audit_rows() > before)
            if self.last_audit_action() == "refused":
                wait_for(lambda: len(self.ephemerals(person)) > shown)
        self.flush()
        return delivery.status

    def switch_form_to_cross(self, person: Person, view_id: str) -> None:
        """Pick "cross-chain" in an open /withdraw form and wait until it shows the chain field."""
        self.platform.act_in_view(
            person, view_id=view_id, action_id=ActionId.WITHDRAW_KIND, option="cross"
        )
        wait_for(
            lambda: any(
                b.get("block_id") == Field.CHAIN
                for b in self.slack.workspace.modals.view(view_id)["blocks"]
            )
        )

    def last_audit_action(self) -> str:
        with self.stack.database.read() as session:
            row = session.exec(select(AuditRow.action).order_by(col(AuditRow.seq).desc())).first()
        return str(row)

    def audit_rows(self) -> int:
        """Every decision, change and refusal writes one audit row: a click has been handled."""
        with self.stack.database.read() as session:
            return int(session.exec(select(func.count()).select_from(AuditRow)).one())

    # --- what Slack shows ------------------------------------------------------------------

    def flush(self, timeout: float = 10.0) -> None:
        """Let the notifier deliver every event written so far."""
        wait_for(lambda: not outbox.pending(self.stack.database), timeout=timeout)

    def root_ts(self, request_id: int) -> str:
        ts = outbox.root_message(self.stack.database, request_id=request_id)
        assert ts is not None, f"request {request_id} has no root message"
        return ts

    def root(self, request_id: int) -> dict[str, Any]:
        return self.slack.workspace.message(CHANNEL, self.root_ts(request_id))

    def replies(self, request_id: int) -> list[dict[str, Any]]:
        thread = self.slack.workspace.thread(CHANNEL, self.root_ts(request_id))
        return thread[1:]

    def ephemerals(self, person: Person) -> list[str]:
        return [ack_text(m) for m in self.slack.workspace.ephemerals_for(person.user_id)]

    def last_ephemeral(self, person: Person) -> str:
        shown = self.ephemerals(person)
        assert shown, f"{person.name} was shown nothing"
        return shown[-1]


def ack_text(message: dict[str, Any]) -> str:
    """Everything a message says: its text and every text in its blocks."""
    found = [str(message.get("text", ""))]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.get("blocks", []))
    return "\n".join(found)


def wait_for(condition: Callable[[], bool], *, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """SQLite by default; tests parametrised with "postgresql" run there too (when set up)."""
    if request.param == "sqlite":
        path = tmp_path / "withdrawbot.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create(template=request.getfixturevalue("postgres_template"))
    yield server.url_of(name)
    server.drop(name)


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    with running_world(database_url, worker=False) as running:
        yield running


@pytest.fixture
def world_with_worker(database_url: str) -> Iterator[World]:
    """The same, with the worker's loops in the process: approvals are signed and sent."""
    with running_world(database_url, worker=True) as running:
        yield running


@pytest.fixture
def v2_world(database_url: str) -> Iterator[World]:
    """edgeX V2 (``EDGEX_API=v2``) with the worker in the process, on the V2 simulator."""
    with running_world(database_url, worker=True, v2=True) as running:
        yield running


@pytest.fixture
def paper_world(database_url: str) -> Iterator[World]:
    """A paper-mode process: every message it sends says PAPER."""
    with running_world(database_url, worker=False, paper=True) as running:
        yield running


@pytest.fixture
def web_only_world(database_url: str) -> Iterator[World]:
    """``run --no-worker``: no key, no notifier, no sweep (``withdrawbot worker`` has them)."""
    with running_world(database_url, worker=False, notify=False, signing=False) as running:
        yield running


@contextmanager
def running_world(
    database_url: str,
    *,
    worker: bool,
    paper: bool = False,
    notify: bool = True,
    signing: bool = True,
    v2: bool = False,
) -> Iterator[World]:
    with SlackStandIn() as slack, SimulatorServer() as sim:
        workspace = slack.workspace
        people = {
            name: workspace.add_person(f"U0{name.upper()}", name)
            for name in ("alice", "bob", "carol", "dave", "erin", "frank")
        }
        people["mallory"] = workspace.add_person("U0MALLORY", "mallory", team_id="T0OTHER")
        workspace.add_channel(CHANNEL, "treasury", members=[p.user_id for p in people.values()])
        workspace.add_group("treasury", ["U0BOB", "U0CAROL"], name="Treasury")
        admin = Admin(sim.url)
        # The docs-shaped simulator: the published field set, not the SDK models' (see Config).
        admin.post(
            "config", normalStepMs=60_000, crossStepMs=60_000, flowStepMs=60_000, shape="docs"
        )
        admin.post(
            "accounts", l2Key=vector_key().l2_key, accountId=ACCOUNT_ID, balances={"1000": "900000"}
        )
        database = open_database(database_url)
        client = WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=5)
        clock = Clock()
        retry = RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.02)
        keys = admin.post(
            "v2/accounts",
            accountId=FLOW_ACCOUNT,
            walletAddress=WalletKey(FLOW_WALLET).address,
            balances={"USDC": "900000"},
        )
        with (
            EdgeXPublicClient(sim.url, retry=retry) as public,
            EdgeXClient(sim.url, key=vector_key(), account_id=ACCOUNT_ID, retry=retry) as private,
            FlowClient(
                sim.url,
                rest_url=sim.url,
                account_id=FLOW_ACCOUNT,
                api_key=keys["apiKey"],
                api_secret=keys["apiSecret"],
                passphrase=keys["passphrase"],
                retry=retry,
            ) as flows,
            start_background(
                database=database,
                policy=parse_policy(FLOW_POLICY if v2 else POLICY),
                slack=client,
                channel=CHANNEL,
                team_id=workspace.team_id,
                signing_secret=SECRET,
                account_id=FLOW_ACCOUNT if v2 else ACCOUNT_ID,
                exchange=(
                    ExchangeSide.for_v2(FlowAccess(flows, WalletKey(FLOW_WALLET)))
                    if v2
                    else ExchangeSide.for_v1(
                        public, private if signing else None, vector_key() if worker else None
                    )
                ),
                paper=paper,
                worker_config=(
                    WorkerConfig(submit_tick=0.1, poll_interval=0.1, watch_interval=3600.0)
                    if worker
                    else None
                ),
                notify=notify,
                sweep_interval=3600.0,
                clock=clock,
            ) as stack,
            serve_in_thread(stack.asgi) as url,
            SlackPlatform(
                slack, events_url=f"{url}/slack/events", signing_secret=SECRET
            ) as platform,
        ):
            yield World(slack, platform, stack, admin, clock, url, people)
        admin.http.close()
        database.dispose()
