"""What people see of a withdrawal that needs reconciliation, and of its confirmed absence."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from approvals.decisions import Decision
from approvals.lifecycle import Trigger, begin_submission, decide, record_exchange_outcome
from bot.slack.ids import ActionId
from bot.slack.messages import (
    Reconciliation,
    RequestCard,
    absence_reply,
    explain_message,
    request_message,
)
from tests.approvals import helpers as h
from tests.slack.e2e.conftest import ack_text
from tests.slack.world import MEMBERSHIP, POLICY, card

CLIENT_ID = "1234567890123456789"
CHECK = Reconciliation(
    client_withdraw_id=CLIENT_ID,
    signed_at=h.T0 + timedelta(minutes=6),
    valid_until=h.T0 + timedelta(days=14),
    confirmed_by=(),
    needed=2,
)


def _reconciling(*, cross: bool = False, confirmed: tuple[str, ...] = ()) -> RequestCard:
    draft = h.cross() if cross else h.normal()
    approved = decide(
        h.request(draft),
        approver=h.T2,
        decision=Decision.APPROVE,
        policy=POLICY,
        membership=MEMBERSHIP,
        now=h.T0 + timedelta(minutes=5),
    )
    sent = begin_submission(
        approved,
        policy=POLICY,
        membership=MEMBERSHIP,
        quote=h.QUOTE if cross else None,
        withdrawn_in_window=Decimal(0),
        now=h.T0 + timedelta(minutes=6),
    )
    unknown = record_exchange_outcome(sent, Trigger.OUTCOME_UNKNOWN, note="No answer")
    return replace(card(unknown), reconciliation=replace(CHECK, confirmed_by=confirmed))


def _buttons(payload: dict[str, object]) -> list[dict[str, object]]:
    blocks = payload["blocks"]
    assert isinstance(blocks, list)
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


@pytest.mark.parametrize("cross", [False, True], ids=["normal", "cross"])
def test_the_message_says_what_to_check_and_offers_the_confirmation(cross: bool) -> None:
    drawn = _reconciling(cross=cross, confirmed=(h.T1,))
    payload = request_message(drawn, paper=True).payload()
    shown = ack_text(payload)
    field = "clientCrossWithdrawId" if cross else "clientWithdrawId"
    assert f"{field} `{CLIENT_ID}`" in shown
    assert f"to `{drawn.request.content.destination}`, sent from" in shown
    assert "sent from 2025-01-02 10:06 UTC on" in shown
    assert "could accept the signed body until 2025-01-16 10:00 UTC" in shown
    assert f"Confirmed not at edgeX: 1/2 (<@{h.T1}>)" in shown
    [button] = _buttons(payload)
    assert button["action_id"] == ActionId.CONFIRM_ABSENT
    dialog = button["confirm"]
    assert isinstance(dialog, dict)
    assert dialog["title"]["text"] == "Withdrawal #12 not at edgeX?"
    assert f"{field} {CLIENT_ID} is not there" in dialog["text"]["text"]
    assert "mark withdrawal #12 failed" in dialog["text"]["text"]


def test_status_draws_it_without_the_button() -> None:
    payload = request_message(_reconciling(), paper=False, interactive=False).payload()
    assert _buttons(payload) == []
    assert "Confirmed not at edgeX: 0/2" in ack_text(payload)


def test_without_its_submission_it_offers_nothing_to_confirm() -> None:
    payload = request_message(replace(_reconciling(), reconciliation=None), paper=False).payload()
    assert _buttons(payload) == []
    assert "Needs reconciliation" in ack_text(payload)


def test_explain_adds_the_check() -> None:
    shown = ack_text(
        explain_message(
            _reconciling(confirmed=(h.T1,)),
            policy=POLICY,
            membership=MEMBERSHIP,
            now=h.T0,
            paper=False,
        ).payload()
    )
    assert "is being reconciled with edgeX" in shown
    assert f"Confirmed not at edgeX: 1/2 (<@{h.T1}>)" in shown


def test_failed_by_confirmation_names_who_and_the_client_id() -> None:
    reconciling = _reconciling(confirmed=(h.T1, h.T3))
    failed = replace(
        reconciling,
        request=replace(reconciling.request, state=reconciling.request.state.FAILED),
    )
    payload = request_message(failed, paper=False).payload()
    shown = ack_text(payload)
    assert f"confirmed not at edgeX by <@{h.T1}> and <@{h.T3}>" in shown
    assert f"clientWithdrawId `{CLIENT_ID}`" in shown
    assert _buttons(payload) == []


def test_each_confirmation_in_the_thread() -> None:
    reply = absence_reply(
        _reconciling(), confirmer=h.T3, confirmed_by=[h.T1, h.T3], needed=2, paper=False
    )
    assert reply.text == (
        f"🔎 <@{h.T3}> checked edgeX: withdrawal #12 is not there · 2/2 confirmations "
        f"(<@{h.T1}>, <@{h.T3}>)"
    )
