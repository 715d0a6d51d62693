"""Orchestration shared by the commands, the checklist and the exporter.

The probe engine (`engine`), its settings (`settings`), the served-certificate fetch (`served`),
and the typed entry points for a certificate file (`cert_file`) and a server bundle (`bundle`).
It wires the I/O stages (`probe/`), the checks (`checks/`, `certs/`, `server/`) and the profile
into `TargetReport`s; it never parses arguments and never prints.
"""
