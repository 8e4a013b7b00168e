"""Both app manifests parse, and agree with each other and with what the bot calls."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.slack.command_parser import USAGE
from bot.slack.standin.web_api import MANIFEST_SCOPES, METHODS, REQUIRED_SCOPE

ROOT = Path(__file__).resolve().parents[2]
EVENTS_URL = "https://YOUR-HOST/slack/events"

SCOPE_OF_METHOD = REQUIRED_SCOPE
# Scopes not tied to one Web API method: the slash command.
OTHER_SCOPES = {"commands"}


def _load(name: str) -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def socket() -> dict[str, Any]:
    return _load("app_manifest.yml")


@pytest.fixture(scope="module")
def http() -> dict[str, Any]:
    return _load("app_manifest.http.yml")


def test_socket_mode_manifest(socket: dict[str, Any]) -> None:
    settings = socket["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"] == {"is_enabled": True}
    assert settings["event_subscriptions"] == {"bot_events": ["app_home_opened"]}
    (command,) = socket["features"]["slash_commands"]
    assert "url" not in command


def test_http_manifest_points_every_url_at_slack_events(http: dict[str, Any]) -> None:
    settings = http["settings"]
    assert settings["socket_mode_enabled"] is False
    assert settings["interactivity"] == {"is_enabled": True, "request_url": EVENTS_URL}
    assert settings["event_subscriptions"]["request_url"] == EVENTS_URL
    (command,) = http["features"]["slash_commands"]
    assert command["url"] == EVENTS_URL


def test_the_two_manifests_differ_only_in_transport(
    socket: dict[str, Any], http: dict[str, Any]
) -> None:
    assert socket["oauth_config"] == http["oauth_config"]
    assert socket["display_information"] == http["display_information"]
    assert {k: v for k, v in socket["features"].items() if k != "slash_commands"} == {
        k: v for k, v in http["features"].items() if k != "slash_commands"
    }
    (socket_command,) = socket["features"]["slash_commands"]
    (http_command,) = http["features"]["slash_commands"]
    assert socket_command == {k: v for k, v in http_command.items() if k != "url"}
    assert (
        socket["settings"]["event_subscriptions"]["bot_events"]
        == (http["settings"]["event_subscriptions"]["bot_events"])
    )


def test_command_bot_user_and_home(socket: dict[str, Any]) -> None:
    features = socket["features"]
    (command,) = features["slash_commands"]
    assert command["command"] == "/withdraw"
    assert command["should_escape"] is False
    assert all(syntax.split()[0] == command["command"] for syntax, _ in USAGE)
    assert features["bot_user"]["display_name"] == "withdrawbot"
    assert features["app_home"]["home_tab_enabled"] is True
    assert len(socket["display_information"]["description"]) <= 140


def _methods_the_bot_calls() -> set[str]:
    """Web API methods named in the bot's own code (slack_sdk spells chat.update chat_update)."""
    source = "\n".join(
        path.read_text(encoding="utf-8")
        for path in (ROOT / "bot").rglob("*.py")
        if "standin" not in path.parts
    )
    return {m for m in SCOPE_OF_METHOD if re.search(rf"\b{m.replace('.', '_')}\b", source)}


def test_scopes_are_exactly_what_the_bot_uses(socket: dict[str, Any]) -> None:
    assert set(SCOPE_OF_METHOD) == set(METHODS), "a method the stand-in answers has no scope entry"
    called = _methods_the_bot_calls()
    assert {"chat.postMessage", "conversations.replies", "usergroups.list"} <= called
    needed = {SCOPE_OF_METHOD[m] for m in called if SCOPE_OF_METHOD[m]} | OTHER_SCOPES
    granted = socket["oauth_config"]["scopes"]["bot"]
    assert len(granted) == len(set(granted))
    assert set(granted) == needed
    assert set(granted) == MANIFEST_SCOPES, "the stand-in grants other scopes than the manifest"
    assert "user" not in socket["oauth_config"]["scopes"]
