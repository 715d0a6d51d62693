"""`daserver-check profile show NAME|FILE` and `daserver-check profile init`."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

from daserver_check.errors import InputError

HELP = "show the effective profile, or write a commented starter profile"
DESCRIPTION = """\
A profile (TOML, schema 1) describes one deployment: its URLs and entry points, client OS
versions, resolvers, trust store, expiry thresholds, timeouts.

  daserver-check profile show default        the built-in profile, every key with its value
  daserver-check profile show contoso.toml   what a file sets, with the defaults filled in
  daserver-check profile init > contoso.toml a commented starter profile to edit
"""

STARTER = """\
# daserver-check profile (schema 1). One file per DirectAccess deployment.
# Check it with: daserver-check profile show THIS_FILE
schema = 1

[deployment]
name = "contoso"
# The IP-HTTPS URL(s) clients receive by Group Policy (Get-RemoteAccess: ConnectToAddress).
# Multisite: one URL per entry point.
urls = ["https://da.contoso.com/IPHTTPS"]
# Optional: the public addresses of the entry points (IP[:PORT]). The checklist probes each
# of them with the URL's name, like `probe --connect`.
entry_points = []
# windows7 in this list requires encrypted suites (Windows 7 cannot use the null suites)
# and a CRL reachable from the Internet. One of: windows7 windows8 windows8.1 windows10 windows11
client_os = ["windows10"]
# "none" (the DirectAccess default) or "certificates" (IP-HTTPS client authentication).
auth_mode = "none"

[dns]
resolvers = []            # IP[:PORT] of DNS servers to ask; empty = the system resolver
allow_private = false     # true only for labs: a public name must not resolve to private space

[tls]
require_null_cipher = true  # warn when the null-encryption suites are missing (Windows 8+)

[cert]
ca_file = ""              # PEM bundle of trusted roots; empty = the system trust store
warn_days = 30            # warn this many days before the certificate expires
crit_days = 7             # fail this many days before
check_crl = true          # fetch the CRL distribution points (cert command, checklist)
files = []                # new certificate files the checklist validates (PEM, DER, PFX, P7B)

[iphttps]
router_discovery = false  # send one Router Solicitation after the POST and expect a /64 prefix

[proxy]
url = ""                  # http://HOST:PORT to probe through a proxy, as clients behind one do

[probe]
timeout = 10.0            # seconds for the whole probe of one URL
concurrency = 16          # probes run at once (checklist, exporter)

[server]
bundles = []              # folders written by `daserver-check collect-script` on the DA server
"""


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="profile_action", metavar="ACTION", required=True,
                                parser_class=type(parser))
    show = sub.add_parser("show", help="print the effective profile (defaults filled in)")
    show.add_argument("profile", metavar="NAME|FILE", help="built-in name or TOML file")
    show.add_argument("--format", choices=("toml", "json"), default="toml")
    init = sub.add_parser("init", help="write a commented starter profile")
    init.add_argument("--output", metavar="FILE",
                      help="write to FILE (refuses to overwrite) instead of standard output")


def run(args: argparse.Namespace) -> int:
    if args.profile_action == "init":
        return _init(args.output)
    from daserver_check.profile import ProfileError, load_profile

    try:
        profile = load_profile(args.profile)
    except ProfileError as exc:
        raise InputError(str(exc)) from None
    data = {k: v for k, v in dataclasses.asdict(profile).items() if k != "source"}
    data["proxy"]["url"] = mask_password(data["proxy"]["url"])
    if args.format == "json":
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
    else:
        sys.stdout.write(f"# effective profile: {profile.source}\n" + to_toml(data))
    return 0


def mask_password(url: str) -> str:
    """`http://user:secret@host:port` as `http://user:***@host:port`: a profile shown on screen
    or pasted into a ticket must not carry the proxy password."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{hostport}"))


def _init(output: str | None) -> int:
    if not output:
        sys.stdout.write(STARTER)
        return 0
    path = Path(output)
    try:
        with path.open("x", encoding="utf-8") as fh:
            fh.write(STARTER)
    except FileExistsError:
        raise InputError(f"--output {output}: exists already (not overwritten)") from None
    except OSError as exc:
        raise InputError(f"--output {output}: cannot write: {exc.strerror or exc}") from None
    print(f"wrote {output}; edit it, then: daserver-check profile show {output}", file=sys.stderr)
    return 0


def to_toml(data: dict[str, Any]) -> str:
    lines = [f"{k} = {_value(v)}" for k, v in data.items() if not isinstance(v, dict)]
    for key, value in data.items():
        if isinstance(value, dict):
            lines.append("")
            lines.append(f"[{key}]")
            lines.extend(f"{k} = {_value(v)}" for k, v in value.items())
    return "\n".join(lines) + "\n"


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a TOML basic string is JSON-compatible for these values
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")  # pragma: no cover
