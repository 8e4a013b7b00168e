"""The settings contract: names, defaults, one line per problem, and no secret ever shown."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.edgex.signing import StarkKey
from bot.settings import Need, Settings, SettingsError

KEY = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
ALL = [
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "SLACK_TEAM_ID",
    "WITHDRAWBOT_CHANNEL",
    "EDGEX_BASE_URL",
    "EDGEX_ACCOUNT_ID",
    "EDGEX_STARK_PRIVATE_KEY",
    "EDGEX_STARK_PRIVATE_KEY_FILE",
    "DATABASE_URL",
    "WITHDRAWBOT_POLICY",
    "WITHDRAWBOT_POLL_INTERVAL",
    "WITHDRAWBOT_POLL_BATCH",
]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ALL:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env from the checkout


def test_defaults_are_the_documented_ones() -> None:
    settings = Settings.load()
    assert settings.paper
    assert settings.edgex_base_url == "paper"
    assert settings.database_url == "sqlite:///withdrawbot.db"
    assert settings.policy_path == Path("policy.toml")
    assert settings.slack_api_url == "https://slack.com/api/"
    assert (settings.poll_interval, settings.poll_batch) == (5.0, 50)
    assert not settings.socket_mode


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgres://u:p@db:5432/x", "postgresql+psycopg://u:p@db:5432/x"),
        ("postgresql://u@db/x", "postgresql+psycopg://u@db/x"),
        ("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"),
        ("sqlite:////var/lib/wb.db", "sqlite:////var/lib/wb.db"),
    ],
)
def test_database_url_is_made_sqlalchemy_ready(
    monkeypatch: pytest.MonkeyPatch, url: str, expected: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    assert Settings.load().database_url == expected


def test_slack_api_url_always_ends_with_a_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9000/api")
    assert Settings.load().slack_api_url == "http://127.0.0.1:9000/api/"


def test_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("WITHDRAWBOT_CHANNEL=C0DOTENV\nWITHDRAWBOT_POLL_BATCH=7\n")
    settings = Settings.load()
    assert (settings.channel, settings.poll_batch) == ("C0DOTENV", 7)


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        ("WITHDRAWBOT_POLL_BATCH", "500", "WITHDRAWBOT_POLL_BATCH: Input should be less than"),
        ("WITHDRAWBOT_POLL_BATCH", "lots", "WITHDRAWBOT_POLL_BATCH: Input should be a valid"),
        ("WITHDRAWBOT_POLL_INTERVAL", "0", "WITHDRAWBOT_POLL_INTERVAL: Input should be greater"),
    ],
)
def test_malformed_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, line: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        Settings.load()
    assert err.value.problems[0].startswith(line)


def test_each_command_gets_one_line_per_missing_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.load().problems(Need.DATABASE) == []
    assert Settings.load().problems(Need.SLACK_HTTP) == [
        "SLACK_BOT_TOKEN is not set",
        "WITHDRAWBOT_CHANNEL is not set (the channel id, e.g. C0123ABCD)",
        "SLACK_SIGNING_SECRET is not set (needed in HTTP mode; set SLACK_APP_TOKEN to use "
        "Socket Mode instead)",
    ]
    monkeypatch.setenv("SLACK_APP_TOKEN", "xoxb-wrong-kind")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("WITHDRAWBOT_CHANNEL", "C1")
    assert Settings.load().problems(Need.SLACK_HTTP) == [
        "SLACK_APP_TOKEN does not look like a xapp-... token"
    ]
    monkeypatch.setenv("EDGEX_BASE_URL", "pro.edgex.exchange")
    assert Settings.load().problems(Need.SIGNING) == [
        "EDGEX_BASE_URL must be an http(s) URL or 'paper'",
        "EDGEX_ACCOUNT_ID is not set (the numeric edgeX account id)",
        "EDGEX_STARK_PRIVATE_KEY or EDGEX_STARK_PRIVATE_KEY_FILE is not set (the L2 private key)",
    ]


def test_paper_mode_needs_no_exchange_settings() -> None:
    assert Settings.load().problems(Need.EXCHANGE, Need.SIGNING) == []


def test_key_from_environment_or_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("EDGEX_STARK_PRIVATE_KEY", "0x" + KEY)
    from_env = Settings.load().load_stark_key()
    monkeypatch.delenv("EDGEX_STARK_PRIVATE_KEY")
    key_file = tmp_path / "l2.key"
    key_file.write_text(KEY + "\n")
    monkeypatch.setenv("EDGEX_STARK_PRIVATE_KEY_FILE", str(key_file))
    assert Settings.load().load_stark_key().public_x == from_env.public_x


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"EDGEX_STARK_PRIVATE_KEY": KEY, "EDGEX_STARK_PRIVATE_KEY_FILE": "/x"}, "not both"),
        ({"EDGEX_STARK_PRIVATE_KEY_FILE": "/nonexistent/l2.key"}, "cannot read /nonexistent"),
        ({"EDGEX_STARK_PRIVATE_KEY": KEY + "zz"}, "EDGEX_STARK_PRIVATE_KEY: the L2 private key is"),
        ({"EDGEX_STARK_PRIVATE_KEY": "0"}, "the L2 private key is zero"),
    ],
)
def test_bad_keys_are_one_line_without_the_key(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], line: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        Settings.load().load_stark_key()
    (problem,) = err.value.problems
    assert line in problem
    assert KEY not in problem


def test_secrets_never_reach_repr_or_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = {
        "SLACK_BOT_TOKEN": "xoxb-secret-bot-token",
        "SLACK_SIGNING_SECRET": "signing-secret-value",
        "SLACK_APP_TOKEN": "xapp-secret-app-token",
        "EDGEX_STARK_PRIVATE_KEY": KEY,
    }
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    caplog.set_level(logging.DEBUG)
    settings = Settings.load()
    key = settings.load_stark_key()
    logging.getLogger("withdrawbot").info("settings=%r %s key=%r", settings, settings, key)
    shown = repr(settings) + str(settings) + caplog.text + repr(settings.model_dump())
    for value in secrets.values():
        assert value not in shown
    assert "EDGEX_STARK_PRIVATE_KEY" not in repr(settings.model_dump())


@pytest.mark.parametrize(
    "url", ["https://pro.edgex.exchange/api/v1", "https://pro.edgex.exchange/?x=1"]
)
def test_a_base_url_with_a_path_is_one_line(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """The client joins paths onto the root; a path here would be a traceback later."""
    monkeypatch.setenv("EDGEX_BASE_URL", url)
    monkeypatch.setenv("EDGEX_ACCOUNT_ID", "1")
    assert Settings.load().problems(Need.EXCHANGE) == [
        "EDGEX_BASE_URL must be the exchange's root URL without a path, e.g. "
        "https://pro.edgex.exchange"
    ]
    monkeypatch.setenv("EDGEX_BASE_URL", "https://pro.edgex.exchange/")
    assert Settings.load().problems(Need.EXCHANGE) == []


def test_messages_name_the_setting_the_key_came_from(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("EDGEX_STARK_PRIVATE_KEY", KEY)
    assert Settings.load().key_setting() == "EDGEX_STARK_PRIVATE_KEY"
    monkeypatch.delenv("EDGEX_STARK_PRIVATE_KEY")
    monkeypatch.setenv("EDGEX_STARK_PRIVATE_KEY_FILE", str(tmp_path / "l2.key"))
    assert Settings.load().key_setting() == "EDGEX_STARK_PRIVATE_KEY_FILE"


def test_the_key_may_come_from_dotenv_like_every_setting(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"EDGEX_BASE_URL=https://pro.edgex.exchange\nEDGEX_ACCOUNT_ID=1\n"
        f"EDGEX_STARK_PRIVATE_KEY={KEY}\n"
    )
    settings = Settings.load()
    assert settings.problems(Need.SIGNING) == []
    assert settings.load_stark_key().public_x == StarkKey.from_hex(KEY).public_x
    assert KEY not in repr(settings.model_dump())
