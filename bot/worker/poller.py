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

import json
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from approvals.content import Kind
from approvals.lifecycle import State, Trigger
from approvals.refusals import TransitionRefused
from bot.edgex.models import AssetOrder, CrossWithdraw, NormalWithdraw
from bot.edgex.statuses import FAILURES, SUCCESS
from bot.edgex.wire import log_event
from bot.metrics import POLL_ERRORS
from bot.worker.config import WorkerConfig, utc_now
from bot.worker.exchange_access import ExchangeAccess
from bot.worker.reports import failure_note, status_detail
from bot.worker.surfaced import report_surfaced
from storage import alerts, reconciliation, tracking, work
from storage.engine import Database
from storage.failures import LeaseLost
from storage.tracking import Tracked

__all__ = ["ORDER_TYPES", "Match", "Poller", "choose_match", "client_id_of", "orders_since"]

log = logging.getLogger(__name__)

# getAllOrdersPage ``type`` values (protocol notes sec. 7).
ORDER_TYPES: dict[Kind, str] = {
    Kind.NORMAL: "ORDER_TYPE_NORMAL_WITHDRAW",
    Kind.CROSS: "ORDER_TYPE_CROSS_WITHDRAW",
}
MAX_ORDER_PAGES = 50

Record = NormalWithdraw | CrossWithdraw


def client_id_of(record: Record) -> str | None:
    if isinstance(record, NormalWithdraw):
        return record.client_withdraw_id
    return record.client_cross_withdraw_id


def by_id(exchange: ExchangeAccess, kind: Kind, ids: Sequence[str]) -> tuple[Record, ...]:
    """One ById call for up to a batch of ids of one kind."""
    if kind is Kind.NORMAL:
        return exchange.client.get_normal_withdraw_by_id(ids)
    return exchange.client.get_cross_withdraw_by_id(ids)


def orders_since(exchange: ExchangeAccess, start_s: int, types: Sequence[str]) -> list[AssetOrder]:
    """Every order of these types created since ``start_s``, all pages (bounded)."""
    found: list[AssetOrder] = []
    offset: str | None = None
    for _ in range(MAX_ORDER_PAGES):
        page = exchange.client.get_all_orders_page(
            start_time_s=max(start_s, 0), type_list=list(types), offset_data=offset
        )
        found.extend(page.data_list)
        offset = page.next_page_offset_data
        if offset is None:
            break
    return found


@dataclass(frozen=True, slots=True)
class Match:
    """The reconciler's verdict: the one order that is ours, or the candidates it cannot tell."""

    order_id: str | None
    candidates: tuple[str, ...]


def choose_match(
    candidates: Sequence[AssetOrder], client_ids: dict[str, str | None], ours: str
) -> Match:
    """Our withdrawal among orders that look like it.

    An order whose record names another client id is not ours. One order naming ours is the
    match; without client ids, one look-alike is the match; anything else is ambiguous.
    """
    confirmed = [o.order_id for o in candidates if client_ids.get(o.order_id) == ours]
    unnamed = [o.order_id for o in candidates if client_ids.get(o.order_id) is None]
    if len(confirmed) == 1:
        return Match(confirmed[0], tuple(confirmed))
    if not confirmed and len(unnamed) == 1:
        return Match(unnamed[0], tuple(unnamed))
    return Match(None, tuple(confirmed or unnamed))


def _chunks(items: Sequence[Tracked], size: int) -> Iterator[Sequence[Tracked]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Poller:
    """One ``run_once`` is one poll cycle: statuses first, then reconciliation."""

    def __init__(
        self,
        database: Database,
        exchange: ExchangeAccess,
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
                    records = by_id(self.exchange, kind, ids)
                    self.calls += 1
                    known = {t.exchange_withdraw_id: t for t in batch}
                    for record in records:
                        tracked = known.pop(record.id, None)
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

    def _apply(self, tracked: Tracked, record: Record) -> bool:
        status = record.status
        if status == tracked.exchange_status:
            return False
        detail = status_detail(record, destination=tracked.destination)
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
            raw=json.dumps(record.model_dump(by_alias=True, mode="json"), sort_keys=True),
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
            withdraw_id=record.id,
            status=status,
            previous=tracked.exchange_status,
            state=written.request.state.value,
        )
        for alert in detail["alerts"]:
            alerts.raise_alert(
                self.database,
                event=alert["kind"],
                subject=record.id,
                detail={**alert, "request_id": tracked.request_id, "withdraw_id": record.id},
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
        start_s = int((tracked.signed_at - window).timestamp())
        orders = orders_since(self.exchange, start_s, [ORDER_TYPES[tracked.kind]])
        self.calls += 1
        taken = tracking.known_exchange_ids(
            self.database, exchange_ids=[order.order_id for order in orders]
        )
        candidates = [
            order
            for order in orders
            if order.type == ORDER_TYPES[tracked.kind]
            and order.order_id not in taken
            and order.amount == tracked.amount
            and (order.address or "").lower() == tracked.destination.lower()
        ]
        if not candidates:
            log_event(log, logging.INFO, "worker.reconcile_none", request_id=tracked.request_id)
            return False
        records = by_id(self.exchange, tracked.kind, [o.order_id for o in candidates][:100])
        self.calls += 1
        client_ids = {record.id: client_id_of(record) for record in records}
        match = choose_match(candidates, client_ids, tracked.client_withdraw_id)
        if match.order_id is None:
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
        order = next(o for o in candidates if o.order_id == match.order_id)
        try:
            work.record_exchange_outcome(
                self.database,
                request_id=tracked.request_id,
                owner=owner,
                trigger=Trigger.MATCHED_AT_EXCHANGE,
                now=self._clock(),
                note=f"Found at edgeX as withdrawal {match.order_id}",
                exchange_withdraw_id=match.order_id,
                detail={"matched_order": order.model_dump(by_alias=True, mode="json")},
            )
        except LeaseLost:
            return False
        except TransitionRefused:
            # Confirmed absent by people since it was claimed: it stays failed, and they hear.
            for absent in reconciliation.absent_requests(
                self.database, client_ids=[tracked.client_withdraw_id]
            ):
                report_surfaced(self.database, absent=absent, order=order, now=self._clock())
            return False
        log_event(
            log,
            logging.INFO,
            "worker.reconciled",
            request_id=tracked.request_id,
            withdraw_id=match.order_id,
        )
        return True
