"""Refusing a person's command: the refusal is written to the audit log, then said to them.

Every command of ``bot.usecases`` refuses through :class:`AuditedRefusals`, so a refused click,
draft or freeze leaves one ``refused`` audit row (who, what, why, which request) and one log
line, and nothing else changes. If the audit row itself cannot be written the refusal still
stands (it is logged as not recorded): refusing is always safe, acting never is.

The request lookups here (:meth:`AuditedRefusals.load`, :meth:`AuditedRefusals.fresh`) are the
ones whose failure is a refusal: no such request, or a button drawn for content that changed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import NoReturn

from approvals.lifecycle import State
from approvals.membership import Membership
from approvals.refusals import ApprovalError
from bot.edgex.wire import log_event
from bot.members import Members
from bot.slack.ids import RequestRef
from bot.slack.ports import Refusal
from storage import queries, transactions
from storage.engine import Database
from storage.failures import RequestNotFound, StorageError
from storage.repository import StoredRequest

__all__ = ["AuditedRefusals"]

log = logging.getLogger(__name__)


class AuditedRefusals:
    """Refusals of one database's commands, each recorded before it is raised."""

    def __init__(self, database: Database, members: Members, clock: Callable[[], datetime]) -> None:
        self._database = database
        self._members = members
        self._clock = clock

    def refuse(
        self,
        user: str,
        action: str,
        message: str,
        *,
        request_id: int | None = None,
        field: str | None = None,
    ) -> NoReturn:
        """Record the refusal, then raise it as :class:`Refusal` with ``message`` for ``user``."""
        try:
            queries.record_refusal(
                self._database,
                actor=user,
                action=action,
                reason=message,
                request_id=request_id,
                now=self._clock(),
            )
        except StorageError as err:
            log_event(log, logging.ERROR, "audit.refusal_not_recorded", error=str(err))
        log_event(log, logging.INFO, "request.refused", by=user, action=action, request=request_id)
        raise Refusal(message, field=field)

    def membership_for(self, user: str, action: str, request_id: int | None) -> Membership:
        """Who is in which group now; an unresolvable Slack handle refuses ``action``."""
        try:
            return self._members.resolve()
        except ApprovalError as err:
            self.refuse(user, action, err.message, request_id=request_id)

    def load(self, user: str, request_id: int, action: str) -> StoredRequest:
        try:
            return transactions.get_request(self._database, request_id=request_id)
        except RequestNotFound:
            self.refuse(user, action, f"There is no withdrawal request #{request_id}")

    def fresh(self, user: str, ref: RequestRef, action: str) -> StoredRequest:
        """The request a button was drawn for, refused when it changed since it was drawn."""
        stored = self.load(user, ref.request_id, action)
        request = stored.request
        if request.state is State.PENDING_APPROVAL and (
            request.approval_round != ref.approval_round or request.content_hash != ref.content_hash
        ):
            self.refuse(
                user,
                action,
                f"Withdrawal #{ref.request_id} changed since this message was drawn (approval "
                f"round {request.approval_round} now); read the updated message before you "
                "decide",
                request_id=ref.request_id,
            )
        return stored
