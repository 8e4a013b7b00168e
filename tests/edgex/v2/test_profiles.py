"""The V2 withdraw profiles: the SDK's table, exact raw units, and the example policy fits them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from approvals.content import Kind
from approvals.drafts import CrossDraft, check_draft
from approvals.membership import resolve_membership
from approvals.policy import load_policy
from bot.edgex.v2.profiles import PROFILES, from_raw, profile_for, to_raw
from bot.exchange_terms import flow_metadata

ROOT = Path(__file__).resolve().parents[3]


def test_the_profiles_are_the_sdks_mainnet_ones() -> None:
    assert {(p.name, p.chain_id, p.token, p.token_address, p.decimals) for p in PROFILES} == {
        ("mainnet-usdc", 3343, "USDC", "0x98d2919b9A214E6Fa5384AC81E6864bA686Ad74c", 6),
        (
            "mainnet-eth-native",
            42161,
            "ETH",
            "0xEeeeeEeeeEeEeeEeEeEeeEEEeeeeEeeeeeeeEEeE",
            18,
        ),
    }
    assert profile_for(3343, "0x98D2919B9A214E6FA5384AC81E6864BA686AD74C") is PROFILES[0]
    assert profile_for(1, PROFILES[0].token_address) is None


@given(st.integers(min_value=1, max_value=10**30), st.sampled_from([6, 18]))
def test_raw_units_convert_exactly_both_ways(raw: int, decimals: int) -> None:
    amount = from_raw(str(raw), decimals)
    assert to_raw(amount, decimals) == str(raw)


@pytest.mark.parametrize("raw", ["", "-1", "1.5", "1e3", "\uff10", "9" * 79])
def test_anything_but_raw_digits_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="not a raw token amount"):
        from_raw(raw, 6)


def test_more_decimals_than_the_token_has_is_refused() -> None:
    with pytest.raises(ValueError, match="not a whole number"):
        to_raw(Decimal("1.0000001"), 6)


def test_the_v2_example_policy_drafts_flows_on_every_allowlisted_destination() -> None:
    policy = load_policy(ROOT / "policy.v2.example.toml")
    members = resolve_membership(policy, {"treasury-ops": ["U01REQUEST"], "finance-leads": []})
    for coin in policy.coins:
        for entry in coin.allowlist:
            content = check_draft(
                CrossDraft(
                    account_id="1",
                    coin=coin.coin,
                    amount=str(coin.min_amount or 1),
                    destination=entry.address,
                    chain_id=entry.chain_id,
                    quote=None,
                ),
                requester="U01REQUEST",
                exchange=flow_metadata(),
                policy=policy,
                membership=members,
            )
            assert content.kind is Kind.FLOW
            assert profile_for(content.chain_id, content.erc20_address or "") is not None
