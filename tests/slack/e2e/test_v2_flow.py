"""edgeX V2 end to end: a slash command, two clicks, a signed asset flow, its statuses in Slack.

The same workflow as V1 over real loopback HTTP (Slack stand-in, V2 simulator), on SQLite and
PostgreSQL: the draft is priced by edgeX's fee, approvers see the cap, the signature's domain
contract reaches the thread, and the flow's statuses and failures are told as they come.
"""

from __future__ import annotations

import time

import pytest

from approvals.lifecycle import State
from bot.slack.ids import ActionId, Field
from storage import transactions
from tests.slack.e2e.conftest import PAYOUT, World, ack_text, wait_for


def _state(world: World, request_id: int) -> State:
    return transactions.get_request(world.stack.database, request_id=request_id).request.state


def _walk_until(world: World, request_id: int, state: State) -> None:
    for _ in range(10):
        if _state(world, request_id) is state:
            break
        world.admin.steps(1)
        time.sleep(0.3)
    wait_for(lambda: _state(world, request_id) is state, timeout=20)
    world.flush()


def _drafted(world: World, text: str) -> int:
    said = world.say(world.alice, text)
    assert "Drafted withdrawal #" in said, said
    request_id = int(said.split("#", 1)[1].split(";", 1)[0])
    world.flush()
    return request_id


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_v2_withdrawal_goes_from_slash_command_to_completion(v2_world: World) -> None:
    world = v2_world
    request_id = _drafted(world, f"cross 1000 USDC to {PAYOUT} chain 3343 treasury top-up")
    root = ack_text(world.root(request_id))
    assert "to Edge (chain 3343) (edgeX V2)" in root
    assert "edgeX's fee (taken from the amount) at most 1.5 USDC" in root
    world.click(world.bob, request_id, ActionId.APPROVE)
    world.click(world.carol, request_id, ActionId.APPROVE)
    wait_for(lambda: _state(world, request_id) is State.SUBMITTED, timeout=20)
    _walk_until(world, request_id, State.COMPLETED)
    thread = "\n".join(ack_text(r) for r in world.replies(request_id))
    assert "verifyingContract is `0x000000000000000000000000000000000000eD9E`" in thread
    assert "ASSET_FLOW_SUCCESS" in thread or "Completed" in ack_text(world.root(request_id))
    [flow] = list(world.admin.state()["flows"].values())
    assert flow["attempt"]["destinationAccount"] == PAYOUT
    assert flow["attempt"]["amount"] == "999000000"


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_a_v2_payout_failure_reaches_the_thread_with_edgexs_code(v2_world: World) -> None:
    world = v2_world
    world.admin.post("fates", outcome="payout_failed", code="BRIDGE_DOWN", reason="<b>gas</b>")
    request_id = _drafted(world, f"cross 500 USDC to {PAYOUT} chain 3343 ops")
    world.click(world.bob, request_id, ActionId.APPROVE)
    world.click(world.carol, request_id, ActionId.APPROVE)
    wait_for(lambda: _state(world, request_id) is State.SUBMITTED, timeout=20)
    _walk_until(world, request_id, State.FAILED)
    thread = "\n".join(ack_text(r) for r in world.replies(request_id))
    assert "BRIDGE_DOWN" in thread
    assert "&lt;b&gt;gas&lt;/b&gt;" in thread
    assert "Failed" in ack_text(world.root(request_id))


def test_a_v2_fee_above_the_approved_cap_asks_for_approval_again(v2_world: World) -> None:
    world = v2_world
    request_id = _drafted(world, f"cross 1000 USDC to {PAYOUT} chain 3343 rent")
    world.click(world.bob, request_id, ActionId.APPROVE)
    world.admin.post("v2/fees", token="USDC", fee="4000000")  # 4 USDC: above the 1.5 cap
    world.click(world.carol, request_id, ActionId.APPROVE)
    wait_for(lambda: _state(world, request_id) is State.PENDING_APPROVAL, timeout=20)
    world.flush()
    assert world.admin.state()["flows"] == {}
    thread = "\n".join(ack_text(r) for r in world.replies(request_id))
    assert "fee rose above the approved cap" in thread
    root = ack_text(world.root(request_id))
    assert "at most 6 USDC" in root


def test_v2_has_no_l1_withdrawal_and_the_drafter_is_told_where_it_can_go(
    v2_world: World,
) -> None:
    said = v2_world.say(v2_world.alice, f"1000 USDC to {PAYOUT} rent")
    assert "edgeX V2 has no withdrawal to L1" in said
    assert "USDC on Edge (chain 3343)" in said
    said = v2_world.say(v2_world.alice, f"cross 1000 USDC to {PAYOUT} chain 1 rent")
    assert "no USDC withdrawals to chain 1; it offers Edge (3343)" in said


def test_the_v2_form_drafts_to_a_chain_without_a_kind_to_choose(v2_world: World) -> None:
    world = v2_world
    delivery = world.platform.command(world.alice, "", channel="C0TREASURY")
    assert delivery.status == 200
    wait_for(lambda: bool(world.slack.workspace.modals.open_views(world.alice.user_id)))
    view = world.slack.workspace.modals.open_views(world.alice.user_id)[-1]
    kinds = view["blocks"][0]["element"]["options"]
    assert [o["text"]["text"] for o in kinds] == ["To a chain, paid out by edgeX (V2)"]
    done = world.platform.submit(
        world.alice,
        view_id=str(view["id"]),
        values={
            Field.COIN: "USDC",
            Field.AMOUNT: "300",
            Field.DESTINATION: PAYOUT,
            Field.CHAIN: "3343",
            Field.REASON: "form draft",
        },
    )
    assert done.ack() is None
    wait_for(lambda: "Drafted withdrawal #1" in "".join(world.ephemerals(world.alice)))
    stored = transactions.get_request(world.stack.database, request_id=1).request
    assert stored.state is State.PENDING_APPROVAL
    assert stored.content.kind.value == "flow"
