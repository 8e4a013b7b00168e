"""/withdraw text -> typed command: every sub-command, both inline forms, and the hints."""

from __future__ import annotations

import pytest

from approvals.content import Kind
from bot.slack.command_parser import (
    HISTORY_DAYS_DEFAULT,
    REASON_MAX,
    USAGE,
    Cancel,
    Claimable,
    Command,
    DraftCommand,
    Explain,
    Freeze,
    Help,
    History,
    ListOpen,
    OpenModal,
    Status,
    Unfreeze,
    parse_command,
)

ADDR = "0x52908400098527886E0F7030069857D2E4169EE7"


def normal(amount: str = "250", coin: str = "USDT", reason: str = "rebalancing") -> DraftCommand:
    return DraftCommand(Kind.NORMAL, amount, coin, ADDR, reason)


def cross(amount: str = "100", chain: int = 42161, reason: str = "LP payout") -> DraftCommand:
    return DraftCommand(Kind.CROSS, amount, "USDT", ADDR, reason, chain)


PARSED: list[tuple[str, Command]] = [
    ("", OpenModal()),
    ("   ", OpenModal()),
    (f"250 USDT to {ADDR} rebalancing", normal()),
    (f"250 usdt to {ADDR} rebalancing", normal()),
    (f"250 USDT TO {ADDR} rebalancing", normal()),
    (f"250 USDT to {ADDR} reason rebalancing", normal()),
    (f"250 USDT to {ADDR} reason: rebalancing", normal()),
    (f"  250   USDT  to  {ADDR}   monthly   rebalancing ", normal(reason="monthly rebalancing")),
    (f"1500.25 USDC to {ADDR} payroll", normal("1500.25", "USDC", "payroll")),
    # Amounts stay text: the domain refuses these with its own precise messages.
    (f"1,000 USDT to {ADDR} rebalancing", normal("1,000")),
    (f"1e3 USDT to {ADDR} rebalancing", normal("1e3")),
    (f"-5 USDT to {ADDR} rebalancing", normal("-5")),
    (
        "250 USDT to 0xabc rebalancing",
        DraftCommand(Kind.NORMAL, "250", "USDT", "0xabc", "rebalancing"),
    ),
    # Slack sends &, < and > as entities; the reason is what was typed.
    (f"250 USDT to {ADDR} R&amp;D &lt;urgent&gt;", normal(reason="R&D <urgent>")),
    # A zero-width space pasted with the address does not become part of it.
    (f"250 USDT to \u200b{ADDR}\u200b rebalancing", normal()),
    (f"cross 100 USDT to {ADDR} chain 42161 LP payout", cross()),
    (f"CROSS 100 usdt to {ADDR} CHAIN 42161 reason LP payout", cross()),
    (f"cross 100 USDT to {ADDR} chain 56 bnb", cross(chain=56, reason="bnb")),
    ("status 12", Status(12)),
    ("status #12", Status(12)),
    ("STATUS 7", Status(7)),
    ("explain 3", Explain(3)),
    ("cancel #9", Cancel(9)),
    ("list", ListOpen()),
    ("history", History(HISTORY_DAYS_DEFAULT)),
    ("history 30", History(30)),
    ("history 90", History(90)),
    (f"claimable {ADDR}", Claimable(ADDR)),
    ("freeze", Freeze()),
    ("freeze suspicious login on the exchange", Freeze("suspicious login on the exchange")),
    ("unfreeze", Unfreeze()),
    ("help", Help()),
    ("help me please", Help()),
]


