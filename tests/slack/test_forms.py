"""The /withdraw and reject modals, read back through the state Slack would send."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from approvals.content import Kind
from approvals.drafts import CrossDraft, NormalDraft
from approvals.lifecycle import open_request
from approvals.refusals import DraftRefused, InvalidAddress, InvalidAmount
from bot.slack.command_parser import REASON_MAX, DraftCommand
from bot.slack.forms import (
    ERROR_MAX,
    FormInvalid,
    draft_for,
    errors_response,
    read_reject_reason,
    read_withdraw_form,
    refusal_response,
)
from bot.slack.ids import ActionId, CallbackId, Field, RequestRef, input_action_id
from bot.slack.modals import ChainChoice, refusal_modal, reject_modal, withdraw_modal
from bot.slack.standin import view_state
from tests.approvals import helpers as h
from tests.slack import world
from tests.slack.world import texts

CHAINS = [ChainChoice(42161, "Arbitrum"), ChainChoice(56, "BNB Chain")]
ADDR = h.LISTED


def form(
    kind: Kind = Kind.NORMAL, *, paper: bool = False, coins: tuple[str, ...] = ("USDT", "USDC")
) -> dict[str, Any]:
    return withdraw_modal(coins=coins, chains=CHAINS, kind=kind, paper=paper).to_dict()


def submitted(view: dict[str, Any], values: Mapping[str, str | None]) -> dict[str, Any]:
    return view_state(view, values)


FILLED = {
    Field.COIN.value: "USDT",
    Field.AMOUNT.value: " 250 ",
    Field.DESTINATION.value: ADDR,
    Field.REASON.value: "monthly rebalancing",
}


def test_withdraw_form_layout() -> None:
    view = form()
    assert view["callback_id"] == CallbackId.WITHDRAW
    assert view["title"]["text"] == "Withdraw"
    assert view["submit"]["text"] == "Draft"
    inputs = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert inputs == [Field.KIND, Field.COIN, Field.AMOUNT, Field.DESTINATION, Field.REASON]
    kind = view["blocks"][0]
    assert kind["dispatch_action"] is True
    assert kind["element"]["action_id"] == ActionId.WITHDRAW_KIND
    assert [o["value"] for o in kind["element"]["options"]] == ["normal", "cross"]
    assert kind["element"]["initial_option"]["value"] == "normal"
    reason = next(b for b in view["blocks"] if b.get("block_id") == Field.REASON)
    assert reason["element"]["max_length"] == REASON_MAX
    assert reason["element"]["multiline"] is True


def test_cross_form_adds_the_chain_field_with_the_same_ids() -> None:
    normal, cross = form(), form(Kind.CROSS)

    def ids(view: dict[str, Any]) -> list[tuple[str, str]]:
        return [(b.get("block_id"), b.get("element", {}).get("action_id")) for b in view["blocks"]]

    assert [i for i in ids(cross) if i[0] != Field.CHAIN] == ids(normal)
    chain = next(b for b in cross["blocks"] if b.get("block_id") == Field.CHAIN)
    assert [(o["value"], o["text"]["text"]) for o in chain["element"]["options"]] == [
        ("42161", "Arbitrum (42161)"),
        ("56", "BNB Chain (56)"),
    ]


def test_form_without_chains_offers_only_l1_and_one_coin_is_preselected() -> None:
    view = withdraw_modal(coins=["USDT"], chains=[], paper=False).to_dict()
    assert [o["value"] for o in view["blocks"][0]["element"]["options"]] == ["normal"]
    coin = view["blocks"][1]["element"]
    assert coin["initial_option"]["value"] == "USDT"
    with pytest.raises(ValueError, match="chains"):
        withdraw_modal(coins=["USDT"], chains=[], kind=Kind.CROSS, paper=False)
    with pytest.raises(ValueError, match="coin"):
        withdraw_modal(coins=[], chains=CHAINS, paper=False)


def test_paper_forms_say_paper() -> None:
    view = form(paper=True)
    assert view["title"]["text"] == "PAPER · Withdraw"
    assert "*PAPER*" in view["blocks"][0]["elements"][0]["text"]
    rejected = reject_modal(world.card(world.pending()), paper=True).to_dict()
    assert rejected["title"]["text"] == "PAPER · Reject request"
    assert refusal_modal("no", paper=True).to_dict()["title"]["text"] == "PAPER · Not drafted"


def test_normal_form_reads_back_into_a_draft_command() -> None:
    command = read_withdraw_form(submitted(form(), FILLED))
    assert command == DraftCommand(Kind.NORMAL, "250", "USDT", ADDR, "monthly rebalancing")


def test_cross_form_reads_its_chain() -> None:
    values = {**FILLED, Field.KIND.value: "cross", Field.CHAIN.value: "42161"}
    command = read_withdraw_form(submitted(form(Kind.CROSS), values))
    assert command == DraftCommand(Kind.CROSS, "250", "USDT", ADDR, "monthly rebalancing", 42161)


@pytest.mark.parametrize(
    ("missing", "field", "message"),
    [
        (Field.COIN, Field.COIN, "Choose a coin"),
        (Field.AMOUNT, Field.AMOUNT, "Write the amount, e.g. 250"),
        (Field.DESTINATION, Field.DESTINATION, "Paste the destination address"),
        (Field.REASON, Field.REASON, "Say what the withdrawal is for; approvers read it"),
    ],
)
def test_missing_inputs_are_field_errors(missing: Field, field: Field, message: str) -> None:
    values: dict[str, str | None] = {**FILLED, missing.value: None}
    with pytest.raises(FormInvalid) as raised:
        read_withdraw_form(submitted(form(), values))
    assert raised.value.errors == {field: message}


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(FormInvalid) as raised:
        read_withdraw_form(submitted(form(Kind.CROSS), {Field.KIND.value: "cross"}))
    assert set(raised.value.errors) == {
        Field.COIN,
        Field.AMOUNT,
        Field.DESTINATION,
        Field.CHAIN,
        Field.REASON,
    }


@pytest.mark.parametrize(
    "values",
    [
        {},
        {Field.KIND.value: {}},
        {Field.KIND.value: {ActionId.WITHDRAW_KIND.value: {"selected_option": "cross"}}},
        {Field.AMOUNT.value: {input_action_id(Field.AMOUNT): {"value": 250}}},
        {Field.CHAIN.value: "nope"},
    ],
)
def test_forged_or_malformed_state_never_crashes(values: dict[str, Any]) -> None:
    with pytest.raises(FormInvalid):
        read_withdraw_form(values)


@pytest.mark.parametrize("chain", ["0", "042161", "abc", "\uff14\uff12"])
def test_chain_values_must_be_plain_ids(chain: str) -> None:
    values = {
        Field.KIND.value: {ActionId.WITHDRAW_KIND.value: {"selected_option": {"value": "cross"}}},
        Field.CHAIN.value: {Field.CHAIN.value: {"selected_option": {"value": chain}}},
    }
    with pytest.raises(FormInvalid) as raised:
        read_withdraw_form(values)
    assert Field.CHAIN in raised.value.errors


def test_reason_too_long() -> None:
    values = {**FILLED, Field.REASON.value: "r" * (REASON_MAX + 1)}
    with pytest.raises(FormInvalid) as raised:
        read_withdraw_form(submitted(form(), values))
    assert raised.value.errors == {
        Field.REASON: f"Keep it under {REASON_MAX} characters (it has {REASON_MAX + 1})"
    }


def test_reject_modal_binds_the_request_and_reads_its_reason() -> None:
    pending = world.card(world.pending())
    view = reject_modal(pending, paper=False).to_dict()
    assert view["callback_id"] == CallbackId.REJECT_REASON
    assert RequestRef.decode(view["private_metadata"]) == pending.ref
    assert f"`{ADDR}`" in texts(view["blocks"])[0]
    assert read_reject_reason(view_state(view, {Field.REJECT_REASON.value: " wrong "})) == "wrong"
    with pytest.raises(FormInvalid) as raised:
        read_reject_reason(view_state(view, {}))
    assert raised.value.errors == {Field.REJECT_REASON: "Say why; the requester will read it"}
    with pytest.raises(FormInvalid):
        read_reject_reason(view_state(view, {Field.REJECT_REASON.value: "x" * 501}))


def test_errors_response_shape_and_clipping() -> None:
    response = errors_response({Field.AMOUNT: "a" * 1000, Field.COIN: "Choose a coin"})
    assert response["response_action"] == "errors"
    assert response["errors"][Field.COIN.value] == "Choose a coin"
    assert len(response["errors"][Field.AMOUNT.value]) == ERROR_MAX


def _refuse(draft: NormalDraft | CrossDraft, requester: str = h.REQUESTER) -> DraftRefused:
    with pytest.raises(DraftRefused) as raised:
        open_request(
            draft,
            requester=requester,
            exchange=h.EXCHANGE,
            policy=world.POLICY,
            membership=world.MEMBERSHIP,
            withdrawn_in_window=Decimal(0),
            now=h.T0,
        )
    return raised.value


@pytest.mark.parametrize(
    ("draft", "kind", "field"),
    [
        (h.normal(amount="1,5"), Kind.NORMAL, Field.AMOUNT),
        (h.normal(amount="300000"), Kind.NORMAL, Field.AMOUNT),
        (h.normal(destination=ADDR.lower()), Kind.NORMAL, Field.DESTINATION),
        (h.normal(coin="DOGE"), Kind.NORMAL, Field.COIN),
        (h.normal(coin="BTC"), Kind.NORMAL, Field.COIN),
        (h.cross(chain_id=137), Kind.CROSS, Field.CHAIN),
        (h.cross(amount="50000"), Kind.CROSS, Field.AMOUNT),
    ],
)
def test_domain_refusals_land_on_their_field(
    draft: NormalDraft | CrossDraft, kind: Kind, field: Field
) -> None:
    err = _refuse(draft)
    response = refusal_response(err, kind=kind, paper=False)
    assert response == {
        "response_action": "errors",
        "errors": {field.value: err.message[:ERROR_MAX]},
    }


def test_refusals_without_a_form_field_replace_the_form() -> None:
    err = _refuse(h.normal(), requester=h.OUTSIDER)
    assert err.field is None
    response = refusal_response(err, kind=Kind.NORMAL, paper=False)
    assert response["response_action"] == "update"
    assert response["view"]["title"]["text"] == "Not drafted"
    assert response["view"]["blocks"][0]["text"]["text"].startswith(
        "🚫 You are not in the requester group"
    )
    account = DraftRefused("The edgeX account id 'x' is not an account number", field="account")
    assert refusal_response(account, kind=Kind.NORMAL, paper=False)["response_action"] == "update"
    # A chain problem on an L1 form has no chain field to sit under.
    chain = DraftRefused("no chain", field="chain")
    assert refusal_response(chain, kind=Kind.NORMAL, paper=False)["response_action"] == "update"
    assert isinstance(InvalidAmount("x"), DraftRefused)
    assert InvalidAddress("x").field == "destination"


def test_draft_for_builds_the_domain_draft() -> None:
    normal = DraftCommand(Kind.NORMAL, "250", "USDT", ADDR, "why")
    assert draft_for(normal, account_id=h.ACCOUNT, quote=None) == NormalDraft(
        account_id=h.ACCOUNT, coin="USDT", amount="250", destination=ADDR
    )
    cross = DraftCommand(Kind.CROSS, "100", "USDT", ADDR, "why", 42161)
    assert draft_for(cross, account_id=h.ACCOUNT, quote=h.QUOTE) == CrossDraft(
        account_id=h.ACCOUNT,
        coin="USDT",
        amount="100",
        destination=ADDR,
        chain_id=42161,
        quote=h.QUOTE,
    )
    unquoted = draft_for(cross, account_id=h.ACCOUNT, quote=None)
    assert isinstance(unquoted, CrossDraft)
    assert unquoted.quote is None
    with pytest.raises(ValueError, match="needs its chain"):
        draft_for(
            DraftCommand(Kind.CROSS, "100", "USDT", ADDR, "why"), account_id=h.ACCOUNT, quote=None
        )
    with pytest.raises(ValueError, match="no chain"):
        draft_for(normal, account_id=h.ACCOUNT, quote=h.QUOTE)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "12",
        "12:1",
        "0:1:" + "a" * 64,
        "12:0:" + "a" * 64,
        "12:1:" + "A" * 64,
        "12:1:" + "a" * 63,
    ],
)
def test_request_refs_refuse_anything_malformed(value: str) -> None:
    with pytest.raises(ValueError, match="not a request reference"):
        RequestRef.decode(value)


def test_request_ref_round_trip() -> None:
    ref = RequestRef(123, 4, "ab" * 32)
    assert RequestRef.decode(ref.encode()) == ref
    with pytest.raises(ValueError, match="not a request reference"):
        RequestRef(0, 1, "ab" * 32).encode()


def test_the_v2_form_offers_chains_only_paid_out_by_edgex() -> None:
    chains = [ChainChoice(3343, "Edge"), ChainChoice(42161, "Arbitrum One")]
    view = withdraw_modal(coins=["USDC"], chains=chains, paper=False, to_l1=False).to_dict()
    kind = view["blocks"][0]["element"]
    assert [(o["value"], o["text"]["text"]) for o in kind["options"]] == [
        ("cross", "To a chain, paid out by edgeX (V2)")
    ]
    assert kind["initial_option"]["value"] == "cross"
    chain = next(b for b in view["blocks"] if b.get("block_id") == Field.CHAIN)
    assert chain["hint"]["text"] == "edgeX pays out on this chain; its fee is shown to approvers"
    with pytest.raises(ValueError, match="chains"):
        withdraw_modal(coins=["USDC"], chains=[], paper=False, to_l1=False)
