"""Every /withdraw sub-command, both inline forms, and the modal with its per-field validation."""

from __future__ import annotations

import pytest

from approvals.lifecycle import State
from bot.slack.ids import CallbackId, Field
from storage import freeze, transactions
from tests.slack.e2e.conftest import LISTED, UNLISTED, World, ack_text, wait_for

BAD_CHECKSUM = LISTED.lower().replace("0x5290", "0x5290", 1).replace("e", "E", 1)


def test_inline_draft_to_l1(world: World) -> None:
    ack = world.command(world.alice, f"250 USDT to {LISTED} reason: rent & <b>fees</b>")
    assert f"Drafting a withdrawal of 250 USDT to {LISTED}" in ack_text(ack)
    wait_for(lambda: "Drafted withdrawal #1" in world.last_ephemeral(world.alice))
    world.flush()
    root = ack_text(world.root(1))
    assert "rent &amp; &lt;b&gt;fees&lt;/b&gt;" in root
    assert "to L1" in root


def test_inline_cross_chain_draft_shows_the_lp_fee(world: World) -> None:
    said = world.say(world.alice, f"cross 100 USDT to {LISTED} chain 42161 bridge float")
    assert "Drafted withdrawal #1" in said
    world.flush()
    stored = transactions.get_request(world.stack.database, request_id=1).request
    assert stored.content.lp_account_id is not None
    assert stored.content.erc20_address == "0xFd086bC7CD5C481DCC9C85ebE478A1C0b69FCbb9"
    root = ack_text(world.root(1))
    assert "cross-chain to Arbitrum (chain 42161)" in root
    assert "LP fee at most 2.5 USDT" in root


def test_inline_draft_refusals_are_specific(world: World) -> None:
    assert "not a /withdraw command" in ack_text(world.command(world.alice, "please pay bob"))
    said = world.say(world.alice, f"250 USDT to {BAD_CHECKSUM} rent")
    assert "checksum" in said
    said = world.say(world.alice, f"250.1234567 USDT to {LISTED} rent")
    assert "0.000001" in said or "step" in said or "decimal" in said
    said = world.say(world.alice, f"250 DOGE to {LISTED} rent")
    assert "DOGE" in said
    said = world.say(world.alice, f"cross 100 USDT to {LISTED} chain 777 x")
    assert "chain 777" in said
    assert transactions.expirable(world.stack.database, now=world.clock.now) == []
    assert world.stack.reads.open_requests() == []


def test_status_list_explain_cancel(world: World) -> None:
    first = world.draft()
    second = world.draft(text=f"20000 USDT to {UNLISTED} big move")
    status = ack_text(world.command(world.bob, f"status #{first}"))
    assert f"Withdrawal #{first}" in status
    assert "Approve" not in status
    listed = ack_text(world.command(world.bob, "list"))
    assert "Open withdrawal requests (2)" in listed
    explained = ack_text(world.command(world.bob, f"explain {second}"))
    assert "leads" in explained
    assert "unknown" not in explained.lower()
    missing = ack_text(world.command(world.bob, "status 99"))
    assert "There is no withdrawal request #99" in missing
    cancelled = ack_text(world.command(world.alice, f"cancel {first}"))
    assert f"Withdrawal #{first} is cancelled" in cancelled
    world.flush()
    assert "Cancelled" in ack_text(world.root(first))
    assert "Open withdrawal requests (1)" in ack_text(world.command(world.bob, "list"))


def test_history_and_claimable_answer_through_response_url(world: World) -> None:
    world.command(world.bob, "history 30")
    wait_for(lambda: any("edgeX" in e for e in world.ephemerals(world.bob)))
    assert "in the last 30 days" in world.last_ephemeral(world.bob)
    world.command(world.bob, f"claimable {LISTED}")
    wait_for(lambda: "can claim" in world.last_ephemeral(world.bob))
    assert f"`{LISTED}` can claim *0 USDT*" in world.last_ephemeral(world.bob)
    world.command(world.bob, "claimable 0x1234")
    wait_for(lambda: "0x1234" in world.last_ephemeral(world.bob))


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_freeze_by_any_approver_unfreeze_by_two(world: World) -> None:
    refused = ack_text(world.command(world.alice, "freeze"))
    assert "Only approvers can freeze signing" in refused
    assert "Signing is frozen" in ack_text(world.command(world.bob, "freeze odd activity"))
    assert freeze.freeze_state(world.stack.database).frozen
    again = ack_text(world.command(world.carol, "freeze"))
    assert "already frozen" in again
    vote = ack_text(world.command(world.bob, "unfreeze"))
    assert "A second approver must also run" in vote
    world.command(world.bob, "unfreeze")
    assert freeze.freeze_state(world.stack.database).frozen, "one person twice is not two"
    done = ack_text(world.command(world.carol, "unfreeze"))
    assert "Signing is unfrozen by U0BOB and U0CAROL" in done
    assert not freeze.freeze_state(world.stack.database).frozen
    assert "Signing is not frozen" in ack_text(world.command(world.carol, "unfreeze"))


