"""``withdrawbot run``: mode selection, what it needs, and the one-line refusals at startup."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.paper import PaperMarker
from bot.roles import needs
from bot.runner import Mode, choose_mode
from bot.settings import Need, Settings
from bot.slack.standin import SlackStandIn
from tests.test_settings import ALL

POLICY = Path(__file__).resolve().parents[2] / "policy.example.toml"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in ALL:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield
    # A paper-mode start marks the process's log handlers; this process goes on testing.
    for handler in logging.getLogger().handlers:
        for marker in [f for f in handler.filters if isinstance(f, PaperMarker)]:
            handler.removeFilter(marker)


def test_socket_mode_exactly_when_an_app_token_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert choose_mode(Settings.load()) is Mode.HTTP
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A-1-x")
    assert choose_mode(Settings.load()) is Mode.SOCKET


def test_the_web_only_process_never_needs_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings.load()
    assert Need.SIGNING not in needs(settings, worker=False)
    assert Need.SIGNING in needs(settings, worker=True)
    assert Need.SLACK_HTTP in needs(settings, worker=False)
    monkeypatch.setenv("SLACK_APP_TOKEN", "xapp-1-A-1-x")
    assert Need.SLACK in needs(Settings.load(), worker=False)


def test_missing_settings_one_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [
        "withdrawbot run: SLACK_BOT_TOKEN is not set",
        "withdrawbot run: WITHDRAWBOT_CHANNEL is not set (the channel id, e.g. C0123ABCD)",
        "withdrawbot run: SLACK_SIGNING_SECRET is not set (needed in HTTP mode; set "
        "SLACK_APP_TOKEN to use Socket Mode instead)",
    ]


def test_paper_mode_needs_the_worker_in_the_same_process(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
    monkeypatch.setenv("WITHDRAWBOT_CHANNEL", "C0TREASURY")
    assert main(["run", "--no-worker"]) == 1
    assert "a web-only process (--no-worker) needs a real EDGEX_BASE_URL" in capsys.readouterr().err


def test_unmigrated_database_bad_policy_and_refused_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with SlackStandIn() as slack:
        monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-not-the-standins")
        monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")
        monkeypatch.setenv("SLACK_API_URL", slack.api_url)
        monkeypatch.setenv("WITHDRAWBOT_CHANNEL", "C0TREASURY")
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'bot.db'}")
        assert main(["run"]) == 1
        assert "withdrawbot migrate" in capsys.readouterr().err
        assert main(["migrate"]) == 0
        capsys.readouterr()
        (tmp_path / "policy.toml").write_text("version = 2\n")
        assert main(["run"]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1
        assert err[0].startswith("withdrawbot run: WITHDRAWBOT_POLICY policy.toml: ")
        shutil.copyfile(POLICY, tmp_path / "policy.toml")
        assert main(["run"]) == 1
        assert capsys.readouterr().err.strip() == (
            "withdrawbot run: SLACK_BOT_TOKEN is refused by Slack (invalid_auth)"
        )
