"""Policy files: every bad file is refused with a message naming the field and the problem."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from approvals.membership import resolve_membership
from approvals.policy import Unlisted, describe_policy, load_policy, parse_policy
from approvals.refusals import PolicyError, UnresolvedHandle
from tests.approvals.helpers import LISTED, LISTED_ARB, POLICY_TEXT, policy

ROOT = Path(__file__).resolve().parents[2]
TIER1 = "coins.USDT.tiers[1]"
LARGE_REQUIRE = 'require = [{ group = "treasury", count = 2 }, { group = "finance", count = 1 }]'


def _mutated(old: str, new: str) -> str:
    assert POLICY_TEXT.count(old) >= 1, f"fixture text lacks {old!r}"
    return POLICY_TEXT.replace(old, new, 1)


# (id, old, new, expected path, expected fragment of the problem)
BAD_POLICIES = [
    ("not-toml", "version = 1", "version = = 1", "file", "is not valid TOML"),
    ("no-version", "version = 1\n", "", "version", "is missing; start the file with version = 1"),
    ("version-2", "version = 1", "version = 2", "version", "2 is not supported"),
    ("version-string", "version = 1", 'version = "1"', "version", "must be the integer 1"),
    (
        "unknown-top-key",
        "version = 1",
        "version = 1\napprovers = []",
        "approvers",
        "unknown setting; expected one of",
    ),
    (
        "typo-in-approval",
        'expiry = "24h"',
        'expiry = "24h"\none_reject_end = false',
        "approval.one_reject_end",
        "unknown setting",
    ),
    (
        "no-requesters",
        'requesters = ["UREQ1", "UT2", "UF1", "@ops"]',
        "",
        "requesters",
        "is missing",
    ),
    (
        "empty-requesters",
        'requesters = ["UREQ1", "UT2", "UF1", "@ops"]',
        "requesters = []",
        "requesters",
        "is empty",
    ),
    (
        "email-as-member",
        '"UREQ1", "UT2"',
        '"bob@example.com", "UT2"',
        "requesters[0]",
        "is neither a Slack user id",
    ),
    (
        "duplicate-member",
        'treasury = ["UT1", "UT2"',
        'treasury = ["UT1", "UT1"',
        "groups.treasury[1]",
        "UT1 is listed twice",
    ),
    (
        "group-not-list",
        'finance = ["UF1", "UT1"]',
        'finance = "UF1"',
        "groups.finance",
        "must be a list",
    ),
    (
        "group-name",
        'finance = ["UF1", "UT1"]',
        '"finance leads" = ["UF1", "UT1"]',
        "groups.finance leads",
        "a group name may hold only",
    ),
    (
        "unknown-group",
        '{ group = "finance", count = 1 }',
        '{ group = "financial", count = 1 }',
        f"{TIER1}.require[1].group",
        "'financial' is not an approver group",
    ),
    (
        "count-zero",
        '{ group = "finance", count = 1 }',
        '{ group = "finance", count = 0 }',
        f"{TIER1}.require[1].count",
        "0 must be at least 1",
    ),
    (
        "count-string",
        '{ group = "finance", count = 1 }',
        '{ group = "finance", count = "1" }',
        f"{TIER1}.require[1].count",
        "must be a whole number without quotes",
    ),
    (
        "count-unmeetable",
        '{ group = "finance", count = 1 }',
        '{ group = "finance", count = 3 }',
        f"{TIER1}.require[1].count",
        "3 approvals from finance can never be met: it has 2 members",
    ),
    (
        "group-twice",
        '{ group = "finance", count = 1 }',
        '{ group = "treasury", count = 1 }',
        f"{TIER1}.require[1].group",
        "treasury appears twice in this tier",
    ),
    (
        "empty-require",
        LARGE_REQUIRE,
        "require = []",
        f"{TIER1}.require",
        "a tier without approvers would approve itself",
    ),
    (
        "first-tier-not-zero",
        'name = "standard"\nabove = "0"',
        'name = "standard"\nabove = "5"',
        "coins.USDT.tiers[0].above",
        'the first tier must start at "0"',
    ),
    (
        "tiers-out-of-order",
        'above = "10000"',
        'above = "0"',
        f"{TIER1}.above",
        "must be higher than the previous tier's 0",
    ),
    (
        "tier-above-max",
        'above = "10000"',
        'above = "250000"',
        f"{TIER1}.above",
        "so this tier could never apply",
    ),
    (
        "tier-name-twice",
        'name = "large"',
        'name = "standard"',
        f"{TIER1}.name",
        "tier 'standard' is defined twice",
    ),
    ("tier-unknown-key", 'above = "10000"', 'up_to = "10000"', f"{TIER1}.up_to", "unknown setting"),
    (
        "float-amount",
        'max_amount = "250000"',
        "max_amount = 250000.5",
        "coins.USDT.max_amount",
        "is a floating-point number; write it as a string",
    ),
    (
        "exponent",
        'daily_limit = "500000"',
        'daily_limit = "5e5"',
        "coins.USDT.daily_limit",
        "uses an exponent",
    ),
    (
        "negative-min",
        'min_amount = "10"',
        'min_amount = "-10"',
        "coins.USDT.min_amount",
        "is negative",
    ),
    ("zero-max", 'max_amount = "1000"', 'max_amount = "0"', "coins.USDC.max_amount", "is zero"),
    (
        "min-above-max",
        'min_amount = "10"',
        'min_amount = "300000"',
        "coins.USDT.min_amount",
        "is above max_amount 250,000",
    ),
    (
        "daily-below-max",
        'daily_limit = "500000"',
        'daily_limit = "100000"',
        "coins.USDT.daily_limit",
        "100,000 is below max_amount 250,000",
    ),
    (
        "unlisted-choice",
        'unlisted_destinations = "escalate"',
        'unlisted_destinations = "maybe"',
        "coins.USDT.unlisted_destinations",
        '\'maybe\' is not one of "refuse", "escalate"',
    ),
    (
        "escalate-unknown-tier",
        'escalate_to = "large"',
        'escalate_to = "huge"',
        "coins.USDT.escalate_to",
        "'huge' is not a tier of this coin (standard, large)",
    ),
    (
        "escalate-without-tier",
        'escalate_to = "large"\n',
        "",
        "coins.USDT.escalate_to",
        "is missing",
    ),
    (
        "refuse-with-escalate-to",
        'unlisted_destinations = "escalate"',
        'unlisted_destinations = "refuse"',
        "coins.USDT.escalate_to",
        "is only used with",
    ),
    (
        "unknown-coin-key",
        'daily_limit = "1000"',
        'daily_limit = "1000"\nmax_amont = "5"',
        "coins.USDC.max_amont",
        "unknown setting",
    ),
    (
        "lowercase-allowlisted",
        f'address = "{LISTED}"',
        f'address = "{LISTED.lower()}"',
        "coins.USDT.allowlist[0].address",
        "is all lowercase, so it carries no EIP-55 checksum",
    ),
    (
        "bad-checksum-allowlisted",
        f'address = "{LISTED}"',
        f'address = "{LISTED[:-1]}e"',
        "coins.USDT.allowlist[0].address",
        "fails its EIP-55 checksum",
    ),
    (
        "chain-id-string",
        "chain_id = 42161",
        'chain_id = "42161"',
        "coins.USDT.allowlist[1].chain_id",
        "must be a positive integer chain id",
    ),
    (
        "allowlist-twice",
        f'chain_id = 42161\naddress = "{LISTED_ARB}"',
        f'chain_id = 1\naddress = "{LISTED}"',
        "coins.USDT.allowlist[1].address",
        "on chain 1 is listed twice",
    ),
    (
        "no-label",
        'label = "Cold wallet"',
        'label = " "',
        "coins.USDT.allowlist[0].label",
        "must say whose address this is",
    ),
    (
        "expiry-words",
        'expiry = "24h"',
        'expiry = "24 hours"',
        "approval.expiry",
        "is not a duration",
    ),
    (
        "expiry-too-long",
        'expiry = "24h"',
        'expiry = "30d"',
        "approval.expiry",
        "30d is outside 10 minutes to 7 days",
    ),
    (
        "reminder-after-expiry",
        'reminder_after = "4h"',
        'reminder_after = "24h"',
        "approval.reminder_after",
        "shorter than the approval expiry",
    ),
    (
        "bool-as-string",
        'expiry = "24h"',
        'expiry = "24h"\none_reject_ends = "yes"',
        "approval.one_reject_ends",
        "must be true or false",
    ),
    (
        "negative-headroom",
        'headroom = "0.25"',
        'headroom = "-0.25"',
        "cross_fee.headroom",
        "is negative",
    ),
    (
        "share-above-one",
        'max_share_of_amount = "0.01"',
        'max_share_of_amount = "1.5"',
        "cross_fee.max_share_of_amount",
        "must be below 1",
    ),
    (
        "tiers-as-table",
        "[[coins.USDC.tiers]]",
        "[coins.USDC.tiers]",
        "coins.USDC.tiers",
        "must be written as [[coins.USDC.tiers]] tables",
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "path", "fragment"),
    [case[1:] for case in BAD_POLICIES],
    ids=[case[0] for case in BAD_POLICIES],
)
def test_bad_policy_names_field_and_problem(old: str, new: str, path: str, fragment: str) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(_mutated(old, new))
    assert caught.value.path == path
    assert fragment in caught.value.problem
    assert str(caught.value) == f"{path}: {caught.value.problem}"
    assert "\n" not in str(caught.value)


def test_refuse_with_empty_allowlist() -> None:
    text = POLICY_TEXT.split("[[coins.USDC.allowlist]]")[0]
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    assert caught.value.path == "coins.USDC.allowlist"
    assert "every withdrawal would be refused" in caught.value.problem


def test_no_coins() -> None:
    text = POLICY_TEXT.split("[cross_fee]")[0] + "[coins]\n"
    with pytest.raises(PolicyError, match=r"^coins: no coin is listed"):
        parse_policy(text)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"^file: cannot be read"):
        load_policy(tmp_path / "missing.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"version = 1\n\xff\xfe")
    with pytest.raises(PolicyError, match=r"^file: is not UTF-8 text"):
        load_policy(binary)


def test_example_policy_loads_and_reads_in_words() -> None:
    example = load_policy(ROOT / "policy.example.toml")
    lines = describe_policy(example)
    assert lines[0] == f"Policy {example.hash[:12]} (sha256 {example.hash})"
    assert "  Tier 'standard' (up to 10,000 USDT): 1 of treasury." in lines
    assert (
        "  Tier 'large' (above 10,000 up to 250,000 USDT): 2 of treasury and 1 of finance-leads."
        in lines
    )
    assert "  Destinations not on the allowlist need at least tier 'large'." in lines
    assert "The requester's own approval never counts." in lines
    assert "Approvals must be complete within 24 hours; a reminder goes out after 4 hours." in lines
    assert (
        "Cross-chain fees: approvers approve the quoted fee plus 25%, never more than 0.5% of "
        "the amount." in lines
    )
    assert example.handles() == frozenset({"treasury-ops", "finance-leads"})


def test_parsed_values_and_defaults() -> None:
    pol = policy()
    usdt = pol.coin("USDT")
    assert usdt is not None
    assert usdt.max_amount == Decimal("250000")
    assert [t.name for t in usdt.tiers] == ["standard", "large"]
    assert usdt.unlisted is Unlisted.ESCALATE
    assert pol.approval_expiry == timedelta(hours=24)
    assert pol.requester_never_counts
    assert pol.one_reject_ends
    usdc = pol.coin("USDC")
    assert usdc is not None
    assert usdc.min_amount is None
    assert usdc.unlisted is Unlisted.REFUSE
    bare = parse_policy(POLICY_TEXT.replace('expiry = "24h"\nreminder_after = "4h"\n', ""))
    assert bare.approval_expiry == timedelta(hours=24)
    assert bare.reminder_after is None
    no_cross = parse_policy(
        POLICY_TEXT.replace('[cross_fee]\nheadroom = "0.25"\n', "").replace(
            'max_share_of_amount = "0.01"\n', ""
        )
    )
    assert no_cross.cross_fee is None
    assert "Cross-chain withdrawals are refused" in describe_policy(no_cross)[-1]


def test_hash_ignores_layout_but_not_meaning() -> None:
    base = policy().hash
    assert parse_policy("# a comment\n" + POLICY_TEXT.replace(" = ", "  =  ")).hash == base
    reordered = POLICY_TEXT.replace(
        'treasury = ["UT1", "UT2", "@ops"]', 'treasury = ["@ops", "UT2", "UT1"]'
    )
    assert parse_policy(reordered).hash == base
    for old, new in [
        (
            '{ group = "finance", count = 1 }',
            '{ group = "treasury", count = 1 }'.replace("treasury", "finance").replace(
                "1 }", "2 }"
            ),
        ),
        ('treasury = ["UT1", "UT2", "@ops"]', 'treasury = ["UT1", "UT2", "UT9", "@ops"]'),
        ('expiry = "24h"', 'expiry = "23h"'),
        ('daily_limit = "500000"', 'daily_limit = "500001"'),
        ('label = "Cold wallet"', 'label = "Cold wallet 2"'),
        ('headroom = "0.25"', 'headroom = "0.3"'),
    ]:
        assert parse_policy(_mutated(old, new)).hash != base, new


def test_handles_fail_closed() -> None:
    pol = policy()
    assert pol.handles() == frozenset({"ops"})
    with pytest.raises(UnresolvedHandle) as caught:
        resolve_membership(pol, {})
    assert str(caught.value).startswith("The Slack user group @ops named in the approval policy")
    members = resolve_membership(pol, {"ops": ["UT3", "UO1"]})
    assert members.groups["treasury"] == frozenset({"UT1", "UT2", "UT3", "UO1"})
    assert "UO1" in members.requesters
    assert members.groups_of("UT1") == ("treasury", "finance")
