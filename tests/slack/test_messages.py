"""The request message and its thread: escaping, buttons by state, confirm text, PAPER, track."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest

from approvals.content import fingerprint
from approvals.decisions import Decision
from approvals.lifecycle import State, decide, quote_received
from bot.slack.command_parser import USAGE
from bot.slack.ids import ActionId, BlockId, RequestRef
from bot.slack.messages import (
    Message,
    RequestCard,
    decision_reply,
    exchange_reply,
    explain_message,
    help_message,
    notice_message,
    outcome_message,
    quote_reply,
    refusal_message,
    reminder_reply,
    request_line,
    request_list_message,
    request_message,
    transition_reply,
)
from bot.slack.text import clip, escape, mention, unescape
from tests.approvals import helpers as h
from tests.slack import world
from tests.slack.world import REASON, REJECT_REASON, buttons, card, texts

STATES = dict(world.every_state())
ADDR = h.LISTED


def test_the_pending_request_message_shows_what_approvers_judge() -> None:
    message = request_message(card(world.pending()), paper=False)
    payload = message.payload()
    blocks = payload["blocks"]
    assert [b["type"] for b in blocks] == [
        "header",
        "section",
        "section",
        "section",
        "context",
        "section",
        "actions",
        "context",
    ]
    assert blocks[0]["text"]["text"] == "Withdrawal #12: 100 USDT to L1"
    assert [f["text"] for f in blocks[1]["fields"]] == [
        "*Requested by*\n<@UREQ1>",
        "*Amount*\n100 USDT",
    ]
    assert blocks[2]["text"]["text"] == f"*To* `{ADDR}` on L1 (chain 1)"
    assert blocks[3]["text"]["text"] == (
        "*Why*\nRebalance &lt;!channel&gt; &amp; &lt;https://evil.example|Cold wallet&gt;"
    )
    content_hash = world.pending().content_hash
    assert (
        f"Fingerprint `{fingerprint(content_hash)}` · approval round 1"
        in (blocks[4]["elements"][0]["text"])
    )
    assert blocks[5]["text"]["text"] == (
        "⏳ *Waiting for approvals* · needs 1 of treasury: 0/1 so far"
    )
    assert blocks[6]["block_id"] == BlockId.REQUEST_ACTIONS
    assert blocks[7]["elements"][0]["text"] == (
        "Approvals close at 2025-01-03 10:00 UTC. Only <@UREQ1> can cancel."
    )
    assert payload["text"] == (
        f"Withdrawal #12: 100 USDT to {ADDR} by <@UREQ1>, waiting for approvals"
    )


def test_user_text_is_escaped_everywhere() -> None:
    for name, state_card in STATES.items():
        for message in (
            request_message(state_card, paper=False),
            transition_reply(state_card, paper=False),
        ):
            payload = message.payload()
            everything = [payload["text"], *texts(payload["blocks"])]
            assert not any("<!channel>" in t or "<https://evil" in t for t in everything), name
            assert not any("<@U0BOSS>" in t for t in everything), name
            assert not any("<b>" in t for t in everything), name


def test_reason_is_shown_escaped_once() -> None:
    payload = request_message(card(world.pending()), paper=False).payload()
    shown = [t for t in texts(payload["blocks"]) if t.startswith("*Why*")]
    assert shown == [f"*Why*\n{escape(REASON)}"]
    assert "&amp;amp;" not in shown[0]


@pytest.mark.parametrize("state", sorted(STATES))
def test_buttons_only_while_pending(state: str) -> None:
    state_card = STATES[state]
    found = buttons(request_message(state_card, paper=False).payload())
    if state_card.request.state is State.PENDING_APPROVAL:
        assert [b["action_id"] for b in found] == [
            ActionId.APPROVE,
            ActionId.REJECT,
            ActionId.CANCEL,
        ]
    elif state_card.request.state is State.AWAITING_QUOTE:
        assert [b["action_id"] for b in found] == [ActionId.CANCEL]
    else:
        assert found == []
        assert not any(
            "Approvals close" in t
            for t in texts(request_message(state_card, paper=False).payload()["blocks"])
        )


def test_buttons_carry_the_version_they_were_drawn_for() -> None:
    request = world.pending()
    for button in buttons(request_message(card(request, request_id=77), paper=False).payload()):
        ref = RequestRef.decode(button["value"])
        assert ref == RequestRef(77, request.approval_round, request.content_hash)


def test_no_buttons_when_drawn_for_a_status_reply() -> None:
    payload = request_message(card(world.pending()), paper=False, interactive=False).payload()
    assert buttons(payload) == []


def test_approve_confirm_shows_full_address_amount_and_fingerprint() -> None:
    request = world.pending()
    approve = buttons(request_message(card(request), paper=False).payload())[0]
    assert approve["style"] == "primary"
    confirm = approve["confirm"]
    assert confirm["title"]["text"] == "Approve withdrawal #12?"
    assert confirm["text"]["text"] == (
        f"You approve sending *100 USDT* to `{ADDR}` on L1 (chain 1). Fingerprint "
        f"`{fingerprint(request.content_hash)}`."
    )
    assert confirm["confirm"]["text"] == "Approve"
    assert confirm["deny"]["text"] == "Back"


def test_cross_chain_message_shows_chain_lp_and_fee_cap() -> None:
    request = h.request(h.cross())
    payload = request_message(card(request, chain_name="Arbitrum"), paper=False).payload()
    blocks = payload["blocks"]
    assert blocks[0]["text"]["text"] == (
        "Withdrawal #12: 1,000 USDT cross-chain to Arbitrum (chain 42161)"
    )
    assert blocks[1]["fields"][1]["text"] == "*Amount*\n1,000 USDT\nLP fee at most 2.5 USDT"
    assert blocks[2]["text"]["text"] == (
        f"*To* `{h.LISTED_ARB}` on Arbitrum (chain 42161)\nPaid out by liquidity provider "
        f"account 555 (token `{h.USDT_ARB}`)"
    )
    confirm = buttons(payload)[0]["confirm"]["text"]["text"]
    assert "on Arbitrum (chain 42161), LP fee at most 2.5 USDT" in confirm
    assert h.LISTED_ARB in confirm


def test_policy_needs_count_per_group_and_escalation() -> None:
    large = h.request(h.normal("20000"))
    one_in = decide(
        large,
        approver=h.T2,
        decision=Decision.APPROVE,
        policy=world.POLICY,
        membership=world.MEMBERSHIP,
        now=h.T0 + timedelta(minutes=1),
    )
    status = request_message(card(one_in), paper=False).payload()["blocks"][5]["text"]["text"]
    assert status == (
        "⏳ *Waiting for approvals* · needs 2 of treasury: 1/2 so far; 1 of finance: 0/1 so far"
        "\nApproved by <@UT2> (treasury)"
    )
    unlisted = h.request(h.normal("100", destination=h.UNLISTED))
    status = request_message(card(unlisted), paper=False).payload()["blocks"][5]["text"]["text"]
    assert "needs 2 of treasury: 0/2 so far; 1 of finance: 0/1 so far (raised:" in status


OUTCOMES = {
    "approved": (
        "✅ *Approved* · it is signed and sent to edgeX next\nApproved by <@UT2> (treasury)"
    ),
    "rejected": f"🚫 *Rejected* by <@UT1>: {escape(REJECT_REASON)}",
    "cancelled": "↩️ *Cancelled* by <@UREQ1>",
    "expired": "⌛ *Expired* · The approval window closed at 2025-01-03 10:00 UTC",
    "submitting": "📤 *Sending to edgeX*\nApproved by <@UT2> (treasury)",
    "submitted": "🚚 *Submitted to edgeX* · edgeX id `700001`\nApproved by <@UT2> (treasury)",
    "completed": "✅ *Completed* · edgeX id `700001`\nApproved by <@UT2> (treasury)",
}


@pytest.mark.parametrize(("state", "status"), sorted(OUTCOMES.items()))
def test_status_line_of_each_state(state: str, status: str) -> None:
    payload = request_message(STATES[state], paper=False).payload()
    assert payload["blocks"][5]["text"]["text"] == status


def test_failure_shows_the_exchange_note_cause_and_next_step() -> None:
    payload = request_message(STATES["failed"], paper=False).payload()
    status = payload["blocks"][5]["text"]["text"]
    assert status.startswith(
        "❌ *Failed* · edgeX id `700001`: CENSOR_FAILED &lt;b&gt;account&lt;/b&gt; &amp; more\n"
        "edgeX's censor (pre-L2 validation) rejected the withdrawal. Nothing left the account."
    )


def test_reconciliation_says_nothing_is_resent() -> None:
    status = request_message(STATES["reconciling"], paper=False).payload()["blocks"][5]
    assert "nothing is sent again" in status["text"]["text"]
    assert "No answer after 3 attempts" in status["text"]["text"]


TRACKS = {
    "submitting": "edgeX: risk check ○  L2 ○  L1 ○  done ○",
    "submitted": "edgeX: risk check ✓  L2 ✓  L1 confirming …  done ○",
    "reconciling": "edgeX: risk check ○  L2 ○  L1 ○  done ○",
    "completed": "edgeX: risk check ✓  L2 ✓  L1 ✓  done ✓",
    "failed": "edgeX: risk check ✓  L2 ✗  L1 ○  done ○",
}


@pytest.mark.parametrize("state", sorted(STATES))
def test_progress_track_once_signed(state: str) -> None:
    payload = request_message(STATES[state], paper=False).payload()
    tracks = [t for t in texts(payload["blocks"]) if t.startswith("edgeX: ")]
    assert tracks == ([TRACKS[state]] if state in TRACKS else [])


def _every_message(paper: bool) -> list[tuple[str, Message]]:
    pending = STATES["pending"]
    return [
        ("request", request_message(pending, paper=paper)),
        ("transition", transition_reply(STATES["completed"], paper=paper)),
        (
            "decision",
            decision_reply(
                STATES["approved"],
                approver=h.T2,
                decision=Decision.APPROVE,
                reason=None,
                paper=paper,
            ),
        ),
        ("exchange", exchange_reply(STATES["submitted"], paper=paper)),
        ("reminder", reminder_reply(pending, paper=paper)),
        ("outcome", outcome_message(STATES["rejected"], paper=paper)),
        ("refusal", refusal_message("You drafted this request", paper=paper)),
        ("notice", notice_message("Cancelled", paper=paper)),
        ("help", help_message("bad", paper=paper)),
        ("list", request_list_message([pending], paper=paper)),
        (
            "explain",
            explain_message(
                pending, policy=world.POLICY, membership=world.MEMBERSHIP, now=h.T0, paper=paper
            ),
        ),
    ]


@pytest.mark.parametrize(("name", "message"), _every_message(paper=True))
def test_paper_mode_marks_every_message(name: str, message: Message) -> None:
    payload = message.payload()
    assert payload["text"].startswith("[PAPER] ")
    first = payload["blocks"][0]
    assert first["type"] == "context"
    assert "*PAPER*" in first["elements"][0]["text"]


@pytest.mark.parametrize(("name", "message"), _every_message(paper=False))
def test_real_mode_says_no_paper(name: str, message: Message) -> None:
    payload = message.payload()
    assert not any("PAPER" in t for t in [payload["text"], *texts(payload["blocks"])])


def test_paper_header_says_paper_too() -> None:
    payload = request_message(STATES["pending"], paper=True).payload()
    assert payload["blocks"][1]["text"]["text"] == "PAPER · Withdrawal #12: 100 USDT to L1"


def test_decision_replies() -> None:
    large = h.request(h.normal("20000"))
    one_in = decide(
        large,
        approver=h.T2,
        decision=Decision.APPROVE,
        policy=world.POLICY,
        membership=world.MEMBERSHIP,
        now=h.T0,
    )
    text = decision_reply(
        card(one_in), approver=h.T2, decision=Decision.APPROVE, reason=None, paper=False
    ).text
    assert text == (
        "👍 <@UT2> approved · needs 2 of treasury: 1/2 so far; 1 of finance: 0/1 so far"
    )
    met = decision_reply(
        STATES["approved"], approver=h.T2, decision=Decision.APPROVE, reason=None, paper=False
    )
    assert met.text == "👍 <@UT2> approved · the policy is met"
    rejected = decision_reply(
        STATES["rejected"],
        approver=h.T1,
        decision=Decision.REJECT,
        reason=REJECT_REASON,
        paper=False,
    )
    assert rejected.text == f"👎 <@UT1> rejected: {escape(REJECT_REASON)}"


def test_transition_reply_names_the_request_and_its_new_state() -> None:
    reply = transition_reply(STATES["cancelled"], paper=False).payload()
    assert reply["blocks"][0]["text"]["text"] == "Withdrawal #12: ↩️ *Cancelled* by <@UREQ1>"
    assert buttons(reply) == []
    signed = transition_reply(STATES["submitted"], paper=False).payload()
    assert texts(signed["blocks"])[-1] == TRACKS["submitted"]


def test_exchange_replies_for_progress_and_failure() -> None:
    progress = exchange_reply(STATES["submitted"], paper=False).payload()
    assert progress["blocks"][0]["text"]["text"] == (
        "edgeX: L1 confirming · `NORMAL_WITHDRAW_PENDING_L1_CONFIRMING`"
    )
    assert progress["blocks"][1]["elements"][0]["text"] == (
        "risk check ✓  L2 ✓  L1 confirming …  done ○"
    )
    failed = exchange_reply(
        STATES["failed"], code="CENSOR_<x>", detail="balance & margin", paper=False
    ).payload()
    body = failed["blocks"][0]["text"]["text"]
    assert body.splitlines() == [
        "edgeX: failed at L2 · `NORMAL_WITHDRAW_FAILED_CENSOR_FAILURE`",
        "❌ edgeX's censor (pre-L2 validation) rejected the withdrawal.",
        "edgeX says: CENSOR_&lt;x&gt; · balance &amp; margin",
        "Nothing left the account. Check the code below with edgeX, then draft again.",
    ]
    with pytest.raises(ValueError, match="exchange status"):
        exchange_reply(STATES["pending"], paper=False)


def test_reminder_mentions_who_can_still_approve() -> None:
    text = reminder_reply(STATES["pending"], paper=False).text
    assert text == (
        "⏰ Withdrawal #12 still needs 1 of treasury: 0/1 so far. <@UO1>, <@UT1>, <@UT2>, "
        "<@UT3>: you can approve it until 2025-01-03 10:00 UTC."
    )


def test_outcome_message_is_for_final_states_only() -> None:
    text = outcome_message(STATES["completed"], paper=False).payload()["blocks"][0]["text"]["text"]
    assert text.startswith(f"Withdrawal #12: 100 USDT to {ADDR} by <@UREQ1>, completed.\n")
    with pytest.raises(ValueError, match="not in a final state"):
        outcome_message(STATES["submitted"], paper=False)


def test_refusals_and_help_escape_what_they_quote() -> None:
    refusal = refusal_message("`<!here>` is not a request id", paper=False)
    assert refusal.text == "🚫 `&lt;!here&gt;` is not a request id"
    shown = help_message("`<@U1>` is not a /withdraw command", paper=False).payload()
    assert shown["blocks"][0]["text"]["text"] == "⚠️ `&lt;@U1&gt;` is not a /withdraw command"
    listing = shown["blocks"][1]["text"]["text"]
    for syntax, _ in USAGE:
        assert f"`{escape(syntax)}`" in listing
    assert (
        help_message(paper=False)
        .payload()["blocks"][0]["text"]["text"]
        .startswith("*withdrawbot commands*")
    )


def test_request_list() -> None:
    empty = request_list_message([], paper=False)
    assert empty.text == "No withdrawal request is open."
    many = [card(world.pending(), request_id=i) for i in range(1, 26)]
    payload = request_list_message(many, paper=False).payload()
    assert payload["blocks"][0]["text"]["text"] == "*Open withdrawal requests (25)*"
    assert len(payload["blocks"]) == 1 + 20 + 1
    assert payload["blocks"][-1]["elements"][0]["text"] == "…and 5 more"
    assert payload["blocks"][1]["text"]["text"] == (
        f"*#1* · 100 USDT → `{ADDR}` on L1 (chain 1) · needs 1 of treasury: 0/1 so far · by "
        "<@UREQ1> · Rebalance &lt;!channel&gt; &amp; &lt;https://evil.example|Cold wallet&gt;"
    )


def test_explain_keeps_mentions_and_escapes_the_rest() -> None:
    payload = explain_message(
        STATES["rejected"],
        policy=world.POLICY,
        membership=world.MEMBERSHIP,
        now=h.T0,
        paper=False,
    ).payload()
    body = payload["blocks"][1]["text"]["text"]
    assert f"Rejected by <@UT1>: {escape(REJECT_REASON)}" in body
    assert "<@U0BOSS>" not in body
    assert "\ue000" not in body


def test_huge_user_text_is_clipped_to_block_kit_limits() -> None:
    long_card = card(world.rejected(), reason="x" * 10_000)
    for message in (
        request_message(long_card, paper=True),
        transition_reply(long_card, paper=True),
        refusal_message("y" * 10_000, paper=True),
        help_message("z" * 10_000, paper=True),
    ):
        message.payload()  # slack_sdk validates every length limit here


Builder = Callable[[str], str]


@pytest.mark.parametrize(
    ("function", "given", "expected"),
    [
        (escape, "a & b <c> &amp;", "a &amp; b &lt;c&gt; &amp;amp;"),
        (unescape, "a &amp; b &lt;c&gt; &amp;amp;", "a & b <c> &amp;"),
        (mention, "UT1", "<@UT1>"),
        (mention, "W0ENTERPRISE", "<@W0ENTERPRISE>"),
        (mention, "<!channel>", "&lt;!channel&gt;"),
        (mention, "ut1", "ut1"),
        (lambda t: clip(t, 5), "abcdefgh", "abcd…"),
        (lambda t: clip(t, 5), "abcde", "abcde"),
    ],
)
def test_text_helpers(function: Builder, given: str, expected: str) -> None:
    assert function(given) == expected


def test_escape_and_unescape_round_trip() -> None:
    for text in ("", "&", "<>", "&lt;", "a&b<c>d", "&amp;lt;"):
        assert unescape(escape(text)) == text


def test_request_card_reference() -> None:
    pending_card: RequestCard = STATES["pending"]
    assert pending_card.ref.encode() == (f"12:1:{pending_card.request.content_hash}")


def test_a_draft_waiting_for_its_quote_shows_what_it_can_and_only_cancel() -> None:
    waiting = STATES["awaiting_quote"]
    payload = request_message(waiting, paper=False).payload()
    blocks = payload["blocks"]
    assert blocks[1]["fields"][1]["text"] == (
        "*Amount*\n1,000 USDT\nLP fee: set by the quote (pending)"
    )
    assert blocks[2]["text"]["text"] == (
        f"*To* `{h.LISTED_ARB}` on Arbitrum (chain 42161)\nPaid out by the liquidity provider "
        f"the quote names (pending) (token `{h.USDT_ARB}`)"
    )
    assert blocks[5]["text"]["text"].startswith("⏳ *Waiting for the LP quote* · the worker asks")
    [cancel] = buttons(payload)
    assert RequestRef.decode(cancel["value"]) == waiting.ref
    assert blocks[-1]["elements"][0]["text"] == (
        "Approvals open once the LP quote is in. Only <@UREQ1> can cancel."
    )
    assert payload["text"].endswith("waiting for the LP quote")
    assert "waiting for the LP quote" in request_line(waiting)


def test_a_refused_quote_says_why_and_that_nothing_was_sent() -> None:
    status = request_message(STATES["quote_refused"], paper=False).payload()["blocks"][5]
    assert status["text"]["text"] == (
        "🚫 *Refused at quoting* · No LP quote, so it cannot be approved: edgeX refused to quote "
        "it: LP_&lt;GONE&gt;\nNothing was approved, signed or sent; draft it again (another "
        "amount or chain) if it is still needed."
    )


def test_the_quote_reply_says_what_edgex_quoted_and_that_approvals_are_open() -> None:
    quoted = card(
        quote_received(
            world.awaiting_quote(),
            quote=h.QUOTE,
            policy=world.POLICY,
            now=h.T0 + timedelta(minutes=20),
        ),
        chain_name="Arbitrum",
    )
    text = quote_reply(quoted, fee="2", max_amount="40000", lp_account="555<x>", paper=False).text
    assert text == (
        "💱 LP quote: fee 2 USDT (approvers approve at most 2.5 USDT), max 40000 USDT, LP account "
        "555&lt;x&gt;; ready for approval · needs 1 of treasury: 0/1 so far · approvals close at "
        "2025-01-03 10:20 UTC"
    )
    assert [b["action_id"] for b in buttons(request_message(quoted, paper=False).payload())] == [
        ActionId.APPROVE,
        ActionId.REJECT,
        ActionId.CANCEL,
    ]
