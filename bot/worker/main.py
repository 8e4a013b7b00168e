"""``withdrawbot worker``: settings, the startup checks, then the loops until SIGTERM.

The key is read here and nowhere else (``Settings.load_stark_key``). Before anything is signed,
the account's l2Key at edgeX must equal the key's (as integers): a wrong key would sign bodies
edgeX refuses at best, and for another account at worst. In paper mode the embedded simulator
and its paper key stand in for edgeX, and every log line says PAPER.

With Slack settings (``SLACK_BOT_TOKEN`` or ``WITHDRAWBOT_CHANNEL`` set) the worker also runs the
Slack notifier and the expiry / reminder sweep (``bot.runner.slack_loops``), so that a web-only
``withdrawbot run --no-worker`` beside it needs neither, and resolves the policy's Slack user
groups when it re-checks a request before signing; a Slack setting missing or wrong refuses the
start, one line each. Without Slack settings a policy that names user groups is refused.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from types import FrameType

from approvals.errors import PolicyError, UnresolvedHandle
from approvals.membership import Membership, resolve_membership
from approvals.policy import Policy, load_policy
from bot.edgex.client import EdgeXClient, EdgeXPublicClient
from bot.edgex.errors import EdgeXError
from bot.edgex.wire import log_event
from bot.paper import PAPER_ACCOUNT_ID, PaperExchange, PaperFiles, mark_logs_as_paper
from bot.runner import RunRefused, slack_client, slack_loops, slack_side, team_of
from bot.settings import Need, Settings
from bot.worker.config import WorkerConfig, default_owner
from bot.worker.exchange import ExchangeAccess, KeyMismatch
from bot.worker.loop import Step, Worker
from storage import audit
from storage.engine import Database, open_database

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
    slack = settings.slack_bot_token is not None or settings.channel is not None
    if slack and (problems := settings.problems(Need.SLACK)):
        raise WorkerRefused("\n".join(problems))
    try:
        policy = load_policy(settings.policy_path)
        if not slack:
            static_membership(policy)
    except UnresolvedHandle as err:
        raise WorkerRefused(
            f"{err}; without Slack settings the worker cannot ask Slack who is in a user group "
            "(set SLACK_BOT_TOKEN and WITHDRAWBOT_CHANNEL, or run withdrawbot run)"
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
        extra_loops, membership = (
            _slack_side(
                settings, stack, database=database, policy=policy, client=client, base_url=base_url
            )
            if slack
            else ([], static_membership)
        )
        worker = Worker(
            database=database,
            exchange=exchange,
            config=config,
            policy=policy,
            membership=membership,
            extra_loops=extra_loops,
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
            slack=[name for name, _, _ in extra_loops],
        )
        worker.run()


def _slack_side(
    settings: Settings,
    stack: ExitStack,
    *,
    database: Database,
    policy: Policy,
    client: EdgeXClient,
    base_url: str,
) -> tuple[list[tuple[str, Step, float]], Callable[[Policy], Membership]]:
    """The notifier and sweep loops, and membership with user groups resolved through Slack.

    Built from the same use cases ``withdrawbot run`` uses, so both resolve groups alike.
    """
    slack = slack_client(settings)
    try:
        team_id = team_of(settings, slack)
    except RunRefused as err:
        raise WorkerRefused(str(err)) from None
    ops, notifier = slack_side(
        database=database,
        policy=policy,
        slack=slack,
        channel=settings.channel or "",
        team_id=team_id,
        account_id=client.account_id,
        public=stack.enter_context(EdgeXPublicClient(base_url)),
        private=client,
        paper=settings.paper,
    )
    return slack_loops(ops, notifier), lambda _policy: ops.membership()
