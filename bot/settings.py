"""Settings from the environment (and an optional ``.env``), read once when a command starts.

Every name is a contract (DESIGN.md "Contracts"): keep them exactly. What a setting must hold
depends on the command (``migrate`` needs only the database, ``worker`` needs the L2 key, the
Slack web process must never read it), so loading accepts every combination and each command
asks :meth:`Settings.problems` for the ones it needs, reporting each as one line.

Secrets are ``SecretStr`` (masked in ``repr`` and logs). The L2 key is not a field at all: only
:meth:`Settings.load_stark_key`, called by the signing process, reads it from the environment (or
``.env``) or its file, so no other process ever holds it.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.edgex.signing import InvalidPrivateKey, StarkKey

PAPER = "paper"
KEY_ENV = "EDGEX_STARK_PRIVATE_KEY"
KEY_FILE_ENV = "EDGEX_STARK_PRIVATE_KEY_FILE"


class Need(StrEnum):
    """What a command is about to do, which decides the settings it requires."""

    DATABASE = "database"
    SLACK = "slack"
    SLACK_HTTP = "slack-http"
    EXCHANGE = "exchange"
    SIGNING = "signing"


class SettingsError(Exception):
    """Settings that cannot serve the command; one line per problem, never a secret value."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Settings(BaseSettings):
    """The environment contract of DESIGN.md."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", alias="SLACK_API_URL")
    slack_team_id: str | None = Field(None, alias="SLACK_TEAM_ID")
    channel: str | None = Field(None, alias="WITHDRAWBOT_CHANNEL")
    edgex_base_url: str = Field(PAPER, alias="EDGEX_BASE_URL")
    edgex_account_id: str | None = Field(None, alias="EDGEX_ACCOUNT_ID")
    database_url: Annotated[str, NoDecode] = Field("sqlite:///withdrawbot.db", alias="DATABASE_URL")
    policy_path: Path = Field(Path("policy.toml"), alias="WITHDRAWBOT_POLICY")
    poll_interval: float = Field(5.0, alias="WITHDRAWBOT_POLL_INTERVAL", gt=0, le=3600)
    poll_batch: int = Field(50, alias="WITHDRAWBOT_POLL_BATCH", ge=1, le=100)

    @field_validator("database_url")
    @classmethod
    def _sqlalchemy_url(cls, value: str) -> str:
        """Heroku-style ``postgres://`` URLs name a dialect SQLAlchemy 2 no longer accepts."""
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value.removeprefix(prefix)
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        """slack_sdk joins method names onto base_url: without the slash it drops '/api'."""
        return value if value.endswith("/") else value + "/"

    @field_validator("slack_team_id", "channel", "edgex_account_id", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def paper(self) -> bool:
        """Paper mode: the embedded simulator instead of a real exchange."""
        return self.edgex_base_url == PAPER

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @classmethod
    def load(cls) -> Settings:
        """Read the environment once; malformed values become a :class:`SettingsError`."""
        try:
            return cls()
        except ValidationError as err:
            raise SettingsError(
                [f"{_env_name(e['loc'])}: {e['msg']}" for e in err.errors()]
            ) from None

    def problems(self, *needs: Need) -> list[str]:
        """Every missing or inconsistent setting for these needs, one readable line each."""
        found: list[str] = []
        if Need.SLACK in needs or Need.SLACK_HTTP in needs:
            found += _token(self.slack_bot_token, "SLACK_BOT_TOKEN", "xoxb-")
            if self.slack_app_token is not None:
                found += _token(self.slack_app_token, "SLACK_APP_TOKEN", "xapp-")
            if not self.channel:
                found.append("WITHDRAWBOT_CHANNEL is not set (the channel id, e.g. C0123ABCD)")
        if Need.SLACK_HTTP in needs and not self.socket_mode and not self.slack_signing_secret:
            found.append(
                "SLACK_SIGNING_SECRET is not set (needed in HTTP mode; set SLACK_APP_TOKEN "
                "to use Socket Mode instead)"
            )
        if (Need.EXCHANGE in needs or Need.SIGNING in needs) and not self.paper:
            if not self.edgex_base_url.startswith(("https://", "http://")):
                found.append("EDGEX_BASE_URL must be an http(s) URL or 'paper'")
            elif urlsplit(self.edgex_base_url).path not in ("", "/") or "?" in self.edgex_base_url:
                found.append(
                    "EDGEX_BASE_URL must be the exchange's root URL without a path, e.g. "
                    "https://pro.edgex.exchange"
                )
            if not (self.edgex_account_id or "").isdigit():
                found.append("EDGEX_ACCOUNT_ID is not set (the numeric edgeX account id)")
        if Need.SIGNING in needs and not self.paper:
            try:
                self.load_stark_key()
            except SettingsError as err:
                found += err.problems
        return found

    def require(self, *needs: Need) -> None:
        """Raise :class:`SettingsError` listing every problem for these needs."""
        problems = self.problems(*needs)
        if problems:
            raise SettingsError(problems)

    def key_setting(self) -> str:
        """The setting the L2 key is read from, to name it in messages (never its value)."""
        return KEY_FILE_ENV if _KeySource().path else KEY_ENV

    def load_stark_key(self) -> StarkKey:
        """The account's L2 key from ``EDGEX_STARK_PRIVATE_KEY`` or the file it names.

        Read from the environment (or ``.env``) on each call and never kept on the settings
        object, so only the process that signs ever has it; errors never echo the key.
        """
        found = _KeySource()
        direct = found.direct.get_secret_value() if found.direct is not None else ""
        path = found.path or ""
        if direct and path:
            raise SettingsError([f"set {KEY_ENV} or {KEY_FILE_ENV}, not both"])
        if path:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as err:
                reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
                raise SettingsError([f"{KEY_FILE_ENV}: cannot read {path}: {reason}"]) from None
            source = KEY_FILE_ENV
        elif direct:
            text, source = direct, KEY_ENV
        else:
            raise SettingsError([f"{KEY_ENV} or {KEY_FILE_ENV} is not set (the L2 private key)"])
        try:
            return StarkKey.from_hex(text)
        except InvalidPrivateKey as err:
            raise SettingsError([f"{source}: {err}"]) from None


class _KeySource(BaseSettings):
    """Where the L2 key is, read from the same places as :class:`Settings` but only on demand."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    direct: SecretStr | None = Field(None, alias=KEY_ENV)
    path: str | None = Field(None, alias=KEY_FILE_ENV)


def _token(value: SecretStr | None, name: str, prefix: str) -> list[str]:
    if value is None or not value.get_secret_value():
        return [f"{name} is not set"]
    if not value.get_secret_value().startswith(prefix):
        return [f"{name} does not look like a {prefix}... token"]
    return []


def _env_name(location: tuple[int | str, ...]) -> str:
    field = str(location[0]) if location else "settings"
    info = Settings.model_fields.get(field)
    return info.alias if info is not None and info.alias else field
