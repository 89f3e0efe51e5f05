"""What a person at the command line sees when something is wrong: one line on stderr and a
non-zero exit, never a traceback (the real ``govex`` program, in a subprocess)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from exchange.usecases import access, delivery
from policies import rules, workflow

GOVEX = str(Path(sys.executable).with_name("govex"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([GOVEX, *args], capture_output=True, text=True, cwd=cwd, timeout=120,
                          check=False)


def test_no_server_at_the_url(tmp_path):
    url = f"http://127.0.0.1:{_free_port()}"
    done = _run("--url", url, "--token", "gvx_x", "datasets", cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == f"error: cannot reach {url}: is the server running there? " \
                          "(--url or GOVEX_URL)\n"


@pytest.mark.parametrize(("receipt", "jwks", "says"), [
    ("回执".encode("gbk"), b'{"keys": []}', "is not a receipt"),
    (b"x.y.z", "{不是json".encode("gbk"), "is not a JWKS (JSON) file"),
])
def test_verify_with_files_that_are_not_what_they_should_be(tmp_path, receipt, jwks, says):
    (tmp_path / "data.csv").write_text("a\n1\n")
    (tmp_path / "r.jws").write_bytes(receipt)
    (tmp_path / "jwks.json").write_bytes(jwks)
    done = _run("verify", "data.csv", "--receipt", "r.jws", "--jwks", "jwks.json", cwd=tmp_path)
    assert done.returncode == 1 and says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


@pytest.mark.parametrize("command, option, vocabulary", [
    ("publish", "sharing", tuple(rules.SHARING_TYPES)),
    ("publish", "level", rules.LEVELS),
    ("requests", "status", access.REQUEST_STATUSES),
    ("pull", "fmt", delivery.DELIVERY_FORMATS),
    ("edit", "sharing", tuple(rules.SHARING_TYPES)),
    ("edit", "level", rules.LEVELS),
    ("approve", "follows", workflow.FOLLOWS),
])
def test_the_clients_choices_are_the_exchanges_vocabularies(command, option, vocabulary):
    """The client restates a few vocabularies, so that `govex --help` starts without loading
    the server's libraries; they must stay the server's own."""
    from exchange.cli import cli

    found = next(p for p in cli.commands[command].params if p.name == option)
    assert tuple(found.type.choices) == tuple(vocabulary)
