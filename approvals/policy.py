"""The approval policy: policy.toml parsed into typed, validated, hashable objects.

The policy decides who may draft, who must approve what, and which withdrawals are refused
outright, so a mistake in it moves money. Parsing is therefore strict: every key is known (a
typo such as ``one_reject_end`` would otherwise silently keep a default), every amount is an
exact decimal, every cross-reference resolves, and every tier can actually be met. Each error
names the field path (``coins.USDT.tiers[1].require[0].count``) and what is wrong, and the whole
file is refused on the first error, never half-applied.

The policy's hash is taken over a canonical form of the parsed policy, not the file bytes, so
comments and layout do not change it while any change of meaning does. Approvals record the hash
in force; approvals given under another policy no longer count.

``parse_policy`` is pure; ``load_policy`` is the one function here that touches a file, kept so
that ``withdrawbot policy check FILE`` and startup report unreadable files the same way as
invalid ones.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from pathlib import Path

from approvals.addresses import parse_address
from approvals.money import canonical_decimal, exact_product, exact_sum, format_amount, parse_amount
from approvals.refusals import DraftRefused, PolicyError

__all__ = [
    "DEFAULT_APPROVAL_EXPIRY",
    "MAX_APPROVAL_EXPIRY",
    "MIN_APPROVAL_EXPIRY",
    "POLICY_VERSION",
    "AllowedDestination",
    "ApproverGroup",
    "CoinPolicy",
    "FeeCapRule",
    "Policy",
    "Requirement",
    "Tier",
    "Unlisted",
    "describe_policy",
    "format_duration",
    "handle_name",
    "is_handle",
    "load_policy",
    "parse_policy",
    "percent",
]

POLICY_VERSION = 1
DEFAULT_APPROVAL_EXPIRY = timedelta(hours=24)
MIN_APPROVAL_EXPIRY = timedelta(minutes=10)
MAX_APPROVAL_EXPIRY = timedelta(days=7)
_HASH_DOMAIN = "withdrawbot/policy/v1"

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}", re.ASCII)
_HANDLE = re.compile(r"@[a-z0-9][a-z0-9._-]*", re.ASCII)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*", re.ASCII)
_COIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*", re.ASCII)
_DURATION = re.compile(r"(?:([0-9]+)d)?(?:([0-9]+)h)?(?:([0-9]+)m)?", re.ASCII)


class Unlisted(StrEnum):
    """What happens to a destination that is not on the coin's allowlist."""

    REFUSE = "refuse"
    ESCALATE = "escalate"


@dataclass(frozen=True, slots=True)
class Requirement:
    """``count`` distinct approvers from ``group``; all of a tier's requirements must hold."""

    group: str
    count: int


@dataclass(frozen=True, slots=True)
class Tier:
    """Applies to amounts strictly above ``above`` up to the next tier's ``above``."""

    name: str
    above: Decimal
    requires: tuple[Requirement, ...]

    def describe(self) -> str:
        """The requirements in words: "2 of treasury and 1 of finance-leads"."""
        return " and ".join(f"{req.count} of {req.group}" for req in self.requires)


@dataclass(frozen=True, slots=True)
class AllowedDestination:
    """One allowlisted address on one chain, with the label people recognise it by."""

    chain_id: int
    address: str
    label: str


@dataclass(frozen=True, slots=True)
class CoinPolicy:
    """Everything the policy says about one coin; a coin without one cannot be withdrawn."""

    coin: str
    max_amount: Decimal
    daily_limit: Decimal
    tiers: tuple[Tier, ...]
    min_amount: Decimal | None = None
    allowlist: tuple[AllowedDestination, ...] = ()
    unlisted: Unlisted = Unlisted.REFUSE
    escalate_to: str | None = None

    def tier_for_amount(self, amount: Decimal) -> Tier:
        """The highest tier whose lower bound the amount is above (the first starts at 0)."""
        return [tier for tier in self.tiers if amount > tier.above][-1]

    def tier_named(self, name: str) -> Tier:
        """A tier by name; parsing guarantees ``escalate_to`` names one."""
        return next(tier for tier in self.tiers if tier.name == name)

    def tier_index(self, tier: Tier) -> int:
        """Tiers are ordered by amount, so a larger index is a stricter tier."""
        return self.tiers.index(tier)

    def upper_bound(self, tier: Tier) -> Decimal:
        """Where a tier ends: the next tier's start, or the coin's maximum."""
        index = self.tier_index(tier)
        return self.tiers[index + 1].above if index + 1 < len(self.tiers) else self.max_amount

    def listed(self, chain_id: int, address: str) -> AllowedDestination | None:
        """The allowlist entry for a checksummed destination on a chain, if any."""
        return next(
            (
                entry
                for entry in self.allowlist
                if entry.chain_id == chain_id and entry.address == address
            ),
            None,
        )


