"""The stack the demo plays on: a loopback Slack, the paper edgeX and the bot, all in this process.

Nothing comes from the environment or the working directory: the settings are written out here
in full (so a ``SLACK_APP_TOKEN`` or ``DATABASE_URL`` in the caller's shell cannot turn the demo
into something else), the policy is written to the demo's own temporary directory, and the
signing secret is new each run. The bot is put together from the pieces ``withdrawbot run`` uses
in paper mode, in its order (the start-up checks of :mod:`bot.startup`, the embedded simulator
with its paper account, :func:`bot.bootstrap.start_background` with the worker), and served over
real HTTP, so every click reaches it signed exactly as Slack signs it. (``run`` itself reads its
settings from the environment and serves uvicorn on the main thread until a signal, which is
why the demo assembles the same pieces rather than calling it.)

The simulator's status walks are slowed to an hour per step: a withdrawal moves only when the
script advances the simulator's clock, after it has seen the previous status in the thread, so
every status shows up in the transcript however busy the machine is.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.bootstrap import Stack, checked_stack
from bot.edgex.simulator.admin import SimulatorAdmin
from bot.runner import serve_in_thread
from bot.settings import PAPER, Settings
from bot.slack.standin import Person, SlackPlatform, SlackStandIn
from storage.engine import Database, create_database_engine
from storage.migrations import upgrade

__all__ = [
    "CHANNEL",
    "CHANNEL_NAME",
    "COLD_WALLET",
    "EDGE_CHAIN",
    "POLICY",
    "STEP_SECONDS",
    "UNLISTED_WALLET",
    "V2_POLICY",
    "Stage",
    "staged",
]

CHANNEL = "C0TREASURY"
CHANNEL_NAME = "treasury"
TEAM_ID = "T0DEMO"
REQUESTER = ("U0ALICE", "alice")
APPROVERS = (("U0BOB", "bob"), ("U0CAROL", "carol"))
COLD_WALLET = "0x52908400098527886E0F7030069857D2E4169EE7"
UNLISTED_WALLET = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
L1_CHAIN = 11155111  # the simulator's L1 (Sepolia, starkExChainId 0xaa36a7)
STEP_SECONDS = 3600
POLL_INTERVAL = 0.1

POLICY = f"""\
# The demo's policy: alice drafts; two of @treasury (bob, carol) approve anything up to the
# limit; a destination off the allowlist needs the "large" tier, which asks the same two.
version = 1
requesters = ["{REQUESTER[0]}"]

[groups]
treasury = ["@treasury"]

[approval]
expiry = "1h"

[cross_fee]
headroom = "0.25"
max_share_of_amount = "0.005"

[coins.USDT]
max_amount = "100000"
daily_limit = "500000"
unlisted_destinations = "escalate"
escalate_to = "large"

[[coins.USDT.tiers]]
name = "standard"
above = "0"
require = [{{ group = "treasury", count = 2 }}]

[[coins.USDT.tiers]]
name = "large"
above = "10000"
require = [{{ group = "treasury", count = 2 }}]

[[coins.USDT.allowlist]]
chain_id = {L1_CHAIN}
address = "{COLD_WALLET}"
label = "Treasury cold wallet"

[[coins.USDT.allowlist]]
chain_id = 42161
address = "{COLD_WALLET}"
label = "Treasury cold wallet on Arbitrum"
"""


EDGE_CHAIN = 3343
V2_POLICY = f"""\
# The demo's policy on edgeX V2: USDC paid out on Edge chain; two of @treasury approve, a
# destination off the allowlist needs the "large" tier, which asks the same two.
version = 1
requesters = ["{REQUESTER[0]}"]

[groups]
treasury = ["@treasury"]

[approval]
expiry = "1h"

[cross_fee]
headroom = "0.5"
max_share_of_amount = "0.01"

[coins.USDC]
max_amount = "100000"
daily_limit = "500000"
unlisted_destinations = "escalate"
escalate_to = "large"

[[coins.USDC.tiers]]
name = "standard"
above = "0"
require = [{{ group = "treasury", count = 2 }}]

[[coins.USDC.tiers]]
name = "large"
above = "10000"
require = [{{ group = "treasury", count = 2 }}]

