"""``GET /metrics``: Prometheus text, read from the database at each scrape.

Counting at scrape time from the tables (requests by state, the outbox backlog and the age of
its oldest event) keeps every replica's numbers the same and survives restarts; counters of
what one process did (approvals, submit attempts, poll errors) are issue 8's to add beside them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from approvals.lifecycle import State
from storage import queries
from storage.engine import Database

__all__ = ["DatabaseCollector", "metrics_endpoint"]


class DatabaseCollector(Collector):
    """Gauges computed from the database when Prometheus asks."""

    def __init__(
        self, database: Database, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.database = database
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        by_state = queries.count_by_state(self.database)
        requests = GaugeMetricFamily(
            "withdrawbot_requests", "Withdrawal requests by internal state", labels=["state"]
        )
        for state in State:
            requests.add_metric([state.value], by_state.get(state.value, 0))
        yield requests
        backlog, age = queries.outbox_backlog(self.database, now=self.clock())
        yield GaugeMetricFamily(
            "withdrawbot_outbox_backlog", "Slack events not delivered yet", value=backlog
        )
        yield GaugeMetricFamily(
            "withdrawbot_outbox_oldest_age_seconds",
            "Age of the oldest undelivered Slack event",
            value=age,
        )


def metrics_endpoint(database: Database) -> Callable[[], tuple[bytes, str]]:
    """The page and its content type, for ``bot.slack.app.asgi_app``."""
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(database))
    return lambda: (generate_latest(registry), CONTENT_TYPE_LATEST)
