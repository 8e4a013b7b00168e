"""Slack request keys recorded once, on both engines, committed without waiting for the disk."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import func, select

from storage import slack_deliveries
from storage.engine import Database
from storage.slack_deliveries import PRUNE_EVERY, RETENTION, first_time
from storage.tables import SlackDeliveryRow

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def _keys(db: Database) -> int:
    with db.read() as session:
        return int(session.exec(select(func.count()).select_from(SlackDeliveryRow)).one())


def _pruning_key(prefix: str) -> str:
    """A key whose insert also prunes (one in PRUNE_EVERY)."""
    return next(
        k for n in range(10_000) if zlib.crc32((k := f"{prefix}{n}").encode()) % PRUNE_EVERY == 0
    )


def _quiet_key(prefix: str) -> str:
    return next(
        k for n in range(10_000) if zlib.crc32((k := f"{prefix}{n}").encode()) % PRUNE_EVERY != 0
    )


def test_the_first_copy_wins_and_a_replay_does_not(db: Database) -> None:
    key = _quiet_key("trigger-")
    assert first_time(db, key=key, kind="command", now=NOW)
    assert not first_time(db, key=key, kind="command", now=NOW + timedelta(seconds=1))
    assert first_time(db, key=_quiet_key("other-"), kind="event", now=NOW)
    assert _keys(db) == 2


def test_old_keys_are_pruned_now_and_then_not_on_every_insert(db: Database) -> None:
    old = _quiet_key("old-")
    assert first_time(db, key=old, kind="command", now=NOW)
    later = NOW + RETENTION + timedelta(seconds=1)
    assert first_time(db, key=_quiet_key("new-"), kind="command", now=later)
    assert _keys(db) == 2  # a quiet insert leaves the old key
    assert first_time(db, key=_pruning_key("prune-"), kind="command", now=later)
    assert _keys(db) == 2  # the old one is gone, the two recent ones stay
    # a key seen longer ago than RETENTION counts as new again (its signature has expired)
    assert first_time(db, key=old, kind="command", now=later)


def test_an_overlong_key_is_cut_to_the_column(db: Database) -> None:
    key = "k" * (slack_deliveries.KEY_MAX + 50)
    assert first_time(db, key=key, kind="x" * 40, now=NOW)
    assert not first_time(db, key=key, kind="command", now=NOW)


@pytest.mark.parametrize(
    "key",
    ["event:\ud800x", "event:a\x00b", "trigger:é€😀", "event:back\\slash", "trigger:" + "x" * 500],
)
def test_any_key_a_body_can_carry_is_recorded_once(db: Database, key: str) -> None:
    """A lone surrogate or a NUL (which no column takes) must not turn the ack into a 500."""
    assert first_time(db, key=key, kind="\ud800\x00" * 40, now=NOW)
    assert not first_time(db, key=key, kind="event", now=NOW)


def test_keys_that_differ_only_in_what_is_escaped_stay_apart(db: Database) -> None:
    assert first_time(db, key="event:\x00", kind="event", now=NOW)
    assert first_time(db, key="event:\\x00", kind="event", now=NOW)
    assert first_time(db, key="event:\ud800", kind="event", now=NOW)
    assert first_time(db, key="event:\ud801", kind="event", now=NOW)
