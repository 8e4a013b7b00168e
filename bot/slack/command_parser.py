"""``/withdraw`` text as a typed command, or help with the one thing that was wrong.

People type this in a hurry, often from a phone, and money follows from it, so the grammar is
small and fixed and nothing is guessed: a missing ``to`` or a chain id that is not a number gets
a hint naming exactly that, rather than a draft built from a misreading. The parser only splits
and labels; amounts and addresses stay the text that was typed, because the approvals domain
owns their rules (exact decimals, EIP-55 checksums) and says far better what is wrong with them.

Slack sends slash-command text with ``&``, ``<`` and ``>`` as HTML entities; they are undone
here so the reason people see is the reason they wrote (rendering escapes it again).

Grammar (keywords are case-insensitive, coins are upper-cased)::

    (empty)                                            open the form
    AMOUNT COIN to ADDRESS REASON...                   draft to L1
    cross AMOUNT COIN to ADDRESS chain ID REASON...    draft paid out by an LP on chain ID
    status ID | explain ID | cancel ID                 ID as 12 or #12
    list | unfreeze | help
    history [DAYS] | claimable ADDRESS | freeze [REASON...]
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from approvals.content import Kind
from bot.slack.text import unescape

__all__ = [
    "HISTORY_DAYS_DEFAULT",
    "HISTORY_DAYS_MAX",
    "REASON_MAX",
    "USAGE",
    "Cancel",
    "Claimable",
    "Command",
    "DraftCommand",
    "Explain",
    "Freeze",
    "Help",
    "History",
    "ListOpen",
    "OpenModal",
    "Status",
    "Unfreeze",
    "parse_command",
]

REASON_MAX = 500
HISTORY_DAYS_DEFAULT = 7
HISTORY_DAYS_MAX = 90

# (syntax, what it does): the help text and the README are written from this one list.
USAGE: tuple[tuple[str, str], ...] = (
    ("/withdraw", "open the withdrawal form"),
    ("/withdraw 250 USDT to 0xADDRESS reason", "draft a withdrawal to L1"),
    (
        "/withdraw cross 100 USDT to 0xADDRESS chain 42161 reason",
        "draft a cross-chain withdrawal, paid out by a liquidity provider on that chain",
    ),
    ("/withdraw status ID", "where one request stands"),
    ("/withdraw list", "requests that are still open"),
    (
        "/withdraw history [DAYS]",
        f"withdrawals at edgeX in the last DAYS days (default {HISTORY_DAYS_DEFAULT})",
    ),
    ("/withdraw claimable 0xADDRESS", "what that L1 address can claim from edgeX"),
    ("/withdraw explain ID", "what the approval policy still needs for a request"),
    ("/withdraw cancel ID", "cancel a request you drafted"),
    ("/withdraw freeze [reason]", "stop all signing at once (any approver)"),
    ("/withdraw unfreeze", "resume signing (needs two approvers)"),
    ("/withdraw help", "this help"),
)


@dataclass(frozen=True, slots=True)
class OpenModal:
    """``/withdraw`` alone: the form is friendlier than the grammar."""


@dataclass(frozen=True, slots=True)
class DraftCommand:
    """A withdrawal as typed (inline or in the form); ``amount`` is the text, unparsed.

    ``chain_id`` is set exactly for cross-chain drafts.
    """

    kind: Kind
    amount: str
    coin: str
    destination: str
    reason: str
    chain_id: int | None = None


@dataclass(frozen=True, slots=True)
class Status:
    """Where one request stands, with its message redrawn for the asker."""

    request_id: int


@dataclass(frozen=True, slots=True)
class ListOpen:
    """``list``: the requests that are not final yet."""


@dataclass(frozen=True, slots=True)
class History:
    """Withdrawals edgeX itself recorded, so people can check beyond the bot's own requests."""

    days: int = HISTORY_DAYS_DEFAULT


