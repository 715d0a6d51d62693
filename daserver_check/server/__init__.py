"""Server-side inspection: exported artifacts (or the live registry) → facts → findings.

`artifacts` recognises files by content and reads them into a `Facts`; `checks` turns facts
into findings. Nothing here talks to the network.
"""
