"""Every payload fits Block Kit by construction, whatever edgeX or a person wrote into it.

Each payload is checked twice: by slack_sdk's own models (in ``Message.payload``) and by the
Slack stand-in's ``check_blocks``, which answers what Slack answers (``invalid_blocks``,
``msg_blocks_too_long``) for the documented limits.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from approvals.decisions import Decision
from approvals.lifecycle import Trigger, quote_refused, record_exchange_outcome
from bot.slack.budget import BLOCKS_JSON_MAX, fit_blocks
from bot.slack.messages import (
    Message,
    RequestCard,
    decision_reply,
    exchange_reply,
    explain_message,
    fallback_note,
    outcome_message,
    refusal_message,
    reminder_reply,
    request_message,
    transition_reply,
)
from bot.slack.standin.arguments import MAX_MESSAGE_BLOCKS, SlackError, check_blocks
from bot.slack.text import clip_markup, fit, units
from tests.approvals import helpers as h
from tests.slack import world

HOSTILE = "&<>*_~`" * 1500  # 10,500 characters that escaping grows to over 30,000
hostile_text = st.one_of(
    st.text(min_size=0, max_size=200),
    st.text(alphabet="&<>*_~`!@#|", min_size=2000, max_size=12_000),
    st.sampled_from([HOSTILE, "<!channel>" * 900, "😀" * 4000, "&amp;" * 2500]),
)


def _slack_takes(message: Message) -> dict[str, object]:
    payload = message.payload()
    try:
        check_blocks(payload["blocks"], limit=MAX_MESSAGE_BLOCKS)
    except SlackError as err:
        raise AssertionError(f"Slack would answer {err.code}: {err.detail}") from None
    assert units(str(payload["text"])) <= 3000
    return payload


def _failed_card(note: str) -> RequestCard:
    failed = record_exchange_outcome(world.submitted(), Trigger.EXCHANGE_FAILED, note=note)
    return world.card(
        failed, exchange_status="NORMAL_WITHDRAW_FAILED_CENSOR_FAILURE", withdraw_id="700001"
    )


def test_a_failure_reason_of_any_length_reaches_its_thread_clipped_and_readable() -> None:
    card = _failed_card(HOSTILE)
    for message in (
        request_message(card, paper=False),
        request_message(card, paper=False, interactive=False),
        transition_reply(card, paper=False),
        outcome_message(card, paper=False),
        exchange_reply(card, code=HOSTILE, detail=HOSTILE, paper=False),
    ):
        payload = _slack_takes(message)
        shown = json.dumps(payload, ensure_ascii=False)
        assert "&amp;&lt;&gt;" in shown, "the reason is not shown at all"
        assert "…" in shown, "a clipped reason must say it was clipped"


@settings(max_examples=40, deadline=None)
@given(note=hostile_text, reason=hostile_text, code=hostile_text)
def test_hostile_text_never_breaks_a_message(note: str, reason: str, code: str) -> None:
    card = _failed_card(note or "x")
    _slack_takes(request_message(card, paper=True))
    _slack_takes(exchange_reply(card, code=code, detail=reason, paper=True))
    _slack_takes(outcome_message(card, paper=False))
    refused = quote_refused(world.awaiting_quote(), reason=reason or "x")
    _slack_takes(request_message(world.card(refused, reason=reason), paper=False))
    _slack_takes(refusal_message(reason, paper=False))
    _slack_takes(
        decision_reply(
            world.card(world.rejected(), reason=reason),
            approver=h.T2,
            decision=Decision.REJECT,
            reason=reason,
            paper=False,
        )
    )
    note_payload = fallback_note(
        request_id=1, event=code, error=reason, first=False, redraw=False, paper=False
    )
    assert units(str(note_payload["text"])) < 1000


@pytest.mark.parametrize(
    ("markup", "limit", "expected"),
    [
        ("abc &amp; def", 7, "abc…"),  # never "abc &a…"
        ("abc &amp; def", 10, "abc &amp;…"),
        ("hi <@U0BOB> there", 8, "hi…"),  # never half a mention
        ("hi <@U0BOB> there", 12, "hi <@U0BOB>…"),
        ("😀😀😀", 4, "😀…"),  # an emoji outside the BMP is two UTF-16 units
        ("short", 10, "short"),
    ],
)
def test_clip_markup_never_cuts_an_entity_or_a_reference(
    markup: str, limit: int, expected: str
) -> None:
    assert clip_markup(markup, limit) == expected
    assert units(clip_markup(markup, limit)) <= limit


def test_fit_escapes_first_then_clips() -> None:
    fitted = fit("&" * 1000, 100)
    assert units(fitted) <= 100
    assert fitted.endswith("&amp;…")


def test_fit_blocks_keeps_a_message_within_block_and_size_limits() -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "y" * 2900}}
    many = [json.loads(json.dumps(section)) for _ in range(80)]
    fitted = fit_blocks(many, max_json=BLOCKS_JSON_MAX)
    assert len(fitted) <= 50
    assert len(json.dumps(fitted)) <= BLOCKS_JSON_MAX
    assert "more not shown" in json.dumps(fitted[-1]) or all(
        units(block["text"]["text"]) < 2900 for block in fitted if "text" in block
    )
    check_blocks(fitted, limit=MAX_MESSAGE_BLOCKS)


def test_the_standin_refuses_what_slack_refuses() -> None:
    too_long = [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}]
    with pytest.raises(SlackError) as refused:
        check_blocks(too_long, limit=MAX_MESSAGE_BLOCKS)
    assert refused.value.code == "invalid_blocks"
    long_overall = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}} for _ in range(5)
    ]
    with pytest.raises(SlackError) as refused:
        check_blocks(long_overall, limit=MAX_MESSAGE_BLOCKS)
    assert refused.value.code == "msg_blocks_too_long"
    with pytest.raises(SlackError) as refused:
        check_blocks([{"type": "divider"}] * 51, limit=MAX_MESSAGE_BLOCKS)
    assert refused.value.code == "invalid_blocks"


def _crowded_policy(groups: int, members: int) -> str:
    """A policy of ``groups`` groups of ``members`` approvers each, all of them required."""
    names = [f"group_{g:02d}_with_a_long_name" for g in range(groups)]
    people = {
        name: [f"U{g:02d}{m:03d}APPROVERWITHALONGID" for m in range(members)]
        for g, name in enumerate(names)
    }
    lines = [
        "version = 1",
        f'requesters = ["{h.REQUESTER}"]',
        "[groups]",
        *(f"{name} = {json.dumps(ids)}" for name, ids in people.items()),
        "[approval]",
        'expiry = "24h"',
        'reminder_after = "4h"',
        "[coins.USDT]",
        'max_amount = "250000"',
        'daily_limit = "500000"',
        "[[coins.USDT.tiers]]",
        'name = "everyone"',
        'above = "0"',
        "require = ["
        + ", ".join(f'{{ group = "{name}", count = {members} }}' for name in names)
        + "]",
        "[[coins.USDT.allowlist]]",
        "chain_id = 1",
        f'address = "{h.LISTED}"',
        'label = "Cold wallet"',
    ]
    return "\n".join(lines) + "\n"


@settings(max_examples=10, deadline=None)
@given(
    groups=st.integers(min_value=1, max_value=60), members=st.integers(min_value=1, max_value=40)
)
def test_many_groups_and_approvers_never_break_the_card(groups: int, members: int) -> None:
    policy = h.policy(_crowded_policy(groups, members))
    membership = h.membership(policy)
    card = RequestCard.build(
        12, world.pending(), reason=HOSTILE, policy=policy, membership=membership
    )
    _slack_takes(request_message(card, paper=True))
    _slack_takes(reminder_reply(card, paper=False))
    _slack_takes(explain_message(card, policy=policy, membership=membership, now=h.T0, paper=False))
