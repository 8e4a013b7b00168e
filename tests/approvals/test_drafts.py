"""Drafts: what a treasury lead would refuse is refused, each with its own message and field."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

import pytest

from approvals.content import Kind, WithdrawalContent
from approvals.drafts import CrossDraft, NormalDraft, quote_content, validate_draft
from approvals.evaluation import choose_tier
from approvals.money import format_amount
from approvals.policy import Policy
from approvals.refusals import DraftRefused, InvalidAddress, InvalidAmount
from tests.approvals.helpers import (
    ACCOUNT,
    EXCHANGE,
    F1,
    LISTED,
    LISTED_ARB,
    OUTSIDER,
    POLICY_TEXT,
    QUOTE,
    REQUESTER,
    T1,
    UNLISTED,
    USDT_ARB,
    cross,
    membership,
    normal,
    policy,
)

NO_CROSS_POLICY = POLICY_TEXT.replace('[cross_fee]\nheadroom = "0.25"\n', "").replace(
    'max_share_of_amount = "0.01"\n', ""
)


@dataclass(frozen=True)
class Case:
    draft: NormalDraft | CrossDraft
    field: str | None
    fragment: str
    requester: str = REQUESTER
    withdrawn: str = "0"
    policy_text: str = POLICY_TEXT


BAD_DRAFTS: dict[str, Case] = {
    "drafter-outside-requester-group": Case(
        normal(), None, "You are not in the requester group of the approval policy", OUTSIDER
    ),
    "approver-is-not-a-requester": Case(normal(), None, "You are not in the requester group", T1),
    "account-not-a-number": Case(
        replace(normal(), account_id="main"), "account", "The edgeX account id 'main' is not"
    ),
    "unknown-coin": Case(
        normal(coin="DOGE"), "coin", "edgeX has no coin named 'DOGE'; it offers USDT, USDC, BTC"
    ),
    "coin-not-in-policy": Case(
        normal(coin="BTC"),
        "coin",
        "The approval policy does not allow withdrawing BTC; it allows USDT, USDC",
    ),
    "too-many-decimals": Case(
        normal("1.0000001"),
        "amount",
        "The amount 1.0000001 USDT has too many decimal places: USDT moves in steps of 0.000001",
    ),
    "negative": Case(normal("-5"), "amount", "The amount -5 USDT is negative"),
    "zero": Case(normal("0"), "amount", "The amount is zero; it must be more than zero"),
    "zero-with-decimals": Case(normal("0.000"), "amount", "The amount is zero"),
    "exponent": Case(
        normal("1e3"), "amount", "The amount 1e3 uses an exponent; write it out in full: 1000"
    ),
    "nan": Case(normal("NaN"), "amount", "The amount 'NaN' is not a number"),
    "infinity": Case(normal("Infinity"), "amount", "The amount 'Infinity' is not a number"),
    "thousands-separator": Case(
        normal("10 000"), "amount", "The amount 10 000 contains a separator"
    ),
    "decimal-comma": Case(normal("12,5"), "amount", 'the decimal separator is ".", e.g. 1.5'),
    "empty-amount": Case(normal("  "), "amount", "The amount is empty"),
    "words": Case(normal("ten"), "amount", "The amount 'ten' is not a plain number"),
    "plus-sign": Case(normal("+5"), "amount", "The amount '+5' is not a plain number"),
    "leading-dot": Case(normal(".5"), "amount", "The amount '.5' is not a plain number"),
    "below-exchange-minimum": Case(
        normal("4"), "amount", "4 USDT is below edgeX's minimum withdrawal of 5 USDT"
    ),
    "below-policy-minimum": Case(
        normal("9.99"), "amount", "9.99 USDT is below the policy minimum of 10 USDT"
    ),
    "above-exchange-maximum": Case(
        normal("1000000.5"),
        "amount",
        "1,000,000.5 USDT is above edgeX's maximum withdrawal of 1,000,000 USDT",
    ),
    "above-tier-maximum": Case(
        normal("250000.01"),
        "amount",
        "250,000.01 USDT is above the policy maximum of 250,000 USDT per withdrawal",
    ),
    "over-daily-limit": Case(
        normal("1000"),
        "amount",
        "1,000 USDT would bring the last 24 hours' USDT withdrawals to 500,500 USDT, above the "
        "policy's daily limit of 500,000 USDT; at most 500 USDT can be withdrawn now",
        withdrawn="499500",
    ),
    "daily-limit-used-up": Case(
        normal("10"),
        "amount",
        "nothing more can be withdrawn until earlier withdrawals leave the window",
        withdrawn="500000",
    ),
    "not-on-allowlist": Case(
        normal("100", UNLISTED, coin="USDC"),
        "destination",
        f"{UNLISTED} is not on the USDC allowlist for chain 1, and the policy refuses other",
    ),
    "bad-checksum": Case(
        normal(destination=LISTED[:-1] + "e"),
        "destination",
        "fails its EIP-55 checksum, so at least one character is wrong",
    ),
    "lowercase-address": Case(
        normal(destination=LISTED.lower()),
        "destination",
        f"is all lowercase, so it carries no EIP-55 checksum to catch a typo. Its checksummed "
        f"form is {LISTED}",
    ),
    "uppercase-address": Case(
        normal(destination="0x" + LISTED_ARB[2:].upper()),
        "destination",
        f"is all uppercase, so it carries no EIP-55 checksum to catch a typo. Its checksummed "
        f"form is {LISTED_ARB}",
    ),
    "zero-address": Case(normal(destination="0x" + "0" * 40), "destination", "is the zero address"),
    "short-address": Case(
        normal(destination=LISTED[:-2]),
        "destination",
        "is not an address: it must be 0x followed by 40 hex characters",
    ),
    "ens-name": Case(normal(destination="treasury.eth"), "destination", "is not an address"),
    "cross-unknown-chain": Case(
        cross(chain_id=12345),
        "chain",
        "edgeX offers no USDT withdrawals to chain 12345; it offers Arbitrum (42161), "
        "BNB Chain (56)",
    ),
    "cross-chain-switched-off": Case(
        cross(chain_id=137), "chain", "edgeX has withdrawals to Polygon switched off right now"
    ),
    "cross-token-switched-off": Case(
        cross(chain_id=56), "chain", "edgeX has USDT withdrawals on BNB Chain switched off"
    ),
    "cross-no-token": Case(cross(chain_id=998), "chain", "edgeX lists no USDT token on Empty"),
    "cross-token-decimals": Case(
        cross("1000.001", chain_id=999),
        "amount",
        "has more decimal places than USDT has on Tiny (2)",
    ),
    "cross-above-quoted-max": Case(
        cross("40000.5"),
        "amount",
        "40,000.5 USDT is above the 40,000 USDT the liquidity provider can pay out on chain "
        "42161 right now",
    ),
    "cross-fee-too-high": Case(
        cross(quote=replace(QUOTE, fee=Decimal("10.01"))),
        "chain",
        "The quoted fee of 10.01 USDT is more than the policy allows (1% of the amount, 10 USDT)",
    ),
    "cross-unusable-quote": Case(
        cross(quote=replace(QUOTE, lp_l2_key="zz")),
        None,
        "edgeX returned an unusable cross-withdrawal quote",
    ),
    "cross-infinite-fee": Case(
        cross(quote=replace(QUOTE, fee=Decimal("Infinity"))),
        None,
        "edgeX returned an unusable cross-withdrawal quote",
    ),
    "cross-malformed-token-metadata": Case(
        cross(chain_id=997),
        "chain",
        "edgeX lists a malformed USDT token address on Broken, so withdrawals there are refused",
    ),
    "cross-not-in-policy": Case(
        cross(),
        "chain",
        "The approval policy sets no fee cap for cross-chain withdrawals, so they are refused",
        policy_text=NO_CROSS_POLICY,
    ),
    "cross-coin-without-chains": Case(
        replace(cross("100"), coin="USDC"),
        "chain",
        "edgeX offers no USDC withdrawals to chain 42161",
    ),
}


def _validate(case: Case, pol: Policy) -> None:
    validate_draft(
        case.draft,
        requester=case.requester,
        exchange=EXCHANGE,
        policy=pol,
        membership=membership(pol),
        withdrawn_in_window=Decimal(case.withdrawn),
    )


@pytest.mark.parametrize("case", BAD_DRAFTS.values(), ids=BAD_DRAFTS.keys())
def test_bad_draft_is_refused_with_its_message(case: Case) -> None:
    pol = policy(case.policy_text)
    with pytest.raises(DraftRefused) as caught:
        _validate(case, pol)
    assert case.fragment in str(caught.value)
    assert caught.value.field == case.field


def test_amount_and_address_errors_have_their_own_types() -> None:
    pol = policy()
    with pytest.raises(InvalidAmount):
        _validate(BAD_DRAFTS["exponent"], pol)
    with pytest.raises(InvalidAddress):
        _validate(BAD_DRAFTS["lowercase-address"], pol)


def test_normal_draft_becomes_content() -> None:
    pol = policy()
    content = validate_draft(
        normal(" 1500.250000 "),
        requester=F1,
        exchange=EXCHANGE,
        policy=pol,
        membership=membership(pol),
        withdrawn_in_window=Decimal("498499.75"),
    )
    assert content.kind is Kind.NORMAL
    assert (content.account_id, content.coin_id, content.coin_name) == (ACCOUNT, "1000", "USDT")
    assert content.amount == Decimal("1500.25")
    assert (content.destination, content.chain_id) == (LISTED, 1)
    assert content.erc20_address is None
    assert content.lp_account_id is None
    assert content.fee_cap is None
    assert choose_tier(pol, content).tier.name == "standard"


def test_an_amount_copied_from_a_message_drafts_the_same_content() -> None:
    pol = policy()

    def content(amount: str) -> WithdrawalContent:
        return validate_draft(
            normal(amount),
            requester=F1,
            exchange=EXCHANGE,
            policy=pol,
            membership=membership(pol),
            withdrawn_in_window=Decimal(0),
        )

    copied = content(format_amount(Decimal("12500.5")))
    assert copied.amount == Decimal("12500.5")
    assert copied.hash == content("12500.5").hash


def test_unlisted_destination_escalates_instead_of_refusing() -> None:
    pol = policy()
    content = validate_draft(
        normal("100", UNLISTED),
        requester=REQUESTER,
        exchange=EXCHANGE,
        policy=pol,
        membership=membership(pol),
        withdrawn_in_window=Decimal(0),
    )
    choice = choose_tier(pol, content)
    assert (choice.tier.name, choice.by_amount.name, choice.escalated) == (
        "large",
        "standard",
        True,
    )


def test_cross_draft_binds_quote_and_fee_cap() -> None:
    pol = policy()
    content = validate_draft(
        cross("1000"),
        requester=REQUESTER,
        exchange=EXCHANGE,
        policy=pol,
        membership=membership(pol),
        withdrawn_in_window=Decimal(0),
    )
    assert content.kind is Kind.CROSS
    assert content.chain_id == 42161
    assert content.erc20_address == USDT_ARB  # metadata gave it lowercase
    assert (content.lp_account_id, content.lp_l2_key) == ("555", "0xabc")
    assert content.fee_cap == Decimal("2.5")  # 2 quoted + 25% headroom, under 1% of 1000
    capped = validate_draft(
        cross("1000", quote=replace(QUOTE, fee=Decimal("9"))),
        requester=REQUESTER,
        exchange=EXCHANGE,
        policy=pol,
        membership=membership(pol),
        withdrawn_in_window=Decimal(0),
    )
    assert capped.fee_cap == Decimal("10")  # 9 + 25% would exceed the 1% ceiling


def _content(draft: CrossDraft, pol: Policy) -> WithdrawalContent:
    return validate_draft(
        draft,
        requester=REQUESTER,
        exchange=EXCHANGE,
        policy=pol,
        membership=membership(pol),
        withdrawn_in_window=Decimal(0),
    )


def test_a_cross_draft_without_its_quote_is_checked_in_everything_else() -> None:
    pol = policy()
    unquoted = _content(cross("1000", quote=None), pol)
    assert not unquoted.quoted
    assert (unquoted.chain_id, unquoted.erc20_address) == (42161, USDT_ARB)
    assert (unquoted.lp_account_id, unquoted.lp_l2_key, unquoted.fee_cap) == (None, None, None)
    assert quote_content(unquoted, QUOTE, pol) == _content(cross("1000"), pol)
    with pytest.raises(DraftRefused, match="sets no fee cap for cross-chain"):
        _content(cross("1000", quote=None), policy(NO_CROSS_POLICY))
    with pytest.raises(DraftRefused, match="above the policy's daily limit"):
        validate_draft(
            cross("1000", quote=None),
            requester=REQUESTER,
            exchange=EXCHANGE,
            policy=pol,
            membership=membership(pol),
            withdrawn_in_window=Decimal("499500"),
        )


def test_only_unquoted_cross_content_takes_a_first_quote() -> None:
    pol = policy()
    with pytest.raises(ValueError, match="only an unquoted cross withdrawal"):
        quote_content(_content(cross("1000"), pol), QUOTE, pol)
    normal_content = validate_draft(
        normal(),
        requester=REQUESTER,
        exchange=EXCHANGE,
        policy=pol,
        membership=membership(pol),
        withdrawn_in_window=Decimal(0),
    )
    with pytest.raises(ValueError, match="only an unquoted cross withdrawal"):
        quote_content(normal_content, QUOTE, pol)
    with pytest.raises(DraftRefused, match="unusable cross-withdrawal quote"):
        quote_content(
            _content(cross("1000", quote=None), pol), replace(QUOTE, lp_l2_key="nope"), pol
        )
