"""Uploads against the real server (``govex serve``: waitress): a body is refused from its head,
before it is received — no token: 401; a declared length over the limit: 413; a chunked body
stopped as it streams past the limit — and the client still reads the answer.

A socket-level client sends a head announcing 200 MB, then the body in 64 KiB blocks while it
watches for the answer; it counts what it had handed to its socket when the answer came (the
server read at most the head and one receive of the body; the rest sat in socket buffers) and
stops, as curl and browsers do. The server's log says what it read of the body before closing.
The instance is small and of its own: one department, one steward; the upload limit is 1 MiB.
"""

from __future__ import annotations

import io
import json
import os
import re
import select
import socket
import time
from dataclasses import dataclass

import pytest
import requests

from exchange.client import ApiError, Client
from exchange.config import load_settings
from exchange.services import Services
from exchange.serving import LINGER_BYTES
from exchange.usecases.admin import create_user, ensure_department, init_instance

from .conftest import serving

LIMIT = 1 << 20  # GOVEX_MAX_UPLOAD_BYTES; the body may be 1 MiB more (the multipart wrapping)
DECLARED = 200 * 1024 * 1024
BLOCK = b"x" * 65536
#: What a client can hand to its socket before the server's answer comes: the socket buffers
#: (a few MB on loopback) and the one receive the server made with the head.
BUFFERED = 16 * 1024 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory, database_url):
    home = tmp_path_factory.mktemp("uploads-home")
    env = {**os.environ, "GOVEX_HOME": str(home), "GOVEX_DATABASE_URL": database_url(home),
           "GOVEX_MAX_UPLOAD_BYTES": str(LIMIT)}
    settings = load_settings(environ=env)
    init_instance(settings)
    svc = Services(settings)
    ensure_department(svc, "civil", "民政局", "Civil Affairs")
    token = create_user(svc, username="civil-steward", password="pw-" * 5, role="steward",
                        department="civil")
    svc.engine.dispose()
    with serving(env, home / "server.log") as (url, port, _proc):
        yield {"url": url, "port": port, "token": token, "log": home / "server.log"}


@dataclass
class Outcome:
    status: int
    headers: str
    body: bytes
    sent_before_answer: int  # body bytes handed to the socket when the answer began
    continued: bool  # the server said 100 Continue


def upload(port: int, *, token: str | None = None, length: int | None = DECLARED,
           expect: bool = False, timeout: float = 20) -> Outcome:
    """POST /api/v1/datasets with a head announcing ``length`` bytes (None: chunked, endless),
    sending the body until an answer comes."""
    head = ["POST /api/v1/datasets HTTP/1.1", "Host: govex",
            "Content-Type: multipart/form-data; boundary=x"]
    head += [f"Content-Length: {length}"] if length is not None else ["Transfer-Encoding: chunked"]
    head += [f"Authorization: Bearer {token}"] if token else []
    head += ["Expect: 100-continue"] if expect else []
    block = BLOCK if length is not None else b"%x\r\n%s\r\n" % (len(BLOCK), BLOCK)
    sent, received, continued = 0, b"", False
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        if expect:
            received = _read_head(sock)
            continued = received.startswith(b"HTTP/1.1 100")
            received = b"" if continued else received
        sock.setblocking(False)
        deadline = time.monotonic() + timeout
        while not received and time.monotonic() < deadline and (length is None or sent < length):
            readable, writable, _ = select.select([sock], [sock], [], 1)
            if readable:
                received = sock.recv(65536)
            elif writable:
                try:
                    sent += sock.send(block)
                except BlockingIOError:
                    pass
        answered_at = sent
        sock.setblocking(True)
        while b"\r\n\r\n" not in received or len(received.partition(b"\r\n\r\n")[2]) < \
                _length_of(received):
            more = sock.recv(65536)
            if not more:
                break
            received += more
    status_line, _, rest = received.partition(b"\r\n")
    headers, _, body = rest.partition(b"\r\n\r\n")
    return Outcome(int(status_line.split()[1]), headers.decode(), body, answered_at, continued)


def _read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    return data