@dataclass(frozen=True, slots=True)
class Claimable:
    """What an L1 address can claim: a finished normal withdrawal waits there for a claim."""

    address: str


@dataclass(frozen=True, slots=True)
class Explain:
    """The policy's reasoning on one request, for a stuck or surprising one."""

    request_id: int


@dataclass(frozen=True, slots=True)
class Cancel:
    """The requester withdraws a request that still waits for approvals."""

    request_id: int


@dataclass(frozen=True, slots=True)
class Freeze:
    """Any approver stops all signing at once; the reason goes to the audit log."""

    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Unfreeze:
    """Resuming needs two approvers, so one person cannot undo another's alarm."""


@dataclass(frozen=True, slots=True)
class Help:
    """Help, with ``hint`` saying what was wrong when the text was not understood."""

    hint: str | None = None


Command = (
    OpenModal
    | DraftCommand
    | Status
    | ListOpen
    | History
    | Claimable
    | Explain
    | Cancel
    | Freeze
    | Unfreeze
    | Help
)


class _Refused(Exception):
    """A hint for the person; caught in :func:`parse_command` and turned into ``Help``."""

    def __init__(self, hint: str) -> None:
        super().__init__(hint)
        self.hint = hint


_ID = re.compile(r"#?([1-9][0-9]{0,17})", re.ASCII)
_AMOUNT_START = re.compile(r"[0-9.,+-]", re.ASCII)
_GLUED = re.compile(r"([0-9][0-9.,]*)([A-Za-z]{2,})", re.ASCII)
_CHAIN = re.compile(r"[1-9][0-9]{0,11}", re.ASCII)
_DAYS = re.compile(r"[0-9]{1,6}", re.ASCII)
# Invisible characters that ride along when an address is copied from a web page or a chat.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff]")
_SHOW = 64  # long enough to quote an address back whole


def parse_command(text: str) -> Command:
    """The command ``text`` asks for; never raises, an unclear text is ``Help`` with a hint."""
    words = _INVISIBLE.sub("", unescape(text)).split()
    if not words:
        return OpenModal()
    try:
        return _parse(words)
    except _Refused as refused:
        return Help(refused.hint)


def _parse(words: list[str]) -> Command:
    head, rest = words[0].lower(), words[1:]
    subcommand = _SUBCOMMANDS.get(head)
    if subcommand is not None:
        return subcommand(head, rest)
    if _AMOUNT_START.match(head):
        return _draft(words, cross=False)
    raise _Refused(
        f"`{_shown(words[0])}` is not a /withdraw command; a draft starts with the amount, "
        "e.g. `/withdraw 250 USDT to 0xADDRESS reason`"
    )


def _bare(head: str, rest: list[str]) -> Command:
    if rest:
        raise _Refused(f"`{head}` takes nothing after it; try `/withdraw {head}`")
    return ListOpen() if head == "list" else Unfreeze()


def _by_id(head: str, rest: list[str]) -> Command:
    request_id = _request_id(head, rest)
    return (
        Status(request_id)
        if head == "status"
        else (Explain(request_id) if head == "explain" else Cancel(request_id))
    )


def _claimable(head: str, rest: list[str]) -> Command:
    if len(rest) != 1:
        raise _Refused("`claimable` takes one L1 address: `/withdraw claimable 0xADDRESS`")
    return Claimable(rest[0])


def _freeze(head: str, rest: list[str]) -> Command:
    reason = " ".join(rest)
    _check_reason_length(reason)
    return Freeze(reason or None)


_SUBCOMMANDS: dict[str, Callable[[str, list[str]], Command]] = {
    "help": lambda head, rest: Help(),
    "list": _bare,
    "unfreeze": _bare,
    "status": _by_id,
    "explain": _by_id,
    "cancel": _by_id,
    "history": lambda head, rest: _history(rest),
    "claimable": _claimable,
    "freeze": _freeze,
    "cross": lambda head, rest: _draft(rest, cross=True),
}


