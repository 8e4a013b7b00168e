"""bot/slack imports only what DESIGN.md lets the Slack room use, and never the signing key.

The web process must never hold the L2 key (DESIGN.md "Keys and processes"), so nothing under
bot/slack may import the exchange client or the signer; the status catalogue is the one part of
bot.edgex meant for every consumer, the progress track included.
"""

from __future__ import annotations

from tests.test_import_rules import ROOT, _allowed, _imports, _ours

ALLOWED = ("approvals", "storage", "bot.slack", "bot.edgex.statuses")


def test_slack_package_imports_only_what_design_allows() -> None:
    files = sorted((ROOT / "bot" / "slack").rglob("*.py"))
    assert files
    offences = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in _ours(_imports(path))
        if not _allowed(name, ALLOWED)
    }
    assert not offences, "\n".join(sorted(offences))


def test_the_rule_would_catch_the_signer() -> None:
    assert not _allowed("bot.edgex.signing", ALLOWED)
    assert not _allowed("bot.edgex.client.EdgeXClient", ALLOWED)
    assert not _allowed("bot.settings", ALLOWED)
    assert _allowed("bot.edgex.statuses.FAILURES", ALLOWED)
