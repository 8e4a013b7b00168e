"""The poller: SUBMITTED withdrawals followed to their end, and unknown outcomes matched.

Statuses are read in batches, one ``get*WithdrawById`` call per ``poll_batch`` ids, never one
call per withdrawal: a thousand withdrawals in flight cost twenty calls a cycle at the default
batch of 50. Each change is written with its status event, audit row and outbox row in one
transaction (``storage.work.record_status``), only if the stored status is still the one
this poll started from, so a change is never written twice, whichever replica reads it.

Reconciliation looks for a withdrawal whose send had no clear answer in ``getAllOrdersPage``
(type, amount, address, created after the body was signed) and confirms a candidate by its
client withdraw id through the ById call when edgeX returns it. One clear match moves the
request to SUBMITTED; several leave it to people, who are told once. Approvers may confirm the
withdrawal absent while a search is under way; if the search then finds it, the request stays
FAILED and the finding goes to its thread and the channel (``bot.worker.surfaced``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta

from approvals.content import Kind
from approvals.lifecycle import State, Trigger
from approvals.refusals import TransitionRefused
from bot.edgex.statuses import FAILURES, SUCCESS
from bot.edgex.wire import log_event
from bot.metrics import POLL_ERRORS
from bot.worker.backend import Backend, StatusRead
from bot.worker.config import WorkerConfig, utc_now
from bot.worker.order_search import choose_match
from bot.worker.reports import failure_note
from bot.worker.surfaced import report_surfaced
from storage import alerts, reconciliation, tracking, work
from storage.engine import Database
from storage.failures import LeaseLost
from storage.tracking import Tracked

__all__ = ["Poller"]

log = logging.getLogger(__name__)


def _chunks(items: Sequence[Tracked], size: int) -> Iterator[Sequence[Tracked]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Poller:
    """One ``run_once`` is one poll cycle: statuses first, then reconciliation."""

    def __init__(
        self,
        database: Database,
        exchange: Backend,
        config: WorkerConfig,
        *,
        stop: threading.Event,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.database = database
        self.exchange = exchange
        self.config = config
        self.owner = f"{config.owner}/poll"
        self._stop = stop
        self._clock = clock
        self.calls = 0  # exchange calls made by the last cycle (the benchmark reads it)

    def run_once(self) -> int:
        """Poll every SUBMITTED withdrawal this worker can lease; returns the changes written."""
        self.calls = 0
        lease = max(self.config.lease, timedelta(seconds=3 * self.config.poll_interval))
        claimed = tracking.claim_tracked(
            self.database,
            owner=self.owner,
            states={State.SUBMITTED},
            now=self._clock(),
            lease_for=lease,
            limit=self.config.poll_claim,
        )
        changes = 0
        try:
            for kind in Kind:
                mine = [t for t in claimed if t.kind is kind and t.exchange_withdraw_id]
                for batch in _chunks(mine, self.config.poll_batch):
                    if self._stop.is_set():
                        return changes
                    ids = [t.exchange_withdraw_id for t in batch if t.exchange_withdraw_id]
                    records = self.exchange.statuses(kind, ids)
                    self.calls += 1
                    known = {t.exchange_withdraw_id: t for t in batch}
                    for record in records:
                        tracked = known.pop(record.exchange_id, None)
                        if tracked is not None and self._apply(tracked, record):
                            changes += 1
                    for missing in known.values():
                        # The watch reports it as stalled if it stays away.
                        log_event(
                            log,
                            logging.WARNING,
                            "worker.status_missing",
                            request_id=missing.request_id,
                            withdraw_id=missing.exchange_withdraw_id,
                        )
            changes += self.reconcile_once()
        except Exception:
            POLL_ERRORS.inc()
            raise
        finally:
            tracking.release_leases(
                self.database, owner=self.owner, request_ids=[t.request_id for t in claimed]
            )
        return changes

    def _apply(self, tracked: Tracked, record: StatusRead) -> bool:
        status = record.status
        if status == tracked.exchange_status:
            return False
        detail = record.describe(tracked.destination)
        trigger = (
            Trigger.EXCHANGE_COMPLETED
            if status in SUCCESS
            else Trigger.EXCHANGE_FAILED
            if status in FAILURES
            else None
        )
        now = self._clock()
        written = work.record_status(
            self.database,
            request_id=tracked.request_id,
            expected_previous=tracked.exchange_status,
            exchange_status=status,
            raw=record.raw,
            now=now,
            trigger=trigger,
            note=failure_note(detail),
            detail=detail,
        )
        if written is None:
            return False
        log_event(
            log,
            logging.INFO,
            "worker.status",
            request_id=tracked.request_id,
            withdraw_id=record.exchange_id,
            status=status,
            previous=tracked.exchange_status,
            state=written.request.state.value,
        )
        for alert in detail["alerts"]:
            alerts.raise_alert(
                self.database,
                event=alert["kind"],
                subject=record.exchange_id,
                detail={
                    **alert,
                    "request_id": tracked.request_id,
                    "withdraw_id": record.exchange_id,
                },
                now=now,
            )
        return True

    def reconcile_once(self) -> int:
        """Try to find every NEEDS_RECONCILIATION withdrawal at edgeX; returns how many matched."""
        owner = f"{self.config.owner}/reconcile"
        claimed = tracking.claim_tracked(
            self.database,
            owner=owner,
            states={State.NEEDS_RECONCILIATION},
            now=self._clock(),
            lease_for=self.config.lease,
            limit=self.config.submit_batch,
        )
        matched = 0
        try:
            for tracked in claimed:
                if not self._stop.is_set() and self._reconcile(tracked, owner):
                    matched += 1
        finally:
            tracking.release_leases(
                self.database, owner=owner, request_ids=[t.request_id for t in claimed]
            )
        return matched

    def _reconcile(self, tracked: Tracked, owner: str) -> bool:
        window = self.config.match_window
        candidates, calls = self.exchange.look_alikes(
            tracked,
            since_s=int((tracked.signed_at - window).timestamp()),
            taken=lambda ids: tracking.known_exchange_ids(self.database, exchange_ids=ids),
        )
        self.calls += calls
        if not candidates:
            log_event(log, logging.INFO, "worker.reconcile_none", request_id=tracked.request_id)
            return False
        match = choose_match(candidates, tracked.client_withdraw_id)
        if match.exchange_id is None:
            if match.candidates:
                tracking.report_once(
                    self.database,
                    request_id=tracked.request_id,
                    event="reconciliation_ambiguous",
                    expected_state=State.NEEDS_RECONCILIATION,
                    expected_exchange_status=tracked.exchange_status,
                    detail={
                        "candidates": list(match.candidates),
                        "alert": {
                            "kind": "reconciliation_ambiguous",
                            "text": "Several edgeX withdrawals look like this one: "
                            + ", ".join(match.candidates)
                            + ". People must decide which, if any, it is.",
                        },
                    },
                    now=self._clock(),
                )
            return False
        found = next(c for c in candidates if c.exchange_id == match.exchange_id)
        try:
            work.record_exchange_outcome(
                self.database,
                request_id=tracked.request_id,
                owner=owner,
                trigger=Trigger.MATCHED_AT_EXCHANGE,
                now=self._clock(),
                note=f"Found at edgeX as withdrawal {found.exchange_id}",
                exchange_withdraw_id=found.exchange_id,
                detail={"matched_order": found.record},
            )
        except LeaseLost:
            return False
        except TransitionRefused:
            # Confirmed absent by people since it was claimed: it stays failed, and they hear.
            for absent in reconciliation.absent_requests(
                self.database, client_ids=[tracked.client_withdraw_id]
            ):
                report_surfaced(self.database, absent=absent, found=found, now=self._clock())
            return False
        log_event(
            log,
            logging.INFO,
            "worker.reconciled",
            request_id=tracked.request_id,
            withdraw_id=found.exchange_id,
        )
        return True
