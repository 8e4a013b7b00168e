"""The exchange facts a draft is checked against, as plain values the bot fills in.

The bot reads them from edgeX (``getMetaData``: ``coinList`` and ``multiChain``, protocol notes
section 4; ``getCrossWithdrawSignInfo``, section 6) and converts strings to ``Decimal`` and
addresses to checksummed form on the way in. Keeping them as dataclasses here means the domain
never depends on the HTTP client, and tests can state any exchange situation directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["Chain", "Coin", "CrossQuote", "ExchangeMetadata", "FlowFee", "Quote", "Token"]


@dataclass(frozen=True, slots=True)
class Token:
    """``multiChain.chainList[].tokenList[]``: the ERC-20 an LP pays out on one chain.

    ``withdraw_enabled`` is ``None`` when edgeX does not say (the field is absent): only an
    explicit ``False`` switches withdrawals off.
    """

    token: str
    address: str
    decimals: int
    withdraw_enabled: bool | None


@dataclass(frozen=True, slots=True)
class Chain:
    """``multiChain.chainList[]``: a chain cross withdrawals can pay out on.

    ``withdraw_allowed`` is ``None`` when edgeX does not say. ASSUMED: edgeX's published chain
    schema has no ``allowWithdraw`` (only the SDK's model does; open question M1), so an absent
    field means "not stated", never "switched off"; only an explicit ``false`` refuses drafts.
    """

    name: str
    chain_id: int
    withdraw_allowed: bool | None
    tokens: tuple[Token, ...] = ()


@dataclass(frozen=True, slots=True)
class Coin:
    """``coinList[]`` plus the coin's ``multiChain`` limits and chains.

    ``min_withdraw`` / ``max_withdraw`` are the exchange's own bounds (``None`` when edgeX states
    none); ``chains`` is empty for a coin edgeX offers no cross withdrawals of.
    """

    coin_id: str
    name: str
    step_size: Decimal
    min_withdraw: Decimal | None = None
    max_withdraw: Decimal | None = None
    chains: tuple[Chain, ...] = ()


@dataclass(frozen=True, slots=True)
class ExchangeMetadata:
    """What edgeX currently offers; ``l1_chain_id`` is where normal withdrawals land.

    ``l1_chain_id`` is ``None`` on edgeX V2, which has no L1 withdrawal: there every withdrawal
    is an asset flow to one of ``coins[].chains`` (``Kind.FLOW``), paid out by edgeX itself.
    """

    l1_chain_id: int | None
    coins: tuple[Coin, ...]

    @property
    def asset_flows(self) -> bool:
        """Whether withdrawals to a chain are V2 asset flows rather than V1 LP payouts."""
        return self.l1_chain_id is None

    def coin_named(self, name: str) -> Coin | None:
        """Coins are chosen by the name people know (``USDT``), signed by id."""
        return next((coin for coin in self.coins if coin.name == name), None)


@dataclass(frozen=True, slots=True)
class CrossQuote:
    """``getCrossWithdrawSignInfo``: who pays out, their L2 key, how much they can take, the fee."""

    lp_account_id: str
    lp_l2_key: str
    max_amount: Decimal
    fee: Decimal


@dataclass(frozen=True, slots=True)
class FlowFee:
    """``getFeeByAssetFlow``: edgeX V2's fee for one withdrawal, in the coin's own units."""

    fee: Decimal


# What a withdrawal to a chain is priced by: the LP's quote (V1) or edgeX's fee (V2).
Quote = CrossQuote | FlowFee
