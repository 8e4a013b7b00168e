"""The worker: sign and submit approved requests exactly once, follow them, watch the account.

``submitter`` (claim, re-check, sign into SUBMITTING, send and resend the stored bytes),
``poller`` (batched status polls, reconciliation of unknown outcomes), ``watch`` (withdrawals
withdrawbot did not make, stalled requests), ``loop`` (the threads of one worker process),
``main`` (``withdrawbot worker``). What they write for Slack is in the outbox and in
``storage.alerts``; the notifier that posts it is the Slack side's.
"""
