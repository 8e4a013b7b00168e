"""``/withdraw``: the form, inline drafts, and every sub-command.

An inline draft that reads as a withdrawal is acked at once with "Drafting …" and its outcome
(the request number, or the refusal in the domain's words) follows through ``response_url``:
validating and storing it happens after the ack, one draft at a time (``bot.slack.deferred``),
so a burst of drafts never holds up anyone's ack. A command that cannot be read gets its help
in the ack. The exchange reads that may page (history) or call edgeX (claimable) ack first and
answer through ``response_url`` too; the quick local answers (status, list, explain, cancel,
freeze) come in the ack itself.

History and claimable need edgeX's private API, so a web-only process (no key) checks them and
stores them for the worker, which answers through the same ``response_url``
(``bot.worker.answerer``); the ack says so, or refuses at once what cannot be looked up.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.slack.answers import claimable_message, history_message
from bot.slack.command_parser import (
    Cancel,
    Claimable,
    DraftCommand,
    Explain,
    Freeze,
    Help,
    History,
    ListOpen,
    OpenModal,
    Status,
    Unfreeze,
    parse_command,
)
from bot.slack.deferred import after_ack
from bot.slack.listeners import operations, reads
from bot.slack.listeners.fallback import open_or_explain
from bot.slack.messages import (
    Message,
    drafted_message,
    drafting_message,
    explain_message,
    help_message,
    notice_message,
    refusal_message,
    request_list_message,
    request_message,
)
from bot.slack.modals import withdraw_modal
from bot.slack.ports import Operations, Reads, Refusal

__all__ = ["register"]

log = logging.getLogger(__name__)


def register(app: App) -> None:
    app.command("/withdraw")(withdraw)


def withdraw(
    ack: Ack, command: dict[str, Any], context: BoltContext, client: WebClient, respond: Respond
) -> None:
    ops, read = operations(context), reads(context)
    user = str(command.get("user_id", ""))
    parsed = parse_command(str(command.get("text", "")))
    if isinstance(parsed, OpenModal):
        ack()
        try:
            choices = read.form_choices()
        except Refusal as refused:
            respond(**_ephemeral(refusal_message(refused.message, paper=ops.paper)))
            return
        view = withdraw_modal(
            coins=choices.coins,
            chains=choices.chains,
            to_l1=choices.to_l1,
            paper=ops.paper,
            private_metadata=str(command.get("channel_id", "")),
        )
        open_or_explain(
            lambda: client.views_open(trigger_id=command["trigger_id"], view=view),
            respond,
            what="withdrawal form",
            instead="Run `/withdraw` again, or type the withdrawal inline: "
            "`/withdraw 250 USDT to 0x… reason`.",
            paper=ops.paper,
        )
        return
    if isinstance(parsed, DraftCommand):
        ack(**drafting_message(parsed, paper=ops.paper).payload())
        after_ack(context).submit(lambda: _finish_draft(ops, read, user, parsed, respond))
        return
    if isinstance(parsed, History | Claimable) and not read.holds_key:
        ack(**_ask_worker(ops, user, parsed, str(command["response_url"])).payload())
        return
    if isinstance(parsed, History | Claimable):
        ack()
        respond(**_ephemeral(_answer(ops, read, user, parsed)))
        return
    ack(**_answer(ops, read, user, parsed).payload())


def _finish_draft(
    ops: Operations, read: Reads, user: str, parsed: DraftCommand, respond: Respond
) -> None:
    """Validate and store the draft the ack promised, and tell its author how it went.

    An unexpected failure (the database gone, say) is said too: the author was told a draft is
    under way and must not be left guessing whether to type it again.
    """
    try:
        answer = _answer(ops, read, user, parsed)
    except Exception:
        log.exception("slack.draft_failed by=%s", user)
        answer = refusal_message(
            "withdrawbot could not finish this draft (an internal error, logged). Check "
            "`/withdraw list` before typing it again.",
            paper=ops.paper,
        )
    respond(**_ephemeral(answer))


def _ask_worker(
    ops: Operations, user: str, query: History | Claimable, response_url: str
) -> Message:
    """What the ack says: the worker will answer, or why nothing was stored."""
    try:
        ops.ask_worker(user=user, query=query, response_url=response_url)
    except Refusal as refused:
        return refusal_message(refused.message, paper=ops.paper)
    except Exception:
        log.exception("slack.query_not_stored by=%s", user)
        return refusal_message(
            "withdrawbot could not pass this on to its worker (an internal error, logged); try "
            "again in a minute",
            paper=ops.paper,
        )
    return notice_message(
        "Looking that up at edgeX; the worker answers here in a moment.", paper=ops.paper
    )


def _answer(ops: Operations, read: Reads, user: str, parsed: object) -> Message:  # noqa: PLR0911 - one per command
    """The reply to one parsed command; a refusal is the reply too, said plainly."""
    paper = ops.paper
    try:
        match parsed:
            case DraftCommand():
                return drafted_message(ops.draft(user=user, command=parsed), paper=paper)
            case Status(request_id):
                return request_message(read.card(request_id), paper=paper, interactive=False)
            case ListOpen():
                return request_list_message(read.open_requests(), paper=paper)
            case Explain(request_id):
                data = read.explain(request_id)
                return explain_message(
                    data.card,
                    policy=data.policy,
                    membership=data.membership,
                    now=data.now,
                    paper=paper,
                )
            case Cancel(request_id):
                card = ops.cancel(user=user, request_id=request_id)
                return notice_message(f"Withdrawal #{card.request_id} is cancelled.", paper=paper)
            case Freeze(reason):
                return notice_message(ops.freeze(user=user, reason=reason), paper=paper)
            case Unfreeze():
                return notice_message(ops.unfreeze(user=user), paper=paper)
            case History(days):
                return history_message(read.history(days), days=days, paper=paper)
            case Claimable(address):
                return claimable_message(read.claimable(address), paper=paper)
            case Help(hint):
                return help_message(hint, paper=paper)
    except Refusal as refused:
        return refusal_message(refused.message, paper=paper)
    return help_message(paper=paper)


def _ephemeral(message: Message) -> dict[str, Any]:
    return {**message.payload(), "response_type": "ephemeral", "replace_original": False}
