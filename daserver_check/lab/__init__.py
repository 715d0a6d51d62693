"""An emulated DirectAccess IP-HTTPS endpoint (TLS + POST) and DNS, for demo and tests."""
