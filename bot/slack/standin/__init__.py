"""A loopback Slack: the Web API the bot calls, and the platform that calls the bot.

Tests and ``withdrawbot demo`` run the real bot against it over real HTTP, so what they check is
what Slack would see: every Web API call recorded with its arguments, messages kept in channels
and threads (with their metadata), modals and Home tabs, and requests into the bot signed with
the signing secret exactly as Slack signs them::

    with SlackStandIn() as slack:
        slack.workspace.add_channel("C0TREASURY", "treasury")
        alice = slack.workspace.add_person("U0ALICE", "alice")
        client = WebClient(token=slack.bot_token, base_url=slack.api_url)
        with SlackPlatform(slack, events_url=bot_url, signing_secret=secret) as platform:
            platform.command(alice, "250 USDT to 0x… rebalancing", channel="C0TREASURY")
"""

from bot.slack.standin.arguments import SlackError
from bot.slack.standin.platform import ACK_DEADLINE, Delivery, SlackPlatform, sign, view_state
from bot.slack.standin.web_api import BOT_TOKEN, Call, SlackStandIn
from bot.slack.standin.workspace import Person, ResponseTarget, Workspace

__all__ = [
    "ACK_DEADLINE",
    "BOT_TOKEN",
    "Call",
    "Delivery",
    "Person",
    "ResponseTarget",
    "SlackError",
    "SlackPlatform",
    "SlackStandIn",
    "Workspace",
    "sign",
    "view_state",
]
