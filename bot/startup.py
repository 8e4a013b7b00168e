"""The start-up checks ``withdrawbot run`` and ``withdrawbot worker`` share.

Each check turns one misconfiguration into one line that names it, and raises ``Refused``
(``bot.refused``);
the command prints each line on stderr and exits 1, without a traceback. The operator's side of
the bot has this one refusal; what a check meets below it is turned into one of its lines::

    Refused (problems: one line each)        a start that will not happen
      from SettingsError                     settings missing or malformed (bot.settings)
      from StorageError, DBAPIError          the database unreachable or not at the head
      from PolicyError                       the policy file (approvals.refusals)
      from SlackApiError, SlackClientError   a token Slack refuses, Slack unreachable
      from EdgeXError                        edgeX unreachable, or not this key's account

A line never holds a secret value: tokens, the signing secret and the key are named by their
setting, never shown.

The checks run before the process logs or writes anything (the policy's audit row, a lease, a
Slack post), so a refused start leaves nothing behind but its line. The exchange and Slack
clients log each call they make (and slack_sdk each retry); during a check those lines are held
back, since the check's own line says what they would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from approvals.policy import Policy, load_policy
from approvals.refusals import PolicyError
from bot.edgex import signing
from bot.edgex.client import EdgeXClient, EdgeXPublicClient
from bot.edgex.errors import (
    EdgeXAPIError,
    EdgeXError,
    EdgeXHTTPError,
    EdgeXMalformedResponse,
    EdgeXTransportError,
)
from bot.edgex.models import Account
from bot.edgex.signing import StarkKey
from bot.edgex.wire import log_event
from bot.refused import Refused
from bot.settings import API_SECRET_ENV, FlowCredentials, Need, Settings, SettingsError
from storage import audit
from storage.engine import Database, create_database_engine, database_url
from storage.failures import StorageError
from storage.migrations import ensure_migrated

if TYPE_CHECKING:
    from bot.worker.flow_access import FlowAccess

__all__ = [
    "adopt_policy",
    "check_account",
    "check_app_token",
    "check_exchange",
    "check_flow_account",
    "check_flow_host",
    "load_settings",
    "open_checked",
    "read_flow_credentials",
    "read_key",
    "read_policy",
    "slack_team",
]

log = logging.getLogger(__name__)

# The clients' own call-by-call log lines (and slack_sdk's retries), held back during a check.
_EXCHANGE_LOGGER = "bot.edgex"
_SLACK_LOGGER = "slack_sdk"


def load_settings(*needs: Need) -> Settings:
    """The settings, refused with every problem they have for these needs, one line each."""
    try:
        settings = Settings.load()
    except SettingsError as err:
        raise Refused(err.problems) from None
    problems = settings.problems(*needs)
    if problems:
        raise Refused(problems)
    return settings


def open_checked(settings: Settings) -> Database:
    """The database, refused unless it can be reached and is at this code's migration head."""
    url = database_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        folder = Path(url.database).parent
        if not folder.is_dir():
            raise Refused(
                [f"DATABASE_URL: the directory {folder} of the SQLite database does not exist"]
            )
    try:
        database = Database(create_database_engine(url))
    except StorageError as err:
        raise Refused([f"DATABASE_URL: {err}"]) from None
    try:
        ensure_migrated(database)
    except StorageError as err:
        database.dispose()
        raise Refused([str(err)]) from None
    except DBAPIError as err:
        database.dispose()
        lines = str(err.orig).strip().splitlines()
        reason = lines[0] if lines else type(err.orig).__name__
        raise Refused([f"the database at {database.where} cannot be reached: {reason}"]) from None
    except SQLAlchemyError as err:
        database.dispose()
        reason = str(err).splitlines()[0]
        raise Refused([f"the database at {database.where} cannot be used: {reason}"]) from None
    return database


def read_policy(settings: Settings) -> Policy:
    """The approval policy, refused with the file and the field that is wrong."""
    try:
        return load_policy(settings.policy_path)
    except PolicyError as err:
        raise Refused([f"WITHDRAWBOT_POLICY {settings.policy_path}: {err}"]) from None
    except OSError as err:
        reason = err.strerror or str(err)
        raise Refused([f"WITHDRAWBOT_POLICY {settings.policy_path}: {reason}"]) from None


def adopt_policy(database: Database, policy: Policy) -> None:
    """Log the policy's hash, and put it into the audit log if it changed since the last start.

    Called once every check passed, so a refused start writes nothing.
    """
    changed = audit.record_policy(database, policy=policy, now=datetime.now(UTC))
    log_event(log, logging.INFO, "policy.loaded", hash=policy.hash, changed=changed)