@dataclass(frozen=True, slots=True)
class FeeCapRule:
    """How much fee approvers approve for a cross withdrawal, given the fee quoted at draft time.

    The cap is the quoted fee plus ``headroom`` (a fraction) so a slightly higher re-quote at
    signing time does not void the approvals, but never more than ``max_share`` of the amount;
    a quote above that share is refused outright.
    """

    headroom: Decimal
    max_share: Decimal

    def ceiling(self, amount: Decimal) -> Decimal:
        """The most fee the policy allows on ``amount``."""
        return exact_product(amount, self.max_share)

    def cap_for(self, fee: Decimal, amount: Decimal, *, coin: str) -> Decimal:
        """The fee cap approvers are asked to approve, or a refusal if the quote is too high."""
        ceiling = self.ceiling(amount)
        if fee > ceiling:
            raise DraftRefused(
                f"The quoted fee of {format_amount(fee)} {coin} is more than the policy allows "
                f"({percent(self.max_share)} of the amount, "
                f"{format_amount(ceiling)} {coin}); try again later or withdraw on another chain",
                field="chain",
            )
        return min(exact_product(fee, exact_sum(Decimal(1), self.headroom)), ceiling)


@dataclass(frozen=True, slots=True)
class ApproverGroup:
    """Slack user ids (``U…``/``W…``) and user-group handles (``@treasury``) the bot resolves."""

    name: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Policy:
    """A validated policy; ``hash`` identifies it in approvals and the audit log."""

    requesters: tuple[str, ...]
    groups: tuple[ApproverGroup, ...]
    coins: tuple[CoinPolicy, ...]
    requester_never_counts: bool = True
    one_reject_ends: bool = True
    approval_expiry: timedelta = DEFAULT_APPROVAL_EXPIRY
    reminder_after: timedelta | None = None
    cross_fee: FeeCapRule | None = None
    hash: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "hash", _policy_hash(self))

    def coin(self, name: str) -> CoinPolicy | None:
        """The coin's policy, or ``None`` when the policy does not allow withdrawing it."""
        return next((coin for coin in self.coins if coin.coin == name), None)

    def handles(self) -> frozenset[str]:
        """Every user-group handle (without ``@``) the bot must resolve before evaluating."""
        members = [*self.requesters, *(m for group in self.groups for m in group.members)]
        return frozenset(handle_name(member) for member in members if is_handle(member))


def is_handle(member: str) -> bool:
    """Members starting with ``@`` are Slack user-group handles, the rest user ids."""
    return member.startswith("@")


def handle_name(member: str) -> str:
    """The handle as Slack's ``usergroups.list`` spells it (no ``@``)."""
    return member.removeprefix("@")


# --- canonical form and hash --------------------------------------------------------------


def _policy_hash(policy: Policy) -> str:
    canonical = {
        "domain": _HASH_DOMAIN,
        "requesters": sorted(policy.requesters),
        "groups": {group.name: sorted(group.members) for group in policy.groups},
        "requester_never_counts": policy.requester_never_counts,
        "one_reject_ends": policy.one_reject_ends,
        "approval_expiry_seconds": int(policy.approval_expiry.total_seconds()),
        "reminder_after_seconds": (
            None if policy.reminder_after is None else int(policy.reminder_after.total_seconds())
        ),
        "cross_fee": (
            None
            if policy.cross_fee is None
            else {
                "headroom": canonical_decimal(policy.cross_fee.headroom),
                "max_share": canonical_decimal(policy.cross_fee.max_share),
            }
        ),
        "coins": {coin.coin: _canonical_coin(coin) for coin in policy.coins},
    }
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(encoded.encode("ascii")).hexdigest()


