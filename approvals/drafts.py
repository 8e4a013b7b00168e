"""Drafts checked the way a treasury lead would check them, before anyone is asked to approve.

A draft is text a person typed plus, for a cross-chain withdrawal, the LP quote the bot fetched.
It becomes ``WithdrawalContent`` only if the drafter may draft, edgeX offers the coin (and chain,
with withdrawals switched on), the amount is exact, within the coin's step and within both the
exchange's and the policy's bounds, the destination is checksummed and allowed, the quote can
take the amount at a fee the policy accepts, and the rolling 24-hour limit still has room.
Refusing here is cheap; an approved mistake is not.

A process without the account key cannot fetch the quote (a private edgeX API). Its cross draft
has no quote: every other check is made, and the content is left unquoted for the worker, which
fills the quote in later with :func:`quote_content`, the very function a draft quoted at once
goes through, so the content (and its hash) is the same whichever process fetched the quote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from decimal import Decimal

from approvals.addresses import canonical_address, parse_address
from approvals.content import Kind, WithdrawalContent, canonical_l2_key
from approvals.evaluation import choose_tier, coin_policy
from approvals.membership import Membership
from approvals.metadata import Chain, Coin, CrossQuote, ExchangeMetadata, FlowFee, Quote
from approvals.money import (
    MAX_AMOUNT_CHARS,
    decimal_places,
    exact_sum,
    format_amount,
    parse_amount,
)
from approvals.policy import FeeCapRule, Policy
from approvals.refusals import DraftRefused, InvalidAmount

__all__ = [
    "CrossDraft",
    "Draft",
    "NormalDraft",
    "check_daily_limit",
    "check_draft",
    "quote_content",
    "requote_content",
    "validate_draft",
]

_ACCOUNT = re.compile(r"[1-9][0-9]{0,19}", re.ASCII)


@dataclass(frozen=True, slots=True)
class NormalDraft:
    """A withdrawal to an L1 address, as typed: ``amount`` and ``destination`` are raw text."""

    account_id: str
    coin: str
    amount: str
    destination: str


@dataclass(frozen=True, slots=True)
class CrossDraft:
    """A withdrawal to ``chain_id``, with the quote fetched for it, if any.

    On edgeX V1 an LP pays it out (``Kind.CROSS``, quoted by a ``CrossQuote``); on V2 edgeX
    does (``Kind.FLOW``, priced by a ``FlowFee``): which one is the exchange metadata's to say.
    """

    account_id: str
    coin: str
    amount: str
    destination: str
    chain_id: int
    quote: Quote | None


Draft = NormalDraft | CrossDraft


def validate_draft(
    draft: Draft,
    *,
    requester: str,
    exchange: ExchangeMetadata,
    policy: Policy,
    membership: Membership,
    withdrawn_in_window: Decimal,
) -> WithdrawalContent:
    """The content to approve, or the first reason a treasury lead would refuse the draft.

    ``withdrawn_in_window`` is the amount of this coin already withdrawn or on its way out in the
    last 24 hours (approved, submitting, submitted or completed requests), summed by the caller.
    """
    content = check_draft(
        draft, requester=requester, exchange=exchange, policy=policy, membership=membership
    )
    check_daily_limit(policy, content, withdrawn_in_window)
    return content


def check_draft(
    draft: Draft,
    *,
    requester: str,
    exchange: ExchangeMetadata,
    policy: Policy,
    membership: Membership,
) -> WithdrawalContent:
    """Every check of :func:`validate_draft` but the daily limit, which needs the stored sum.

    This is where the amount, destination and chain a person typed are parsed, once: the
    content it returns carries them typed to the approval, the quote and the signer.
    """
    if requester not in membership.requesters:
        raise DraftRefused(
            "You are not in the requester group of the approval policy, so you cannot draft "
            "withdrawals; ask a treasury lead to add you"
        )
    if not _ACCOUNT.fullmatch(draft.account_id):
        raise DraftRefused(
            f"The edgeX account id {draft.account_id[:40]!r} is not an account number",
            field="account",
        )
    coin = exchange.coin_named(draft.coin)
    if coin is None:
        offered = ", ".join(c.name for c in exchange.coins) or "nothing"
        raise DraftRefused(
            f"edgeX has no coin named {draft.coin[:20]!r}; it offers {offered}", field="coin"
        )
    coin_policy(policy, coin.name)
    amount = parse_amount(draft.amount, step=coin.step_size, unit=coin.name)
    _check_exchange_bounds(amount, coin)
    destination = parse_address(draft.destination)
    if isinstance(draft, CrossDraft):
        kind = Kind.FLOW if exchange.asset_flows else Kind.CROSS
        content = _cross_content(
            draft, kind=kind, coin=coin, amount=amount, destination=destination, policy=policy
        )
    elif exchange.l1_chain_id is None:
        raise DraftRefused(
            "edgeX V2 has no withdrawal to L1: every withdrawal goes to a chain. "
            + _chains_offered(exchange),
            field="chain",
        )
    else:
        content = WithdrawalContent(
            kind=Kind.NORMAL,
            account_id=draft.account_id,
            coin_id=coin.coin_id,
            coin_name=coin.name,
            amount=amount,
            destination=destination,
            chain_id=exchange.l1_chain_id,
        )
    choose_tier(policy, content)
    return content


def _check_exchange_bounds(amount: Decimal, coin: Coin) -> None:
    unit = coin.name
    if coin.min_withdraw is not None and amount < coin.min_withdraw:
        raise DraftRefused(
            f"{format_amount(amount)} {unit} is below edgeX's minimum withdrawal of "
            f"{format_amount(coin.min_withdraw)} {unit}",
            field="amount",
        )
    if coin.max_withdraw is not None and amount > coin.max_withdraw:
        raise DraftRefused(
            f"{format_amount(amount)} {unit} is above edgeX's maximum withdrawal of "
            f"{format_amount(coin.max_withdraw)} {unit}",
            field="amount",
        )


def _chains_offered(exchange: ExchangeMetadata) -> str:
    offered = [
        f"{coin.name} on {chain.name} (chain {chain.chain_id})"
        for coin in exchange.coins
        for chain in coin.chains
    ]
    return "It offers " + (", ".join(offered) if offered else "nothing right now") + "."


def _cross_content(
    draft: CrossDraft,
    *,
    kind: Kind,
    coin: Coin,
    amount: Decimal,
    destination: str,
    policy: Policy,
) -> WithdrawalContent:
    _fee_rule(policy)
    chain = _chain(coin, draft.chain_id)
    token = next((t for t in chain.tokens if t.token == coin.name), None)
    if token is None:
        raise DraftRefused(f"edgeX lists no {coin.name} token on {chain.name}", field="chain")
    if token.withdraw_enabled is False:
        raise DraftRefused(
            f"edgeX has {coin.name} withdrawals on {chain.name} switched off right now; try "
            "later or pick another chain",
            field="chain",
        )
    if decimal_places(amount) > token.decimals:
        raise InvalidAmount(
            f"The amount {amount} {coin.name} has more decimal places than {coin.name} has on "
            f"{chain.name} ({token.decimals})"
        )
    try:
        erc20_address = canonical_address(token.address)
    except ValueError as err:
        raise DraftRefused(
            f"edgeX lists a malformed {coin.name} token address on {chain.name}, so withdrawals "
            "there are refused",
            field="chain",
        ) from err
    content = WithdrawalContent(
        kind=kind,
        account_id=draft.account_id,
        coin_id=coin.coin_id,
        coin_name=coin.name,
        amount=amount,
        destination=destination,
        chain_id=chain.chain_id,
        erc20_address=erc20_address,
    )
    return content if draft.quote is None else quote_content(content, draft.quote, policy)


def quote_content(content: WithdrawalContent, quote: Quote, policy: Policy) -> WithdrawalContent:
    """Unquoted content with its quote filled in, or why the quote cannot serve it.

    Refused when the quote is unusable, cannot take the amount, or the policy has no fee rule;
    otherwise the fee cap the policy derives from the quoted fee (and, from an LP's quote, the
    LP account and its key) become part of the content approvers will approve.
    """
    if content.kind is Kind.NORMAL or content.quoted:
        raise ValueError(
            f"only an unquoted cross withdrawal or flow takes a first quote, not {content}"
        )
    rule = _fee_rule(policy)
    if isinstance(quote, FlowFee):
        fee = _check_flow_fee(content, quote)
        return replace(content, fee_cap=rule.cap_for(fee, content.amount, coin=content.coin_name))
    _check_quote_kind(content, quote)
    lp_key = _check_quote(content.amount, content.coin_name, content.chain_id, quote)
    return replace(
        content,
        lp_account_id=quote.lp_account_id,
        lp_l2_key=lp_key,
        fee_cap=rule.cap_for(quote.fee, content.amount, coin=content.coin_name),
    )


def _fee_rule(policy: Policy) -> FeeCapRule:
    if policy.cross_fee is None:
        raise DraftRefused(
            "The approval policy sets no fee cap for cross-chain withdrawals, so they are "
            "refused; withdraw to L1 instead or ask a treasury lead",
            field="chain",
        )
    return policy.cross_fee


def _chain(coin: Coin, chain_id: int) -> Chain:
    chain = next((c for c in coin.chains if c.chain_id == chain_id), None)
    if chain is None:
        offered = ", ".join(f"{c.name} ({c.chain_id})" for c in coin.chains)
        raise DraftRefused(
            f"edgeX offers no {coin.name} withdrawals to chain {chain_id}"
            + (f"; it offers {offered}" if offered else ""),
            field="chain",
        )
    if chain.withdraw_allowed is False:
        raise DraftRefused(
            f"edgeX has withdrawals to {chain.name} switched off right now; try later or pick "
            "another chain",
            field="chain",
        )
    return chain


def _check_quote_kind(content: WithdrawalContent, quote: Quote) -> None:
    expected = FlowFee if content.kind is Kind.FLOW else CrossQuote
    if not isinstance(quote, expected):
        raise ValueError(f"a {content.kind.value} withdrawal is not priced by a {quote!r}")


def _check_flow_fee(content: WithdrawalContent, quote: FlowFee) -> Decimal:
    """The fee, once it is a usable amount below the withdrawal itself (as edgeX's SDK demands)."""
    _check_quote_kind(content, quote)
    if not _sane(quote.fee) or quote.fee < 0:
        raise DraftRefused("edgeX returned an unusable withdrawal fee; try again")
    if quote.fee >= content.amount:
        raise DraftRefused(
            f"edgeX's fee of {format_amount(quote.fee)} {content.coin_name} is not less than the "
            f"{format_amount(content.amount)} {content.coin_name} withdrawn; withdraw more",
            field="amount",
        )
    return quote.fee


def _check_quote(amount: Decimal, unit: str, chain_id: int, quote: CrossQuote) -> str:
    """The quote's LP key in canonical form, once the quote is usable and can take the amount."""
    try:
        lp_key = canonical_l2_key(quote.lp_l2_key)
    except ValueError:
        lp_key = ""
    usable = (
        lp_key
        and _ACCOUNT.fullmatch(quote.lp_account_id)
        and all(_sane(value) for value in (quote.fee, quote.max_amount))
        and quote.fee >= 0
    )
    if not usable:
        raise DraftRefused("edgeX returned an unusable cross-withdrawal quote; try again")
    if amount > quote.max_amount:
        raise DraftRefused(
            f"{format_amount(amount)} {unit} is above the {format_amount(quote.max_amount)} "
            f"{unit} the liquidity provider can pay out on chain {chain_id} right now; lower "
            "the amount or try later",
            field="amount",
        )
    return lp_key


def _sane(value: Decimal) -> bool:
    """Finite and short enough for exact arithmetic, as a parsed amount would be."""
    return value.is_finite() and len(value.as_tuple().digits) <= MAX_AMOUNT_CHARS


def requote_content(content: WithdrawalContent, quote: Quote, policy: Policy) -> WithdrawalContent:
    """The content under a new quote: unchanged if the quote fits what was approved.

    A quote fits when it comes from the same LP account and key (an LP's quote), can take the
    amount, and its fee is within the approved cap; then the content hash, and with it every
    approval, stands. Otherwise the LP fields and a new cap (from the policy's rule) replace the
    old ones, so the hash changes and earlier approvals are void.
    """
    if content.kind is Kind.NORMAL or content.fee_cap is None:
        raise ValueError("only a cross withdrawal has a quote (and a flow its fee)")
    if isinstance(quote, FlowFee):
        fee = _check_flow_fee(content, quote)
        if fee <= content.fee_cap:
            return content
        cap = _fee_rule(policy).cap_for(fee, content.amount, coin=content.coin_name)
        return replace(content, fee_cap=cap)
    _check_quote_kind(content, quote)
    lp_key = _check_quote(content.amount, content.coin_name, content.chain_id, quote)
    if (
        quote.lp_account_id == content.lp_account_id
        and lp_key == content.lp_l2_key
        and quote.fee <= content.fee_cap
    ):
        return content
    fee_cap = _fee_rule(policy).cap_for(quote.fee, content.amount, coin=content.coin_name)
    return replace(content, lp_account_id=quote.lp_account_id, lp_l2_key=lp_key, fee_cap=fee_cap)


def check_daily_limit(
    policy: Policy, content: WithdrawalContent, withdrawn_in_window: Decimal
) -> None:
    """Refuse content that would take the coin past its rolling 24-hour limit."""
    if withdrawn_in_window < 0:
        raise ValueError(f"withdrawn amount cannot be negative: {withdrawn_in_window}")
    coin = coin_policy(policy, content.coin_name)
    unit = content.coin_name
    total = exact_sum(withdrawn_in_window, content.amount)
    if total > coin.daily_limit:
        room = coin.daily_limit - withdrawn_in_window
        left = (
            f"at most {format_amount(room)} {unit} can be withdrawn now"
            if room > 0
            else "nothing more can be withdrawn until earlier withdrawals leave the window"
        )
        raise DraftRefused(
            f"{format_amount(content.amount)} {unit} would bring the last 24 hours' {unit} "
            f"withdrawals to {format_amount(total)} {unit}, above the policy's daily limit of "
            f"{format_amount(coin.daily_limit)} {unit}; {left}",
            field="amount",
        )
