"""One process's edgeX, whichever API the account is on: what the Slack side and worker use.

The composition root builds one of these (``for_v1`` or ``for_v2``) and hands its parts out, so no
other module decides which API it talks to:

* ``metadata`` reads what edgeX offers (V1 ``getMetaData``; V2's fixed withdraw profiles);
* ``quotes`` prices a checked draft at once, in a process that may (V1: the signing client's
  LP quote; V2: edgeX's fee, which needs the wallet's address); ``None`` leaves drafts to the
  worker's quoter;
* ``history`` is V1's signing client for history and claimable reads (V2 has none);
* ``backend`` is the worker's (``bot.worker.backend``), in a process that signs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from approvals.content import WithdrawalContent
from approvals.metadata import ExchangeMetadata, Quote
from approvals.money import canonical_decimal
from bot.edgex.client import EdgeXClient, EdgeXPublicClient
from bot.edgex.signing import StarkKey
from bot.exchange_terms import cross_quote, exchange_metadata, flow_metadata
from bot.worker.exchange_access import ExchangeAccess
from bot.worker.flow_access import FlowAccess

__all__ = ["ExchangeSide"]


@dataclass(frozen=True)
class ExchangeSide:
    """The edgeX parts of one process (see the module docstring)."""

    metadata: Callable[[], ExchangeMetadata]
    quotes: Callable[[WithdrawalContent], Quote] | None
    history: EdgeXClient | None
    backend: ExchangeAccess | FlowAccess | None

    @classmethod
    def for_v1(
        cls, public: EdgeXPublicClient, private: EdgeXClient | None, key: StarkKey | None
    ) -> ExchangeSide:
        """StarkEx V1: ``private`` in a process that may read the account, ``key`` if it signs."""
        return cls(
            metadata=lambda: exchange_metadata(public.get_metadata()),
            quotes=None if private is None else _lp_quotes(private),
            history=private,
            backend=None if private is None or key is None else ExchangeAccess(private, key),
        )

    @classmethod
    def for_v2(cls, flow: FlowAccess | None) -> ExchangeSide:
        """The V2 side: ``flow`` (HMAC client and wallet key) only in a process that signs."""
        return cls(
            metadata=flow_metadata,
            quotes=None if flow is None else flow.fee,
            history=None,
            backend=flow,
        )

    def signer(self) -> ExchangeAccess | FlowAccess:
        """The worker's backend, of a process that signs."""
        if self.backend is None:
            raise RuntimeError("this process does not sign")
        return self.backend


def _lp_quotes(private: EdgeXClient) -> Callable[[WithdrawalContent], Quote]:
    def quote(content: WithdrawalContent) -> Quote:
        if content.erc20_address is None:
            raise ValueError("an LP quote is for a cross withdrawal")
        info = private.get_cross_withdraw_sign_info(
            amount=canonical_decimal(content.amount),
            chain_id=content.chain_id,
            token_address=content.erc20_address,
        )
        return cross_quote(info)

    return quote
