"""``govex serve``: waitress, told to refuse a request from its head before it receives the body.

Waitress receives a request's whole body (spooled to a temporary file) before the application
sees it, and answers ``Expect: 100-continue`` at once; so a 200 MB upload without a token was
received in full, then refused with 401. Here waitress's parser asks the app's
:class:`~exchange.uploads.Admission` as soon as a head announces a body of more than
:data:`GATED_FROM` bytes (or a chunked one), before ``100 Continue`` and before a byte of the body
is taken: a refusal (401, 413, a page's redirect to sign in) is sent at once with
``Connection: close``, and the connection is then closed the way RFC 9112 §9.6 asks of a server
that stops reading early — its sending side first, while what the client still sends is read and
dropped for at most :data:`LINGER_SECONDS` and :data:`LINGER_BYTES`, so a client that reads the
answer while it sends sees it, instead of a reset that throws the answer away. A body that
passes is limited to the upload limit and its multipart room (waitress's
``max_request_body_size``), so a chunked body past it is stopped as it streams, with a 413 in
the API's words. ::

    serve(create_app(), host="127.0.0.1", port=8080, threads=8)

Deciding runs in waitress's I/O thread (a token or session lookup: one indexed read) and only
for requests with a large body; smaller ones are checked by the app, after waitress has them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import io
import json
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from typing import Any

from flask import Flask
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask, WSGITask
from waitress.utilities import RequestEntityTooLarge

from .uploads import OPEN_BODY_LIMIT, Admission

__all__ = ["serve", "make_server", "listening_socket", "supervise", "as_server_process",
           "GATED_FROM",
           "LINGER_SECONDS", "LINGER_BYTES"]

log = logging.getLogger("govex")

#: Bodies longer than this are admitted from the head, before they are received.
GATED_FROM = OPEN_BODY_LIMIT
#: After refusing a body, how long and how much of it is read and dropped while the client
#: reads the answer.
LINGER_SECONDS = 2.0
LINGER_BYTES = 4 * 1024 * 1024
_TOO_LARGE = {"code": "too_large",
              "message": "the request body is larger than this exchange accepts"}


def serve(app: Flask, *, host: str | None = None, port: int | None = None, threads: int,
          sock: socket.socket | None = None) -> None:
    """Serve ``app`` (built by :func:`exchange.app.create_app`) until interrupted, on
    ``host``:``port`` or on the listening socket ``sock`` (one of :func:`supervise`'s
    processes)."""
    server = make_server(app, host=host, port=port, threads=threads, sock=sock)
    try:
        server.run()
    finally:
        server.close()


def make_server(app: Flask, *, host: str | None = None, port: int | None = None,
                threads: int, sock: socket.socket | None = None) -> Any:
    """A waitress server of ``app`` that refuses from the head, listening but not yet run."""
    admission: Admission = app.extensions["govex.admission"]
    channel = type("GatedChannel", (GatedChannel,), {"app": app, "admission": admission})
    where: dict[str, Any] = {"sockets": [sock]} if sock is not None else {"host": host,
                                                                          "port": port}
    server = create_server(app, threads=threads, ident="govex",
                           max_request_body_size=admission.limit + 1,  # waitress refuses >=
                           **where)
    for each in [server, *getattr(server, "map", {}).values()]:
        if isinstance(each, BaseWSGIServer):
            each.channel_class = channel
    return server


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket listening on ``host``:``port`` (IPv4, or IPv6 for an address with a
    colon), inheritable by the server processes :func:`supervise` starts. Raises OSError
    (the port is taken)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=1024)
    sock.set_inheritable(True)
    return sock


def as_server_process(parent: int) -> None:
    """In one of :func:`supervise`'s server processes: stop as waitress stops on Ctrl+C
    when told to (SIGTERM: the requests being served finish, for a few seconds), and be told
    to when the supervising process ``parent`` dies, however it dies (Linux)."""
    def stop(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: the supervisor's SIGTERM is the only way to stop
    if os.getppid() != parent:  # it died before we asked
        raise KeyboardInterrupt


_PR_SET_PDEATHSIG = 1


def supervise(commands: list[list[str]], sock: socket.socket, *,
              grace: float = 30.0) -> int:
    """Run each of ``commands`` (``govex serve --listen-fd``: a server process accepting on
    ``sock``, which they all share — the kernel hands each connection to one) until this
    process is told to stop (SIGTERM, SIGINT) or one of them exits; then stop the others
    (SIGTERM, then SIGKILL after ``grace`` seconds). Python runs one thread at a time per
    process: several processes use the machine's cores. Returns 0 when told to stop, else
    1 (a server process died: the service manager restarts the whole)."""
    stop = threading.Event()
    previous = {s: signal.signal(s, lambda *_: stop.set()) for s in (signal.SIGTERM,
                                                                       signal.SIGINT)}
    children: list[subprocess.Popen] = []
    failed = None
    try:
        for command in commands:
            children.append(subprocess.Popen(command, pass_fds=[sock.fileno()]))
        while not stop.wait(0.5):
            failed = next((c for c in children if c.poll() is not None), None)
            if failed is not None:
                log.error("server process %s exited with %s: stopping the others",
                          failed.pid, failed.returncode)
                break
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        deadline = time.monotonic() + grace
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for number, handler in previous.items():
            signal.signal(number, handler)
    return 0 if failed is None else 1


class _Refusal:
    """A refusal as waitress's error tasks write one: a status, headers and a body."""

    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body
        self.code = int(status.split()[0])

    def to_response(self, ident: str | None = None) -> tuple[str, list, bytes]:
        return self.status, list(self.headers), self.body


