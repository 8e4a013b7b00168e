"""The worker's view of edgeX: signing metadata, fresh quotes, signed bodies and the one send.

The signed body is produced here once, as the exact text the client puts on the wire
(``bot.edgex.wire.body_text``, the only serialisation), and stored; every send and resend hands
that stored text to the client, which sends it byte for byte. Nothing here can sign a second,
different body for a request, because storage refuses a second submission row.

The coin's signing metadata is resolved by :meth:`ExchangeAccess.signer` before storage opens
its transaction, so no HTTP call to edgeX is made while the database's write lock is held.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Collection, Sequence
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from approvals.content import Kind
from approvals.metadata import CrossQuote
from approvals.money import canonical_decimal
from bot.edgex import signing
from bot.edgex.client import EdgeXClient
from bot.edgex.signing import CoinMeta, CrossWithdrawQuote, StarkKey
from bot.edgex.wire import body_text
from bot.exchange_terms import cross_quote
from bot.worker.backend import Candidate, Prepared, StatusRead
from bot.worker.order_search import (
    ORDER_TYPES,
    Record,
    by_id,
    client_id_of,
    order_candidate,
    orders_since,
)
from bot.worker.reports import status_detail
from storage.repository import StoredRequest
from storage.tracking import Tracked
from storage.work import SignedSubmission, SignedTerms, Signer, Submission

__all__ = ["ExchangeAccess", "NotOurAccount", "signed_terms"]


class NotOurAccount(RuntimeError):
    """A request for another account than the one this worker signs for (a configuration slip)."""


def signed_terms(kind: Kind, text: str) -> SignedTerms:
    """What a signed V1 body's text says, for storage's check against the approval.

    The one place outside ``bot.edgex`` that reads edgeX's field names back; a value of the
    wrong type reads as ``None``, which never equals an approved value.
    """
    body = json.loads(text)
    if not isinstance(body, dict):
        raise ValueError("it is not a JSON object")
    id_field = "clientCrossWithdrawId" if kind is Kind.CROSS else "clientWithdrawId"
    return SignedTerms(
        client_withdraw_id=_text(body.get(id_field)),
        expire_time_ms=_whole(body.get("expireTime")),
        account_id=_text(body.get("accountId")),
        coin_id=_text(body.get("coinId")),
        amount=_decimal(body.get("amount")),
        destination=_text(body.get("ethAddress")),
        erc20_address=_text(body.get("erc20Address")),
        lp_account_id=_text(body.get("lpAccountId")),
        chain_id=_whole(body.get("chainId")),
        fee=_decimal(body.get("fee")),
    )


class ExchangeAccess:
    """One signing client plus cached coin metadata; safe to share between the worker's threads."""

    def __init__(
        self,
        client: EdgeXClient,
        key: StarkKey,
        *,
        metadata_ttl: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self._key = key
        self._ttl = metadata_ttl
        self._clock = clock
        self._coins: dict[str, CoinMeta] = {}
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    @property
    def account_id(self) -> str:
        return self.client.account_id

    def coin(self, coin_id: str) -> CoinMeta:
        """The asset id and resolution to sign with; metadata is re-read when stale or unknown."""
        with self._lock:
            fresh = self._loaded_at is not None and self._clock() - self._loaded_at < self._ttl
            if not fresh or coin_id not in self._coins:
                metadata = self.client.get_metadata()
                self._coins = {
                    coin.coin_id: coin.to_coin_meta()
                    for coin in metadata.coin_list
                    if coin.stark_ex_asset_id and coin.stark_ex_resolution
                }
                self._loaded_at = self._clock()
            if coin_id not in self._coins:
                raise signing.InvalidField(f"edgeX lists no StarkEx coin {coin_id}")
            return self._coins[coin_id]

    def quote(self, stored: StoredRequest) -> CrossQuote:
        """A fresh LP quote for a cross withdrawal, as the domain checks it."""
        return self._quotes(stored)[0]

    def prepare(self, stored: StoredRequest) -> Prepared:
        """A cross withdrawal's fresh quote, and the signer over it (metadata read first)."""
        content = stored.request.content
        quote, signing_quote = self._quotes(stored) if content.kind is Kind.CROSS else (None, None)
        sign = self.signer(
            content.coin_id, quote=signing_quote, expire_time_ms=self.expire_time_ms()
        )
        return Prepared(quote, sign)

    def read_terms(self, kind: Kind, text: str) -> SignedTerms:
        return signed_terms(kind, text)

    def outlived(self, submission: Submission) -> bool:
        """Never: a V1 body is valid for 14 days, and a resend after that is reconciled."""
        return False

    def find(self, client_withdraw_id: str) -> Candidate | None:
        """Never asked: V1 bodies do not outlive their sends (see :meth:`outlived`)."""
        raise NotImplementedError("StarkEx V1 lists withdrawals by id, not by client id")

    def statuses(self, kind: Kind, ids: Sequence[str]) -> list[StatusRead]:
        """One ById call for up to a batch of ids of one kind."""
        return [
            StatusRead(
                exchange_id=record.id,
                status=record.status,
                raw=json.dumps(record.model_dump(by_alias=True, mode="json"), sort_keys=True),
                describe=partial(_describe, record),
            )
            for record in by_id(self.client, kind, ids)
        ]

    def look_alikes(
        self,
        tracked: Tracked,
        *,
        since_s: int,
        taken: Callable[[Collection[str]], set[str]],
    ) -> tuple[list[Candidate], int]:
        """Orders of the kind, amount and address since ``since_s``, with their client ids."""
        order_type = ORDER_TYPES[tracked.kind]
        orders = orders_since(self.client, since_s, [order_type])
        gone = taken([order.order_id for order in orders])
        alike = [
            order
            for order in orders
            if order.type == order_type
            and order.order_id not in gone
            and order.amount == tracked.amount
            and (order.address or "").lower() == tracked.destination.lower()
        ]
        if not alike:
            return [], 1
        records = by_id(self.client, tracked.kind, [o.order_id for o in alike][:100])
        client_ids = {record.id: client_id_of(record) for record in records}
        return [order_candidate(o, client_ids.get(o.order_id)) for o in alike], 2

    def _quotes(self, request: StoredRequest) -> tuple[CrossQuote, CrossWithdrawQuote]:
        """A fresh LP quote for a cross withdrawal, as the domain checks it and as it is signed."""
        content = request.request.content
        info = self.client.get_cross_withdraw_sign_info(
            amount=canonical_decimal(content.amount),
            chain_id=content.chain_id,
            token_address=content.erc20_address,
        )
        return cross_quote(info), info.to_quote()

    def signer(
        self, coin_id: str, *, quote: CrossWithdrawQuote | None, expire_time_ms: int
    ) -> Signer:
        """The callback storage calls inside the SUBMITTING transaction, after the re-check.

        ``coin_id``'s metadata is read now, outside that transaction.
        """
        coin = self.coin(coin_id)

        def sign(stored: StoredRequest) -> SignedSubmission:
            content = stored.request.content
            if content.account_id != self.account_id:
                raise NotOurAccount(
                    f"request {stored.id} withdraws from edgeX account {content.account_id}, "
                    f"but this worker signs for account {self.account_id}"
                )
            if content.coin_id != coin.coin_id:
                raise ValueError(f"request {stored.id} is not a withdrawal of coin {coin_id}")
            amount = canonical_decimal(content.amount)
            if content.kind is Kind.NORMAL:
                normal = signing.build_normal_withdraw_body(
                    self._key,
                    account_id=content.account_id,
                    coin=coin,
                    amount=amount,
                    eth_address=content.destination,
                    client_withdraw_id=stored.client_withdraw_id,
                    expire_time_ms=expire_time_ms,
                )
                text = body_text(normal)
            else:
                if quote is None or content.erc20_address is None:
                    raise ValueError(f"cross request {stored.id} is signed against a fresh quote")
                cross = signing.build_cross_withdraw_body(
                    self._key,
                    account_id=content.account_id,
                    coin=coin,
                    amount=amount,
                    eth_address=content.destination,
                    erc20_address=content.erc20_address,
                    chain_id=content.chain_id,
                    quote=quote,
                    client_cross_withdraw_id=stored.client_withdraw_id,
                    expire_time_ms=expire_time_ms,
                )
                text = body_text(cross)
            return SignedSubmission(
                kind=content.kind,
                body=text,
                client_withdraw_id=stored.client_withdraw_id,
                expire_time_ms=expire_time_ms,
            )

        return sign

    def expire_time_ms(self) -> int:
        """Hour-aligned, 14 days ahead on the exchange's clock (protocol notes sec. 5)."""
        return signing.hour_aligned_expire_time(self.client.server_time_ms())

    def send(self, submission: Submission) -> str:
        """One POST of the stored body; the withdrawal id, or an ``EdgeXError``."""
        if submission.kind is Kind.NORMAL:
            return self.client.create_normal_withdraw(submission.body)
        return self.client.create_cross_withdraw(submission.body)


def _describe(record: Record, destination: str) -> dict[str, Any]:
    return status_detail(record, destination=destination)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _whole(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.isdigit() else None


def _decimal(value: object) -> Decimal | None:
    if not isinstance(value, str):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None
