"""Outbox payloads, as every version wrote them, read into one type per kind of event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from approvals.decisions import Decision
from approvals.lifecycle import State
from storage.outbox_events import (
    AbsenceConfirmed,
    Decided,
    EdgeXSaid,
    Quoted,
    QuoteTerms,
    Reminded,
    StatusReported,
    Transition,
    UnreadableEvent,
    read_alert,
    read_request_event,
)

AT = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def _payload(state: str = "submitted", previous: str | None = "submitting", **detail: Any) -> Any:
    return {
        "actor": "U0BOB",
        "at": AT.isoformat(timespec="microseconds"),
        "previous_state": previous,
        "state": state,
        "exchange_status": None,
        "note": "",
        "detail": detail,
    }


def test_the_common_fields_are_typed() -> None:
    event = read_request_event("signed", _payload())
    assert event.actor == "U0BOB"
    assert event.at == AT
    assert (event.previous_state, event.state) == (State.SUBMITTING, State.SUBMITTED)
    assert event.moved
    assert event.note is None  # an empty note is no note
    assert event.body == Transition(EdgeXSaid())


def test_a_decision_carries_its_reason() -> None:
    event = read_request_event(
        "reject", _payload("rejected", "pending_approval", reason="wrong wallet")
    )
    assert event.body == Decided(Decision.REJECT, "wrong wallet")


def test_an_absence_confirmation_carries_who_and_how_many() -> None:
    event = read_request_event(
        "confirm_absent",
        _payload("needs_reconciliation", "needs_reconciliation", confirmers=["U1"], needed=2),
    )
    assert event.body == AbsenceConfirmed(("U1",), 2)
    assert not event.moved


def test_a_quote_and_a_reminder() -> None:
    quoted = read_request_event(
        "quoted",
        _payload(
            "pending_approval",
            "awaiting_quote",
            quote={"fee": "1.5", "max_amount": "10", "lp_account_id": "77"},
        ),
    )
    assert quoted.body == Quoted(QuoteTerms(fee="1.5", max_amount="10", lp_account_id="77"))
    assert read_request_event("reminded", _payload()).body == Reminded()
    # "quoted" without its quote is told as a plain transition, as before
    assert read_request_event("quoted", _payload()).body == Transition(EdgeXSaid())


@pytest.mark.parametrize(
    ("detail", "said"),
    [
        ({"error": {"code": "NO_BALANCE", "message": "not enough"}}, ("NO_BALANCE", "not enough")),
        (
            {"failure": {"codes": {"l2RejectCode": "7"}}, "codes": {"l2RejectReason": "bad"}},
            (None, "bad"),
        ),
        ({"codes": {"censorFailCode": "C1", "censorFailReason": "r"}}, ("C1", "r")),
        ({"record": {"l1_rejected_reason_code": "9", "l1_rejected_reason_msg": "m"}}, ("9", "m")),
        ({"code": "", "message": ""}, (None, None)),
    ],
)
def test_edgex_words_are_found_wherever_the_worker_put_them(
    detail: dict[str, Any], said: tuple[str | None, str | None]
) -> None:
    event = read_request_event("exchange_failed", _payload(**detail))
    assert event.body == Transition(EdgeXSaid(*said))


def test_a_status_report_and_its_extras() -> None:
    event = read_request_event(
        "exchange_completed",
        _payload(
            "completed",
            exchange_status="COMPLETED",
            alerts=[{"text": "paid elsewhere"}, {"kind": "no text"}, "junk"],
            l1_tx_hash="0xabc",
            audit_head_hash="f00",
        ),
    )
    assert event.body == StatusReported(EdgeXSaid())
    assert event.alerts == ("paid elsewhere",)
    assert (event.l1_tx_hash, event.audit_head_hash) == ("0xabc", "f00")


@pytest.mark.parametrize(
    "payload",
    [
        {"state": "no such state"},
        {"state": "submitted", "previous_state": "nonsense"},
        {"state": "submitted", "detail": ["not", "an", "object"]},
        {"state": "submitted", "at": "yesterday"},
        {"state": "pending_approval", "detail": {"needed": "two"}},
    ],
)
def test_a_payload_of_no_known_shape_is_unreadable(payload: dict[str, Any]) -> None:
    kind = "confirm_absent" if "needed" in str(payload) else "signed"
    with pytest.raises(UnreadableEvent):
        read_request_event(kind, payload)


def test_an_alert_reads_its_warnings_else_its_text_else_its_subject() -> None:
    warned = read_alert("x", {"subject": "7", "detail": {"alert": {"text": "a"}, "text": "t"}})
    assert warned.texts == ("a",)
    assert read_alert("x", {"subject": "7", "detail": {"text": "t"}}).texts == ("t",)
    assert read_alert("foreign", {"subject": "7", "detail": None}).texts == ("foreign: 7",)
