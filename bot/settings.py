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

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.edgex.v2.hosts import ASSET_URL, REST_URL

if TYPE_CHECKING:
    from bot.edgex.signing import StarkKey
    from bot.edgex.v2.wallet import WalletKey

PAPER = "paper"
KEY_ENV = "EDGEX_STARK_PRIVATE_KEY"
KEY_FILE_ENV = "EDGEX_STARK_PRIVATE_KEY_FILE"
# Setting names, not secrets.
API_SECRET_ENV = "EDGEX_V2_API_SECRET"  # noqa: S105
API_SECRET_FILE_ENV = "EDGEX_V2_API_SECRET_FILE"  # noqa: S105
WALLET_KEY_ENV = "EDGEX_V2_WALLET_PRIVATE_KEY"
WALLET_KEY_FILE_ENV = "EDGEX_V2_WALLET_PRIVATE_KEY_FILE"


class Need(StrEnum):
    """What a command is about to do, which decides the settings it requires."""

    DATABASE = "database"
    SLACK = "slack"
    SLACK_HTTP = "slack-http"
    EXCHANGE = "exchange"
    SIGNING = "signing"


class ExchangeApi(StrEnum):
    """Which edgeX API the account is on: StarkEx V1 (the default) or the V2 unified assets."""

    V1 = "v1"
    V2 = "v2"


