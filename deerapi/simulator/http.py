"""The simulator's HTTP server: one thread per connection, every request handed to Simulator.handle."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from deerapi.simulator.replies import PNG_SIGNATURE, Reply, bad_request, error_reply

MAX_BODY = 10 * 1024 * 1024

if TYPE_CHECKING:
    from deerapi.simulator.server import Simulator

logger = logging.getLogger(__name__)


class SimulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    # Keep-alive connections can idle for a long time: never wait for them on close.
    block_on_close = False
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        self.simulator = simulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, SimulatorRequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients hanging up (timeouts, dropped faults) are routine here.
        if self.simulator.verbose:
            super().handle_error(request, client_address)


class SimulatorRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DeerAPI-Simulator/1.0"
    timeout = 120  # seconds an idle keep-alive connection is kept
    # Headers and body go out in separate writes; with Nagle on, each reply would
    # wait for the client's delayed ACK (~40 ms).
    disable_nagle_algorithm = True
    server: SimulatorHTTPServer

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._serve("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.simulator.verbose:
            super().log_message(format, *args)

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding"):
            return None  # DeerAPI's clients send Content-Length; chunked bodies are refused
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        if length < 0 or length > MAX_BODY:
            return None
        return self.rfile.read(length) if length else b""

    def _serve(self, method: str) -> None:
        simulator = self.server.simulator
        body = self._read_body()
        if body is None:
            self.close_connection = True
            reply = bad_request("the body needs a valid Content-Length of at most 10 MB")
        else:
            try:
                reply = simulator.handle(method, self.path, self.headers, body, self.client_address[:2])
            except Exception:
                logger.exception("the DeerAPI simulator failed on %s %s", method, self.path)
                reply = error_reply(500, "simulator internal error", type="new_api_error", code="internal")
        if reply.drop:
            # Hang up without a byte of response.
            self.close_connection = True
            return
        try:
            self._write(reply)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    def _write(self, reply: Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        length = reply.junk_size or len(reply.body)
        self.send_header("Content-Length", str(length))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        if not reply.junk_size:
            self.wfile.write(reply.body)
            return
        chunk = PNG_SIGNATURE + b"\0" * (65536 - len(PNG_SIGNATURE))
        remaining = reply.junk_size
        while remaining > 0:
            piece = chunk[: min(remaining, len(chunk))]
            self.wfile.write(piece)
            remaining -= len(piece)
            chunk = b"\0" * 65536
