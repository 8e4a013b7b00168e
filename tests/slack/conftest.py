from __future__ import annotations

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.slack.standin import SlackStandIn

CHANNEL = "C0TREASURY"


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    """A running stand-in with the approval channel, three colleagues and a user group."""
    with SlackStandIn() as slack:
        workspace = slack.workspace
        for user_id, name in (("U0ALICE", "alice"), ("U0BOB", "bob"), ("U0CAROL", "carol")):
            workspace.add_person(user_id, name)
        workspace.add_person("U0MALLORY", "mallory", team_id="T0OTHER")
        workspace.add_channel(CHANNEL, "treasury", members=["U0ALICE", "U0BOB", "U0CAROL"])
        workspace.add_group("treasury", ["U0BOB", "U0CAROL"], name="Treasury")
        yield slack


@pytest.fixture
def client(standin: SlackStandIn) -> WebClient:
    return WebClient(token=standin.bot_token, base_url=standin.api_url, timeout=5)
