"""The lab's HTTP answers, as HTTP.sys gives them: 200 for the IP-HTTPS POST, its own 404/400.

Pure: bytes in, bytes out.
"""

from __future__ import annotations

import email.utils
from urllib.parse import urlsplit

SERVER_HEADER = "Microsoft-HTTPAPI/2.0"

# HTTP.sys's own error page (the body it sends for an unregistered URL).
_ERROR_BODY = (
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">\r\n'
    "<HTML><HEAD><TITLE>{title}</TITLE>\r\n"
    '<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>\r\n'
    "<BODY><h2>{title}</h2>\r\n"
    "<hr><p>HTTP Error {code}. {text}</p>\r\n"
    "</BODY></HTML>\r\n"
)


def http_date() -> str:
    return email.utils.formatdate(usegmt=True)


def ok_response(with_server: bool) -> bytes:
    # No Content-Length: the body is the endless IPv6 packet stream (MS-IPHTTPS §4.1).
    server = f"Server: {SERVER_HEADER}\r\n" if with_server else ""
    return f"HTTP/1.1 200 OK\r\n{server}Date: {http_date()}\r\n\r\n".encode("ascii")


def error_response(code: int, reason: str, text: str) -> bytes:
    body = _ERROR_BODY.format(title=reason, code=code, text=text).encode("ascii")
    head = (
        f"HTTP/1.1 {code} {reason}\r\n"
        "Content-Type: text/html; charset=us-ascii\r\n"
        f"Server: {SERVER_HEADER}\r\n"
        f"Date: {http_date()}\r\n"
        "Connection: close\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


def parse_request_line(head: bytes) -> tuple[str, str] | None:
    """(method, path) of the head's request line; None when it is not HTTP/1.x."""
    line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1.") or not parts[0].isalpha():
        return None
    method, target, _ = parts
    # An absolute-form target (as sent to proxies) carries the path after the authority.
    path = urlsplit(target).path if "://" in target else target.split("?", 1)[0]
    return method, path or "/"
