"""Each misconfiguration stops ``withdrawbot run`` / ``withdrawbot worker`` with one line.

The real commands run as processes against the loopback edgeX simulator and Slack stand-in,
with settings that start cleanly except for the one thing each case breaks. Every refusal must:
exit 1, write exactly one line on stderr naming the problem, no traceback, and never show a
secret (a token, the signing secret, the key, a database password) on stdout or stderr.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.edgex.signing import StarkKey
from bot.edgex.simulator import SimulatorServer
from bot.edgex.v2.wallet import WalletKey
from bot.slack.standin import SlackStandIn
from tests.edgex.vectors import vector_key, vectors
from tests.test_settings import ALL

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "policy.example.toml"
KEY: str = vectors()["key"]["stark_private_key_hex_as_passed_to_sdk"]
ACCOUNT = "543429922991899150"
OTHER_ACCOUNT = "777"  # exists at the simulator, with another key
UNLISTED_ACCOUNT = "778"  # our key, but edgeX has not enabled its private API
SIGNING_SECRET = "signing-secret-that-must-not-leak"
WRONG_TOKEN = "xoxb-a-token-slack-does-not-know-0123456789"
WRONG_APP_TOKEN = "xapp-1-an-app-token-slack-does-not-know-0123456789"
DB_PASSWORD = "database-password-that-must-not-leak"
CHANNEL = "C0TREASURY"
V2_ACCOUNT = "900"
WALLET_HEX = "0x" + "4c" * 32
OTHER_WALLET_HEX = "0x" + "5d" * 32

RUN = ("run", "--port", "0")
WEB_ONLY = ("run", "--no-worker", "--port", "0")
WORKER = ("worker",)


@dataclass
class Places:
    """Everything a case may point a setting at."""

    sim: str
    slack: str
    slack_api: str
    bot_token: str
    home: Path
    database: Path
    closed_port: int
    v2_keys: dict[str, str]


@dataclass(frozen=True)
class Case:
    """One broken setting: how the environment changes, and the line it must give."""

    change: Callable[[Places], dict[str, str | None]]
    line: Callable[[Places], str]
    exact: bool = True


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def exchange() -> Iterator[tuple[str, dict[str, str]]]:
    with SimulatorServer() as sim:
        v2_keys = httpx.post(
            f"{sim.url}/_sim/v2/accounts",
            json={"accountId": V2_ACCOUNT, "walletAddress": WalletKey(WALLET_HEX).address},
        ).json()
        httpx.post(
            f"{sim.url}/_sim/accounts", json={"l2Key": vector_key().l2_key, "accountId": ACCOUNT}
        ).raise_for_status()
        httpx.post(
            f"{sim.url}/_sim/accounts",
            json={"l2Key": StarkKey.from_int(12345).l2_key, "accountId": OTHER_ACCOUNT},
        ).raise_for_status()
        httpx.post(
            f"{sim.url}/_sim/accounts",
            json={
                "l2Key": vector_key().l2_key,
                "accountId": UNLISTED_ACCOUNT,
                "apiEnabled": False,
            },
        ).raise_for_status()
        yield sim.url, v2_keys


@pytest.fixture(scope="module")
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as standin:
        standin.workspace.add_channel(CHANNEL, "treasury")
        yield standin


@pytest.fixture
def places(
    exchange: tuple[str, dict[str, str]],
    slack: SlackStandIn,
    tmp_path: Path,
    sqlite_template: Path,
) -> Places:
    home = tmp_path / "home"
    home.mkdir()
    database = home / "withdrawbot.db"
    shutil.copyfile(sqlite_template, database)
    shutil.copyfile(POLICY, home / "policy.toml")
    return Places(
        sim=exchange[0],
        slack=slack.url,
        slack_api=slack.api_url,
        bot_token=slack.bot_token,
        home=home,
        database=database,
        closed_port=_closed_port(),
        v2_keys=exchange[1],
    )


def _environment(places: Places, change: dict[str, str | None]) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in ALL}
    env.update(
        PYTHONPATH=str(ROOT),
        SLACK_BOT_TOKEN=places.bot_token,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=places.slack_api,
        WITHDRAWBOT_CHANNEL=CHANNEL,
        EDGEX_BASE_URL=places.sim,
        EDGEX_ACCOUNT_ID=ACCOUNT,
        EDGEX_STARK_PRIVATE_KEY=KEY,
        DATABASE_URL=f"sqlite:///{places.database}",
        WITHDRAWBOT_POLICY=str(places.home / "policy.toml"),
    )
    for name, value in change.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def _key_file(places: Places, text: str) -> str:
    path = places.home / "l2.key"
    path.write_text(text)
    return str(path)


def _policy_file(places: Places, text: str) -> str:
    path = places.home / "broken.toml"
    path.write_text(text)
    return str(path)


def _v2(places: Places, **change: str | None) -> dict[str, str | None]:
    """An edgeX V2 account's settings at the simulator, then ``change``."""
    keys = places.v2_keys
    settings: dict[str, str | None] = {
        "EDGEX_API": "v2",
        "EDGEX_ACCOUNT_ID": V2_ACCOUNT,
        "EDGEX_STARK_PRIVATE_KEY": None,
        "EDGEX_V2_ASSET_URL": places.sim,
        "EDGEX_V2_API_KEY": keys["apiKey"],
        "EDGEX_V2_API_SECRET": keys["apiSecret"],
        "EDGEX_V2_PASSPHRASE": keys["passphrase"],
        "EDGEX_V2_WALLET_PRIVATE_KEY": WALLET_HEX,
    }
    return {**settings, **change}


