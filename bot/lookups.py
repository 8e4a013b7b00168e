"""``/withdraw history`` and ``claimable``: edgeX's private reads, wherever the key is.

Both endpoints are signed with the account's L2 key. ``withdrawbot run`` holds it and answers
inline (``bot.usecases``); a web-only process never reads it, so it stores the question for the
worker (``storage.exchange_queries``), which answers through the command's ``response_url``
(``bot.worker.answerer``). Both paths read edgeX here and word a failure here, so a person gets
the same answer, and the same refusal, whichever process answers.
"""

from __future__ import annotations

from datetime import UTC, datetime

from approvals.addresses import parse_address
from approvals.refusals import ApprovalError
from bot.edgex.client import EdgeXClient
from bot.edgex.errors import EdgeXError
from bot.edgex.models import AssetOrder
from bot.slack.command_parser import HISTORY_DAYS_MAX
from bot.slack.ports import ClaimableAmount, HistoryLine, Refusal

__all__ = [
    "HISTORY_MAX",
    "checked_address",
    "checked_days",
    "exchange_down",
    "read_claimable",
    "read_history",
    "said",
]

HISTORY_MAX = 200
_HISTORY_PAGE = 100


def checked_address(address: str) -> str:
    """The address in its EIP-55 spelling; ``Refusal`` with the domain's words otherwise."""
    try:
        return parse_address(address, what="The address")
    except ApprovalError as err:
        raise Refusal(err.message) from None


def checked_days(days: int) -> int:
    """``days`` if ``history`` covers it, as the command parser says; ``Refusal`` otherwise."""
    if not 1 <= days <= HISTORY_DAYS_MAX:
        raise Refusal(f"`history` covers 1 to {HISTORY_DAYS_MAX} days; {days} is out of range")
    return days


def read_history(client: EdgeXClient, *, days: int, now: datetime) -> list[HistoryLine]:
    """The newest ``HISTORY_MAX`` deposits and withdrawals of the last ``days`` days, paged."""
    end = int(now.timestamp())
    lines: list[HistoryLine] = []
    offset: str | None = None
    while len(lines) < HISTORY_MAX:
        page = client.get_all_orders_page(
            start_time_s=end - days * 86400,
            end_time_s=end,
            size=_HISTORY_PAGE,
            offset_data=offset,
        )
        lines += [_history_line(order) for order in page.data_list]
        offset = page.next_page_offset_data
        if not offset or not page.data_list:
            break
    return lines[:HISTORY_MAX]


def read_claimable(client: EdgeXClient, *, address: str) -> ClaimableAmount:
    """What ``address`` (already checked) can claim on L1; edgeX pays normal withdrawals in USDT."""
    amount = client.get_normal_withdrawable_amount(address).amount
    return ClaimableAmount(address=address, amount=amount, coin="USDT")


def exchange_down(err: EdgeXError) -> str:
    """What a person is told when edgeX fails one of these reads."""
    return f"edgeX did not answer as expected ({said(err)}); try again in a minute"


def said(err: EdgeXError) -> str:
    """The code and message edgeX answered with, or what went wrong on the way there."""
    code = getattr(err, "code", None)
    return f"{code}: {err.message}" if code else err.message


def _history_line(order: AssetOrder) -> HistoryLine:
    at = None
    if order.time and order.time.isdigit():
        stamp = int(order.time)
        at = datetime.fromtimestamp(stamp / 1000 if stamp > 10**11 else stamp, UTC)
    return HistoryLine(
        order_id=order.order_id,
        at=at,
        kind=(order.type or "").removeprefix("ORDER_TYPE_").replace("_", " ").lower(),
        status=str(order.status) if order.status is not None else "",
        amount=order.amount,
        coin=order.coin or "",
        address=order.address,
        chain=order.chain,
        tx_id=order.tx_id,
    )
