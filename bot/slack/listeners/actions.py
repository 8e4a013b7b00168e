"""Buttons: Approve, Reject (opens the reason form), Cancel, Confirm not at edgeX, the kind switch.

Every button carries the request reference it was drawn with (``RequestRef``); the use cases
refuse a click on a version that is no longer current. A click is acked at once; a refusal comes
back to the clicker alone (through ``response_url`` on a message, as an ephemeral message in the
approval channel from the Home tab), and the request's message itself is redrawn by the notifier.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from approvals.content import Kind
from approvals.decisions import Decision
from bot.slack.ids import ActionId, RequestRef
from bot.slack.listeners import operations, reads
from bot.slack.listeners.fallback import open_or_explain, tell, update_view
from bot.slack.listeners.home import publish_home
from bot.slack.messages import Message, refusal_message
from bot.slack.modals import reject_modal, withdraw_modal
from bot.slack.ports import Operations, Refusal

__all__ = ["register"]


def register(app: App) -> None:
    app.action(ActionId.APPROVE.value)(approve)
    app.action(ActionId.REJECT.value)(reject)
    app.action(ActionId.CANCEL.value)(cancel)
    app.action(ActionId.CONFIRM_ABSENT.value)(confirm_absent)
    app.action(ActionId.WITHDRAW_KIND.value)(switch_kind)


def approve(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    ack()
    ops = operations(context)
    user = _user(body)
    try:
        ops.decide(user=user, ref=_ref(body), decision=Decision.APPROVE)
    except Refusal as refused:
        if _in_home(body):
            publish_home(context, client, user, notice=refused.message)
            return
        _refuse(ops, body, client, respond, refused)
    _refresh_home(context, body, client)


def reject(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    ack()
    ops = operations(context)
    try:
        card = ops.reject_target(user=_user(body), ref=_ref(body))
    except Refusal as refused:
        _refuse(ops, body, client, respond, refused)
        return
    open_or_explain(
        lambda: client.views_open(
            trigger_id=body["trigger_id"], view=reject_modal(card, paper=ops.paper)
        ),
        respond if body.get("response_url") else None,
        what="reject form",
        instead="Click Reject again to give your reason.",
        paper=ops.paper,
    )


def cancel(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    ack()
    ops = operations(context)
    try:
        ref = _ref(body)
        ops.cancel(user=_user(body), request_id=ref.request_id, ref=ref)
    except Refusal as refused:
        _refuse(ops, body, client, respond, refused)


def confirm_absent(
    ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    """An approver checked edgeX and the withdrawal is not there (Slack's dialog said so)."""
    ack()
    ops = operations(context)
    try:
        ops.confirm_absent(user=_user(body), ref=_ref(body))
    except Refusal as refused:
        _refuse(ops, body, client, respond, refused)


def switch_kind(ack: Ack, body: dict[str, Any], context: BoltContext, client: WebClient) -> None:
    """The form's kind changed: redraw it, with the chain field only for cross-chain."""
    ack()
    ops = operations(context)
    view = body.get("view") or {}
    selected = ((body.get("actions") or [{}])[0].get("selected_option") or {}).get("value")
    kind = Kind.CROSS if selected == Kind.CROSS.value else Kind.NORMAL
    try:
        choices = reads(context).form_choices()
    except Refusal:
        return
    if kind is Kind.CROSS and not choices.chains:
        kind = Kind.NORMAL
    update_view(
        client,
        view_id=str(view.get("id") or ""),
        hash=view.get("hash"),
        view=withdraw_modal(
            coins=choices.coins,
            chains=choices.chains,
            kind=kind,
            to_l1=choices.to_l1,
            paper=ops.paper,
            private_metadata=str(view.get("private_metadata") or ""),
        ),
    )


def _user(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id", ""))


def _ref(body: dict[str, Any]) -> RequestRef:
    value = str(((body.get("actions") or [{}])[0]).get("value", ""))
    try:
        return RequestRef.decode(value)
    except ValueError:
        raise Refusal("This button does not name a withdrawal request; nothing was done") from None


def _refuse(
    ops: Operations, body: dict[str, Any], client: WebClient, respond: Respond, refused: Refusal
) -> None:
    message = refusal_message(refused.message, paper=ops.paper)
    if body.get("response_url"):
        respond(**_ephemeral(message))
        return
    tell(client, user=_user(body), channels=[ops.channel], message=message)


def _in_home(body: dict[str, Any]) -> bool:
    return (body.get("container") or {}).get("type") == "view"


def _refresh_home(context: BoltContext, body: dict[str, Any], client: WebClient) -> None:
    if _in_home(body):
        publish_home(context, client, _user(body))


def _ephemeral(message: Message) -> dict[str, Any]:
    return {**message.payload(), "response_type": "ephemeral", "replace_original": False}
