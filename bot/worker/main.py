"""``withdrawbot worker``: settings, the start-up checks, then the loops until SIGTERM.

The checks are ``bot.startup``'s, the same ``run`` makes (settings, the policy, the database,
Slack's answer to the token, the key against the account's l2Key, and here a free
``--metrics-port``), each refusing in one line before anything is logged or written. The key
is read here and nowhere else in the Procfile split. In paper mode the embedded simulator and its
paper key stand in for edgeX, and every log line says PAPER.

SIGTERM lets each loop finish its step (a send answered and recorded, a poll written, a Slack
post marked), then every lease this worker holds is given back and ``worker.stopped`` logged,
within ``bot.runner.STOP_SECONDS`` (Heroku kills 30 s after SIGTERM).

With Slack settings (``SLACK_BOT_TOKEN`` or ``WITHDRAWBOT_CHANNEL`` set) the worker also runs the
Slack notifier and the expiry / reminder sweep (``bot.runner.slack_loops``), so that a web-only
``withdrawbot run --no-worker`` beside it needs neither, and resolves the policy's Slack user
groups when it re-checks a request before signing; a Slack setting missing or wrong refuses the
start, one line each. Without Slack settings a policy that names user groups is refused. With or
without them it answers ``/withdraw history`` and ``claimable`` asked in a web-only process
(``bot.worker.answerer``): the command's ``response_url`` needs no token.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta
from types import FrameType

from slack_sdk import WebClient

from approvals.membership import Membership, resolve_membership
from approvals.policy import Policy
from approvals.refusals import UnresolvedHandle
from bot.edgex.client import EdgeXClient, EdgeXPublicClient
from bot.edgex.wire import log_event
from bot.metrics import serve_metrics
from bot.paper import PAPER_ACCOUNT_ID, PaperExchange, PaperFiles, mark_logs_as_paper
from bot.runner import STOP_SECONDS, slack_client, slack_loops, slack_side
from bot.settings import Need, Settings
from bot.startup import (
    Refused,
    adopt_policy,
    check_account,
    load_settings,
    open_checked,
    read_key,
    read_policy,
    slack_team,
)
from bot.worker.config import WorkerConfig, default_owner
from bot.worker.exchange_access import ExchangeAccess
from bot.worker.loop import Step, Worker
from storage.engine import Database

__all__ = ["WorkerRefused", "run_worker", "static_membership"]

log = logging.getLogger(__name__)


def static_membership(policy: Policy) -> Membership:
    """The policy's members as listed; Slack user groups need the Slack side to resolve them."""
    return resolve_membership(policy, {})


class WorkerRefused(Refused):
    """The worker will not start for a reason only the worker has (a policy it cannot resolve)."""


def run_worker(*, lease_seconds: float, name: str | None, metrics_port: int | None = None) -> None:
    """The worker command, until SIGTERM; :class:`Refused` if a start-up check fails.

    ``metrics_port`` serves ``/metrics`` from this process too (its send and poll counters are
    only here); the web process serves the same database gauges.
    """
    # Until the loops run, SIGTERM ends the start like Ctrl-C (the command exits 0).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    settings = load_settings(Need.DATABASE, Need.SIGNING)
    slack = settings.slack_bot_token is not None or settings.channel is not None
    if slack and (problems := settings.problems(Need.SLACK)):
        raise Refused(problems)
    policy = read_policy(settings)
    if not slack:
        try:
            static_membership(policy)
        except UnresolvedHandle as err:
            raise WorkerRefused(
                [
                    f"{err}; without Slack settings the worker cannot ask Slack who is in a user "
                    "group (set SLACK_BOT_TOKEN and WITHDRAWBOT_CHANNEL, or run withdrawbot run)"
                ]
            ) from None
    config = WorkerConfig(
        owner=name or default_owner(),
        lease=timedelta(seconds=lease_seconds),
        poll_interval=settings.poll_interval,
        poll_batch=settings.poll_batch,
        watch_interval=max(settings.poll_interval, 30.0),
    )
    with ExitStack() as stack:
        database = open_checked(settings)
        stack.callback(database.dispose)
        slack_web = slack_client(settings) if slack else None
        team_id = slack_team(settings, slack_web) if slack_web is not None else None
        if settings.paper:
            mark_logs_as_paper()
            paper = stack.enter_context(PaperExchange(PaperFiles.beside(settings.database_url)))
            key, base_url, account_id = paper.key, paper.base_url, PAPER_ACCOUNT_ID
        else:
            key = read_key(settings)
            base_url, account_id = settings.edgex_base_url, settings.edgex_account_id or ""
        client = stack.enter_context(EdgeXClient(base_url, key=key, account_id=account_id))
        check_account(
            client,
            key,
            key_setting="the paper key" if settings.paper else settings.key_setting(),
            base_url=base_url,
        )
        if metrics_port is not None:
            try:
                serve_metrics(database, port=metrics_port, worker=True)
            except OSError as err:
                raise Refused([f"--metrics-port {metrics_port}: {err.strerror or err}"]) from None
        # Every check passed: only from here on does the process log and write.
        adopt_policy(database, policy)
        extra_loops, membership = (
            _slack_side(
                settings,
                stack,
                database=database,
                policy=policy,
                client=client,
                base_url=base_url,
                slack=slack_web,
                team_id=team_id or "",
            )
            if slack_web is not None
            else ([], static_membership)
        )
        worker = Worker(
            database=database,
            exchange=ExchangeAccess(client, key),
            config=config,
            policy=policy,
            membership=membership,
            paper=settings.paper,
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
            policy_hash=policy.hash,
            metrics_port=metrics_port,
        )
        worker.start()
        worker.stop_event.wait()
        worker.stop(timeout=STOP_SECONDS)


def _slack_side(
    settings: Settings,
    stack: ExitStack,
    *,
    database: Database,
    policy: Policy,
    client: EdgeXClient,
    base_url: str,
    slack: WebClient,
    team_id: str,
) -> tuple[list[tuple[str, Step, float]], Callable[[Policy], Membership]]:
    """The notifier and sweep loops, and membership with user groups resolved through Slack.

    Built from the same use cases ``withdrawbot run`` uses, so both resolve groups alike.
    """
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
