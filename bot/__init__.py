"""withdrawbot: the Slack app, use cases, worker loops and CLI."""
