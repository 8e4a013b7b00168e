"""``withdrawbot worker``: settings, the startup checks, then the loops until SIGTERM.

The key is read here and nowhere else (``Settings.load_stark_key``). Before anything is signed,
the account's l2Key at edgeX must equal the key's (as integers): a wrong key would sign bodies
edgeX refuses at best, and for another account at worst. In paper mode the embedded simulator
and its paper key stand in for edgeX, and every log line says PAPER.
"""

from __future__ import annotations

import logging
import signal
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from types import FrameType

from approvals.errors import PolicyError, UnresolvedHandle
from approvals.membership import Membership, resolve_membership
from approvals.policy import Policy, load_policy
from bot.edgex.client import EdgeXClient
from bot.edgex.errors import EdgeXError
from bot.edgex.wire import log_event
from bot.paper import PAPER_ACCOUNT_ID, PaperExchange, PaperFiles, mark_logs_as_paper
from bot.settings import Need, Settings
from bot.worker.config import WorkerConfig, default_owner
from bot.worker.exchange import ExchangeAccess, KeyMismatch
from bot.worker.loop import Worker
from storage import audit
from storage.engine import open_database

__all__ = ["WorkerRefused", "run_worker", "static_membership"]

log = logging.getLogger(__name__)


def static_membership(policy: Policy) -> Membership:
    """The policy's members as listed; Slack user groups need the Slack side to resolve them."""
    return resolve_membership(policy, {})


class WorkerRefused(Exception):
    """The worker will not start; the message is the one line the operator sees."""


def run_worker(*, lease_seconds: float, name: str | None) -> None:
    """The worker command, until SIGTERM; ``WorkerRefused`` if it must not start."""
    settings = Settings.load()
    settings.require(Need.DATABASE, Need.SIGNING)
    try:
        policy = load_policy(settings.policy_path)
        static_membership(policy)
    except UnresolvedHandle as err:
        raise WorkerRefused(
            f"{err}; a worker on its own cannot ask Slack who is in a user group (run it with "
            "the Slack app: withdrawbot run)"
        ) from None
    except PolicyError as err:
        raise WorkerRefused(f"{settings.policy_path}: {err}") from None
    config = WorkerConfig(
        owner=name or default_owner(),
        lease=timedelta(seconds=lease_seconds),
        poll_interval=settings.poll_interval,
        poll_batch=settings.poll_batch,
        watch_interval=max(settings.poll_interval, 30.0),
    )
    with ExitStack() as stack:
        database = open_database(settings.database_url)
        stack.callback(database.dispose)
        if settings.paper:
            mark_logs_as_paper()
            paper = stack.enter_context(PaperExchange(PaperFiles.beside(settings.database_url)))
            key, base_url, account_id = paper.key, paper.base_url, PAPER_ACCOUNT_ID
        else:
            key = settings.load_stark_key()
            base_url, account_id = settings.edgex_base_url, settings.edgex_account_id or ""
        client = stack.enter_context(EdgeXClient(base_url, key=key, account_id=account_id))
        exchange = ExchangeAccess(client, key)
        try:
            exchange.check_key()
        except KeyMismatch as err:
            raise WorkerRefused(str(err)) from None
        except EdgeXError as err:
            raise WorkerRefused(f"cannot read the edgeX account: {err}") from None
        audit.record_policy(database, policy=policy, now=datetime.now(UTC))
        worker = Worker(
            database=database,
            exchange=exchange,
            config=config,
            policy=policy,
            membership=static_membership,
        )

        def stop(signum: int, frame: FrameType | None) -> None:
            log_event(log, logging.INFO, "worker.signal", signal=signal.Signals(signum).name)
            worker.stop_event.set()
            worker.wakeup.notify()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        log_event(
            log,
            logging.INFO,
            "worker.config",
            owner=config.owner,
            account_id=account_id,
            exchange="paper" if settings.paper else base_url,
            database=database.where,
            lease_s=lease_seconds,
            poll_interval_s=config.poll_interval,
            poll_batch=config.poll_batch,
        )
        worker.run()