def test_help_and_anything_else(world: World) -> None:
    assert "withdrawbot commands" in ack_text(world.command(world.bob, "help"))
    said = ack_text(world.command(world.bob, "status"))
    assert "needs a request id" in said
    assert "withdrawbot commands" in said


def _open_form(world: World) -> str:
    delivery = world.platform.command(world.alice, "", channel="C0TREASURY")
    assert delivery.status == 200
    wait_for(lambda: bool(world.slack.workspace.modals.open_views(world.alice.user_id)))
    view = world.slack.workspace.modals.open_views(world.alice.user_id)[-1]
    assert view["callback_id"] == CallbackId.WITHDRAW
    return str(view["id"])


def test_modal_validation_per_field_and_draft(world: World) -> None:
    view_id = _open_form(world)
    empty = world.platform.submit(world.alice, view_id=view_id, values={})
    errors = (empty.ack() or {})["errors"]
    assert set(errors) == {Field.AMOUNT, Field.DESTINATION, Field.REASON}
    bad_amount = world.platform.submit(
        world.alice,
        view_id=view_id,
        values={Field.AMOUNT: "1e3", Field.DESTINATION: LISTED, Field.REASON: "x"},
    )
    assert set((bad_amount.ack() or {})["errors"]) == {Field.AMOUNT}
    bad_address = world.platform.submit(
        world.alice,
        view_id=view_id,
        values={Field.AMOUNT: "250", Field.DESTINATION: BAD_CHECKSUM, Field.REASON: "x"},
    )
    said = (bad_address.ack() or {})["errors"]
    assert set(said) == {Field.DESTINATION}
    assert "checksum" in said[Field.DESTINATION]
    assert world.stack.reads.open_requests() == []
    done = world.platform.submit(
        world.alice,
        view_id=view_id,
        values={Field.AMOUNT: "250", Field.DESTINATION: LISTED, Field.REASON: "payroll"},
    )
    assert done.ack() is None
    wait_for(lambda: "Drafted withdrawal #1" in "".join(world.ephemerals(world.alice)))
    world.flush()
    assert "payroll" in ack_text(world.root(1))


def test_modal_kind_switch_adds_the_chain_and_drafts_cross(world: World) -> None:
    view_id = _open_form(world)
    world.switch_form_to_cross(world.alice, view_id)
    missing_chain = world.platform.submit(
        world.alice,
        view_id=view_id,
        values={Field.AMOUNT: "100", Field.DESTINATION: LISTED, Field.REASON: "float"},
    )
    assert set((missing_chain.ack() or {})["errors"]) == {Field.CHAIN}
    too_big = world.platform.submit(
        world.alice,
        view_id=view_id,
        values={
            Field.AMOUNT: "60000",
            Field.DESTINATION: LISTED,
            Field.CHAIN: "42161",
            Field.REASON: "float",
        },
    )
    assert set((too_big.ack() or {})["errors"]) == {Field.AMOUNT}
    done = world.platform.submit(
        world.alice,
        view_id=view_id,
        values={
            Field.AMOUNT: "100",
            Field.DESTINATION: LISTED,
            Field.CHAIN: "42161",
            Field.REASON: "float",
        },
    )
    assert done.ack() is None
    world.flush()
    stored = transactions.get_request(world.stack.database, request_id=1).request
    assert stored.state is State.PENDING_APPROVAL
    assert stored.content.chain_id == 42161


def test_modal_refusal_without_a_field_replaces_the_form(world: World) -> None:
    delivery = world.platform.command(world.frank, "", channel="C0TREASURY")
    assert delivery.status == 200
    wait_for(lambda: bool(world.slack.workspace.modals.open_views(world.frank.user_id)))
    view_id = world.slack.workspace.modals.open_views(world.frank.user_id)[-1]["id"]
    refused = world.platform.submit(
        world.frank,
        view_id=view_id,
        values={Field.AMOUNT: "250", Field.DESTINATION: LISTED, Field.REASON: "mine"},
    )
    ack = refused.ack() or {}
    assert ack["response_action"] == "update"
    assert "not in the requester group" in ack_text(ack["view"])