def _request_id(command: str, rest: list[str]) -> int:
    example = f"`/withdraw {command} 12`"
    if not rest:
        raise _Refused(f"`{command}` needs a request id, e.g. {example}")
    if len(rest) > 1:
        raise _Refused(f"`{command}` takes one request id, e.g. {example}")
    match = _ID.fullmatch(rest[0])
    if match is None:
        raise _Refused(
            f"`{_shown(rest[0])}` is not a request id; ids are numbers such as 12 (or #12), "
            f"e.g. {example}"
        )
    return int(match[1])


def _history(rest: list[str]) -> History:
    if not rest:
        return History()
    if len(rest) > 1 or not _DAYS.fullmatch(rest[0]):
        raise _Refused(
            "`history` takes a number of days, e.g. `/withdraw history 30` "
            f"(default {HISTORY_DAYS_DEFAULT})"
        )
    days = int(rest[0])
    if not 1 <= days <= HISTORY_DAYS_MAX:
        raise _Refused(f"`history` covers 1 to {HISTORY_DAYS_MAX} days; {days} is out of range")
    return History(days)


def _draft(words: list[str], *, cross: bool) -> DraftCommand:
    form = (
        "`/withdraw cross 100 USDT to 0xADDRESS chain 42161 reason`"
        if cross
        else "`/withdraw 250 USDT to 0xADDRESS reason`"
    )
    if not words:
        raise _Refused(f"a cross-chain draft needs amount, coin, address and chain: {form}")
    glued = _GLUED.fullmatch(words[0])
    if glued is not None:
        raise _Refused(
            f"put a space between the amount and the coin: `{glued[1]} {glued[2].upper()}`"
        )
    if len(words) < 2:
        raise _Refused(f"say which coin after the amount: {form}")
    amount, coin = words[0], words[1]
    if not coin.isalnum():
        raise _Refused(f"`{_shown(coin)}` is not a coin name; write it like {form}")
    if len(words) < 3 or words[2].lower() != "to":
        found = f"found `{_shown(words[2])}`" if len(words) > 2 else "found nothing"
        raise _Refused(f"write `to` and the address after the coin ({found}): {form}")
    if len(words) < 4:
        raise _Refused(f"say where to after `to`: {form}")
    destination = words[3]
    tail = words[4:]
    chain_id: int | None = None
    if cross:
        if not tail or tail[0].lower() != "chain":
            raise _Refused(f"a cross-chain draft names its chain after the address: {form}")
        if len(tail) < 2 or not _CHAIN.fullmatch(tail[1]):
            given = f"`{_shown(tail[1])}`" if len(tail) > 1 else "nothing"
            raise _Refused(
                f"`chain` takes the chain id as a number (e.g. 42161 for Arbitrum), not {given}"
            )
        chain_id = int(tail[1])
        tail = tail[2:]
    elif tail and tail[0].lower() == "chain":
        raise _Refused(
            "`chain` is for cross-chain withdrawals; start with `cross`: "
            "`/withdraw cross 100 USDT to 0xADDRESS chain 42161 reason`"
        )
    if tail and tail[0].lower() in ("reason", "reason:"):
        tail = tail[1:]
    reason = " ".join(tail)
    if not reason:
        raise _Refused(f"say why after the address, so approvers know what it is for: {form}")
    _check_reason_length(reason)
    return DraftCommand(
        kind=Kind.CROSS if cross else Kind.NORMAL,
        amount=amount,
        coin=coin.upper(),
        destination=destination,
        reason=reason,
        chain_id=chain_id,
    )


def _check_reason_length(reason: str) -> None:
    if len(reason) > REASON_MAX:
        raise _Refused(f"keep the reason under {REASON_MAX} characters (it has {len(reason)})")


def _shown(word: str) -> str:
    """A word quoted back to its author, short enough for one line of help."""
    return word if len(word) <= _SHOW else word[: _SHOW - 1] + "…"