NOT_HEX = "the L2 private key is not hexadecimal (expected up to 64 hex digits, 0x optional)"

CASES: dict[str, Case] = {
    "missing bot token": Case(
        lambda p: {"SLACK_BOT_TOKEN": None}, lambda p: "SLACK_BOT_TOKEN is not set"
    ),
    "token Slack refuses": Case(
        lambda p: {"SLACK_BOT_TOKEN": WRONG_TOKEN},
        lambda p: "SLACK_BOT_TOKEN is refused by Slack (invalid_auth)",
    ),
    "Slack unreachable": Case(
        lambda p: {"SLACK_API_URL": f"http://127.0.0.1:{p.closed_port}/api/"},
        lambda p: (
            f"Slack cannot be reached at SLACK_API_URL http://127.0.0.1:{p.closed_port}/api/: "
        ),
        exact=False,
    ),
    "app token Slack refuses": Case(
        lambda p: {"SLACK_APP_TOKEN": WRONG_APP_TOKEN},
        lambda p: "SLACK_APP_TOKEN is refused by Slack (invalid_auth)",
    ),
    "missing channel": Case(
        lambda p: {"WITHDRAWBOT_CHANNEL": None},
        lambda p: "WITHDRAWBOT_CHANNEL is not set (the channel id, e.g. C0123ABCD)",
    ),
    "missing key": Case(
        lambda p: {"EDGEX_STARK_PRIVATE_KEY": None},
        lambda p: (
            "EDGEX_STARK_PRIVATE_KEY or EDGEX_STARK_PRIVATE_KEY_FILE is not set "
            "(the L2 private key)"
        ),
    ),
    "key not hex": Case(
        lambda p: {"EDGEX_STARK_PRIVATE_KEY": KEY[:-2] + "zz"},
        lambda p: f"EDGEX_STARK_PRIVATE_KEY: {NOT_HEX}",
    ),
    "key file missing": Case(
        lambda p: {
            "EDGEX_STARK_PRIVATE_KEY": None,
            "EDGEX_STARK_PRIVATE_KEY_FILE": str(p.home / "no-such.key"),
        },
        lambda p: (
            f"EDGEX_STARK_PRIVATE_KEY_FILE: cannot read {p.home / 'no-such.key'}: "
            "No such file or directory"
        ),
    ),
    "key file not hex": Case(
        lambda p: {
            "EDGEX_STARK_PRIVATE_KEY": None,
            "EDGEX_STARK_PRIVATE_KEY_FILE": _key_file(p, f"{KEY[:-1]}g\n"),
        },
        lambda p: f"EDGEX_STARK_PRIVATE_KEY_FILE: {NOT_HEX}",
    ),
    "key not the account's": Case(
        lambda p: {"EDGEX_ACCOUNT_ID": OTHER_ACCOUNT},
        lambda p: (
            f"EDGEX_STARK_PRIVATE_KEY is not the L2 key of edgeX account {OTHER_ACCOUNT}: "
            "edgeX refused its signature (AUTH_SIGNATURE_INVALID)"
        ),
    ),
    "key file not the account's": Case(
        lambda p: {
            "EDGEX_ACCOUNT_ID": OTHER_ACCOUNT,
            "EDGEX_STARK_PRIVATE_KEY": None,
            "EDGEX_STARK_PRIVATE_KEY_FILE": _key_file(p, KEY),
        },
        lambda p: (
            f"EDGEX_STARK_PRIVATE_KEY_FILE is not the L2 key of edgeX account "
            f"{OTHER_ACCOUNT}: edgeX refused its signature (AUTH_SIGNATURE_INVALID)"
        ),
    ),
    "account not whitelisted for the API": Case(
        lambda p: {"EDGEX_ACCOUNT_ID": UNLISTED_ACCOUNT},
        lambda p: (
            f"EDGEX_ACCOUNT_ID {UNLISTED_ACCOUNT}: edgeX accepted the key's signature but has "
            "not enabled API access for this account (ACCOUNT_ID_WHITELIST_ERROR); ask edgeX "
            f"support to whitelist account {UNLISTED_ACCOUNT} for the private API"
        ),
    ),
    "account not found": Case(
        lambda p: {"EDGEX_ACCOUNT_ID": "999"},
        lambda p: (
            f"EDGEX_ACCOUNT_ID 999: edgeX at EDGEX_BASE_URL {p.sim} has no such account "
            "on its StarkEx V1 API (ACCOUNT_NOT_FOUND)"
        ),
    ),
    "not the StarkEx V1 API": Case(
        lambda p: {"EDGEX_BASE_URL": p.slack},
        lambda p: f"EDGEX_BASE_URL {p.slack} does not answer as edgeX's StarkEx V1 API: ",
        exact=False,
    ),
    "edgeX unreachable": Case(
        lambda p: {"EDGEX_BASE_URL": f"http://127.0.0.1:{p.closed_port}"},
        lambda p: f"edgeX cannot be reached at EDGEX_BASE_URL http://127.0.0.1:{p.closed_port}: ",
        exact=False,
    ),
    "base URL with a path": Case(
        lambda p: {"EDGEX_BASE_URL": f"{p.sim}/api/v1"},
        lambda p: (
            "EDGEX_BASE_URL must be the exchange's root URL without a path, e.g. "
            "https://pro.edgex.exchange"
        ),
    ),
    "unmigrated database": Case(
        lambda p: {"DATABASE_URL": f"sqlite:///{p.home / 'fresh.db'}"},
        lambda p: (
            f"the database at {p.home / 'fresh.db'} is not migrated (run: withdrawbot migrate)"
        ),
    ),
    "SQLite in a missing directory": Case(
        lambda p: {"DATABASE_URL": f"sqlite:///{p.home / 'nowhere' / 'withdrawbot.db'}"},
        lambda p: (
            f"DATABASE_URL: the directory {p.home / 'nowhere'} of the SQLite database "
            "does not exist"
        ),
    ),
    "PostgreSQL unreachable": Case(
        lambda p: {
            "DATABASE_URL": f"postgres://withdrawbot:{DB_PASSWORD}@127.0.0.1:{p.closed_port}/wb"
        },
        lambda p: (
            f"the database at postgresql+psycopg://withdrawbot:***@127.0.0.1:"
            f"{p.closed_port}/wb cannot be reached: connection failed: "
        ),
        exact=False,
    ),
    "malformed policy": Case(
        lambda p: {
            "WITHDRAWBOT_POLICY": _policy_file(
                p,
                POLICY.read_text().replace(
                    '{ group = "treasury", count = 1 }', '{ group = "treasury", count = 0 }'
                ),
            )
        },
        lambda p: (
            f"WITHDRAWBOT_POLICY {p.home / 'broken.toml'}: coins.USDT.tiers[0].require[0].count: "
        ),
        exact=False,
    ),
    "policy not TOML": Case(
        lambda p: {"WITHDRAWBOT_POLICY": _policy_file(p, "version = 1\n[groups\n")},
        lambda p: f"WITHDRAWBOT_POLICY {p.home / 'broken.toml'}: ",
        exact=False,
    ),
    "policy file missing": Case(
        lambda p: {"WITHDRAWBOT_POLICY": str(p.home / "none.toml")},
        lambda p: (
            f"WITHDRAWBOT_POLICY {p.home / 'none.toml'}: file: cannot be read: "
            "No such file or directory"
        ),
    ),
    "V2 wallet not the account's": Case(
        lambda p: _v2(p, EDGEX_V2_WALLET_PRIVATE_KEY=OTHER_WALLET_HEX),
        lambda p: (
            f"EDGEX_V2_WALLET_PRIVATE_KEY is not the wallet of edgeX account {V2_ACCOUNT}: its "
            f"address {WalletKey(OTHER_WALLET_HEX).address} was refused (USER_ADDRESS_MISMATCH)"
        ),
    ),
    "V2 API secret refused": Case(
        lambda p: _v2(p, EDGEX_V2_API_SECRET="not-the-secret"),
        lambda p: (
            "EDGEX_V2_API_KEY: edgeX refused the API key, its passphrase or EDGEX_V2_API_SECRET "
            f"for account {V2_ACCOUNT} (AUTH_SIGNATURE_INVALID)"
        ),
    ),
    "V2 wallet key missing": Case(
        lambda p: _v2(p, EDGEX_V2_WALLET_PRIVATE_KEY=None),
        lambda p: (
            "EDGEX_V2_WALLET_PRIVATE_KEY or EDGEX_V2_WALLET_PRIVATE_KEY_FILE is not set "
            "(the wallet private key that signs withdrawals)"
        ),
    ),
    "V2 host unreachable": Case(
        lambda p: _v2(p, EDGEX_BASE_URL=f"http://127.0.0.1:{p.closed_port}"),
        lambda p: (
            f"edgeX V2 cannot be reached at EDGEX_BASE_URL http://127.0.0.1:{p.closed_port}: "
        ),
        exact=False,
    ),
    "missing signing secret": Case(
        lambda p: {"SLACK_SIGNING_SECRET": None},
        lambda p: (
            "SLACK_SIGNING_SECRET is not set (needed in HTTP mode; set SLACK_APP_TOKEN to "
            "use Socket Mode instead)"
        ),
    ),
}

