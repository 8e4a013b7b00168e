"""The approval domain: request lifecycle, policy, money, content hash.

Pure code: no SQL, no Slack, no HTTP, no clock reads (time is passed in). The one file it reads is
the policy, in ``approvals.policy.load_policy``.
"""
