"""What ``withdrawbot demo --keep-running`` prints: how to poke the stack it leaves up.

Everything printed works as pasted while the demo runs: the URLs, a ``/withdraw list`` typed by
alice as a curl signed the way Slack signs it (the bot refuses a signature older than five
minutes, so it says until when), the ``withdrawbot`` commands pointed at the demo's database,
and the calls the Slack stand-in has recorded. No secret is printed: the curl carries a
signature of one body, not the signing secret, and the bot token stays out.
"""

from __future__ import annotations

import shlex
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from bot.demo.stage import CHANNEL, Stage
from bot.slack.standin.platform import FORM

__all__ = ["how_to_poke"]

SIGNATURE_WINDOW = 300


def how_to_poke(stage: Stage, workdir: Path) -> str:
    settings = stage.settings
    env = (
        f"DATABASE_URL={shlex.quote(settings.database_url)} "
        f"WITHDRAWBOT_POLICY={shlex.quote(str(settings.policy_path))}"
    )
    calls = Counter(call.method for call in stage.slack.calls)
    recorded = ", ".join(f"{method} {count}" for method, count in calls.most_common())
    lines = [
        "The stack stays up. Ctrl-C stops it and deletes " + str(workdir) + ".",
        "",
        f"  bot (HTTP mode)   {stage.bot_url}/slack/events",
        f"                    curl -s {stage.bot_url}/healthz ; curl -s {stage.bot_url}/metrics",
        f"  Slack stand-in    {stage.slack.api_url}",
        f"                    recorded calls: curl -s {stage.slack.calls_url}",
        f"                    so far: {recorded}",
        f"  edgeX simulator   {stage.exchange_url}  (paper account; admin API under /_sim/)",
        f"                    curl -s {stage.exchange_url}/_sim/state ; "
        f"curl -s {stage.exchange_url}/_sim/requests",
        f"  database          {settings.database_url}",
        "",
        _signed_list(stage),
        "",
        "The withdrawbot commands, on the demo's database:",
        f"  {env} withdrawbot audit verify",
        f"  {env} withdrawbot freeze --by you --reason 'trying it'",
        f"  {env} withdrawbot unfreeze --by you",
        f"  withdrawbot policy check {shlex.quote(str(settings.policy_path))}",
    ]
    return "\n".join(lines)


def _signed_list(stage: Stage) -> str:
    """The curl for ``/withdraw list`` typed by alice, signed now as Slack would sign it."""
    payload = stage.platform.command_payload(stage.people["alice"], "list", channel=CHANNEL)
    body = urlencode(payload)
    headers = stage.platform.headers(body.encode("utf-8"))
    until = datetime.fromtimestamp(time.time() + SIGNATURE_WINDOW, UTC)
    parts = [
        "curl -s",
        shlex.quote(f"{stage.bot_url}/slack/events"),
        "-H",
        shlex.quote(f"Content-Type: {FORM}"),
        *(
            arg
            for name, value in headers.items()
            for arg in ("-H", shlex.quote(f"{name}: {value}"))
        ),
        "--data-binary",
        shlex.quote(body),
    ]
    return (
        f"alice types /withdraw list, signed as Slack signs it (the bot takes it until "
        f"{until:%H:%M:%S} UTC):\n  " + " ".join(parts)
    )
