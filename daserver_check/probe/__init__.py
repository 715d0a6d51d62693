"""All network I/O of a probe: dns, tcp, tls, iphttps. Each step has a deadline."""
