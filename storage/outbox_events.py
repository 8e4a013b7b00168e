"""The outbox's events as typed values: one type per kind of event, read once, here.

An outbox row's payload is the JSON the unit of work wrote with the change (``storage.outbox``):
the request's state before and after, who acted, and the change's audit detail, the same detail
the audit log holds. Rows written by every earlier version have that shape too, so it is kept,
and read into these types in exactly one place, :func:`read_request_event` (and
:func:`read_alert` for the alerts of ``storage.alerts``). The notifier reads typed fields and
never looks inside the JSON; a payload of another shape raises :class:`UnreadableEvent` here,
which the notifier sets aside as a dead letter rather than retrying it for ever.

The kinds, and what each carries besides the common :class:`RequestEvent` fields::

    Decided            approve / reject          the approver's reason
    AbsenceConfirmed   confirm_absent            who confirmed so far, how many are needed
    Quoted             quoted                    the LP's fee, maximum and account
    Reminded           reminded                  (nothing: the card says who is waited for)
    StatusReported     a status edgeX reported   edgeX's own code and reason (:class:`EdgeXSaid`)
    Transition         every other change        edgeX's code and reason when it gave one

edgeX's codes are found wherever the worker put them (a send's ``error``, a status's ``failure``
and its ``codes``, a matched ``record``), in the API's spelling or the model's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from approvals.decisions import Decision
from approvals.lifecycle import State, Trigger

__all__ = [
    "CONFIRM_ABSENT",
    "REMINDED",
    "AbsenceConfirmed",
    "AlertEvent",
    "Decided",
    "EdgeXSaid",
    "EventBody",
    "QuoteTerms",
    "Quoted",
    "Reminded",
    "RequestEvent",
    "StatusReported",
    "Transition",
    "UnreadableEvent",
    "read_alert",
    "read_request_event",
]

# The audit action and outbox event of every confirmation, whether or not it ends the request.
CONFIRM_ABSENT = "confirm_absent"
# The audit action and outbox event of a reminder to the approvers.
REMINDED = "reminded"

# edgeX's code and reason fields, in the API's spelling and in the model's (older rows).
_CODE_FIELDS = (
    "code",
    "censorFailCode",
    "l2RejectCode",
    "l1RejectedReasonCode",
    "censor_fail_code",
    "l2_reject_code",
    "l1_rejected_reason_code",
)
_REASON_FIELDS = (
    "message",
    "reason",
    "censorFailReason",
    "l2RejectReason",
    "l1RejectedReasonMsg",
    "censor_fail_reason",
    "l2_reject_reason",
    "l1_rejected_reason_msg",
)
_NESTED = ("error", "failure", "codes", "record")


class UnreadableEvent(ValueError):
    """A payload that is not an event of any known shape (written by hand, or by a bug)."""


@dataclass(frozen=True, slots=True)
class EdgeXSaid:
    """edgeX's own code and reason for a status or a refused call, verbatim."""

    code: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class QuoteTerms:
    """The LP quote a cross draft was put up for approval with, as edgeX wrote it."""

    fee: str
    max_amount: str
    lp_account_id: str


@dataclass(frozen=True, slots=True)
class Decided:
    """An approver approved or rejected; a rejection always says why."""

    decision: Decision
    reason: str | None


@dataclass(frozen=True, slots=True)
class AbsenceConfirmed:
    """An approver found nothing at edgeX; ``confirmers`` so far, of ``needed``."""

    confirmers: tuple[str, ...]
    needed: int


@dataclass(frozen=True, slots=True)
class Quoted:
    """The worker fetched the LP quote; the draft is up for approval with it."""

    quote: QuoteTerms


@dataclass(frozen=True, slots=True)
class Reminded:
    """Approvers were reminded; the card names whom the request waits for."""


@dataclass(frozen=True, slots=True)
class StatusReported:
    """edgeX reported a new status for the withdrawal (the poller)."""

    said: EdgeXSaid


@dataclass(frozen=True, slots=True)
class Transition:
    """Any other change; ``said`` is edgeX's answer when one caused it."""

    said: EdgeXSaid


EventBody = Decided | AbsenceConfirmed | Quoted | Reminded | StatusReported | Transition


