"""The stand-in's modals and Home tabs: ``views.open``, ``update`` and ``publish``, as Slack does.

A trigger id is single-use and valid for three seconds, as Slack documents; a modal's
``block_id`` values must be unique; ``views.update`` honours ``hash`` (``hash_conflict``) and
finds a view by id or ``external_id``; a closed modal is gone. State is guarded by the
workspace's lock, which the stand-in's HTTP threads and a test's reads share.
"""

from __future__ import annotations

import copy
import itertools
import secrets
import threading
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from typing import Any

from bot.slack.standin.arguments import (
    MAX_VIEW_BLOCKS,
    Json,
    SlackError,
    check_blocks,
    json_arg,
    required_arg,
    text_arg,
)

__all__ = ["TRIGGER_TTL", "Views"]

TRIGGER_TTL = 3.0


@dataclass(slots=True)
class _Trigger:
    user_id: str
    issued: float
    used: bool = False


class Views:
    """The modals and Home tabs of one workspace."""

    def __init__(
        self,
        *,
        lock: threading.RLock,
        clock: Callable[[], float],
        ids: itertools.count[int],
        people: Container[str],
        owner: Mapping[str, str],
    ) -> None:
        """``owner`` is the workspace's ``team_id``, ``app_id`` and ``bot_id``, put on each view."""
        self.lock = lock
        self.clock = clock
        self._ids = ids
        self._people = people
        self._owner = dict(owner)
        self.views: dict[str, Json] = {}
        self.homes: dict[str, Json] = {}
        self.closed: set[str] = set()
        self.triggers: dict[str, _Trigger] = {}

    def view(self, view_id: str) -> Json:
        with self.lock:
            if view_id not in self.views:
                raise KeyError(f"no view {view_id}")
            return copy.deepcopy(self.views[view_id])

    def open_views(self, user_id: str) -> list[Json]:
        """Modals open for ``user_id``, oldest first (closed ones are gone, as on screen)."""
        with self.lock:
            return [
                copy.deepcopy(v)
                for view_id, v in self.views.items()
                if v["user_id"] == user_id and v["type"] == "modal" and view_id not in self.closed
            ]

    def home(self, user_id: str) -> Json | None:
        with self.lock:
            found = self.homes.get(user_id)
            return copy.deepcopy(found) if found is not None else None

    def issue_trigger(self, user_id: str) -> str:
        """A trigger id for one interaction; ``views.open`` accepts it once, within 3 s."""
        trigger_id = f"{next(self._ids)}.{secrets.token_hex(6)}"
        with self.lock:
            self.triggers[trigger_id] = _Trigger(user_id, self.clock())
        return trigger_id

    def views_open(self, args: Mapping[str, Any]) -> Json:
        with self.lock:
            trigger_id = required_arg(args, "trigger_id")
            trigger = self.triggers.get(trigger_id)
            if trigger is None:
                raise SlackError("invalid_trigger_id")
            if trigger.used or self.clock() - trigger.issued > TRIGGER_TTL:
                raise SlackError("expired_trigger_id")
            trigger.used = True
            view = self._new_view(json_arg(args, "view"), user_id=trigger.user_id, kind="modal")
            self.views[view["id"]] = view
            return {"view": _without_owner(view)}

    def views_update(self, args: Mapping[str, Any]) -> Json:
        with self.lock:
            view_id = text_arg(args, "view_id")
            external_id = text_arg(args, "external_id")
            current = self._find_view(view_id, external_id)
            expected = text_arg(args, "hash")
            if expected and expected != current["hash"]:
                raise SlackError("hash_conflict")
            updated = self._new_view(
                json_arg(args, "view"),
                user_id=current["user_id"],
                kind="modal",
                view_id=current["id"],
            )
            updated["state"] = current["state"]
            updated["root_view_id"] = current["root_view_id"]
            self.views[current["id"]] = updated
            return {"view": _without_owner(updated)}

    def views_publish(self, args: Mapping[str, Any]) -> Json:
        with self.lock:
            user_id = required_arg(args, "user_id")
            if user_id not in self._people:
                raise SlackError("user_not_found")
            current = self.homes.get(user_id)
            expected = text_arg(args, "hash")
            if expected and current is not None and expected != current["hash"]:
                raise SlackError("hash_conflict")
            view = self._new_view(
                json_arg(args, "view"),
                user_id=user_id,
                kind="home",
                view_id=current["id"] if current else None,
            )
            self.homes[user_id] = view
            self.views[view["id"]] = view
            return {"view": _without_owner(view)}

    def close_view(self, view_id: str) -> None:
        with self.lock:
            self.closed.add(view_id)

    def replace_view(self, view_id: str, view: Mapping[str, Any]) -> None:
        """A ``response_action: update`` ack: the modal shows ``view`` instead."""
        with self.lock:
            current = self.views[view_id]
            updated = self._new_view(
                view, user_id=current["user_id"], kind="modal", view_id=view_id
            )
            updated["root_view_id"] = current["root_view_id"]
            self.views[view_id] = updated

    def _new_view(
        self, spec: Mapping[str, Any], *, user_id: str, kind: str, view_id: str | None = None
    ) -> Json:
        if spec.get("type") != kind:
            raise SlackError("invalid_arguments", f"view.type must be {kind}")
        if kind == "modal" and not isinstance(spec.get("title"), Mapping):
            raise SlackError("invalid_arguments", "a modal needs a title")
        blocks = check_blocks(spec.get("blocks"), limit=MAX_VIEW_BLOCKS)
        block_ids = [b["block_id"] for b in blocks if "block_id" in b]
        if len(block_ids) != len(set(block_ids)):
            raise SlackError("invalid_arguments", "block_id values must be unique in a view")
        new_id = view_id or f"V{next(self._ids):010d}"
        return {
            **copy.deepcopy(dict(spec)),
            "id": new_id,
            **self._owner,
            "blocks": blocks,
            "state": {"values": {}},
            "hash": secrets.token_hex(8),
            "root_view_id": new_id,
            "previous_view_id": None,
            "private_metadata": spec.get("private_metadata") or "",
            "callback_id": spec.get("callback_id") or "",
            "external_id": spec.get("external_id") or "",
            "user_id": user_id,
        }

    def _find_view(self, view_id: str, external_id: str) -> Json:
        if view_id:
            found = self.views.get(view_id)
        else:
            found = next(
                (v for v in self.views.values() if external_id and v["external_id"] == external_id),
                None,
            )
        if found is None or found["id"] in self.closed:
            raise SlackError("not_found")
        return found


def _without_owner(view: Json) -> Json:
    return {k: copy.deepcopy(v) for k, v in view.items() if k != "user_id"}
