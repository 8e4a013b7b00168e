"""edgeX's V2 (unified-asset) API: HMAC request auth, EIP-712 signed withdrawals (issue #14).

What the official SDKs do is in ``../shared/edgex-v2.md``; what they do not publish (the
``queryAssetFlows`` schema, duplicate ``clientWithdrawId`` behaviour, ``expireTime`` bounds) is
ASSUMED wherever this package relies on it. Like the rest of ``bot.edgex`` it imports nothing of
ours outside ``bot.edgex``.
"""
