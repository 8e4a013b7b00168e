"""What edgeX offers, as the approvals domain reads it: its coins and chains, and the LP's quote.

The domain never sees the HTTP client's models: drafts are checked against
``approvals.metadata.ExchangeMetadata``, built here from ``getMetaData`` (and cached for a minute
by :class:`MetadataCache`), and a cross-chain quote against ``approvals.metadata.CrossQuote``,
built here from ``getCrossWithdrawSignInfo`` for the draft and the worker alike.

Normal withdrawals are claimed on the chain of the StarkEx contract (``global.starkExChainId``),
so that is the L1 chain id the policy's allowlist is matched against; cross-chain payouts use
``multiChain.chainList``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal

from approvals.metadata import Chain, Coin, CrossQuote, ExchangeMetadata, Token
from bot.edgex.errors import EdgeXError
from bot.edgex.models import CrossWithdrawSignInfo, MetaData
from bot.edgex.v2.profiles import PROFILES

__all__ = [
    "MetadataCache",
    "MetadataUnusable",
    "cross_quote",
    "exchange_metadata",
    "flow_metadata",
]

METADATA_TTL = 60.0


class MetadataUnusable(ValueError):
    """edgeX's metadata lacks what a draft is checked against; nothing is drafted on a guess."""


def exchange_metadata(meta: MetaData) -> ExchangeMetadata:
    chain_text = meta.global_.stark_ex_chain_id
    if not chain_text:
        raise MetadataUnusable("edgeX's metadata names no StarkEx chain id")
    try:
        l1_chain_id = (
            int(chain_text, 16) if chain_text.lower().startswith("0x") else int(chain_text)
        )
    except ValueError as err:
        raise MetadataUnusable(f"edgeX's StarkEx chain id {chain_text!r} is no number") from err
    multi = meta.multi_chain
    coins: list[Coin] = []
    for coin in meta.coin_list:
        if not coin.coin_name or coin.step_size is None:
            continue
        cross = multi is not None and multi.coin_id == coin.coin_id
        chains = (
            tuple(
                Chain(
                    name=chain.chain or f"chain {chain.chain_id}",
                    chain_id=int(chain.chain_id),
                    withdraw_allowed=chain.allow_withdraw,
                    tokens=tuple(
                        Token(
                            token=token.token or "",
                            address=token.token_address,
                            decimals=token.decimals if token.decimals is not None else 0,
                            withdraw_enabled=token.withdraw_enable,
                        )
                        for token in chain.token_list
                    ),
                )
                for chain in multi.chain_list
                if chain.chain_id.isdigit()
            )
            if cross and multi is not None
            else ()
        )
        coins.append(
            Coin(
                coin_id=coin.coin_id,
                name=coin.coin_name,
                step_size=coin.step_size,
                min_withdraw=multi.min_withdraw if cross and multi else None,
                max_withdraw=multi.max_withdraw if cross and multi else None,
                chains=chains,
            )
        )
    return ExchangeMetadata(l1_chain_id=l1_chain_id, coins=tuple(coins))


def flow_metadata() -> ExchangeMetadata:
    """What edgeX V2 pays out: the SDK's withdraw profiles, one coin per token, no L1 chain.

    No V2 call lists them (notes section 2.5), and neither minimum nor maximum is published,
    so the policy's bounds are the only ones checked before edgeX's own fee call.
    """
    return ExchangeMetadata(
        l1_chain_id=None,
        coins=tuple(
            Coin(
                coin_id=profile.token,
                name=profile.token,
                step_size=Decimal(1).scaleb(-profile.decimals),
                chains=(
                    Chain(
                        name=profile.chain_name,
                        chain_id=profile.chain_id,
                        withdraw_allowed=None,
                        tokens=(
                            Token(profile.token, profile.token_address, profile.decimals, None),
                        ),
                    ),
                ),
            )
            for profile in PROFILES
        ),
    )


def cross_quote(info: CrossWithdrawSignInfo) -> CrossQuote:
    """The LP quote as the domain checks it (the signer takes ``info.to_quote()`` as sent)."""
    return CrossQuote(
        lp_account_id=info.lp_account_id,
        lp_l2_key=info.cross_withdraw_l2_key,
        max_amount=info.cross_withdraw_max_amount,
        fee=Decimal(info.fee),
    )


class MetadataCache:
    """edgeX's metadata, read at most once a minute; the last good copy while edgeX is down.

    Shared by the commands (a draft is checked against it) and the reads (chain names on cards),
    so both see the same copy and edgeX is asked once for both. ``read`` is V1's
    ``getMetaData`` made domain metadata, or V2's fixed :func:`flow_metadata`.
    """

    def __init__(
        self,
        read: Callable[[], ExchangeMetadata],
        *,
        ttl: float = METADATA_TTL,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._ttl = ttl
        self._monotonic = monotonic
        self._cached: tuple[float, ExchangeMetadata] | None = None
        self._lock = threading.Lock()

    def get(self) -> ExchangeMetadata:
        """Fresh metadata; :class:`EdgeXError` only when edgeX fails and nothing was ever read.

        :class:`MetadataUnusable` when what edgeX sent cannot be checked against.
        """
        with self._lock:
            cached = self._cached
            if cached is not None and self._monotonic() - cached[0] < self._ttl:
                return cached[1]
        try:
            metadata = self._read()
        except EdgeXError:
            if cached is not None:
                return cached[1]
            raise
        with self._lock:
            self._cached = (self._monotonic(), metadata)
        return metadata

    def chain_names(self) -> dict[int, str]:
        """Chain names from the last copy read (none before the first read: never a call)."""
        cached = self._cached
        if cached is None:
            return {}
        return {chain.chain_id: chain.name for coin in cached[1].coins for chain in coin.chains}
