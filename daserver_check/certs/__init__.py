"""Certificate analysis shared by `probe` and `cert`: names, policy, chain and trust."""