# What each command checks: the worker talks to Slack only through the Web API (no signing
# secret, no Socket Mode); the web-only process never reads the key, so neither the key nor the
# account is its business, but it reads the exchange's public metadata, so a wrong or
# unreachable EDGEX_BASE_URL is.
KEY_CASES = {
    "missing key",
    "key not hex",
    "key file missing",
    "key file not hex",
    "key not the account's",
    "key file not the account's",
    "account not found",
    "account not whitelisted for the API",
    "V2 wallet not the account's",
    "V2 API secret refused",
    "V2 wallet key missing",
}
APPLIES = {
    RUN: set(CASES),
    WEB_ONLY: set(CASES) - KEY_CASES,
    WORKER: set(CASES) - {"missing signing secret", "app token Slack refuses"},
}
LABELS = {RUN: "run", WEB_ONLY: "run-no-worker", WORKER: "worker"}


@dataclass(frozen=True)
class Outcome:
    command: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    @property
    def lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def _start_all(
    commands: list[tuple[str, ...]], env: dict[str, str], cwd: Path, timeout: float = 90
) -> list[Outcome]:
    """Start every command at once and wait for all: each is a whole interpreter starting up,
    so running them side by side is what keeps this file's many cases quick."""
    running = [
        (
            command,
            subprocess.Popen(  # noqa: S603 - our own command line
                [sys.executable, "-m", "bot.cli", *command],
                env=env,
                cwd=cwd,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            ),
        )
        for command in commands
    ]
    outcomes = []
    try:
        for command, process in running:
            stdout, stderr = process.communicate(timeout=timeout)
            outcomes.append(Outcome(command, process.returncode, stdout, stderr))
    finally:
        for _, process in running:
            process.kill()
            process.communicate()
    return outcomes


