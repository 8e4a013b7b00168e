"""The Procfile split: ``withdrawbot run --no-worker`` (no key) beside a ``withdrawbot worker``.

The web process answers Slack but never reads the key, posts nothing and sweeps nothing. A
cross-chain draft needs a live LP quote from edgeX's private API, so the web process stores it
waiting for the quote; the worker process (a real ``withdrawbot worker`` with Slack settings)
fetches the quote, puts the request up for approval in its thread, and submits it once
approved. ``history`` and ``claimable`` read the same private API: the web process stores them
and the worker answers the person through the command's ``response_url``. Real HTTP everywhere:
Slack stand-in, simulator, both processes on one database.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from approvals.lifecycle import State
from bot.edgex.simulator.catalog import DEFAULT_QUOTE
from bot.slack.ids import ActionId
from bot.slack.standin.workspace import ResponseTarget
from bot.worker.answerer import EXPIRES_AFTER
from storage import exchange_queries, outbox, transactions
from storage.exchange_queries import QueryKind
from tests.edgex.sim.conftest import ACCOUNT_ID
from tests.slack.e2e.conftest import CHANNEL, LISTED, POLICY, World, ack_text, wait_for
from tests.worker.processes import WorkerProcess, start_worker

SIGN_INFO = "/api/v1/private/assets/getCrossWithdrawSignInfo"
CROSS = f"cross 100 USDT to {LISTED} chain 42161 bridge to Arbitrum"


@pytest.fixture
def workers(web_only_world: World) -> Iterator[list[WorkerProcess]]:
    """The worker processes a test starts; each must stop cleanly on SIGTERM, before the world."""
    started: list[WorkerProcess] = []
    yield started
    for process in started:
        assert process.terminate() == 0, process.output()


def _start(world: World, database_url: str, home: Path) -> WorkerProcess:
    slack = world.slack
    return start_worker(
        home,
        database_url=database_url,
        edgex_url=str(world.admin.http.base_url).rstrip("/"),
        name="worker",
        account=ACCOUNT_ID,
        policy_text=POLICY,
        slack={
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_API_URL": slack.api_url,
            "WITHDRAWBOT_CHANNEL": CHANNEL,
        },
    )


def _state(world: World, request_id: int) -> State:
    return transactions.get_request(world.stack.database, request_id=request_id).request.state


def _drafted(world: World, text: str = CROSS) -> int:
    said = world.say(world.alice, text)
    assert "Drafted withdrawal #" in said, said
    return int(said.split("#", 1)[1].split(";", 1)[0])


def _thread(world: World, request_id: int) -> str:
    return "\n".join(ack_text(reply) for reply in world.replies(request_id))


def _actions(message: dict[str, object]) -> list[str]:
    blocks = message.get("blocks") or []
    assert isinstance(blocks, list)
    return [
        element["action_id"]
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_cross_draft_is_quoted_by_the_worker_then_approved_and_submitted(
    web_only_world: World, database_url: str, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    world = web_only_world
    request_id = _drafted(world)
    stored = transactions.get_request(world.stack.database, request_id=request_id)
    assert stored.request.state is State.AWAITING_QUOTE
    assert not stored.request.content.quoted
    time.sleep(0.5)
    assert outbox.pending(world.stack.database), "the web process leaves Slack to the worker"
    assert not world.slack.calls_to("chat.postMessage")
    assert world.stack.threads == []

    workers.append(_start(world, database_url, tmp_path / "worker"))
    wait_for(lambda: _state(world, request_id) is State.PENDING_APPROVAL, timeout=30)
    world.flush(timeout=20)
    quoted = transactions.get_request(world.stack.database, request_id=request_id).request
    assert quoted.content.lp_account_id == DEFAULT_QUOTE["lpAccountId"]
    assert quoted.content.fee_cap is not None
    root = world.root(request_id)
    assert _actions(root) == [ActionId.APPROVE, ActionId.REJECT, ActionId.CANCEL]
    assert f"liquidity provider account {DEFAULT_QUOTE['lpAccountId']}" in ack_text(root)
    thread = _thread(world, request_id)
    assert f"LP quote: fee {DEFAULT_QUOTE['fee']} USDT (approvers approve at most " in thread
    assert f"LP account {DEFAULT_QUOTE['lpAccountId']}; ready for approval" in thread

    world.clock.now = datetime.now(UTC)
    world.click(world.bob, request_id, ActionId.APPROVE)
    world.click(world.carol, request_id, ActionId.APPROVE)
    wait_for(lambda: _state(world, request_id) is State.SUBMITTED, timeout=30)
    [sent] = world.admin.get("state")["withdrawals"].values()
    assert sent["body"]["lpAccountId"] == DEFAULT_QUOTE["lpAccountId"]
    assert sent["body"]["chainId"] in (42161, "42161")
    world.flush(timeout=20)
    assert "Submitted to edgeX" in _thread(world, request_id)


def test_a_quote_edgex_refuses_ends_the_draft_with_its_reason_in_the_thread(
    web_only_world: World, database_url: str, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    world = web_only_world
    world.admin.post("quote", chainId="42161", refuse={"code": "LP_UNAVAILABLE", "msg": "no LP"})
    request_id = _drafted(world)
    workers.append(_start(world, database_url, tmp_path / "worker"))
    wait_for(lambda: _state(world, request_id) is State.QUOTE_REFUSED, timeout=30)
    world.flush(timeout=20)
    root = world.root(request_id)
    assert _actions(root) == []
    assert "Refused at quoting" in ack_text(root)
    [reply] = world.replies(request_id)
    said = ack_text(reply)
    assert "edgeX refused to quote it: LP_UNAVAILABLE: no LP" in said
    assert "Nothing was approved, signed or sent" in said
    assert reply.get("subtype") == "thread_broadcast"


def test_while_edgex_cannot_quote_the_draft_waits_and_its_requester_can_cancel(
    web_only_world: World, database_url: str, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    world = web_only_world
    world.admin.post("faults", kind="http_error", path=SIGN_INFO, status=503, count=1000)
    request_id = _drafted(world)
    worker = _start(world, database_url, tmp_path / "worker")
    workers.append(worker)
    wait_for(lambda: "worker.quote_deferred" in worker.output(), timeout=30)
    world.flush(timeout=20)
    assert _state(world, request_id) is State.AWAITING_QUOTE
    root = world.root(request_id)
    assert "Waiting for the LP quote" in ack_text(root)
    assert _actions(root) == [ActionId.CANCEL]
    world.clock.now = datetime.now(UTC)
    world.click(world.bob, request_id, ActionId.CANCEL)
    assert "Only the person who drafted this request can cancel it" in world.last_ephemeral(
        world.bob
    )
    world.click(world.alice, request_id, ActionId.CANCEL)
    assert _state(world, request_id) is State.CANCELLED
    world.flush(timeout=20)
    assert "Cancelled" in ack_text(world.root(request_id))
    assert _actions(world.root(request_id)) == []


def _answers(world: World, user_id: str) -> list[str]:
    """What reached the person through a ``response_url``, in order."""
    shown = world.slack.workspace.ephemerals_for(user_id)
    return [ack_text(m) for m in shown if m.get("via") == "respond"]


def _queries(world: World) -> list[tuple[str, str, str | None, str | None]]:
    with world.stack.database.read() as session:
        rows = session.connection().execute(
            text("SELECT kind, requester, outcome, response_url FROM exchange_queries ORDER BY id")
        )
        return [tuple(row) for row in rows]


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_history_and_claimable_are_answered_by_the_worker_through_response_url(
    web_only_world: World, database_url: str, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    world = web_only_world
    waiting = "Looking that up at edgeX; the worker answers here in a moment"
    assert waiting in ack_text(world.command(world.bob, "history 30"))
    assert waiting in ack_text(world.command(world.carol, f"claimable {LISTED}"))
    typo = LISTED.replace("886E0F", "886e0F")
    assert typo != LISTED
    refused = ack_text(world.command(world.bob, f"claimable {typo}"))
    assert "fails its EIP-55 checksum" in refused
    assert "covers 1 to 90 days" in ack_text(world.command(world.bob, "history 91"))
    # Asked 25 minutes ago, before a worker ran: Slack would no longer take the answer.
    expired = exchange_queries.ask(
        world.stack.database,
        kind=QueryKind.HISTORY,
        argument="7",
        requester=world.dave.user_id,
        response_url=world.slack.response_url(ResponseTarget(CHANNEL, world.dave.user_id, None)),
        now=datetime.now(UTC) - EXPIRES_AFTER - timedelta(seconds=1),
    )
    time.sleep(0.5)
    assert _answers(world, world.bob.user_id) == [], "the web process holds no key to answer"
    assert [(kind, who) for kind, who, _, _ in _queries(world)] == [
        ("history", "U0BOB"),
        ("claimable", "U0CAROL"),
        ("history", "U0DAVE"),
    ], "nothing refused was stored"

    worker = _start(world, database_url, tmp_path / "worker")
    workers.append(worker)
    wait_for(lambda: all(outcome for _, _, outcome, _ in _queries(world)), timeout=30)
    [history] = _answers(world, world.bob.user_id)
    assert "in the last 30 days" in history
    [claimable] = _answers(world, world.carol.user_id)
    assert f"`{LISTED}` can claim *0 USDT*" in claimable
    assert _answers(world, world.dave.user_id) == []
    assert [(outcome, url) for _, _, outcome, url in _queries(world)] == [
        ("answered", None),
        ("answered", None),
        ("expired", None),
    ]
    assert f"worker.query_expired query_id={expired}" in worker.output()
    assert "/response/" not in worker.output(), "a response_url is a secret: never logged"
