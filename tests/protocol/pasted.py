"""Samples of netsh output as admins paste it, written for these tests.

Each helper reproduces one thing that happens to console output on its way into a ticket: a
console buffer narrower than the line hard-wraps it (at column 80 by default, 150 in a widened
window), the continuation re-indented or not; mail and issue trackers quote with "> "; markdown
puts it in a code fence; a KB page prints several interfaces without their title lines; a poster
redacts certificate hashes.
"""

from __future__ import annotations

import hashlib
import struct


def service_sid(name: str) -> str:
    """The SID of a Windows service (NT SERVICE\\name): S-1-5-80- and the SHA-1 of the upper-case
    name in UTF-16LE as five little-endian 32-bit numbers — how the standard reservations'
    SDDL names the WinRM and Wecsvc services."""
    digest = hashlib.sha1(name.upper().encode("utf-16-le")).digest()
    return "S-1-5-80-" + "-".join(str(n) for n in struct.unpack("<5I", digest))


WINRM_SDDL = f"D:(A;;GX;;;{service_sid('WinRM')})(A;;GX;;;{service_sid('Wecsvc')})"
WINRM_URLS = ("http://+:5985/wsman/", "http://+:47001/wsman/")


def urlacl_winrm() -> str:
    """`netsh http show urlacl` on a server with only the standard WinRM reservations (WinRM
    and the Windows Event Collector share them), in netsh's English layout."""
    blocks = []
    for url in WINRM_URLS:
        blocks.append(
            f"    Reserved URL            : {url}\n"
            "        User: NT SERVICE\\WinRM\n"
            "            Listen: Yes\n"
            "            Delegate: No\n"
            "        User: NT SERVICE\\Wecsvc\n"
            "            Listen: Yes\n"
            "            Delegate: No\n"
            f"            SDDL: {WINRM_SDDL}\n"
        )
    return "\nURL Reservations:\n-----------------\n\n" + "\n".join(blocks) + "\n"


def console_wrap(text: str, width: int, indent: str = "") -> str:
    """Hard-wrap every line longer than `width` as a console buffer does when the text is
    copied from the window; `indent` is put before each continuation (a re-indenting editor)."""
    out: list[str] = []
    for line in text.split("\n"):
        out.append(line[:width])
        rest = line[width:]
        while rest:
            room = max(width - len(indent), 1)
            out.append(indent + rest[:room])
            rest = rest[room:]
    return "\r\n".join(out)


def quote(text: str, marker: str = "> ") -> str:
    """Mail / issue-tracker quoting: every line, blank ones as a bare ">"."""
    return "\n".join((marker + line) if line.strip() else marker.rstrip() for line in
                     text.split("\n"))


def fence(text: str, info: str = "") -> str:
    """A markdown code block."""
    return f"Here is the output:\n\n```{info}\n{text.strip(chr(10))}\n```\n\nThanks!\n"


STATUS = {
    0x0: "IPHTTPS interface active",
    0x103: "No usable certificate found",
    0x2AF9: "Failed to connect to IPHTTPS server; waiting to reconnect",
    0x2AFC: "Failed to connect to IPHTTPS server; waiting to reconnect",
    0x643: "Interface creation failure",
}


def tunnel_block(code: int, url: str = "https://da.contoso.com:443/IPHTTPS", *,
                 title: bool = True, dashes: bool = True, full_stop: bool = False) -> str:
    """One interface of `netsh interface httpstunnel show interfaces`."""
    head = ""
    if title:
        head = "Interface IPHTTPSInterface (Group Policy) Parameters\n"
        if dashes:
            head += "-" * 60 + "\n"
    return (
        head
        + "Role                       : client\n"
        + f"URL                        : {url}\n"
        + f"Last Error Code            : 0x{code:x}\n"
        + f"Interface Status           : {STATUS[code]}{'.' if full_stop else ''}\n"
    )


def kb_page(codes: list[int]) -> str:
    """A troubleshooting page in the style of the KB articles: prose, then each case's output
    without the title and dashes lines, labels without padding."""
    parts = ["Symptoms\n\nThe client shows one of the following.\n"]
    for code in codes:
        parts.append(
            f"Role: client\nURL: `https://da.contoso.com/IPHTTPS`\n"
            f"Last Error Code: 0x{code:X}\nInterface Status: {STATUS[code]}.\n"
        )
    parts.append("Cause\n\nSee the resolution below.\n")
    return "\n".join(parts)


REDACTED = ("<redacted>", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "[removed]", "********")


def sslcert_block(endpoint: str, cert_hash: str | None, *, app_id: str =
                  "{5d8e2743-ef20-4d38-8751-7e400f200e65}", label: str = "IP:port") -> str:
    """One binding of `netsh http show sslcert`; `cert_hash` None leaves the line out."""
    lines = [f"    {label:<29}: {endpoint}"]
    if cert_hash is not None:
        lines.append(f"    {'Certificate Hash':<29}: {cert_hash}")
    lines += [
        f"    {'Application ID':<29}: {app_id}",
        f"    {'Certificate Store Name':<29}: MY",
        f"    {'Verify Client Certificate Revocation':<29}: Enabled",
        f"    {'DS Mapper Usage':<29}: Enabled",
        f"    {'Negotiate Client Certificate':<29}: Disabled",
    ]
    return "\n".join(lines) + "\n"


def sslcert(blocks: list[str]) -> str:
    return "\nSSL Certificate bindings:\n-------------------------\n\n" + "\n".join(blocks) + "\n"
