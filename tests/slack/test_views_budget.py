"""Every modal and Home view fits Block Kit, from any number of requests, coins and chains.

Checked by slack_sdk's own models (``View.to_dict`` validates each element) and by the stand-in's
``check_blocks`` with Slack's limits for views (100 blocks, per-block text and option limits).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from approvals.content import Kind
from approvals.lifecycle import Trigger, record_exchange_outcome
from bot.slack.forms import read_withdraw_form
from bot.slack.home_view import home_view
from bot.slack.ids import Field
from bot.slack.messages import RequestCard, request_list_message
from bot.slack.modals import ChainChoice, refusal_modal, reject_modal, withdraw_modal
from bot.slack.standin.arguments import (
    MAX_MESSAGE_BLOCKS,
    MAX_VIEW_BLOCKS,
    SlackError,
    check_blocks,
)
from bot.slack.standin.platform import view_state
from tests.approvals.helpers import LISTED as ADDRESS
from tests.slack import world
from tests.slack.test_budget import HOSTILE, hostile_text


def _slack_takes_view(view: object) -> dict[str, object]:
    shown = view.to_dict()  # type: ignore[attr-defined]
    try:
        check_blocks(shown["blocks"], limit=MAX_VIEW_BLOCKS)
    except SlackError as err:
        raise AssertionError(f"Slack would answer {err.code}: {err.detail}") from None
    return shown  # type: ignore[no-any-return]


def _cards(count: int, reason: str) -> list[RequestCard]:
    failed = record_exchange_outcome(world.submitted(), Trigger.EXCHANGE_FAILED, note=reason or "x")
    states = [world.pending(), world.approved(), failed, world.awaiting_quote()]
    return [
        world.card(states[n % len(states)], request_id=n + 1, reason=reason) for n in range(count)
    ]


@settings(max_examples=25, deadline=None)
@given(count=st.integers(min_value=0, max_value=160), reason=hostile_text, frozen=hostile_text)
def test_home_and_lists_fit_whatever_they_hold(count: int, reason: str, frozen: str) -> None:
    cards = _cards(count, reason)
    _slack_takes_view(
        home_view(
            waiting=cards,
            in_flight=cards,
            recent=cards,
            quoting=cards,
            frozen=frozen or None,
            paper=True,
        )
    )
    listing = request_list_message(cards, paper=False).payload()
    check_blocks(listing["blocks"], limit=MAX_MESSAGE_BLOCKS)


@settings(max_examples=25, deadline=None)
@given(reason=hostile_text)
def test_reject_and_refusal_modals_fit(reason: str) -> None:
    (card,) = _cards(1, reason)
    _slack_takes_view(reject_modal(card, paper=True))
    _slack_takes_view(refusal_modal(reason or HOSTILE, paper=False))


@settings(max_examples=15, deadline=None)
@given(
    coins=st.integers(min_value=1, max_value=250), chains=st.integers(min_value=1, max_value=250)
)
def test_the_form_opens_with_any_number_of_coins_and_chains(coins: int, chains: int) -> None:
    names = ["USDT", *(f"C{n}" for n in range(coins - 1))]
    offered = [ChainChoice(42161 + n, f"chain {n}") for n in range(chains)]
    for kind in (Kind.NORMAL, Kind.CROSS):
        view = _slack_takes_view(
            withdraw_modal(coins=names, chains=offered, kind=kind, paper=False)
        )
        values = {
            Field.AMOUNT.value: "250",
            Field.DESTINATION.value: ADDRESS,
            Field.REASON.value: "rent",
            Field.COIN.value: "USDT",
        }
        if kind is Kind.CROSS:
            values[Field.CHAIN.value] = "42161"
        command = read_withdraw_form(view_state(view, values))
        assert command.coin == "USDT"
        assert command.chain_id == (42161 if kind is Kind.CROSS else None)
