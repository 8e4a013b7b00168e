"""The App Home tab: waiting, in flight, recent, freeze banner, PAPER, caps."""

from __future__ import annotations

from bot.slack.home_view import HOME_SHOWN, home_view
from bot.slack.ids import ActionId, RequestRef
from tests.slack import world
from tests.slack.world import card, texts

STATES = dict(world.every_state())


def test_home_lists_with_buttons_only_for_what_waits() -> None:
    waiting = [card(world.pending(), request_id=i) for i in (3, 4)]
    view = home_view(
        waiting=waiting,
        in_flight=[STATES["submitted"]],
        recent=[STATES["completed"], STATES["rejected"]],
        frozen=None,
        paper=False,
    ).to_dict()
    assert view["type"] == "home"
    shown = texts(view["blocks"])
    assert shown[:2] == ["withdrawbot", "*Waiting for you*"]
    assert shown.index("*In flight*") < shown.index("*Recent outcomes*")
    actions = [b for b in view["blocks"] if b["type"] == "actions"]
    assert [b["block_id"] for b in actions] == ["home.3", "home.4"]
    for block, waiting_card in zip(actions, waiting, strict=True):
        ids = [e["action_id"] for e in block["elements"]]
        assert ids == [ActionId.APPROVE, ActionId.REJECT]
        assert all(RequestRef.decode(e["value"]) == waiting_card.ref for e in block["elements"])
    assert any("edgeX: L1 confirming" in t for t in shown)
    assert not any("Signing is frozen" in t for t in shown)
    assert not any("PAPER" in t for t in shown)


def test_empty_home_says_so() -> None:
    shown = texts(
        home_view(waiting=[], in_flight=[], recent=[], frozen=None, paper=False).to_dict()
    )
    assert "Nothing waits for your approval." in shown
    assert "Nothing is on its way right now." in shown
    assert "No finished withdrawals yet." in shown


def test_freeze_banner_escapes_the_reason_and_paper_banner_leads() -> None:
    view = home_view(
        waiting=[], in_flight=[], recent=[], frozen="key leak <!channel> & more", paper=True
    ).to_dict()
    assert "*PAPER*" in view["blocks"][0]["elements"][0]["text"]
    banner = view["blocks"][2]["text"]["text"]
    assert banner.startswith("🧊 *Signing is frozen*: key leak &lt;!channel&gt; &amp; more\n")


def test_long_lists_are_capped_within_slacks_block_limit() -> None:
    many = [card(world.pending(), request_id=i) for i in range(1, 40)]
    view = home_view(waiting=many, in_flight=many, recent=many, frozen="x", paper=True).to_dict()
    assert len(view["blocks"]) <= 100
    more = [t for t in texts(view["blocks"]) if t.startswith("…and")]
    assert more == [f"…and {39 - HOME_SHOWN} more: `/withdraw list`"] * 3


def test_drafts_waiting_for_their_quote_have_a_section_without_buttons() -> None:
    quoting = [card(world.awaiting_quote(), request_id=7)]
    view = home_view(
        waiting=[], quoting=quoting, in_flight=[], recent=[], frozen=None, paper=False
    ).to_dict()
    shown = texts(view["blocks"])
    assert shown.index("*Waiting for you*") < shown.index("*Waiting for an LP quote*")
    assert shown.index("*Waiting for an LP quote*") < shown.index("*In flight*")
    assert any("*#7*" in t and "waiting for the LP quote" in t for t in shown)
    assert not [b for b in view["blocks"] if b["type"] == "actions"]
    empty = texts(
        home_view(waiting=[], in_flight=[], recent=[], frozen=None, paper=False).to_dict()["blocks"]
    )
    assert "*Waiting for an LP quote*" not in empty
