"""A withdrawal withdrawbot holds for failed that edgeX shows after all: people must know at once.

It happens when approvers confirmed a withdrawal absent that edgeX listed late, or when edgeX
refused a first send it had in fact recorded. withdrawbot never sends or matches a failed
request again, and nobody is watching its thread any more; worse, the requester may have drafted
it again. So the finding goes to the request's thread and, as an alert, to the channel.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.edgex.wire import log_event
from bot.worker.backend import Candidate
from storage import reconciliation
from storage.engine import Database
from storage.reconciliation import AbsentRequest

__all__ = ["report_surfaced"]

log = logging.getLogger(__name__)


def report_surfaced(
    database: Database, *, absent: AbsentRequest, found: Candidate, now: datetime
) -> bool:
    """Tell the thread and the channel, once per edgeX withdrawal; True if this call did."""
    why = (
        "two approvers confirmed it was not at edgeX"
        if absent.confirmed
        else "edgeX refused its first send"
    )
    text = (
        f"Withdrawal #{absent.request_id} is at edgeX after all: {found.summary} "
        f"(edgeX id {found.exchange_id}, client id "
        f"{absent.client_withdraw_id}). withdrawbot holds it for failed because {why}, and "
        "will not follow it. If it was drafted again, the money may leave twice: check edgeX "
        "now and cancel or reject the duplicate."
    )
    reported = reconciliation.report_found(
        database,
        absent=absent,
        order_id=found.exchange_id,
        detail={
            "order": found.record,
            "alert": {"kind": reconciliation.FOUND_AT_EXCHANGE, "text": text},
        },
        now=now,
    )
    if reported:
        log_event(
            log,
            logging.ERROR,
            "worker.failed_withdrawal_found",
            request_id=absent.request_id,
            withdraw_id=found.exchange_id,
        )
    return reported