def _length_of(received: bytes) -> int:
    found = re.search(rb"(?i)content-length: *(\d+)", received)
    return int(found.group(1)) if found else 0


def _logged(server: dict, what: str) -> list[int]:
    """Bytes of a refused body the server read, from its log lines about ``what``."""
    deadline = time.monotonic() + 5  # written when the connection closes
    while time.monotonic() < deadline:
        found = re.findall(rf"refused {re.escape(what)} from its head: ([\d,]+) bytes",
                           server["log"].read_text())
        if found:
            return [int(n.replace(",", "")) for n in found]
        time.sleep(0.1)
    return []


def test_an_upload_without_a_token_is_refused_before_its_body_is_received(server):
    done = upload(server["port"])
    assert done.status == 401 and b'"unauthenticated"' in done.body
    assert "Connection: close" in done.headers
    assert done.sent_before_answer < BUFFERED  # of 200 MB announced
    read = _logged(server, "POST /api/v1/datasets (401)")
    assert read and max(read) <= LINGER_BYTES + 65536


def test_expect_100_continue_gets_the_refusal_instead_and_sends_nothing(server):
    done = upload(server["port"], expect=True)
    assert not done.continued and done.status == 401 and done.sent_before_answer == 0


def test_a_declared_length_over_the_limit_is_413_before_its_body(server):
    done = upload(server["port"], token=server["token"], length=DECLARED)
    assert done.status == 413 and json.loads(done.body)["error"]["code"] == "too_large"
    assert done.sent_before_answer < BUFFERED
    admitted = upload(server["port"], token=server["token"], length=LIMIT, expect=True)
    assert admitted.continued  # within the limit: the server asks for the body


def test_a_chunked_body_is_stopped_as_it_streams_past_the_limit(server):
    done = upload(server["port"], token=server["token"], length=None)
    assert done.status == 413 and json.loads(done.body)["error"]["code"] == "too_large"
    assert 2 * LIMIT <= done.sent_before_answer < 2 * LIMIT + BUFFERED


def test_a_client_that_sends_everything_first_still_reads_the_refusal(server):
    """requests (urllib3) writes the whole body before it reads: the server reads and drops a
    little while the answer waits, then closes; the client gets the 401, not a reset."""
    body = io.BytesIO(b"x" * (20 * 1024 * 1024))
    r = requests.post(server["url"] + "/api/v1/datasets", data=body, timeout=30,
                      headers={"Content-Type": "multipart/form-data; boundary=x"})
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    assert body.tell() < 20 * 1024 * 1024


def test_a_file_within_the_limits_publishes_and_one_past_them_is_refused(server, tmp_path):
    client = Client(server["url"], token=server["token"])
    rows = "".join(f"张{i},1381234{i:04d}\n" for i in range(1000))
    meta = {"title": "名单", "sharing": "conditional", "level": "L2",
            "confirm_personal_data": True}
    made = client.publish("名单.csv", ("姓名,手机号\n" + rows).encode(), meta)
    assert made["row_count"] == 1000
    on_disk = tmp_path / "名单.csv"  # sent from disk as it is read, with its length declared
    on_disk.write_bytes(("姓名,手机号\n" + rows).encode())
    streamed = client.publish("名单 \"二\".csv", on_disk, meta)
    assert streamed["sha256"] == made["sha256"] and streamed["row_count"] == 1000
    big = ("姓名,手机号\n" + rows * 60).encode()  # within the body limit, over the file limit
    assert LIMIT < len(big) < 2 * LIMIT
    with pytest.raises(ApiError, match=f"file is larger than {LIMIT} bytes") as refused:
        client.publish("大名单.csv", big, meta)
    assert refused.value.status == 413


def test_a_malformed_head_is_answered_400_and_the_server_serves_on(server):
    with socket.create_connection(("127.0.0.1", server["port"]), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/datasets HTTP/1.1\r\nHost: govex\r\nBad Header\r\n\r\n")
        answer = sock.recv(4096)
    assert answer.split()[1] == b"400"
    assert requests.get(server["url"] + "/healthz", timeout=5).ok
