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
from urllib.parse import urlencode

from bot.demo.stage import CHANNEL, Stage
from bot.demo.transcript import wrap
from bot.slack.standin.platform import FORM

__all__ = ["how_to_poke"]

SIGNATURE_WINDOW = 300


def how_to_poke(stage: Stage) -> str:
    settings = stage.settings
    calls = Counter(call.method for call in stage.slack.calls)
    recorded = ", ".join(f"{method} {count}" for method, count in calls.most_common())
    lines = [
        f"The stack stays up. Ctrl-C stops it and deletes {stage.workdir}.",
        "",
        f"  bot (HTTP mode)   {stage.bot_url}/slack/events",
        f"                    curl -s {stage.bot_url}/healthz",
        f"                    curl -s {stage.bot_url}/metrics",
        f"  Slack stand-in    {stage.slack.api_url}",
        f"                    recorded calls: curl -s {stage.slack.calls_url}",
        *wrap(f"so far: {recorded}", " " * 20),
        f"  edgeX simulator   {stage.exchange_url}  (the paper account; admin API under /_sim/)",
        f"                    curl -s {stage.exchange_url}/_sim/state",
        f"                    curl -s {stage.exchange_url}/_sim/requests",
        f"  database          {settings.database_url}",
        "",
        *_signed_list(stage),
        "",
        "The withdrawbot commands on the demo's database, from another shell:",
        f"  export DATABASE_URL={shlex.quote(settings.database_url)}",
        f"  export WITHDRAWBOT_POLICY={shlex.quote(str(settings.policy_path))}",
        "  withdrawbot audit verify",
        "  withdrawbot freeze --by you --reason 'trying it'",
        "  withdrawbot unfreeze --by you",
        '  withdrawbot policy check "$WITHDRAWBOT_POLICY"',
    ]
    return "\n".join(lines)


def _signed_list(stage: Stage) -> list[str]:
    """The curl for ``/withdraw list`` typed by alice, signed now as Slack would sign it.

    One ``--data-binary`` per form field keeps each line short: curl joins them with ``&``,
    which gives back exactly the body that was signed.
    """
    payload = stage.platform.command_payload(stage.people["alice"], "list", channel=CHANNEL)
    fields = [urlencode({name: value}) for name, value in payload.items()]
    headers = stage.platform.headers("&".join(fields).encode("utf-8"))
    until = datetime.fromtimestamp(time.time() + SIGNATURE_WINDOW, UTC)
    parts = [
        f"curl -s {shlex.quote(stage.bot_url + '/slack/events')}",
        f"-H {shlex.quote('Content-Type: ' + FORM)}",
        *(f"-H {shlex.quote(f'{name}: {value}')}" for name, value in headers.items()),
        *(f"--data-binary {shlex.quote(field)}" for field in fields),
    ]
    return [
        f"alice types /withdraw list, signed as Slack signs it (taken until {until:%H:%M:%S} UTC):",
        "  " + " \\\n    ".join(parts),
    ]
