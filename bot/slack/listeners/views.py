"""Modal submissions: the /withdraw form and the reject reason.

Both answer in the ack, because that is the only way Slack shows errors under a field and keeps
what was typed: a form that cannot be read gets ``response_action: errors``; a draft refused for
a reason that belongs to a field gets it under that field; any other refusal replaces the form
with the reason. A successful draft closes the form and tells its author where it went.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from approvals.decisions import Decision
from approvals.refusals import DraftRefused
from bot.slack.forms import (
    FormInvalid,
    errors_response,
    read_reject_reason,
    read_withdraw_form,
    refusal_response,
)
from bot.slack.ids import CallbackId, RequestRef
from bot.slack.listeners import operations
from bot.slack.listeners.fallback import tell
from bot.slack.messages import drafted_message
from bot.slack.modals import refusal_modal
from bot.slack.ports import Refusal

__all__ = ["register"]


def register(app: App) -> None:
    app.view(CallbackId.WITHDRAW.value)(withdraw_submitted)
    app.view(CallbackId.REJECT_REASON.value)(reject_submitted)


def withdraw_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext, client: WebClient
) -> None:
    ops = operations(context)
    user = str((body.get("user") or {}).get("id", ""))
    try:
        command = read_withdraw_form(view["state"]["values"])
    except FormInvalid as invalid:
        ack(**errors_response(invalid.errors))
        return
    try:
        card = ops.draft(user=user, command=command)
    except Refusal as refused:
        err = DraftRefused(refused.message, field=refused.field)
        ack(**refusal_response(err, kind=command.kind, paper=ops.paper))
        return
    ack()
    note = drafted_message(card, paper=ops.paper)
    # The form came from a channel the person is in; the approval channel may not be one.
    origin = str(view.get("private_metadata") or "")
    tell(client, user=user, channels=[ops.channel, origin], message=note)


def reject_submitted(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext
) -> None:
    ops = operations(context)
    user = str((body.get("user") or {}).get("id", ""))
    try:
        reason = read_reject_reason(view["state"]["values"])
    except FormInvalid as invalid:
        ack(**errors_response(invalid.errors))
        return
    try:
        ref = RequestRef.decode(str(view.get("private_metadata") or ""))
        ops.decide(user=user, ref=ref, decision=Decision.REJECT, reason=reason)
    except ValueError:
        ack(
            response_action="update",
            view=refusal_modal("This form names no request", paper=ops.paper),
        )
        return
    except Refusal as refused:
        ack(response_action="update", view=refusal_modal(refused.message, paper=ops.paper))
        return
    ack()
