"""Typed views of edgeX V1 response ``data`` (edgex-protocol.md sections 4 and 7, edgeX API docs).

Attributes are snake_case; each one is read from the API's exact camelCase name (its alias), and
``model_dump(by_alias=True)`` gives the API's names back. Unknown extra fields are kept
(``model_extra``), never an error, so a new server field cannot stop the poller.

Leniency is deliberate and lopsided: only what a caller acts on is required (a record's ``id`` and
``status``, a quote's four fields, a created id); everything else is optional, an optional amount
written as ``""`` reads as None and a ``null`` list as empty. Statuses stay plain strings so an
unknown status still parses. Money is ``Decimal`` (a binary float is refused; the client parses
JSON numbers as ``Decimal`` anyway). Values that go back into a signature (the quoted ``fee``, l2
keys, asset ids and resolutions) stay the exact strings the server sent.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_camel

from bot.edgex.signing import CoinMeta, CrossWithdrawQuote, InvalidField

__all__ = [
    "Account",
    "AssetOrder",
    "AssetOrdersPage",
    "Chain",
    "Coin",
    "CrossWithdraw",
    "CrossWithdrawCreated",
    "CrossWithdrawSignInfo",
    "EdgeXModel",
    "Envelope",
    "GlobalMeta",
    "L1Tx",
    "L2Signature",
    "Many",
    "MetaData",
    "MultiChain",
    "NormalWithdraw",
    "NormalWithdrawCreated",
    "ServerTime",
    "Token",
    "WithdrawableAmount",
]

_ID = re.compile(r"[0-9]{1,20}")
_PLAIN_DECIMAL = re.compile(r"[0-9]+(\.[0-9]+)?")


def _text(value: object) -> object:
    """Ids and chain ids are documented as strings but may arrive as JSON integers (exact)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _id(value: str) -> str:
    if not _ID.fullmatch(value):
        raise ValueError("expected a decimal id of 1-20 digits")
    return value


def _plain_decimal(value: str) -> str:
    if not _PLAIN_DECIMAL.fullmatch(value):
        raise ValueError("expected a plain non-negative decimal such as 2 or 0.5")
    return value


def _money(value: object) -> object:
    if isinstance(value, float):
        raise ValueError("money must not arrive as a binary float")
    return value


def _blank_money(value: object) -> object:
    """An absent amount may be written as ``""`` (getAllOrdersPage does so for fees)."""
    return None if value == "" else _money(value)


def _null_empty(value: object) -> object:
    """A list the server has nothing for may come as ``null`` (a nil list in its encoder)."""
    return () if value is None else value


def _blank_none(value: object) -> object:
    """The last page of getAllOrdersPage says ``nextPageOffsetData: ""``."""
    return None if value == "" else value


Text = Annotated[str, BeforeValidator(_text)]
Id = Annotated[str, BeforeValidator(_text), AfterValidator(_id)]
Money = Annotated[Decimal, BeforeValidator(_money)]
OptionalMoney = Annotated[Decimal | None, BeforeValidator(_blank_money)]
SignedDecimalText = Annotated[str, BeforeValidator(_text), AfterValidator(_plain_decimal)]
T = TypeVar("T")
Many = Annotated[tuple[T, ...], BeforeValidator(_null_empty)]


class EdgeXModel(BaseModel):
    """API names as aliases, extra fields kept, immutable once parsed."""

    model_config = ConfigDict(alias_generator=to_camel, extra="allow", frozen=True)


class Envelope(EdgeXModel):
    """The wrapper around every answer; success is HTTP 200 and ``code == "SUCCESS"``."""

    code: str
    data: Any = None
    msg: str | None = None
    error_param: Any = None
    request_time: Text | None = None
    response_time: Text | None = None
    trace_id: str | None = None


class ServerTime(EdgeXModel):
    """``getServerTime`` data."""

    time_millis: int


class Coin(EdgeXModel):
    """A ``coinList`` entry; the StarkEx fields are null for coins that are not collateral."""

    coin_id: Id
    coin_name: str | None = None
    step_size: OptionalMoney = None
    stark_ex_asset_id: str | None = None
    stark_ex_resolution: str | None = None

    def to_coin_meta(self) -> CoinMeta:
        """The fields a withdrawal signature depends on, exactly as the server wrote them."""
        if self.stark_ex_asset_id is None or self.stark_ex_resolution is None:
            raise InvalidField(f"coin {self.coin_id} has no StarkEx asset id or resolution")
        return CoinMeta(
            coin_id=self.coin_id,
            stark_ex_asset_id=self.stark_ex_asset_id,
            stark_ex_resolution=self.stark_ex_resolution,
        )


class GlobalMeta(EdgeXModel):
    """``getMetaData.global``: chain, contract and system accounts."""

    app_env: str | None = None
    stark_ex_chain_id: str | None = None
    stark_ex_contract_address: str | None = None
    stark_ex_collateral_coin: Coin | None = None
    pool_account_id: Text | None = None
    pool_account_l2_key: str | None = None
    fast_withdraw_account_id: Text | None = None
    fast_withdraw_account_l2_key: str | None = None
    fee_account_id: Text | None = None
    fee_account_l2_key: str | None = None


class Token(EdgeXModel):
    """A token a chain can pay out."""

    token_address: str
    decimals: int | None = None
    token: str | None = None
    withdraw_enable: bool | None = None


