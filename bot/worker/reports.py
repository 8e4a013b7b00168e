"""What a status change or a send outcome tells the thread, as plain JSON for the outbox.

Pure functions of the exchange's answer and the approved content: the Slack notifier renders
these details and decides nothing. Failure explanations come from ``bot.edgex.statuses``, the
one catalogue; edgeX's own codes are shown raw beside them whenever the record carries any.
"""

from __future__ import annotations

from typing import Any

from bot.edgex.errors import EdgeXAPIError, EdgeXError, EdgeXHTTPError, redact
from bot.edgex.models import CrossWithdraw, NormalWithdraw
from bot.edgex.statuses import (
    FAILURES,
    FLOW_WALK,
    STAGES,
    SUCCESS,
    Failure,
    is_terminal,
    stage_index,
)
from bot.edgex.v2.flow_models import AssetFlow

__all__ = [
    "CODE_FIELDS",
    "error_detail",
    "error_words",
    "failure_note",
    "flow_status_detail",
    "status_detail",
]

# Every reject field edgeX may fill, read on both kinds (API spelling -> model attribute).
CODE_FIELDS: dict[str, str] = {
    "censorFailCode": "censor_fail_code",
    "censorFailReason": "censor_fail_reason",
    "l2RejectCode": "l2_reject_code",
    "l2RejectReason": "l2_reject_reason",
    "l1RejectedReasonCode": "l1_rejected_reason_code",
    "l1RejectedReasonMsg": "l1_rejected_reason_msg",
}
_API_NAME = {attribute: name for name, attribute in CODE_FIELDS.items()}

Record = NormalWithdraw | CrossWithdraw


def error_words(err: EdgeXError) -> tuple[str, str]:
    """(code, message) of a failed call: edgeX's own when it answered with its envelope."""
    if isinstance(err, EdgeXAPIError):
        return err.code, err.msg or ""
    if isinstance(err, EdgeXHTTPError):
        return f"HTTP {err.status}", err.body_excerpt
    return type(err).__name__, redact(err.message)


def error_detail(err: EdgeXError) -> dict[str, Any]:
    """The error as the thread shows it; never the signed body or auth headers."""
    code, message = error_words(err)
    detail: dict[str, Any] = {
        "type": type(err).__name__,
        "code": code,
        "message": message,
        "outcome_unknown": err.outcome_unknown,
        "attempts": err.attempts,
    }
    if isinstance(err, EdgeXAPIError):
        detail.update(
            http_status=err.http_status, trace_id=err.trace_id, error_param=err.error_param
        )
    return detail


def status_detail(record: Record, *, destination: str) -> dict[str, Any]:
    """Everything the thread shows about one exchange status of a withdrawal."""
    status = record.status
    detail = _status_head(record.id, status)
    if status in SUCCESS:
        tx = record.l1_completed_tx or record.l1_confirmed_tx
        detail["l1_tx_hash"] = None if tx is None else tx.hash
    paid_to = record.l1_completed_eth_address
    if paid_to and paid_to.lower() != destination.lower():
        detail["alerts"].append(
            {
                "kind": "destination_mismatch",
                "approved_destination": destination,
                "l1_completed_eth_address": paid_to,
                "text": f"edgeX reports the payout went to {paid_to}, not to the approved "
                f"destination {destination}",
            }
        )
    failure = FAILURES.get(status)
    if failure is not None:
        detail["failure"] = _failure(
            failure,
            code=None if failure.code_field is None else getattr(record, failure.code_field),
            reason=None if failure.reason_field is None else getattr(record, failure.reason_field),
            code_field=None if failure.code_field is None else _API_NAME[failure.code_field],
            codes={
                name: getattr(record, attribute)
                for name, attribute in CODE_FIELDS.items()
                if getattr(record, attribute)
            },
        )
    return detail


def flow_status_detail(record: AssetFlow, *, destination: str) -> dict[str, Any]:
    """What the thread shows about one V2 asset-flow status (every status name ASSUMED).

    A status withdrawbot does not know, or none at all, is never taken for done or failed: the
    thread is told the status is unknown at edgeX and withdrawbot keeps watching.
    """
    status = record.status
    detail = _status_head(record.flow_id, status)
    if record.tx_hash:
        detail["tx_hash"] = record.tx_hash
    if status not in FLOW_WALK and status not in FAILURES:
        shown = repr(status[:80]) if status else "no status"
        detail["alerts"].append(
            {
                "kind": "status_unknown",
                "text": f"edgeX reports {shown} for asset flow {record.flow_id}, which "
                "withdrawbot cannot read: status unknown at edgeX, check the account. "
                "withdrawbot keeps watching it.",
            }
        )
    paid_to = record.destination_account
    if paid_to and paid_to.lower() != destination.lower():
        detail["alerts"].append(
            {
                "kind": "destination_mismatch",
                "approved_destination": destination,
                "destination_account": paid_to,
                "text": f"edgeX reports the payout goes to {paid_to}, not to the approved "
                f"destination {destination}",
            }
        )
    failure = FAILURES.get(status)
    if failure is not None:
        detail["failure"] = _failure(
            failure,
            code=record.fail_code,
            reason=record.fail_reason,
            code_field="failCode",
            codes={
                name: value
                for name, value in (
                    ("failCode", record.fail_code),
                    ("failReason", record.fail_reason),
                )
                if value
            },
        )
    return detail


def _status_head(exchange_id: str, status: str) -> dict[str, Any]:
    stage = stage_index(status)
    return {
        "exchange_withdraw_id": exchange_id,
        "stage": stage,
        "stage_name": None if stage is None else STAGES[stage][0],
        "terminal": is_terminal(status),
        "alerts": [],
    }


def _failure(
    failure: Failure,
    *,
    code: str | None,
    reason: str | None,
    code_field: str | None,
    codes: dict[str, str],
) -> dict[str, Any]:
    """A failed status as the thread explains it: the catalogue's words, edgeX's own codes."""
    return {
        "status": failure.status,
        "cause": failure.cause,
        "next_step": failure.next_step,
        "stage": failure.stage,
        "stage_name": STAGES[failure.stage][0],
        "code": code,
        "reason": reason,
        "code_field": code_field,
        "codes": codes,
    }


def failure_note(detail: dict[str, Any]) -> str | None:
    """The one-line reason kept on the request (root message, audit) for a failed status."""
    failure = detail.get("failure")
    if not isinstance(failure, dict):
        return None
    codes = failure["codes"]
    said = "; ".join(f"{name} {value}" for name, value in codes.items())
    return f"{failure['cause']}" + (f" edgeX said: {said}." if said else "")
