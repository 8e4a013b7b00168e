"""The Slack surface: rendering, command parsing, ids, and the loopback Slack for tests and demo."""
