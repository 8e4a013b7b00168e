"""Paper mode: the embedded edgeX simulator standing in for the exchange, no money at risk.

``EDGEX_BASE_URL=paper`` (the default) lets a team try every flow in their real Slack workspace
first. The simulator keeps its book in a file beside the database, so a restart loses no paper
withdrawal; the paper account's key is generated once and kept beside it too (it guards only
paper money, and it never goes into the database). Everything a paper process says is marked
PAPER, so nobody mistakes a rehearsal for a real withdrawal.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from sqlalchemy.engine import make_url

from bot.edgex.signing import EC_ORDER, StarkKey
from bot.edgex.simulator import SimulatorServer
from bot.edgex.simulator.catalog import USDT_COIN_ID
from bot.edgex.v2.wallet import WalletKey
from bot.settings import FlowCredentials
from bot.slack.text import PAPER_PREFIX

PAPER_ACCOUNT_ID = "100000000000000001"
PAPER_BALANCE = "1000000"


@dataclass(frozen=True)
class PaperFiles:
    """Where paper mode keeps the simulator's book and the paper account's keys."""

    state: Path
    key: Path

    @property
    def wallet(self) -> Path:
        """The paper account's V2 wallet key (``EDGEX_API=v2``), beside its L2 key."""
        return self.key.with_name(self.key.name.replace("-l2.key", "-wallet.key"))

    @classmethod
    def beside(cls, database_url: str) -> PaperFiles:
        """Next to a SQLite file; in the working directory for a server database."""
        url = make_url(database_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            base = Path(url.database or "")
            return cls(
                base.with_name(base.name + ".paper-edgex.json"),
                base.with_name(base.name + ".paper-l2.key"),
            )
        return cls(Path("withdrawbot.paper-edgex.json"), Path("withdrawbot.paper-l2.key"))


class PaperExchange:
    """A started simulator with the paper account funded; use as a context manager."""

    def __init__(self, files: PaperFiles) -> None:
        self.files = files
        self.key = _paper_key(files.key)
        self.account_id = PAPER_ACCOUNT_ID
        self.server = SimulatorServer(state_path=files.state)
        with self.server.lock:
            books = self.server.exchange.books
            if PAPER_ACCOUNT_ID not in books.accounts:
                self.server.script.create_account(
                    {
                        "accountId": PAPER_ACCOUNT_ID,
                        "l2Key": self.key.l2_key,
                        "balances": {USDT_COIN_ID: PAPER_BALANCE},
                    },
                    self.server.wall_ms(),
                )
                self.server.exchange.save()

    @property
    def base_url(self) -> str:
        return self.server.url

    def flow_credentials(self) -> FlowCredentials:
        """The paper account on edgeX V2: its wallet (made once, like the L2 key), an API key.

        The API key lives in the simulator's book (it guards paper money only); the account
        gets the wallet and a paper USDC and ETH balance the first time.
        """
        wallet = WalletKey(_paper_secret(self.files.wallet, lambda: secrets.token_hex(32)))
        with self.server.lock:
            books = self.server.exchange.books
            account = books.accounts[PAPER_ACCOUNT_ID]
            if account.wallet_address != wallet.address:
                account.wallet_address = wallet.address
                account.flow_available = {"USDC": PAPER_BALANCE, "ETH": "500"}
            key = next(
                (k for k in books.api_keys.values() if k["accountId"] == PAPER_ACCOUNT_ID),
                None,
            ) or self.server.api_keys.issue_key(PAPER_ACCOUNT_ID)
            self.server.exchange.save()
        return FlowCredentials(key["apiKey"], key["apiSecret"], key["passphrase"], wallet)

    def __enter__(self) -> Self:
        self.server.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.server.stop()


def _paper_key(path: Path) -> StarkKey:
    """The paper account's L2 key: made once with the OS's randomness, then reused."""
    return StarkKey.from_hex(
        _paper_secret(path, lambda: f"{1 + secrets.randbelow(EC_ORDER - 1):064x}")
    )


def _paper_secret(path: Path, make: Callable[[], str]) -> str:
    """A paper key's hex, written once (owner-only) and read back on every start."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    return text


class PaperMarker(logging.Filter):
    """Prefix every log record of a paper-mode process with the same marker Slack shows."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith(PAPER_PREFIX):
            record.msg = f"{PAPER_PREFIX} {record.msg}"
        return True


def mark_logs_as_paper(logger: logging.Logger | None = None) -> None:
    """Install the PAPER marker on every handler of the root (or given) logger."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, PaperMarker) for f in handler.filters):
            handler.addFilter(PaperMarker())