def read_key(settings: Settings) -> StarkKey:
    """The L2 key, for the process that signs; refused in one line that never shows it."""
    try:
        return settings.load_stark_key()
    except SettingsError as err:
        raise Refused(err.problems) from None


def read_flow_credentials(settings: Settings) -> FlowCredentials:
    """The V2 API key trio and wallet key, for the process that signs; never shown."""
    try:
        return settings.load_flow_credentials()
    except SettingsError as err:
        raise Refused(err.problems) from None


def slack_team(settings: Settings, slack: WebClient) -> str:
    """The workspace allowed to act, once Slack accepted the token (``auth.test``).

    ``SLACK_TEAM_ID`` when set, else the token's own workspace.
    """
    try:
        with _held_back(_SLACK_LOGGER):
            answer = slack.auth_test()
    except SlackApiError as err:
        code = err.response.get("error", "error") if err.response is not None else "error"
        raise Refused([f"SLACK_BOT_TOKEN is refused by Slack ({code})"]) from None
    except (SlackClientError, OSError) as err:
        reason = getattr(err, "reason", None) or err.strerror if isinstance(err, OSError) else err
        raise Refused(
            [f"Slack cannot be reached at SLACK_API_URL {settings.slack_api_url}: {reason}"]
        ) from None
    return settings.slack_team_id or str(answer.get("team_id", ""))


def check_app_token(settings: Settings) -> None:
    """Socket Mode: Slack must give ``SLACK_APP_TOKEN`` a socket URL (``apps.connections.open``).

    The URL is not used: the socket handler asks for its own when it connects. Asking here turns
    a wrong app token into a refusal instead of a traceback after the start.
    """
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    slack = WebClient(base_url=settings.slack_api_url)
    try:
        with _held_back(_SLACK_LOGGER):
            slack.apps_connections_open(app_token=app_token)
    except SlackApiError as err:
        code = err.response.get("error", "error") if err.response is not None else "error"
        raise Refused([f"SLACK_APP_TOKEN is refused by Slack ({code})"]) from None
    except (SlackClientError, OSError) as err:
        reason = getattr(err, "reason", None) or err.strerror if isinstance(err, OSError) else err
        raise Refused(
            [f"Slack cannot be reached at SLACK_API_URL {settings.slack_api_url}: {reason}"]
        ) from None


def check_account(
    client: EdgeXClient, key: StarkKey, *, key_setting: str, base_url: str
) -> Account:
    """The account at edgeX, refused unless its l2Key is this key's (compared as integers).

    A wrong key is caught before anything is signed with it: it would sign bodies edgeX refuses
    at best, and for another account at worst. On edgeX (as on the simulator) private calls are
    verified against the account's l2Key, so a key of another account usually shows as a
    refused signature rather than as a different l2Key in the answer.
    """
    account_id = client.account_id
    where = f"EDGEX_BASE_URL {base_url}"
    try:
        with _held_back(_EXCHANGE_LOGGER):
            account = client.get_account()
    except EdgeXAPIError as err:
        raise Refused([_api_refusal(err, account_id, key_setting, where)]) from None
    except (EdgeXHTTPError, EdgeXMalformedResponse) as err:
        raise Refused([f"{where} does not answer as edgeX's StarkEx V1 API: {err}"]) from None
    except EdgeXTransportError as err:
        raise Refused([f"edgeX cannot be reached at {where}: {err}"]) from None
    except EdgeXError as err:
        raise Refused([f"edgeX account {account_id} cannot be read at {where}: {err}"]) from None
    try:
        same = signing.l2_keys_equal(account.l2_key, key.l2_key)
    except signing.InvalidField:
        raise Refused(
            [
                f"edgeX account {account_id} has no StarkEx L2 key (l2Key {account.l2_key[:70]!r}):"
                " it is not an account of the StarkEx V1 API withdrawbot signs for"
            ]
        ) from None
    if not same:
        raise Refused(
            [
                f"{key_setting} is not the L2 key of edgeX account {account_id} (the account's "
                f"l2Key is {account.l2_key})"
            ]
        )
    return account