@pytest.mark.parametrize("name", list(CASES))
def test_a_misconfiguration_stops_startup_with_one_line(places: Places, name: str) -> None:
    """Each case for every command it applies to (run, run --no-worker, worker)."""
    case = CASES[name]
    commands = [command for command, names in APPLIES.items() if name in names]
    env = _environment(places, case.change(places))
    secrets = (
        KEY[:16],
        SIGNING_SECRET,
        WRONG_TOKEN,
        WRONG_APP_TOKEN,
        places.bot_token,
        DB_PASSWORD,
        places.v2_keys["apiSecret"],
        places.v2_keys["passphrase"],
        WALLET_HEX.removeprefix("0x"),
        OTHER_WALLET_HEX.removeprefix("0x"),
    )
    for outcome in _start_all(commands, env, places.home):
        label = LABELS[outcome.command]
        assert outcome.returncode == 1, (label, outcome.output)
        assert len(outcome.lines) == 1, (label, outcome.stderr)
        expected = f"withdrawbot {outcome.command[0]}: {case.line(places)}"
        if case.exact:
            assert outcome.lines[0] == expected, label
        else:
            assert outcome.lines[0].startswith(expected), (label, outcome.lines[0])
            assert len(outcome.lines[0]) > len(expected), f"{label}: the line says why"
        assert "Traceback" not in outcome.output, label
        for secret in secrets:
            assert secret not in outcome.output, label


