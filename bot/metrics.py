"""``GET /metrics``: Prometheus text, mostly read from the database at each scrape.

In the Procfile split the web process serves ``/metrics`` while the worker signs, sends and
polls, and several replicas may run either. So what the database records is counted from it when
Prometheus asks, the same on every replica and across restarts:

* ``withdrawbot_requests{state}``: requests by internal state;
* ``withdrawbot_decisions_total{decision}``: approve / reject clicks that counted;
* ``withdrawbot_submissions_total``: signed bodies stored (requests that entered SUBMITTING);
* ``withdrawbot_submit_outcomes_total{outcome}``: edgeX's answers to them, from the audit log
  (``accepted``, ``refused`` on the first send, ``unknown`` = sent to reconciliation);
* ``withdrawbot_outbox_backlog`` and ``withdrawbot_outbox_oldest_age_seconds``: Slack events not
  delivered yet, and how long the oldest has waited;
* ``withdrawbot_outbox_dead_letters``: Slack events set aside because Slack refused them for good
  or they could not be drawn (``withdrawbot outbox dead`` lists them): alert on any above zero;
* ``withdrawbot_leases_held``: requests a worker holds a live lease on.

What no table records (each HTTP send of a stored body, a send that got no good answer, a poll
cycle that failed) is counted in the process that does it, and shown only where that process
serves: ``withdrawbot run`` with its worker, or ``withdrawbot worker --metrics-port N``:

* ``withdrawbot_submit_sends_total``, ``withdrawbot_submit_send_errors_total{error}``,
  ``withdrawbot_poll_errors_total``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, generate_latest, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector
from sqlmodel import col, func, select

from approvals.decisions import Decision
from approvals.lifecycle import State, Trigger
from storage import dead_letters, outbox, queries
from storage.columns import utc
from storage.engine import Database
from storage.tables import AuditRow, DecisionRow, RequestRow, SubmissionRow

__all__ = [
    "POLL_ERRORS",
    "SENDS",
    "SEND_ERRORS",
    "DatabaseCollector",
    "metrics_endpoint",
    "serve_metrics",
]

SENDS = Counter(
    "withdrawbot_submit_sends",
    "HTTP sends of stored signed bodies to edgeX, first sends and resends (this process)",
    registry=None,
)
SEND_ERRORS = Counter(
    "withdrawbot_submit_send_errors",
    "Sends that got no good answer from edgeX, by error class (this process)",
    ["error"],
    registry=None,
)
POLL_ERRORS = Counter(
    "withdrawbot_poll_errors",
    "Poll cycles that failed and were retried after a pause (this process)",
    registry=None,
)
_IN_PROCESS = (SENDS, SEND_ERRORS, POLL_ERRORS)

_OUTCOMES = {
    Trigger.EXCHANGE_ACCEPTED.value: "accepted",
    Trigger.FIRST_SEND_REFUSED.value: "refused",
    Trigger.OUTCOME_UNKNOWN.value: "unknown",
}


class DatabaseCollector(Collector):
    """Gauges and counters computed from the database when Prometheus asks."""

    def __init__(
        self, database: Database, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.database = database
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        now = self.clock()
        by_state = queries.count_by_state(self.database)
        requests = GaugeMetricFamily(
            "withdrawbot_requests", "Withdrawal requests by internal state", labels=["state"]
        )
        for state in State:
            requests.add_metric([state.value], by_state.get(state.value, 0))
        yield requests
        decisions, submissions, outcomes, leases = self._counts(now)
        decided = CounterMetricFamily(
            "withdrawbot_decisions", "Approve and reject decisions recorded", labels=["decision"]
        )
        for decision in Decision:
            decided.add_metric([decision.value], decisions.get(decision.value, 0))
        yield decided
        yield CounterMetricFamily(
            "withdrawbot_submissions",
            "Signed withdrawal bodies stored, one per request that entered SUBMITTING",
            value=submissions,
        )
        answered = CounterMetricFamily(
            "withdrawbot_submit_outcomes",
            "edgeX's answers to submissions: accepted, refused, or unknown (reconciliation)",
            labels=["outcome"],
        )
        for action, outcome in _OUTCOMES.items():
            answered.add_metric([outcome], outcomes.get(action, 0))
        yield answered
        backlog, age = outbox.backlog(self.database, now=now)
        yield GaugeMetricFamily(
            "withdrawbot_outbox_backlog", "Slack events not delivered yet", value=backlog
        )
        yield GaugeMetricFamily(
            "withdrawbot_outbox_oldest_age_seconds",
            "Age of the oldest undelivered Slack event",
            value=age,
        )
        yield GaugeMetricFamily(
            "withdrawbot_outbox_dead_letters",
            "Slack events set aside for a person (withdrawbot outbox dead)",
            value=dead_letters.count(self.database),
        )
        yield GaugeMetricFamily(
            "withdrawbot_leases_held", "Requests a worker holds a live lease on", value=leases
        )

    def _counts(self, now: datetime) -> tuple[dict[str, int], int, dict[str, int], int]:
        """One read transaction, so the numbers of one scrape agree with each other."""
        with self.database.read() as session:
            decisions = session.exec(
                select(DecisionRow.decision, func.count()).group_by(col(DecisionRow.decision))
            ).all()
            submissions = session.exec(select(func.count()).select_from(SubmissionRow)).one()
            outcomes = session.exec(
                select(AuditRow.action, func.count())
                .where(col(AuditRow.action).in_(list(_OUTCOMES)))
                .group_by(col(AuditRow.action))
            ).all()
            leases = session.exec(
                select(func.count())
                .select_from(RequestRow)
                .where(col(RequestRow.lease_until) > utc(now))
            ).one()
        return dict(decisions), int(submissions), dict(outcomes), int(leases)


def _registry(database: Database, *, worker: bool) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(database))
    if worker:
        for counter in _IN_PROCESS:
            registry.register(counter)
    return registry


def metrics_endpoint(database: Database, *, worker: bool) -> Callable[[], tuple[bytes, str]]:
    """The page and its content type, for ``bot.slack.app.asgi_app``.

    ``worker``: this process runs the worker, so its send and poll counters are shown too.
    """
    registry = _registry(database, worker=worker)
    return lambda: (generate_latest(registry), CONTENT_TYPE_LATEST)


def serve_metrics(database: Database, *, port: int, worker: bool, host: str = "0.0.0.0") -> None:  # noqa: S104
    """Serve the same page on ``port`` from a daemon thread (a process without the Slack app)."""
    start_http_server(port, addr=host, registry=_registry(database, worker=worker))