@dataclass(frozen=True, slots=True)
class RequestEvent:
    """One change of one request, as the thread tells it.

    ``state`` / ``note`` / ``exchange_status`` are the request's as of the change; ``at`` is
    when it happened (``None`` only for a row too old to say); ``alerts`` are the worker's
    warnings about it; ``l1_tx_hash`` the payout's L1 transaction; ``audit_head_hash`` the audit
    chain's head after a final change; ``verifying_contract`` the EIP-712 domain contract an
    edgeX V2 signature is bound to, shown when it is signed.
    """

    kind: str
    actor: str
    at: datetime | None
    previous_state: State | None
    state: State
    exchange_status: str | None
    note: str | None
    body: EventBody
    alerts: tuple[str, ...] = ()
    l1_tx_hash: str | None = None
    audit_head_hash: str | None = None
    verifying_contract: str | None = None

    @property
    def moved(self) -> bool:
        """Whether the request changed state with this event."""
        return self.previous_state is not None and self.previous_state is not self.state


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """An alert for the channel that belongs to no request, as lines to post."""

    kind: str
    subject: str
    texts: tuple[str, ...]


def read_request_event(kind: str, payload: Mapping[str, Any]) -> RequestEvent:
    """The typed event of one outbox row; :class:`UnreadableEvent` if it has no known shape."""
    try:
        state = State(str(payload.get("state")))
        previous = payload.get("previous_state")
        detail = payload.get("detail") or {}
        if not isinstance(detail, Mapping):
            raise UnreadableEvent(f"the detail of a {kind} event is not an object")
        at_text = payload.get("at")
        return RequestEvent(
            kind=kind,
            actor=str(payload.get("actor", "")),
            at=datetime.fromisoformat(at_text) if isinstance(at_text, str) else None,
            previous_state=None if previous is None else State(str(previous)),
            state=state,
            exchange_status=_text(payload.get("exchange_status")),
            note=_text(payload.get("note")),
            body=_body(kind, detail),
            alerts=_alert_texts(detail),
            l1_tx_hash=_string(detail.get("l1_tx_hash")),
            verifying_contract=_string(detail.get("verifying_contract")),
            audit_head_hash=_string(detail.get("audit_head_hash")),
        )
    except (TypeError, ValueError) as err:
        if isinstance(err, UnreadableEvent):
            raise
        raise UnreadableEvent(f"a {kind} event cannot be read: {err}") from err


def read_alert(kind: str, payload: Mapping[str, Any]) -> AlertEvent:
    """The lines of one alert: the worker's warnings, else its text, else what it is about."""
    detail = payload.get("detail") or {}
    if not isinstance(detail, Mapping):
        detail = {}
    own = detail.get("text")
    subject = str(payload.get("subject", ""))
    texts = _alert_texts(detail) or ((own,) if isinstance(own, str) else (f"{kind}: {subject}",))
    return AlertEvent(kind=kind, subject=subject, texts=texts)


def _body(kind: str, detail: Mapping[str, Any]) -> EventBody:
    """The kind-specific part, chosen in the order the thread tells them apart."""
    if kind in (Decision.APPROVE.value, Decision.REJECT.value):
        return Decided(Decision(kind), _text(detail.get("reason")))
    if kind == CONFIRM_ABSENT:
        confirmed = detail.get("confirmers")
        return AbsenceConfirmed(
            confirmers=tuple(str(u) for u in confirmed) if isinstance(confirmed, list) else (),
            needed=int(detail.get("needed") or 0),
        )
    if kind == REMINDED:
        return Reminded()
    quote = detail.get("quote")
    if kind == Trigger.QUOTED.value and isinstance(quote, Mapping):
        return Quoted(
            QuoteTerms(
                fee=str(quote.get("fee", "")),
                max_amount=str(quote.get("max_amount", "")),
                lp_account_id=str(quote.get("lp_account_id", "")),
            )
        )
    if "exchange_status" in detail:
        return StatusReported(_edgex_said(detail))
    return Transition(_edgex_said(detail))


def _edgex_said(detail: Mapping[str, Any]) -> EdgeXSaid:
    sources: list[Mapping[str, Any]] = [detail]
    sources += [v for k in _NESTED if isinstance(v := detail.get(k), Mapping)]
    code = next((t for s in sources for f in _CODE_FIELDS if (t := _text(s.get(f)))), None)
    said = next((t for s in sources for f in _REASON_FIELDS if (t := _text(s.get(f)))), None)
    return EdgeXSaid(code, said)


def _alert_texts(detail: Mapping[str, Any]) -> tuple[str, ...]:
    """The worker's warnings in a detail: ``alert.text`` and each of ``alerts[].text``."""
    found: list[Mapping[str, Any]] = []
    if isinstance(detail.get("alert"), Mapping):
        found.append(detail["alert"])
    listed = detail.get("alerts")
    if isinstance(listed, list):
        found += [a for a in listed if isinstance(a, Mapping)]
    return tuple(str(a["text"]) for a in found if isinstance(a.get("text"), str))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _string(value: object) -> str | None:
    return value if isinstance(value, str) else None
