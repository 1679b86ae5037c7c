"""What ``riskwatch notify`` delivers to, inside the test: an HTTP receiver and an SMTP sink.

The HTTP receiver answers per path: ``/ok/...`` 200 (after ``delay_s``), ``/robot/...``
a chat robot's ``{"errcode": 0}``, ``/dead/...`` 503. It records what it took
(after answering) with the body, headers and path.
"""

from __future__ import annotations

import socketserver
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

from pipeline.kafka.broker import free_port


@dataclass(frozen=True)
class Received:
    """One request the receiver answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int


@dataclass
class HttpReceiver:
    """A threaded HTTP server on a free loopback port."""

    delay_s: float = 0.0
    taken: list[Received] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self
        self.lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, answer = 503, b"down"
                if self.path.startswith("/ok/"):
                    time.sleep(receiver.delay_s)
                    status, answer = 200, b"{}"
                elif self.path.startswith("/robot/"):
                    status, answer = 200, b'{"errcode": 0, "errmsg": "ok"}'
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
                self.wfile.flush()
                with receiver.lock:
                    receiver.taken.append(Received(self.path, dict(self.headers.items()), body, status))

            def log_message(self, *args: object) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        """The URL of ``path`` on this receiver."""
        return f"http://127.0.0.1:{self.port}{path}"

    def received(self, prefix: str = "/", status: int = 200) -> list[Received]:
        """Requests to paths under ``prefix`` answered ``status``."""
        with self.lock:
            return [r for r in self.taken if r.path.startswith(prefix) and r.status == status]

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpSink:
    """A minimal SMTP server (EHLO, MAIL, RCPT, DATA, QUIT) keeping each message's raw text."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        sink = self

        class Session(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 sink ESMTP\r\n")
                while line := self.rfile.readline():
                    verb = line[:4].upper()
                    if verb == b"DATA":
                        self.wfile.write(b"354 go on\r\n")
                        data = b""
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data += chunk
                        sink.messages.append(data)
                        self.wfile.write(b"250 queued\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        self.port = free_port()
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Session)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
