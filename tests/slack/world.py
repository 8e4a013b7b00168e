"""Requests in every state, drawn as cards, for the rendering tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

from approvals.decisions import Decision
from approvals.lifecycle import (
    Request,
    Trigger,
    begin_submission,
    cancel,
    decide,
    expire,
    quote_refused,
    record_exchange_outcome,
)
from bot.slack.messages import RequestCard
from tests.approvals import helpers as h

REASON = "Rebalance <!channel> & <https://evil.example|Cold wallet>"
REJECT_REASON = "Wrong <@U0BOSS> wallet & amount"
POLICY = h.policy()
MEMBERSHIP = h.membership(POLICY)


def card(
    request: Request,
    *,
    request_id: int = 12,
    reason: str = REASON,
    exchange_status: str | None = None,
    withdraw_id: str | None = None,
    chain_name: str | None = None,
) -> RequestCard:
    return RequestCard.build(
        request_id,
        request,
        reason=reason,
        policy=POLICY,
        membership=MEMBERSHIP,
        exchange_status=exchange_status,
        withdraw_id=withdraw_id,
        chain_name=chain_name,
    )


def pending() -> Request:
    return h.request()


def awaiting_quote() -> Request:
    """A cross draft stored by a web-only process: no LP quote yet."""
    return h.request(h.cross(quote=None))


def approved() -> Request:
    return decide(
        pending(),
        approver=h.T2,
        decision=Decision.APPROVE,
        policy=POLICY,
        membership=MEMBERSHIP,
        now=h.T0 + timedelta(minutes=5),
    )


def rejected() -> Request:
    return decide(
        pending(),
        approver=h.T1,
        decision=Decision.REJECT,
        reason=REJECT_REASON,
        policy=POLICY,
        membership=MEMBERSHIP,
        now=h.T0 + timedelta(minutes=5),
    )


def submitting() -> Request:
    return begin_submission(
        approved(),
        policy=POLICY,
        membership=MEMBERSHIP,
        quote=None,
        withdrawn_in_window=Decimal(0),
        now=h.T0 + timedelta(minutes=6),
    )


def submitted() -> Request:
    return record_exchange_outcome(submitting(), Trigger.EXCHANGE_ACCEPTED)


def every_state() -> Iterator[tuple[str, RequestCard]]:
    """One card per state, with the exchange fields a real one would carry."""
    yield "pending", card(pending())
    yield "awaiting_quote", card(awaiting_quote(), chain_name="Arbitrum")
    yield (
        "quote_refused",
        card(
            quote_refused(awaiting_quote(), reason="edgeX refused to quote it: LP_<GONE>"),
            chain_name="Arbitrum",
        ),
    )
    yield "approved", card(approved())
    yield "rejected", card(rejected())
    yield "cancelled", card(cancel(pending(), by=h.REQUESTER))
    yield "expired", card(expire(pending(), now=h.T0 + timedelta(hours=25)))
    yield "submitting", card(submitting())
    yield (
        "submitted",
        card(
            submitted(),
            exchange_status="NORMAL_WITHDRAW_PENDING_L1_CONFIRMING",
            withdraw_id="700001",
        ),
    )
    yield (
        "reconciling",
        card(
            record_exchange_outcome(
                submitting(), Trigger.OUTCOME_UNKNOWN, note="No answer after 3 attempts"
            )
        ),
    )
    yield (
        "completed",
        card(
            record_exchange_outcome(submitted(), Trigger.EXCHANGE_COMPLETED),
            exchange_status="NORMAL_WITHDRAW_SUCCESS_L1_COMPLETED",
            withdraw_id="700001",
        ),
    )
    yield (
        "failed",
        card(
            record_exchange_outcome(
                submitted(), Trigger.EXCHANGE_FAILED, note="CENSOR_FAILED <b>account</b> & more"
            ),
            exchange_status="NORMAL_WITHDRAW_FAILED_CENSOR_FAILURE",
            withdraw_id="700001",
        ),
    )


def texts(node: Any) -> list[str]:
    """Every ``text`` string in a block tree (text objects, fields, confirm dialogs...)."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(texts(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(texts(item))
    return found


def buttons(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in payload["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    ]