def _canonical_coin(coin: CoinPolicy) -> dict[str, object]:
    return {
        "min_amount": None if coin.min_amount is None else canonical_decimal(coin.min_amount),
        "max_amount": canonical_decimal(coin.max_amount),
        "daily_limit": canonical_decimal(coin.daily_limit),
        "tiers": [
            {
                "name": tier.name,
                "above": canonical_decimal(tier.above),
                "requires": [
                    {"group": req.group, "count": req.count}
                    for req in sorted(tier.requires, key=lambda req: req.group)
                ],
            }
            for tier in coin.tiers
        ],
        "allowlist": [
            {"chain_id": entry.chain_id, "address": entry.address, "label": entry.label}
            for entry in sorted(coin.allowlist, key=lambda entry: (entry.chain_id, entry.address))
        ],
        "unlisted": coin.unlisted.value,
        "escalate_to": coin.escalate_to,
    }


# --- parsing ------------------------------------------------------------------------------


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Read and parse a policy file; an unreadable file is a ``PolicyError`` like any other."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as err:
        raise PolicyError("file", f"cannot be read: {err.strerror or err}") from err
    except UnicodeDecodeError as err:
        raise PolicyError("file", f"is not UTF-8 text (byte {err.start})") from err
    return parse_policy(text)


def parse_policy(text: str) -> Policy:
    """Parse policy.toml text into a validated ``Policy`` or raise the first ``PolicyError``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise PolicyError("file", f"is not valid TOML: {err}") from err
    top = _Table(data, "", allowed=_TOP_KEYS)
    _parse_version(top)
    groups = _parse_groups(top)
    requesters = _members(top.required("requesters"), top.path("requesters"))
    approval = _Table.of(top.optional("approval"), "approval", allowed=_APPROVAL_KEYS)
    expiry = _parse_expiry(approval)
    cross_fee = _parse_cross_fee(top)
    coins_value = top.required("coins")
    coins_table = _Table.of(coins_value, "coins", allowed=None)
    if not coins_table.names():
        raise PolicyError("coins", "no coin is listed, so nothing could ever be withdrawn")
    coins = tuple(
        _parse_coin(name, coins_table.required(name), groups) for name in coins_table.names()
    )
    return Policy(
        requesters=requesters,
        groups=tuple(groups.values()),
        coins=coins,
        requester_never_counts=_bool(approval, "requester_never_counts", default=True),
        one_reject_ends=_bool(approval, "one_reject_ends", default=True),
        approval_expiry=expiry,
        reminder_after=_parse_reminder(approval, expiry),
        cross_fee=cross_fee,
    )


_TOP_KEYS = ("version", "requesters", "groups", "approval", "cross_fee", "coins")
_APPROVAL_KEYS = ("requester_never_counts", "one_reject_ends", "expiry", "reminder_after")
_COIN_KEYS = (
    "min_amount",
    "max_amount",
    "daily_limit",
    "tiers",
    "allowlist",
    "unlisted_destinations",
    "escalate_to",
)


class _Table:
    """A TOML table with its path, refusing keys it does not know."""

    def __init__(
        self, data: Mapping[str, object], path: str, *, allowed: Collection[str] | None
    ) -> None:
        self._data = data
        self._path = path
        if allowed is not None:
            for key in data:
                if key not in allowed:
                    raise PolicyError(
                        self.path(key),
                        f"unknown setting; expected one of: {', '.join(sorted(allowed))}",
                    )

    @classmethod
    def of(cls, value: object, path: str, *, allowed: Collection[str] | None) -> _Table:
        """A table from a TOML value; a missing optional table reads as empty."""
        if value is None:
            return cls({}, path, allowed=allowed)
        if not isinstance(value, dict):
            raise PolicyError(path, f"must be a table, not {_kind(value)}")
        return cls(value, path, allowed=allowed)

    def path(self, key: str) -> str:
        """The dotted path of a key, as shown in error messages."""
        return f"{self._path}.{key}" if self._path else key

    def names(self) -> list[str]:
        """Keys in file order, which is the order people read them in."""
        return list(self._data)

    def required(self, key: str) -> object:
        """A value that must be present."""
        if key not in self._data:
            raise PolicyError(self.path(key), "is missing")
        return self._data[key]

    def optional(self, key: str) -> object | None:
        """A value that may be absent."""
        return self._data.get(key)


def _kind(value: object) -> str:
    kinds: list[tuple[type, str]] = [
        (bool, "true/false"),
        (int, "an integer"),
        (float, "a float"),
        (str, "a string"),
        (list, "a list"),
        (dict, "a table"),
    ]
    return next((name for kind, name in kinds if isinstance(value, kind)), "a date or time")


def _parse_version(top: _Table) -> None:
    if "version" not in top.names():
        raise PolicyError("version", f"is missing; start the file with version = {POLICY_VERSION}")
    version = top.required("version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise PolicyError("version", f"must be the integer {POLICY_VERSION}, not {_kind(version)}")
    if version != POLICY_VERSION:
        raise PolicyError(
            "version",
            f"{version} is not supported; this withdrawbot reads version {POLICY_VERSION}",
        )


def _members(value: object, path: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise PolicyError(
            path, f"must be a list of Slack user ids and @handles, not {_kind(value)}"
        )
    if not value:
        raise PolicyError(path, "is empty; list at least one Slack user id or @handle")
    seen: set[str] = set()
    for index, member in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(member, str):
            raise PolicyError(where, f"must be a string, not {_kind(member)}")
        if not (_USER_ID.fullmatch(member) or _HANDLE.fullmatch(member)):
            raise PolicyError(
                where,
                f"{member!r} is neither a Slack user id (U0123ABCD) nor a user-group handle "
                "(@treasury); names and emails cannot be checked against Slack",
            )
        if member in seen:
            raise PolicyError(where, f"{member} is listed twice")
        seen.add(member)
    return tuple(value)


def _parse_groups(top: _Table) -> dict[str, ApproverGroup]:
    table = _Table.of(top.required("groups"), "groups", allowed=None)
    if not table.names():
        raise PolicyError("groups", "no approver group is defined, so nobody could approve")
    groups: dict[str, ApproverGroup] = {}
    for name in table.names():
        if not _NAME.fullmatch(name):
            raise PolicyError(
                table.path(name), "a group name may hold only letters, digits, '-' and '_'"
            )
        groups[name] = ApproverGroup(name, _members(table.required(name), table.path(name)))
    return groups


def _parse_expiry(approval: _Table) -> timedelta:
    value = approval.optional("expiry")
    if value is None:
        return DEFAULT_APPROVAL_EXPIRY
    expiry = _duration(value, approval.path("expiry"))
    if not MIN_APPROVAL_EXPIRY <= expiry <= MAX_APPROVAL_EXPIRY:
        raise PolicyError(
            approval.path("expiry"),
            f"{value} is outside {format_duration(MIN_APPROVAL_EXPIRY)} to "
            f"{format_duration(MAX_APPROVAL_EXPIRY)}; approvals must neither lapse before people "
            "can act nor linger for weeks",
        )
    return expiry


def _parse_reminder(approval: _Table, expiry: timedelta) -> timedelta | None:
    value = approval.optional("reminder_after")
    if value is None:
        return None
    reminder = _duration(value, approval.path("reminder_after"))
    if not timedelta(0) < reminder < expiry:
        raise PolicyError(
            approval.path("reminder_after"),
            f"{value} must be more than zero and shorter than the approval expiry "
            f"({format_duration(expiry)}), or the reminder would never be sent",
        )
    return reminder


def _duration(value: object, path: str) -> timedelta:
    match = _DURATION.fullmatch(value) if isinstance(value, str) else None
    if match is None or not value:
        raise PolicyError(
            path, f'{value!r} is not a duration; write it like "24h", "90m" or "1d12h"'
        )
    days, hours, minutes = (int(part) if part else 0 for part in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes)


def format_duration(duration: timedelta) -> str:
    """A duration in words: "24 hours", "1 hour 30 minutes", "3 days" (days from 48 hours on)."""
    minutes = int(duration.total_seconds()) // 60
    days, rest = divmod(minutes, 24 * 60) if minutes >= 48 * 60 else (0, minutes)
    hours, minutes = divmod(rest, 60)
    parts = [
        f"{number} {unit}{'' if number == 1 else 's'}"
        for number, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"))
        if number
    ]
    return " ".join(parts) or "0 minutes"


def _bool(table: _Table, key: str, *, default: bool) -> bool:
    value = table.optional(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise PolicyError(table.path(key), f"must be true or false (no quotes), not {_kind(value)}")
    return value


def _decimal(value: object, path: str, *, allow_zero: bool = False) -> Decimal:
    try:
        return parse_amount(value, what="the value", allow_zero=allow_zero)
    except DraftRefused as err:
        raise PolicyError(path, err.message) from err


def _parse_cross_fee(top: _Table) -> FeeCapRule | None:
    value = top.optional("cross_fee")
    if value is None:
        return None
    table = _Table.of(value, "cross_fee", allowed=("headroom", "max_share_of_amount"))
    headroom = _decimal(table.required("headroom"), table.path("headroom"), allow_zero=True)
    max_share = _decimal(table.required("max_share_of_amount"), table.path("max_share_of_amount"))
    if max_share >= 1:
        raise PolicyError(
            table.path("max_share_of_amount"),
            f"{canonical_decimal(max_share)} is a fraction of the amount and must be below 1 "
            "(0.005 means 0.5%)",
        )
    return FeeCapRule(headroom=headroom, max_share=max_share)


def _parse_coin(name: str, value: object, groups: Mapping[str, ApproverGroup]) -> CoinPolicy:
    path = f"coins.{name}"
    if not _COIN.fullmatch(name):
        raise PolicyError(path, "a coin name may hold only letters, digits, '.', '-' and '_'")
    table = _Table.of(value, path, allowed=_COIN_KEYS)
    max_amount = _decimal(table.required("max_amount"), table.path("max_amount"))
    daily_limit = _decimal(table.required("daily_limit"), table.path("daily_limit"))
    min_value = table.optional("min_amount")
    min_amount = None if min_value is None else _decimal(min_value, table.path("min_amount"))
    if min_amount is not None and min_amount > max_amount:
        raise PolicyError(
            table.path("min_amount"),
            f"{format_amount(min_amount)} is above max_amount {format_amount(max_amount)}, so no "
            "amount could ever be withdrawn",
        )
    if daily_limit < max_amount:
        raise PolicyError(
            table.path("daily_limit"),
            f"{format_amount(daily_limit)} is below max_amount {format_amount(max_amount)}; "
            "lower max_amount to the daily limit or raise the limit",
        )
    tiers = _parse_tiers(table, max_amount, groups)
    allowlist = _parse_allowlist(table)
    unlisted, escalate_to = _parse_unlisted(table, tiers, allowlist)
    return CoinPolicy(
        coin=name,
        min_amount=min_amount,
        max_amount=max_amount,
        daily_limit=daily_limit,
        tiers=tiers,
        allowlist=allowlist,
        unlisted=unlisted,
        escalate_to=escalate_to,
    )


def _array_of_tables(table: _Table, key: str, *, required: bool) -> list[dict[str, object]]:
    value = table.required(key) if required else table.optional(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise PolicyError(
            table.path(key), f"must be written as [[{table.path(key)}]] tables, not {_kind(value)}"
        )
    return value


def _parse_tiers(
    coin: _Table, max_amount: Decimal, groups: Mapping[str, ApproverGroup]
) -> tuple[Tier, ...]:
    items = _array_of_tables(coin, "tiers", required=True)
    if not items:
        raise PolicyError(coin.path("tiers"), "no tier is defined, so nothing could be approved")
    tiers: list[Tier] = []
    for index, item in enumerate(items):
        table = _Table(item, f"{coin.path('tiers')}[{index}]", allowed=("name", "above", "require"))
        name = table.required("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise PolicyError(
                table.path("name"), "must be a name of letters, digits, '-' and '_', e.g. \"large\""
            )
        if any(tier.name == name for tier in tiers):
            raise PolicyError(table.path("name"), f"tier {name!r} is defined twice")
        above = _decimal(table.required("above"), table.path("above"), allow_zero=True)
        if index == 0 and above != 0:
            raise PolicyError(
                table.path("above"),
                f'the first tier must start at "0", not {format_amount(above)}, so every '
                "amount has a tier",
            )
        if tiers and above <= tiers[-1].above:
            raise PolicyError(
                table.path("above"),
                f"{format_amount(above)} must be higher than the previous tier's "
                f"{format_amount(tiers[-1].above)}; list tiers from small to large",
            )
        if above >= max_amount:
            raise PolicyError(
                table.path("above"),
                f"{format_amount(above)} is at or above max_amount {format_amount(max_amount)}, "
                "so this tier could never apply",
            )
        tiers.append(Tier(name, above, _parse_requirements(table, groups)))
    return tuple(tiers)


def _parse_requirements(
    tier: _Table, groups: Mapping[str, ApproverGroup]
) -> tuple[Requirement, ...]:
    value = tier.required("require")
    path = tier.path("require")
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise PolicyError(
            path, f'must be a list like [{{ group = "treasury", count = 2 }}], not {_kind(value)}'
        )
    if not value:
        raise PolicyError(path, "is empty; a tier without approvers would approve itself")
    requirements: list[Requirement] = []
    for index, item in enumerate(value):
        table = _Table(item, f"{path}[{index}]", allowed=("group", "count"))
        group = table.required("group")
        if not isinstance(group, str) or group not in groups:
            raise PolicyError(
                table.path("group"),
                f"{group!r} is not an approver group; defined groups: {', '.join(groups)}",
            )
        if any(req.group == group for req in requirements):
            raise PolicyError(
                table.path("group"), f"{group} appears twice in this tier; give one count"
            )
        count = table.required("count")
        if isinstance(count, bool) or not isinstance(count, int):
            raise PolicyError(
                table.path("count"), f"must be a whole number without quotes, not {_kind(count)}"
            )
        if count < 1:
            raise PolicyError(table.path("count"), f"{count} must be at least 1")
        members = groups[group].members
        if not any(is_handle(member) for member in members) and count > len(members):
            raise PolicyError(
                table.path("count"),
                f"{count} approvals from {group} can never be met: it has {len(members)} "
                f"member{'' if len(members) == 1 else 's'}",
            )
        requirements.append(Requirement(group, count))
    return tuple(requirements)


def _parse_allowlist(coin: _Table) -> tuple[AllowedDestination, ...]:
    entries: list[AllowedDestination] = []
    for index, item in enumerate(_array_of_tables(coin, "allowlist", required=False)):
        table = _Table(
            item, f"{coin.path('allowlist')}[{index}]", allowed=("chain_id", "address", "label")
        )
        chain_id = table.required("chain_id")
        if isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id < 1:
            raise PolicyError(
                table.path("chain_id"), "must be a positive integer chain id, e.g. 1 or 42161"
            )
        try:
            address = parse_address(table.required("address"), what="the address")
        except DraftRefused as err:
            raise PolicyError(table.path("address"), err.message) from err
        label = table.required("label")
        if not isinstance(label, str) or not label.strip():
            raise PolicyError(table.path("label"), "must say whose address this is")
        if any(e.chain_id == chain_id and e.address == address for e in entries):
            raise PolicyError(
                table.path("address"), f"{address} on chain {chain_id} is listed twice"
            )
        entries.append(AllowedDestination(chain_id, address, label.strip()))
    return tuple(entries)


def _parse_unlisted(
    coin: _Table, tiers: tuple[Tier, ...], allowlist: tuple[AllowedDestination, ...]
) -> tuple[Unlisted, str | None]:
    value = coin.optional("unlisted_destinations")
    choices = ", ".join(f'"{choice.value}"' for choice in Unlisted)
    if value is not None and (
        not isinstance(value, str) or value not in {choice.value for choice in Unlisted}
    ):
        raise PolicyError(coin.path("unlisted_destinations"), f"{value!r} is not one of {choices}")
    unlisted = Unlisted.REFUSE if value is None else Unlisted(value)
    escalate_to = coin.optional("escalate_to")
    if unlisted is Unlisted.REFUSE:
        if escalate_to is not None:
            raise PolicyError(
                coin.path("escalate_to"),
                'is only used with unlisted_destinations = "escalate"; remove it or set that',
            )
        if not allowlist:
            raise PolicyError(
                coin.path("allowlist"),
                'is empty while unlisted_destinations is "refuse", so every withdrawal would be '
                'refused; add [[allowlist]] entries or set unlisted_destinations = "escalate"',
            )
        return unlisted, None
    names = [tier.name for tier in tiers]
    if escalate_to is None:
        raise PolicyError(
            coin.path("escalate_to"),
            'is missing; with unlisted_destinations = "escalate" name the tier that unlisted '
            f"destinations need (one of {', '.join(names)})",
        )
    if escalate_to not in names:
        raise PolicyError(
            coin.path("escalate_to"),
            f"{escalate_to!r} is not a tier of this coin ({', '.join(names)})",
        )
    return unlisted, str(escalate_to)


# --- in words -----------------------------------------------------------------------------


def describe_policy(policy: Policy) -> list[str]:
    """The policy in words, one line each, for ``withdrawbot policy check`` and the audit log."""
    lines = [
        f"Policy {policy.hash[:12]} (sha256 {policy.hash})",
        f"Who may draft: {', '.join(policy.requesters)}",
        "Approver groups:",
        *(f"  {group.name}: {', '.join(group.members)}" for group in policy.groups),
        (
            "The requester's own approval never counts."
            if policy.requester_never_counts
            else "The requester's own approval counts like anyone else's."
        ),
        (
            "One rejection ends a request."
            if policy.one_reject_ends
            else "Rejections are recorded but do not end a request."
        ),
        f"Approvals must be complete within {format_duration(policy.approval_expiry)}"
        + (
            f"; a reminder goes out after {format_duration(policy.reminder_after)}."
            if policy.reminder_after is not None
            else "; no reminders."
        ),
    ]
    for coin in policy.coins:
        lines.extend(_describe_coin(coin))
    if policy.cross_fee is None:
        lines.append("Cross-chain withdrawals are refused: the policy sets no fee cap for them.")
    else:
        lines.append(
            "Cross-chain fees: approvers approve the quoted fee plus "
            f"{percent(policy.cross_fee.headroom)}, never more than "
            f"{percent(policy.cross_fee.max_share)} of the amount."
        )
    return lines


def percent(fraction: Decimal) -> str:
    """A policy fraction as people read it: 0.005 is "0.5%"."""
    return f"{format_amount(exact_product(fraction, Decimal(100)))}%"


def _describe_coin(coin: CoinPolicy) -> list[str]:
    unit = coin.coin
    low = f"from {format_amount(coin.min_amount)} " if coin.min_amount is not None else ""
    lines = [
        f"{unit}: {low}up to {format_amount(coin.max_amount)} {unit} per withdrawal, at most "
        f"{format_amount(coin.daily_limit)} {unit} in any 24 hours."
    ]
    for tier in coin.tiers:
        upper = format_amount(coin.upper_bound(tier))
        span = (
            f"up to {upper} {unit}"
            if tier.above == 0
            else f"above {format_amount(tier.above)} up to {upper} {unit}"
        )
        lines.append(f"  Tier {tier.name!r} ({span}): {tier.describe()}.")
    for entry in coin.allowlist:
        lines.append(
            f"  Allowed destination on chain {entry.chain_id}: {entry.address} ({entry.label})"
        )
    if coin.unlisted is Unlisted.REFUSE:
        lines.append("  Destinations not on the allowlist are refused.")
    else:
        lines.append(
            f"  Destinations not on the allowlist need at least tier {coin.escalate_to!r}."
        )
    return lines