@pytest.mark.parametrize(("text", "expected"), PARSED, ids=[t or "<empty>" for t, _ in PARSED])
def test_parses(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


HINTS: list[tuple[str, str]] = [
    ("withdraw 250 USDT", "`withdraw` is not a /withdraw command"),
    ("approve 12", "`approve` is not a /withdraw command"),
    (f"250USDT to {ADDR} x", "put a space between the amount and the coin: `250 USDT`"),
    ("250", "say which coin after the amount"),
    (f"250 USDT {ADDR} x", f"write `to` and the address after the coin (found `{ADDR}`)"),
    ("250 USDT", "write `to` and the address after the coin (found nothing)"),
    ("250 USDT to", "say where to after `to`"),
    (f"250 USDT to {ADDR}", "say why after the address"),
    (f"250 USDT to {ADDR} reason", "say why after the address"),
    (f"250 US$T to {ADDR} x", "`US$T` is not a coin name"),
    (f"250 USDT to {ADDR} chain 42161 x", "`chain` is for cross-chain withdrawals"),
    ("cross", "a cross-chain draft needs amount, coin, address and chain"),
    (f"cross 100 USDT to {ADDR} payout", "names its chain after the address"),
    (f"cross 100 USDT to {ADDR} chain arbitrum payout", "not `arbitrum`"),
    (f"cross 100 USDT to {ADDR} chain", "not nothing"),
    (f"cross 100 USDT to {ADDR} chain 42161", "say why after the address"),
    ("status", "`status` needs a request id, e.g. `/withdraw status 12`"),
    ("status twelve", "`twelve` is not a request id"),
    ("status 0", "`0` is not a request id"),
    ("status 1 2", "`status` takes one request id"),
    ("explain", "`explain` needs a request id"),
    ("cancel 12abc", "`12abc` is not a request id"),
    ("list all", "`list` takes nothing after it"),
    ("unfreeze now", "`unfreeze` takes nothing after it"),
    ("history 0", "`history` covers 1 to 90 days; 0 is out of range"),
    ("history 365", "365 is out of range"),
    ("history week", "`history` takes a number of days"),
    ("claimable", "`claimable` takes one L1 address"),
    ("claimable 0xabc 0xdef", "`claimable` takes one L1 address"),
]


@pytest.mark.parametrize(("text", "hint"), HINTS, ids=[t for t, _ in HINTS])
def test_anything_else_is_help_with_a_specific_hint(text: str, hint: str) -> None:
    parsed = parse_command(text)
    assert isinstance(parsed, Help)
    assert parsed.hint is not None
    assert hint in parsed.hint


def test_long_reasons_are_refused_with_their_length() -> None:
    reason = "x" * (REASON_MAX + 1)
    parsed = parse_command(f"250 USDT to {ADDR} {reason}")
    assert parsed == Help(
        f"keep the reason under {REASON_MAX} characters (it has {REASON_MAX + 1})"
    )
    assert isinstance(parse_command(f"freeze {reason}"), Help)
    assert parse_command(f"250 USDT to {ADDR} {'x' * REASON_MAX}") == normal(
        reason="x" * REASON_MAX
    )


def test_a_long_word_is_quoted_back_shortened() -> None:
    parsed = parse_command("z" * 300)
    assert isinstance(parsed, Help)
    assert parsed.hint is not None
    assert len(parsed.hint) < 200
    assert "…" in parsed.hint


def test_every_usage_line_parses_to_what_it_documents() -> None:
    """The help text is written from USAGE; each example must mean what it says."""
    samples = {
        "ID": "12",
        "[DAYS]": "30",
        "0xADDRESS": ADDR,
        "[reason]": "because",
        "reason": "because",
    }
    kinds = set()
    for syntax, _ in USAGE:
        text = syntax.removeprefix("/withdraw")
        for placeholder, value in samples.items():
            text = text.replace(placeholder, value)
        parsed = parse_command(text)
        assert not (isinstance(parsed, Help) and parsed.hint), (syntax, parsed)
        kinds.add(type(parsed))
    assert kinds == {
        OpenModal,
        DraftCommand,
        Status,
        ListOpen,
        History,
        Claimable,
        Explain,
        Cancel,
        Freeze,
        Unfreeze,
        Help,
    }
