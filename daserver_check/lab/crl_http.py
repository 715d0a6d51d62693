"""The lab's CRL distribution point: plain HTTP on loopback, as a CA publishes its CRL.

The lab certificate names `http://127.0.0.1:<port>/lab.crl` in its CRL Distribution Points, so
a probe of the lab checks revocation the way a client does, without leaving loopback. Faults:
`revoked` lists the lab certificate, `crl-unreachable` answers 404.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CRL_PATH = "/lab.crl"


class LabCrlServer:
    """Serves one DER CRL at CRL_PATH; everything else is 404."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.crl: bytes = b""
        self.unreachable = False
        server_self = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != CRL_PATH or server_self.unreachable or not server_self.crl:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/pkix-crl")
                self.send_header("Content-Length", str(len(server_self.crl)))
                self.end_headers()
                self.wfile.write(server_self.crl)

            def log_message(self, format: str, *args: Any) -> None:
                return  # quiet: the lab prints its own summary

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        self._server.timeout = 5
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.2}, name="lab-crl", daemon=True)

    @property
    def url(self) -> str:
        host, port = str(self._server.server_address[0]), int(self._server.server_address[1])
        return f"http://{host!s}:{port}{CRL_PATH}"

    def start(self) -> LabCrlServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
