"""The approval domain: request lifecycle, policy, money, content hash. Pure code, no I/O."""
