"""The freeze switch: state in the database, every change audited, idempotent."""

from __future__ import annotations

import pytest

from storage import audit
from storage.engine import Database
from storage.freeze import FreezeState, freeze, freeze_state, unfreeze
from tests.approvals.helpers import T0
from tests.storage.databases import dump
from tests.storage.world import MINUTE


def test_starts_unfrozen(db: Database) -> None:
    assert freeze_state(db) == FreezeState(frozen=False, by=None, reason=None, at=None)


def test_freeze_and_unfreeze_are_recorded(db: Database) -> None:
    frozen = freeze(db, by="oncall", reason="exchange incident", now=T0)
    assert frozen.changed
    assert freeze_state(db) == FreezeState(True, "oncall", "exchange incident", T0)
    before = dump(db)
    again = freeze(db, by="someone", reason="again", now=T0 + MINUTE)
    assert not again.changed
    assert again.state == frozen.state
    assert dump(db) == before
    thawed = unfreeze(db, by=["UT1", "UT2"], now=T0 + 2 * MINUTE)
    assert thawed.changed
    assert freeze_state(db) == FreezeState(False, "UT1 and UT2", None, T0 + 2 * MINUTE)
    assert not unfreeze(db, by=["UT1"], now=T0 + 3 * MINUTE).changed
    verdict = audit.verify(db)
    assert verdict.intact
    assert verdict.rows == 2


@pytest.mark.parametrize("name", ["", "   "])
def test_someone_must_be_named(db: Database, name: str) -> None:
    with pytest.raises(ValueError, match="say who freezes"):
        freeze(db, by=name, now=T0)
    with pytest.raises(ValueError, match="say who unfreezes"):
        unfreeze(db, by=[name], now=T0)
    assert freeze_state(db).frozen is False
