"""StarkEx V1's order history: reading records by id and finding a lost send among look-alikes.

V1 names a withdrawal's client id only in its ById record, and lists withdrawals (with amount
and address, no client id) in ``getAllOrdersPage``. So a send whose answer was lost is looked
for as an order of its kind, amount and address created after the body was signed, and each
such order's client id is read through the ById call. The account watch reads the same history
for withdrawals withdrawbot did not make.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from approvals.content import Kind
from bot.edgex.client import EdgeXClient
from bot.edgex.models import AssetOrder, CrossWithdraw, NormalWithdraw
from bot.worker.backend import Candidate

__all__ = [
    "MAX_ORDER_PAGES",
    "ORDER_TYPES",
    "Match",
    "Record",
    "by_id",
    "choose_match",
    "client_id_of",
    "order_candidate",
    "orders_since",
]

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


def by_id(client: EdgeXClient, kind: Kind, ids: Sequence[str]) -> tuple[Record, ...]:
    """One ById call for up to a batch of ids of one kind."""
    if kind is Kind.NORMAL:
        return client.get_normal_withdraw_by_id(ids)
    if kind is Kind.CROSS:
        return client.get_cross_withdraw_by_id(ids)
    raise ValueError(f"StarkEx V1 has no {kind.value} withdrawals")


def orders_since(client: EdgeXClient, start_s: int, types: Sequence[str]) -> list[AssetOrder]:
    """Every order of these types created since ``start_s``, all pages (bounded)."""
    found: list[AssetOrder] = []
    offset: str | None = None
    for _ in range(MAX_ORDER_PAGES):
        page = client.get_all_orders_page(
            start_time_s=max(start_s, 0), type_list=list(types), offset_data=offset
        )
        found.extend(page.data_list)
        offset = page.next_page_offset_data
        if offset is None:
            break
    return found


@dataclass(frozen=True, slots=True)
class Match:
    """The reconciler's verdict: the one withdrawal that is ours, or the look-alikes."""

    exchange_id: str | None
    candidates: tuple[str, ...]


def choose_match(candidates: Sequence[Candidate], ours: str) -> Match:
    """Our withdrawal among withdrawals that look like it.

    One naming another client id is not ours. One naming ours is the match; without client
    ids, one look-alike is the match; anything else is ambiguous.
    """
    confirmed = [c.exchange_id for c in candidates if c.client_id == ours]
    unnamed = [c.exchange_id for c in candidates if c.client_id is None]
    if len(confirmed) == 1:
        return Match(confirmed[0], tuple(confirmed))
    if not confirmed and len(unnamed) == 1:
        return Match(unnamed[0], tuple(unnamed))
    return Match(None, tuple(confirmed or unnamed))


def order_candidate(order: AssetOrder, client_id: str | None) -> Candidate:
    """An order of the history as a reconciliation candidate (or a surfaced withdrawal)."""
    return Candidate(
        exchange_id=order.order_id,
        client_id=client_id,
        record=order.model_dump(by_alias=True, mode="json"),
        summary=f"{order.amount} {order.coin or ''} to {order.address}",
    )