class Chain(EdgeXModel):
    """A destination chain of cross withdrawals; a missing flag means "not stated" (ASSUMED)."""

    chain_id: Text
    chain: str | None = None
    contract_address: str | None = None
    fee_rate: OptionalMoney = None
    min_fee: OptionalMoney = None
    allow_withdraw: bool | None = None
    gas_less: bool | None = None
    fee_less: bool | None = None
    token_list: Many[Token] = ()


class MultiChain(EdgeXModel):
    """Withdrawal limits and the chains of the collateral coin."""

    coin_id: Text | None = None
    max_withdraw: OptionalMoney = None
    min_withdraw: OptionalMoney = None
    min_deposit: OptionalMoney = None
    chain_list: Many[Chain] = ()


class MetaData(EdgeXModel):
    """``getMetaData`` data (``contractList`` and other sections are kept as extras)."""

    global_: GlobalMeta = Field(alias="global")
    coin_list: tuple[Coin, ...]
    multi_chain: MultiChain | None = None


class Account(EdgeXModel):
    """``getAccountById`` data; ``l2_key`` is compared with the signing key at start."""

    id: Id
    l2_key: str
    user_id: Text | None = None
    eth_address: str | None = None
    client_account_id: str | None = None


class L2Signature(EdgeXModel):
    """A signature as the API echoes it (hex bigints)."""

    r: str | None = None
    s: str | None = None
    v: str | None = None


class L1Tx(EdgeXModel):
    """An Ethereum transaction reference."""

    hash: str | None = None
    index: int | None = None
    time: Text | None = None
    block_height: Text | None = None


class _WithdrawRecord(EdgeXModel):
    # The docs list the censor, L2-reject and L1 fields for cross withdrawals only; edgeX may send
    # them for normal ones too, so both kinds read them, always as optional.
    id: Id
    status: str
    user_id: Text | None = None
    account_id: Text | None = None
    coin_id: Text | None = None
    amount: OptionalMoney = None
    eth_address: str | None = None
    l2_nonce: Text | None = None
    # Hours in one place of the docs, milliseconds in another: opaque.
    l2_expire_time: Text | None = None
    l2_signature: L2Signature | None = None
    risk_signature: L2Signature | None = None
    l1_confirmed_tx: L1Tx | None = None
    l1_confirmed_time: Text | None = None
    l1_completed_time: Text | None = None
    created_time: Text | None = None
    updated_time: Text | None = None
    censor_tx_id: Text | None = None
    censor_time: Text | None = None
    censor_fail_code: str | None = None
    censor_fail_reason: str | None = None
    l2_tx_id: Text | None = None
    l2_handle_time: Text | None = None
    l2_reject_code: str | None = None
    l2_reject_reason: str | None = None
    l1_completed_tx: L1Tx | None = None
    l1_completed_eth_address: str | None = None
    l1_rejected_reason_code: str | None = None
    l1_rejected_reason_msg: str | None = None


class NormalWithdraw(_WithdrawRecord):
    """A ``getNormalWithdrawById`` record (statuses ``NORMAL_WITHDRAW_*``)."""

    client_withdraw_id: str | None = None
    trade_withdraw_id: Text | None = None


class CrossWithdraw(_WithdrawRecord):
    """A ``getCrossWithdrawById`` record (statuses ``CROSS_WITHDRAW_*``)."""

    client_cross_withdraw_id: str | None = None
    erc20_address: str | None = None
    lp_account_id: Text | None = None
    lp_account_l2_key: str | None = None
    fee: OptionalMoney = None
    chain_id: Text | None = None
    extra_type: str | None = None
    extra_data_json: str | None = None
    collateral_transaction_id: Text | None = None
    transfer_out_id: Text | None = None


class CrossWithdrawSignInfo(EdgeXModel):
    """The LP quote a cross withdrawal is signed against."""

    lp_account_id: Id
    cross_withdraw_l2_key: str
    cross_withdraw_max_amount: Money
    # Goes into the signed body verbatim, so it stays the server's string.
    fee: SignedDecimalText

    def to_quote(self) -> CrossWithdrawQuote:
        """The quote in the form ``signing.build_cross_withdraw_body`` takes."""
        return CrossWithdrawQuote(
            lp_account_id=self.lp_account_id,
            cross_withdraw_l2_key=self.cross_withdraw_l2_key,
            fee=self.fee,
        )


class WithdrawableAmount(EdgeXModel):
    """``getNormalWithdrawableAmount`` data: what can be claimed on L1 for an address."""

    amount: Money


class AssetOrder(EdgeXModel):
    """A ``getAllOrdersPage`` row; ``status`` is an undocumented integer, use the ById calls."""

    order_id: Id
    time: Text | None = None
    type: str | None = None
    status: int | None = None
    amount: OptionalMoney = None
    fee: OptionalMoney = None
    tx_id: str | None = None
    chain: str | None = None
    address: str | None = None
    coin: str | None = None
    chain_id: Text | None = None
    transfer_sender_account_id: Text | None = None
    transfer_receiver_account_id: Text | None = None


class AssetOrdersPage(EdgeXModel):
    """One page of orders; ``next_page_offset_data`` is None on the last page."""

    data_list: Many[AssetOrder] = ()
    next_page_offset_data: Annotated[str | None, BeforeValidator(_blank_none)] = None


class NormalWithdrawCreated(EdgeXModel):
    """``createNormalWithdraw`` data."""

    withdraw_id: Id


class CrossWithdrawCreated(EdgeXModel):
    """``createCrossWithdraw`` data (edgeX API docs: ``crossWithdrawId``)."""

    cross_withdraw_id: Id