[[coins.USDC.allowlist]]
chain_id = {EDGE_CHAIN}
address = "{COLD_WALLET}"
label = "Treasury wallet on Edge"
"""


@dataclass
class Stage:
    """Everything running, and what the loopback Slack shows of it."""

    slack: SlackStandIn
    platform: SlackPlatform
    stack: Stack
    admin: SimulatorAdmin
    settings: Settings
    bot_url: str
    exchange_url: str
    people: dict[str, Person]
    workdir: Path
    v2: bool = False

    @property
    def names(self) -> dict[str, str]:
        """Display names by user id, the bot included, for drawing mentions."""
        workspace = self.slack.workspace
        found = {person.user_id: person.name for person in self.people.values()}
        return {**found, workspace.bot_user_id: "withdrawbot"}

    def roots(self) -> list[dict[str, Any]]:
        """Top-level messages in the approval channel, oldest first (broadcasts left out)."""
        return [
            m
            for m in self.slack.workspace.channel_messages(CHANNEL)
            if m.get("thread_ts") in (None, m["ts"])
        ]

    def thread(self, ts: str) -> list[dict[str, Any]]:
        return self.slack.workspace.thread(CHANNEL, ts)

    def private(self, name: str) -> list[dict[str, Any]]:
        """What only ``name`` was shown: command acks, ``response_url`` answers, ephemerals."""
        return self.slack.workspace.ephemerals_for(self.people[name].user_id)


def demo_settings(
    workdir: Path, standin: SlackStandIn, signing_secret: str, *, v2: bool = False
) -> Settings:
    """Every setting spelled out, so nothing is read from the environment or a ``.env``."""
    return Settings(
        EDGEX_API="v2" if v2 else "v1",
        _env_file=None,
        SLACK_BOT_TOKEN=standin.bot_token,
        SLACK_SIGNING_SECRET=signing_secret,
        SLACK_APP_TOKEN=None,
        SLACK_API_URL=standin.api_url,
        SLACK_TEAM_ID=TEAM_ID,
        WITHDRAWBOT_CHANNEL=CHANNEL,
        EDGEX_BASE_URL=PAPER,
        EDGEX_ACCOUNT_ID=None,
        DATABASE_URL=f"sqlite:///{workdir / 'withdrawbot.db'}",
        WITHDRAWBOT_POLICY=workdir / "policy.toml",
        WITHDRAWBOT_POLL_INTERVAL=POLL_INTERVAL,
        WITHDRAWBOT_POLL_BATCH=50,
    )


@contextmanager
def staged(workdir: Path, *, v2: bool = False) -> Iterator[Stage]:
    """The whole stack up in ``workdir`` (an empty directory); stopped when the block ends.

    ``v2``: the paper account on edgeX V2 (``EDGEX_API=v2``), with its own policy.
    """
    with ExitStack() as stack:
        slack = stack.enter_context(SlackStandIn(team_id=TEAM_ID))
        workspace = slack.workspace
        people = {name: workspace.add_person(uid, name) for uid, name in (REQUESTER, *APPROVERS)}
        workspace.add_channel(CHANNEL, CHANNEL_NAME, members=[p.user_id for p in people.values()])
        workspace.add_group("treasury", [uid for uid, _ in APPROVERS], name="Treasury")
        signing_secret = secrets.token_hex(32)
        settings = demo_settings(workdir, slack, signing_secret, v2=v2)
        settings.policy_path.write_text(V2_POLICY if v2 else POLICY, encoding="utf-8")
        _migrate(settings.database_url)
        # The checks and steps of `withdrawbot run` in paper mode, in its order.
        started = stack.enter_context(checked_stack(settings, worker=True))
        running = started.running
        admin = stack.enter_context(SimulatorAdmin(started.base_url))
        step_ms = STEP_SECONDS * 1000
        admin.post("config", normalStepMs=step_ms, crossStepMs=step_ms, flowStepMs=step_ms)
        url = stack.enter_context(serve_in_thread(running.asgi))
        platform = stack.enter_context(
            SlackPlatform(slack, events_url=f"{url}/slack/events", signing_secret=signing_secret)
        )
        yield Stage(
            slack, platform, running, admin, settings, url, started.base_url, people, workdir, v2
        )


def _migrate(url: str) -> None:
    """Bring the new SQLite file to the schema head, as ``withdrawbot migrate`` would."""
    fresh = Database(create_database_engine(url))
    try:
        upgrade(fresh)
    finally:
        fresh.dispose()