def check_exchange(public: EdgeXPublicClient, *, base_url: str) -> None:
    """The public API answers with its metadata, for a process that never reads the account.

    A web-only process needs the coins and chains to check drafts; without this, a wrong or
    unreachable ``EDGEX_BASE_URL`` would show only when the first person drafts a withdrawal.
    """
    where = f"EDGEX_BASE_URL {base_url}"
    try:
        with _held_back(_EXCHANGE_LOGGER):
            public.get_metadata()
    except (EdgeXAPIError, EdgeXHTTPError, EdgeXMalformedResponse) as err:
        raise Refused([f"{where} does not answer as edgeX's StarkEx V1 API: {err}"]) from None
    except EdgeXTransportError as err:
        raise Refused([f"edgeX cannot be reached at {where}: {err}"]) from None
    except EdgeXError as err:
        raise Refused([f"edgeX metadata cannot be read at {where}: {err}"]) from None


def check_flow_host(read_clock: Callable[[], object], *, base_url: str) -> None:
    """The V2 REST host answers with its clock (``read_clock`` asks it, once)."""
    where = f"EDGEX_BASE_URL {base_url}"
    try:
        with _held_back(_EXCHANGE_LOGGER):
            read_clock()
    except (EdgeXAPIError, EdgeXHTTPError, EdgeXMalformedResponse) as err:
        raise Refused([f"{where} does not answer as edgeX's V2 REST host: {err}"]) from None
    except EdgeXError as err:
        raise Refused([f"edgeX V2 cannot be reached at {where}: {err}"]) from None


def check_flow_account(
    access: FlowAccess, *, wallet_setting: str, base_url: str, asset_url: str
) -> None:
    """The V2 account answers a fee request made with its API key for its wallet.

    The wallet's address is derived from the key and sent as the attempt's ``userAddress``; a
    refusal naming the address, the user or the wallet is read as "this key is not the
    account's wallet" (ASSUMED: edgeX publishes no error catalogue; our simulator answers
    ``USER_ADDRESS_MISMATCH``).
    """
    account_id = access.account_id
    # The signing client's own clock sync: the fee request below then needs no second one.
    check_flow_host(access.client.sync_time, base_url=base_url)
    where = f"EDGEX_V2_ASSET_URL {asset_url}"
    try:
        with _held_back(_EXCHANGE_LOGGER):
            access.probe()
    except EdgeXAPIError as err:
        code = err.code.upper()
        if err.http_status in (401, 403) or code.startswith("AUTH"):
            raise Refused(
                [
                    f"EDGEX_V2_API_KEY: edgeX refused the API key, its passphrase or "
                    f"{API_SECRET_ENV} for account {account_id} ({err.code})"
                ]
            ) from None
        if any(word in code for word in ("ADDRESS", "USER", "WALLET")):
            raise Refused(
                [
                    f"{wallet_setting} is not the wallet of edgeX account {account_id}: its "
                    f"address {access.wallet.address} was refused ({err.code})"
                ]
            ) from None
        if "ACCOUNT" in code:
            raise Refused(
                [f"EDGEX_ACCOUNT_ID {account_id}: edgeX refused it at {where} ({err.code})"]
            ) from None
        raise Refused(
            [f"edgeX refused a fee request for account {account_id} at {where}: {err}"]
        ) from None
    except (EdgeXHTTPError, EdgeXMalformedResponse) as err:
        raise Refused([f"{where} does not answer as edgeX's V2 asset host: {err}"]) from None
    except EdgeXError as err:
        raise Refused([f"edgeX V2 cannot be reached at {where}: {err}"]) from None


def _api_refusal(err: EdgeXAPIError, account_id: str, key_setting: str, where: str) -> str:
    code = err.code
    if code == "ACCOUNT_NOT_FOUND":
        return (
            f"EDGEX_ACCOUNT_ID {account_id}: edgeX at {where} has no such account on its "
            f"StarkEx V1 API ({code})"
        )
    if code == "ACCOUNT_ID_WHITELIST_ERROR":
        return (
            f"EDGEX_ACCOUNT_ID {account_id}: edgeX accepted the key's signature but has not "
            f"enabled API access for this account ({code}); ask edgeX support to whitelist "
            f"account {account_id} for the private API"
        )
    if "SIGNATURE" in code:
        return (
            f"{key_setting} is not the L2 key of edgeX account {account_id}: edgeX refused "
            f"its signature ({code})"
        )
    if err.http_status == 404 or code == "NOT_FOUND":
        return f"{where} does not answer as edgeX's StarkEx V1 API: {err}"
    return f"edgeX refused to read account {account_id} at {where}: {err}"


@contextmanager
def _held_back(name: str) -> Iterator[None]:
    """Nothing below CRITICAL from ``name``'s loggers while the block runs."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
