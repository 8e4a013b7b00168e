"""The demo's terminal rendering: what Slack's client would show, safe for a terminal, in 100
columns."""

from __future__ import annotations

from typing import Any

from bot.demo.transcript import (
    WIDTH,
    SummaryRow,
    message_lines,
    plain,
    short_address,
    summary_table,
    thread_text,
)
from bot.slack.text import PAPER_BANNER

NAMES = {"U0BOB": "bob", "U0ALICE": "alice"}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def test_markup_reads_as_the_client_shows_it() -> None:
    shown = plain("👍 <@U0BOB> approved *2 of treasury* for <@U0NOBODY> &lt;b&gt; &amp;", NAMES)
    assert shown == "👍 @bob approved 2 of treasury for @U0NOBODY <b> &"
    assert plain("<https://example.com|the docs> <!channel> <#C0X|treasury>", NAMES) == (
        "the docs (https://example.com) @channel #treasury"
    )


def test_nothing_can_drive_the_terminal() -> None:
    assert plain("red \x1b[31mALERT\x1b[0m\x07 done\nnext", NAMES) == "red [31mALERT[0m done\nnext"


def test_blocks_become_lines_and_the_paper_banner_a_flag() -> None:
    message = {
        "ts": "1700000000.000100",
        "text": "fallback",
        "blocks": [
            {"type": "context", "elements": [{"type": "mrkdwn", "text": PAPER_BANNER}]},
            {"type": "header", "text": {"type": "plain_text", "text": "Withdrawal #1"}},
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": "*Requested by*\n<@U0ALICE>"},
                    {"type": "mrkdwn", "text": "*Amount*\n250 USDT\nLP fee at most 2 USDT"},
                ],
            },
            _section("*Why*\nrent"),
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "text": {"type": "plain_text", "text": "Approve"}},
                    {"type": "button", "text": {"type": "plain_text", "text": "Reject…"}},
                ],
            },
        ],
    }
    paper, lines = message_lines(message, NAMES)
    assert paper
    assert lines == [
        "Withdrawal #1",
        "Requested by: @alice",
        "Amount: 250 USDT · LP fee at most 2 USDT",
        "Why: rent",
        "[ Approve ] [ Reject… ]",
    ]


def test_a_thread_fits_100_columns_and_keeps_addresses_whole() -> None:
    address = "0x52908400098527886E0F7030069857D2E4169EE7"
    root = {"ts": "1700000000.000100", "edited": {"ts": "1"}, "blocks": [_section("x " * 80)]}
    reply = {
        "ts": "1700000061.000200",
        "subtype": "thread_broadcast",
        "blocks": [_section(f"{'long words ' * 9} `{address}`")],
    }
    text = thread_text([root, reply], NAMES, "#treasury · withdrawal #1")
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= WIDTH
    assert lines[1] == "withdrawbot  22:13:20  (edited)"
    assert "  ↳ withdrawbot  22:14:21  · also sent to the channel" in lines
    assert any(f"`{address}`" in line for line in lines)
    assert "┆ 1 reply" in text


def test_the_summary_keeps_status_names_whole_under_each_row() -> None:
    status = "CROSS_WITHDRAW_FAILED_CENSOR_CHECKING_ACCOUNT_REJECTED"
    rows = [
        SummaryRow(
            2, "cross", "1,000 USDT", "0x5290…9EE7 Arbitrum", "bob, carol", "failed", status
        ),
        SummaryRow(3, "normal", "12 USDT", "0x5aAe…eAed L1", "none", "rejected", "no " * 60),
    ]
    lines = summary_table(rows).splitlines()
    assert lines[0].split() == ["#", "kind", "amount", "destination", "approvers", "final", "state"]
    assert lines[2].split()[0] == "#2"
    assert lines[3].strip() == status
    assert max(len(line) for line in lines) <= WIDTH
    assert short_address("0x52908400098527886E0F7030069857D2E4169EE7") == "0x5290…9EE7"