class _Parser(HTTPRequestParser):
    """Waitress's parser, asking ``admit`` once a head announcing a large body is complete."""

    def __init__(self, adj: Any, *, admit: Any) -> None:
        super().__init__(adj)
        self._admit = admit

    def received(self, data: bytes) -> int:
        finished = self.headers_finished
        consumed = super().received(data)
        if finished or not self.headers_finished or self.empty:
            return consumed
        large = self.chunked or self.content_length > GATED_FROM
        waiting = self.error is None and not self.completed
        if not large or not (waiting or isinstance(self.error, RequestEntityTooLarge)):
            return consumed
        refusal = self._admit(self)
        if refusal is not None:
            self.error, self.completed, self.expect_continue = refusal, True, False
        if self.error is None:
            return consumed
        # refused: what came with the head is dropped, not parsed as the next request
        self.body_bytes_received = len(data) - consumed
        return len(data)


class _RefusalTask(ErrorTask):
    """Writes a parser's refusal; waitress's own 413 in the API's JSON."""

    def execute(self) -> None:
        if isinstance(self.request.error, RequestEntityTooLarge):
            self.request.error = _Refusal(
                "413 Request Entity Too Large", [("Content-Type", "application/json")],
                json.dumps({"error": _TOO_LARGE}).encode())
        request, channel = self.request, self.channel
        what = f"{getattr(request, 'command', '?')} {getattr(request, 'path', '?')}"
        channel.refused = f"{what} ({request.error.code})"  # a malformed head has neither
        channel.body_read = request.body_bytes_received
        super().execute()


class GatedChannel(HTTPChannel):
    """A connection whose requests are admitted from their heads (see the module)."""

    app: Flask
    admission: Admission
    error_task_class = _RefusalTask
    refused = ""  # a request answered before its body was read: "POST /path (401)"
    body_read = 0  # bytes of that body received before the answer
    _linger_until: float | None = None
    _dropped = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parser_class = functools.partial(_Parser, admit=self._admit)

    def _admit(self, request: HTTPRequestParser) -> _Refusal | None:
        environ = WSGITask(self, request).get_environment()
        environ["wsgi.input"] = io.BytesIO()
        if request.chunked:  # waitress took the header away: it will de-chunk the body
            environ["HTTP_TRANSFER_ENCODING"] = "chunked"
            environ.pop("CONTENT_LENGTH", None)
        try:
            refusal = self.admission.refusal_for(self.app, environ)
        except Exception:  # the database is down, say: let the app answer it as usual
            log.exception("could not decide on a request's head; receiving its body")
            return None
        return None if refusal is None else _Refusal(*refusal)

    # -- closing after a refusal: the sending side first, then drop what still comes --------
    def handle_close(self) -> None:
        if self.refused and self._linger_until is None and self.connected:
            try:
                self.socket.shutdown(socket.SHUT_WR)
            except OSError:
                return self._close()
            self._linger_until = time.monotonic() + LINGER_SECONDS
            self.will_close = self.close_when_flushed = False
            return None
        return self._close()

    def _close(self) -> None:
        if self.refused:
            log.info("refused %s from its head: %s bytes of its body read and dropped",
                     self.refused, f"{self.body_read + self._dropped:,}")
            self.refused = ""
        super().handle_close()

    def readable(self) -> bool:
        return True if self._linger_until is not None else super().readable()

    def writable(self) -> bool:
        if self._linger_until is None:
            return super().writable()
        return time.monotonic() > self._linger_until  # then handle_write closes

    def handle_write(self) -> None:
        if self._linger_until is None:
            return super().handle_write()
        return self._close()

    def handle_read(self) -> None:
        if self._linger_until is None:
            return super().handle_read()
        try:
            data = self.recv(self.adj.recv_bytes)  # b"" and closed when the client is done
        except OSError:
            return self._close()
        self._dropped += len(data)
        if data and (self._dropped > LINGER_BYTES or time.monotonic() > self._linger_until):
            self._close()
        return None
