"""A client for the simulator's ``/_sim/`` admin API, for whoever scripts a simulated morning.

The demo and the tests drive the same simulator through the same HTTP routes a person would use
with ``curl`` against ``withdrawbot simulator``, so what they script is what the documented API
does. A refusal is an exception carrying the simulator's answer, never a silent no-op: a demo
whose censor failure was not scripted must not go on to claim it showed one.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

import httpx

__all__ = ["AdminRefused", "SimulatorAdmin"]


class AdminRefused(Exception):
    """The simulator did not take an admin call; ``status`` and ``body`` are its answer."""

    def __init__(self, route: str, status: int, body: str) -> None:
        super().__init__(f"/_sim/{route} answered HTTP {status}: {body[:500]}")
        self.status = status
        self.body = body


class SimulatorAdmin:
    """The admin routes of one simulator at ``url``; a context manager closing its connection."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.http = httpx.Client(base_url=url, timeout=timeout)

    def post(self, route: str, /, **spec: Any) -> Any:
        """POST ``spec`` as JSON to ``/_sim/{route}``; the simulator's JSON answer."""
        return self._answer(route, self.http.post(f"/_sim/{route}", json=spec))

    def get(self, route: str, /) -> Any:
        return self._answer(route, self.http.get(f"/_sim/{route}"))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @staticmethod
    def _answer(route: str, response: httpx.Response) -> Any:
        if response.status_code != 200:
            raise AdminRefused(route, response.status_code, response.text)
        return response.json()
