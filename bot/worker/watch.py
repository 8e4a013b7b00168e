"""The account watch: what happens on the account that withdrawbot did not do, or that stalls.

* A withdrawal in ``getAllOrdersPage`` that none of withdrawbot's requests made means the key
  (or the account) is used elsewhere: the channel hears of it at once, once per withdrawal.
  An order whose id is not stored yet may still be ours (sent, id not yet recorded), so before
  calling it foreign the watch reads its client withdraw id through the ById call and checks it
  against every client id withdrawbot ever drew; without a client id, a look-alike of one of our
  unresolved sends (same kind, amount and address) is not reported either.
* A withdrawal whose client id is one of withdrawbot's FAILED requests that edgeX never named
  (confirmed absent by approvers, or refused on its first send) left after all: its thread and
  the channel hear of it (``bot.worker.surfaced``). After approvers confirm one absent, the next
  cycle reads the history again from shortly before it was signed, since such a withdrawal may
  be older than what each cycle reads.
* A request that has not moved for longer than its kind usually takes is reported as stalled,
  once until it moves again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from approvals.lifecycle import State
from bot.edgex.models import AssetOrder
from bot.edgex.wire import log_event
from bot.worker.backend import Backend
from bot.worker.config import WorkerConfig, utc_now
from bot.worker.exchange_access import ExchangeAccess
from bot.worker.order_search import (
    ORDER_TYPES,
    by_id,
    client_id_of,
    order_candidate,
    orders_since,
)
from bot.worker.surfaced import report_surfaced
from storage import alerts, reconciliation, tracking
from storage.engine import Database
from storage.tracking import Tracked

__all__ = ["FOREIGN_WITHDRAWAL", "STALLED", "AccountWatch"]

log = logging.getLogger(__name__)

FOREIGN_WITHDRAWAL = "foreign_withdrawal"
STALLED = "stalled"
# Later cycles re-read this much before the last one, so an order listed late is still seen.
OVERLAP = timedelta(minutes=10)
_KIND_OF_TYPE = {order_type: kind for kind, order_type in ORDER_TYPES.items()}
_UNRESOLVED = {State.SUBMITTING, State.NEEDS_RECONCILIATION}


class AccountWatch:
    """One ``run_once`` compares the account's withdrawals with ours and looks for stalls."""

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
        self._stop = stop
        self._clock = clock
        self._since: datetime | None = None

    def run_once(self) -> tuple[int, int]:
        """Returns (unexpected withdrawals newly reported, stalled requests newly reported).

        Unexpected are foreign withdrawals and failed ones that edgeX shows after all.
        """
        started = self._clock()
        since = self._since or started - self.config.watch_lookback
        confirmed = reconciliation.confirmed_absent_since(self.database, since=since)
        if confirmed:
            since = min(since, confirmed[0] - self.config.match_window)
        foreign = self._foreign(since)
        self._since = started - OVERLAP
        return foreign, self._stalls(started)

    def _foreign(self, since: datetime) -> int:
        if not isinstance(self.exchange, ExchangeAccess):
            # edgeX V2 lists asset flows by id only (ASSUMED queryAssetFlows): there is no
            # account history to compare ours with, so foreign withdrawals go unseen there.
            return 0
        client = self.exchange.client
        orders = orders_since(client, int(since.timestamp()), list(ORDER_TYPES.values()))
        known = tracking.known_exchange_ids(
            self.database, exchange_ids=[order.order_id for order in orders]
        )
        unknown = [o for o in orders if o.order_id not in known and o.type in _KIND_OF_TYPE]
        if not unknown:
            return 0
        client_ids: dict[str, str | None] = {}
        for kind in ORDER_TYPES:
            ids = [o.order_id for o in unknown if _KIND_OF_TYPE[o.type or ""] is kind]
            size = self.config.poll_batch
            for start in range(0, len(ids), size):
                for record in by_id(client, kind, ids[start : start + size]):
                    client_ids[record.id] = client_id_of(record)
        named = [c for c in client_ids.values() if c is not None]
        ours = tracking.known_client_ids(self.database, client_ids=named)
        failed = {
            a.client_withdraw_id: a
            for a in reconciliation.absent_requests(self.database, client_ids=named)
        }
        unresolved = tracking.tracked(self.database, states=_UNRESOLVED)
        reported = 0
        for order in unknown:
            client_id = client_ids.get(order.order_id)
            if client_id is not None and client_id in failed:
                absent = failed[client_id]
                found = order_candidate(order, client_id)
                if report_surfaced(self.database, absent=absent, found=found, now=self._clock()):
                    reported += 1
                continue
            if client_id in ours:
                continue
            if client_id is None and any(_looks_like(order, t) for t in unresolved):
                continue
            if self._report_foreign(order, client_id):
                reported += 1
        return reported

    def _report_foreign(self, order: AssetOrder, client_id: str | None) -> bool:
        stored = alerts.raise_alert(
            self.database,
            event=FOREIGN_WITHDRAWAL,
            subject=order.order_id,
            detail={
                "account_id": self.exchange.account_id,
                "order": order.model_dump(by_alias=True, mode="json"),
                "client_id": client_id,
                "text": f"A withdrawal from edgeX account {self.exchange.account_id} that "
                f"withdrawbot did not make: {order.amount} {order.coin or ''} to "
                f"{order.address} (edgeX id {order.order_id}). The account's L2 key may be in "
                "use elsewhere; consider freezing withdrawals and rotating the key.",
            },
            now=self._clock(),
        )
        if stored:
            log_event(
                log,
                logging.ERROR,
                "worker.foreign_withdrawal",
                withdraw_id=order.order_id,
                amount=order.amount,
                address=order.address,
            )
        return stored

    def _stalls(self, now: datetime) -> int:
        reported = 0
        for tracked in tracking.tracked(self.database, states={State.SUBMITTING, State.SUBMITTED}):
            if self._stop.is_set():
                break
            if tracked.last_event == STALLED:
                continue
            since = tracked.last_event_at or tracked.signed_at
            usual = self.config.stall_after[tracked.kind]
            if now - since <= usual:
                continue
            minutes = int((now - since).total_seconds() // 60)
            status = tracked.exchange_status or tracked.state.value
            written = tracking.report_once(
                self.database,
                request_id=tracked.request_id,
                event=STALLED,
                expected_state=tracked.state,
                expected_exchange_status=tracked.exchange_status,
                detail={
                    "since": since.isoformat(),
                    "stalled_for_s": int((now - since).total_seconds()),
                    "usual_s": int(usual.total_seconds()),
                    "exchange_withdraw_id": tracked.exchange_withdraw_id,
                    "alert": {
                        "kind": STALLED,
                        "text": f"No change for {minutes} min (still {status}); a "
                        f"{tracked.kind.value} withdrawal usually moves within "
                        f"{int(usual.total_seconds() // 60)} min. Check it with edgeX.",
                    },
                },
                now=now,
            )
            if written:
                reported += 1
                log_event(
                    log,
                    logging.WARNING,
                    "worker.stalled",
                    request_id=tracked.request_id,
                    status=status,
                    minutes=minutes,
                )
        return reported


def _looks_like(order: AssetOrder, tracked: Tracked) -> bool:
    return (
        order.type == ORDER_TYPES[tracked.kind]
        and order.amount == tracked.amount
        and (order.address or "").lower() == tracked.destination.lower()
    )