@pytest.mark.parametrize("engine_name", ["postgresql"], indirect=True)
@pytest.mark.parametrize("command", [RUN, WORKER], ids=["run", "worker"])
def test_an_unmigrated_postgresql_database_is_one_line(
    places: Places, command: tuple[str, ...], unmigrated_url: str
) -> None:
    env = _environment(places, {"DATABASE_URL": unmigrated_url})
    result = subprocess.run(  # noqa: S603 - our own command line
        [sys.executable, "-m", "bot.cli", *command],
        env=env,
        cwd=places.home,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith(f"withdrawbot {command[0]}: the database at postgresql+psycopg://")
    assert line.endswith(" is not migrated (run: withdrawbot migrate)")


def test_a_metrics_port_in_use_is_one_line(places: Places) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))  # noqa: S104 - the worker binds every interface too
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(  # noqa: S603 - our own command line
            [sys.executable, "-m", "bot.cli", "worker", "--metrics-port", str(port)],
            env=_environment(places, {}),
            cwd=places.home,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stderr == f"withdrawbot worker: --metrics-port {port}: Address already in use\n"


def test_a_postgresql_host_that_never_answers_is_one_line(places: Places) -> None:
    """A port that accepts the connection and then says nothing, like a host dropping packets."""
    held: list[float] = []

    def hold(listener: socket.socket) -> None:
        """Accept each connection, say nothing, and time how long the client stays."""
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                opened = time.monotonic()
                while connection.recv(1024):
                    pass
                held.append(time.monotonic() - opened)

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        url = f"postgresql://withdrawbot:{DB_PASSWORD}@127.0.0.1:{port}/wb"
        threads = [threading.Thread(target=hold, args=(silent,), daemon=True) for _ in range(2)]
        for thread in threads:
            thread.start()
        started = time.monotonic()
        outcomes = _start_all(
            [RUN, WORKER], _environment(places, {"DATABASE_URL": url}), places.home, timeout=60
        )
        elapsed = time.monotonic() - started
        silent.shutdown(socket.SHUT_RDWR)
    for outcome in outcomes:
        assert outcome.returncode == 1, outcome.output
        [line] = outcome.lines
        assert line.startswith(
            f"withdrawbot {outcome.command[0]}: the database at postgresql+psycopg://withdrawbot:"
            f"***@127.0.0.1:{port}/wb cannot be reached: "
        ), line
        assert "timeout" in line
        assert DB_PASSWORD not in outcome.output
    # libpq would wait for ever. Timed from the connection itself, so a slow interpreter start
    # (the suite runs in three processes on two cores) does not count: each process gave up
    # within CONNECT_TIMEOUT_SECONDS (10 s) of being accepted, and the whole refusal stayed well
    # inside the 60 s this test waits.
    assert len(held) >= 2, held
    assert all(seconds < 15 for seconds in held), held
    assert elapsed < 30, f"refused after {elapsed:.1f} s"
