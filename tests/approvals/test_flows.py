"""edgeX V2 asset flows in the domain: to a chain, priced by edgeX's fee, capped by the policy."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from approvals.content import Kind, WithdrawalContent
from approvals.decisions import Decision
from approvals.drafts import (
    CrossDraft,
    NormalDraft,
    check_draft,
    quote_content,
    requote_content,
)
from approvals.lifecycle import State, begin_submission, decide, open_request
from approvals.membership import resolve_membership
from approvals.metadata import Chain, Coin, CrossQuote, ExchangeMetadata, FlowFee, Token
from approvals.policy import parse_policy
from approvals.refusals import DraftRefused, InvalidAmount
from tests.approvals.helpers import ACCOUNT, HANDLES, REQUESTER, T0, T1, T2

EDGE_USDC = "0x98d2919b9A214E6Fa5384AC81E6864bA686Ad74c"
NATIVE = "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE"
PAYOUT = "0xFCAd0B19bB29D4674531d6f115237E16AfCE377c"
OTHER = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"

V2 = ExchangeMetadata(
    l1_chain_id=None,
    coins=(
        Coin(
            coin_id="USDC",
            name="USDC",
            step_size=Decimal("0.000001"),
            chains=(Chain("Edge", 3343, None, (Token("USDC", EDGE_USDC, 6, None),)),),
        ),
        Coin(
            coin_id="ETH",
            name="ETH",
            step_size=Decimal("1e-18"),
            chains=(Chain("Arbitrum One", 42161, None, (Token("ETH", NATIVE, 18, None),)),),
        ),
    ),
)

POLICY = parse_policy(
    f"""
version = 1
requesters = ["{REQUESTER}"]

[groups]
treasury = ["{T1}", "{T2}"]

[cross_fee]
headroom = "0.5"
max_share_of_amount = "0.01"

[coins.USDC]
max_amount = "100000"
daily_limit = "200000"

[[coins.USDC.tiers]]
name = "standard"
above = "0"
require = [{{ group = "treasury", count = 1 }}]

[[coins.USDC.allowlist]]
chain_id = 3343
address = "{PAYOUT}"
label = "Edge treasury"
"""
)
MEMBERS = resolve_membership(POLICY, HANDLES)


def flow(amount: str = "1000", *, chain_id: int = 3343, fee: str | None = "1") -> CrossDraft:
    return CrossDraft(
        account_id=ACCOUNT,
        coin="USDC",
        amount=amount,
        destination=PAYOUT,
        chain_id=chain_id,
        quote=None if fee is None else FlowFee(Decimal(fee)),
    )


def checked(draft: CrossDraft | NormalDraft) -> WithdrawalContent:
    return check_draft(draft, requester=REQUESTER, exchange=V2, policy=POLICY, membership=MEMBERS)


def test_a_draft_to_a_chain_is_a_flow_capped_by_the_policys_fee_rule() -> None:
    content = checked(flow(fee="1"))
    assert content.kind is Kind.FLOW
    assert content.erc20_address == EDGE_USDC
    assert content.lp_account_id is None
    assert content.lp_l2_key is None
    assert content.fee_cap == Decimal("1.5")  # fee plus 50 % headroom, under 1 % of 1000
    assert content.quoted


def test_an_unpriced_flow_is_not_quoted_until_its_fee_arrives() -> None:
    content = checked(flow(fee=None))
    assert content.kind is Kind.FLOW
    assert not content.quoted
    priced = quote_content(content, FlowFee(Decimal("2")), POLICY)
    assert priced == checked(flow(fee="2"))


def test_v2_has_no_l1_withdrawal_and_says_what_it_offers() -> None:
    draft = NormalDraft(account_id=ACCOUNT, coin="USDC", amount="10", destination=PAYOUT)
    with pytest.raises(DraftRefused) as refused:
        checked(draft)
    assert refused.value.field == "chain"
    assert "no withdrawal to L1" in refused.value.message
    assert "USDC on Edge (chain 3343)" in refused.value.message


def test_a_chain_outside_the_profiles_is_refused_with_the_possible_ones() -> None:
    with pytest.raises(
        DraftRefused, match=r"no USDC withdrawals to chain 1; it offers Edge \(3343\)"
    ):
        checked(flow(chain_id=1))


@pytest.mark.parametrize(
    ("fee", "words"),
    [
        ("1000", "is not less than"),
        ("5000", "is not less than"),
        ("-1", "unusable withdrawal fee"),
        ("NaN", "unusable withdrawal fee"),
        ("11", "more than the policy allows"),
    ],
)
def test_a_fee_the_sdk_or_the_policy_would_refuse_is_refused(fee: str, words: str) -> None:
    with pytest.raises(DraftRefused, match=words):
        checked(flow(fee=fee))


def test_more_decimals_than_the_token_has_are_refused() -> None:
    with pytest.raises(InvalidAmount):
        checked(flow("1.0000001"))


def test_a_fee_within_the_cap_keeps_the_hash_and_a_higher_one_changes_it() -> None:
    content = checked(flow(fee="1"))
    assert requote_content(content, FlowFee(Decimal("1.5")), POLICY) == content
    higher = requote_content(content, FlowFee(Decimal("2")), POLICY)
    assert higher.fee_cap == Decimal("3")
    assert higher.hash != content.hash


def test_an_lp_quote_never_prices_a_flow_nor_a_fee_a_cross_withdrawal() -> None:
    content = checked(flow(fee=None))
    lp = CrossQuote(lp_account_id="5", lp_l2_key="0x1", max_amount=Decimal(9), fee=Decimal(1))
    with pytest.raises(ValueError, match="not priced by"):
        quote_content(content, lp, POLICY)
    with pytest.raises(ValueError, match="has no LP"):
        replace(checked(flow()), lp_account_id="5", lp_l2_key="0x1")


def test_a_flow_needs_its_token_address() -> None:
    with pytest.raises(ValueError, match="flow withdrawal needs its erc20 address"):
        replace(checked(flow()), erc20_address=None)


def test_the_flow_kind_is_part_of_the_hash() -> None:
    content = checked(flow())
    assert replace(content, kind=Kind.CROSS, fee_cap=None).hash != content.hash


def test_a_fee_above_the_cap_at_signing_sends_it_back_for_approval() -> None:
    request = open_request(
        flow(fee="1"),
        requester=REQUESTER,
        exchange=V2,
        policy=POLICY,
        membership=MEMBERS,
        withdrawn_in_window=Decimal(0),
        now=T0,
    )
    approved = decide(
        request,
        approver=T1,
        decision=Decision.APPROVE,
        policy=POLICY,
        membership=MEMBERS,
        now=T0 + timedelta(minutes=1),
    )
    assert approved.state is State.APPROVED
    at = T0 + timedelta(minutes=2)

    def recheck(fee: str) -> State:
        moved = begin_submission(
            approved,
            policy=POLICY,
            membership=MEMBERS,
            quote=FlowFee(Decimal(fee)),
            withdrawn_in_window=Decimal(0),
            now=at,
        )
        return moved.state

    assert recheck("1.5") is State.SUBMITTING
    assert recheck("1.6") is State.PENDING_APPROVAL