@dataclass(frozen=True)
class FlowCredentials:
    """What signs V2 requests: the API key trio (HMAC) and the wallet key (EIP-712)."""

    api_key: str
    api_secret: str = field(repr=False)
    passphrase: str = field(repr=False)
    wallet: WalletKey


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
    edgex_api: ExchangeApi = Field(ExchangeApi.V1, alias="EDGEX_API")
    edgex_v2_asset_url: str = Field(ASSET_URL, alias="EDGEX_V2_ASSET_URL")
    edgex_v2_api_key: str | None = Field(None, alias="EDGEX_V2_API_KEY")
    edgex_v2_passphrase: SecretStr | None = Field(None, alias="EDGEX_V2_PASSPHRASE")
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

    @field_validator(
        "slack_team_id", "channel", "edgex_account_id", "edgex_v2_api_key", mode="before"
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def paper(self) -> bool:
        """Paper mode: the embedded simulator instead of a real exchange."""
        return self.edgex_base_url == PAPER

    @property
    def v2(self) -> bool:
        return self.edgex_api is ExchangeApi.V2

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
            found += self._exchange_problems()
        if Need.SIGNING in needs and not self.paper:
            try:
                if self.v2:
                    self.load_flow_credentials()
                else:
                    self.load_stark_key()
            except SettingsError as err:
                found += err.problems
        return found

    def _exchange_problems(self) -> list[str]:
        found: list[str] = []
        example = REST_URL if self.v2 else "https://pro.edgex.exchange"
        if not self.edgex_base_url.startswith(("https://", "http://")):
            found.append("EDGEX_BASE_URL must be an http(s) URL or 'paper'")
        elif not _root_url(self.edgex_base_url):
            found.append(
                f"EDGEX_BASE_URL must be the exchange's root URL without a path, e.g. {example}"
            )
        if not (self.edgex_account_id or "").isdigit():
            found.append("EDGEX_ACCOUNT_ID is not set (the numeric edgeX account id)")
        if self.v2 and not _root_url(self.edgex_v2_asset_url):
            found.append(f"EDGEX_V2_ASSET_URL must be the asset host's root URL, e.g. {ASSET_URL}")
        return found

    def require(self, *needs: Need) -> None:
        """Raise :class:`SettingsError` listing every problem for these needs."""
        problems = self.problems(*needs)
        if problems:
            raise SettingsError(problems)

    def key_setting(self) -> str:
        """The setting the L2 key is read from, to name it in messages (never its value)."""
        return KEY_FILE_ENV if _SecretSources().key_path else KEY_ENV

    def wallet_setting(self) -> str:
        """The setting the V2 wallet key is read from, to name it in messages."""
        return WALLET_KEY_FILE_ENV if _SecretSources().wallet_path else WALLET_KEY_ENV

    def load_stark_key(self) -> StarkKey:
        """The account's L2 key from ``EDGEX_STARK_PRIVATE_KEY`` or the file it names.

        Read from the environment (or ``.env``) on each call and never kept on the settings
        object, so only the process that signs ever has it; errors never echo the key.
        """
        from bot.edgex.signing import InvalidPrivateKey, StarkKey  # noqa: PLC0415 - signers only

        sources = _SecretSources()
        text, source = _secret(
            sources.key, sources.key_path, KEY_ENV, KEY_FILE_ENV, "L2 private key"
        )
        try:
            return StarkKey.from_hex(text)
        except InvalidPrivateKey as err:
            raise SettingsError([f"{source}: {err}"]) from None

    def load_flow_credentials(self) -> FlowCredentials:
        """The V2 API key trio and wallet key, read on each call like the L2 key.

        Every problem at once; errors name the settings, never a value. eth-account is
        imported here, by the processes that sign, not by every command.
        """
        from bot.edgex.v2.wallet import InvalidWalletKey, WalletKey  # noqa: PLC0415

        sources = _SecretSources()
        problems: list[str] = []
        if not self.edgex_v2_api_key:
            problems.append("EDGEX_V2_API_KEY is not set (API Management, the SDK signer's key)")
        passphrase = self.edgex_v2_passphrase.get_secret_value() if self.edgex_v2_passphrase else ""
        if not passphrase:
            problems.append("EDGEX_V2_PASSPHRASE is not set (the API key's passphrase)")
        secret = ""
        try:
            secret = _secret(
                sources.api_secret,
                sources.api_secret_path,
                API_SECRET_ENV,
                API_SECRET_FILE_ENV,
                "API secret",
            )[0].strip()
        except SettingsError as err:
            problems += err.problems
        wallet: WalletKey | None = None
        source = WALLET_KEY_ENV
        try:
            text, source = _secret(
                sources.wallet,
                sources.wallet_path,
                WALLET_KEY_ENV,
                WALLET_KEY_FILE_ENV,
                "wallet private key that signs withdrawals",
            )
            wallet = WalletKey(text)
        except SettingsError as err:
            problems += err.problems
        except InvalidWalletKey as err:
            problems.append(f"{source}: {err}")
        for name, value in (
            ("EDGEX_V2_API_KEY", self.edgex_v2_api_key or ""),
            (API_SECRET_ENV, secret),
        ):
            if value and (not value.isascii() or not value.isprintable()):
                problems.append(f"{name} must be printable ASCII text")
        if problems or wallet is None:
            raise SettingsError(problems)
        return FlowCredentials(self.edgex_v2_api_key or "", secret, passphrase, wallet)


class _SecretSources(BaseSettings):
    """Where the keys and secrets are: the same places as :class:`Settings`, read on demand."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=True
    )

    key: SecretStr | None = Field(None, alias=KEY_ENV)
    key_path: str | None = Field(None, alias=KEY_FILE_ENV)
    api_secret: SecretStr | None = Field(None, alias=API_SECRET_ENV)
    api_secret_path: str | None = Field(None, alias=API_SECRET_FILE_ENV)
    wallet: SecretStr | None = Field(None, alias=WALLET_KEY_ENV)
    wallet_path: str | None = Field(None, alias=WALLET_KEY_FILE_ENV)


def _secret(
    value: SecretStr | None, path: str | None, env: str, file_env: str, what: str
) -> tuple[str, str]:
    """A secret from its setting or the file its ``_FILE`` setting names, and which it was."""
    direct = value.get_secret_value() if value is not None else ""
    if direct and path:
        raise SettingsError([f"set {env} or {file_env}, not both"])
    if path:
        try:
            return Path(path).read_text(encoding="utf-8"), file_env
        except (OSError, UnicodeDecodeError) as err:
            reason = err.strerror if isinstance(err, OSError) else "not UTF-8 text"
            raise SettingsError([f"{file_env}: cannot read {path}: {reason}"]) from None
    if direct:
        return direct, env
    raise SettingsError([f"{env} or {file_env} is not set (the {what})"])


def _root_url(url: str) -> bool:
    parts = urlsplit(url)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.netloc)
        and parts.path in ("", "/")
        and not parts.query
    )


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
