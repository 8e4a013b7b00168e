"""edgeX's metadata as the approvals domain reads it, and the exchange reads the Slack side asks.

The domain never sees the HTTP client's models: drafts are checked against
``approvals.metadata.ExchangeMetadata``, built here from ``getMetaData``. Normal withdrawals are
claimed on the chain of the StarkEx contract (``global.starkExChainId``), so that is the L1 chain
id the policy's allowlist is matched against; cross-chain payouts use ``multiChain.chainList``.
"""

from __future__ import annotations

from approvals.metadata import Chain, Coin, ExchangeMetadata, Token
from bot.edgex.models import MetaData

__all__ = ["MetadataUnusable", "exchange_metadata"]


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
