"""Who is in the Slack user groups the approval policy names (``@treasury``).

Asked of Slack with ``usergroups.list(include_users=true)`` (scope ``usergroups:read``), kept for
a minute so a burst of clicks costs one call. A handle Slack does not know is left out, and the
domain then refuses to count anyone from it (fail closed); a failed call is refused the same way
rather than answered from a guess.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

__all__ = ["UserGroups"]


class UserGroups:
    """Resolves handles to user ids; call it with the handles the policy needs."""

    def __init__(
        self,
        client: WebClient,
        *,
        ttl: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._ttl = ttl
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._cache: tuple[float, dict[str, frozenset[str]]] | None = None

    def __call__(self, handles: Collection[str]) -> Mapping[str, Collection[str]]:
        groups = self._groups()
        return {handle: groups[handle] for handle in handles if handle in groups}

    def _groups(self) -> dict[str, frozenset[str]]:
        with self._lock:
            if self._cache is not None and self._monotonic() - self._cache[0] < self._ttl:
                return self._cache[1]
            try:
                response = self._client.usergroups_list(include_users=True)
            except SlackClientError:
                return self._cache[1] if self._cache is not None else {}
            groups = {
                str(group["handle"]): frozenset(str(user) for user in group.get("users") or ())
                for group in response.get("usergroups") or ()
                if not group.get("date_delete")
            }
            self._cache = (self._monotonic(), groups)
            return groups
