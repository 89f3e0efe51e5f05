"""The README's "Setting up a city", run as written: its shell blocks pasted into bash on a
fresh home, with the real ``govex`` commands and server (only the port changed to a free one).
The district receives exactly its own rows, masked; the receipt and the audit entry name the
scope."""

from __future__ import annotations

import csv
import io
import re
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    body = text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
    return "\n".join(re.findall(r"```sh\n(.*?)```", body, re.S))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(script: str, *, port: str, cwd: Path) -> str:
    """A README section's shell blocks in bash, with this checkout's virtualenv and a free
    port instead of ``port``; what it printed (it must exit 0)."""
    script = script.replace("source .venv/bin/activate",
                            f"source {Path(sys.executable).parent}/activate")
    script = script.replace(port, str(_free_port()))
    done = subprocess.run(["bash", "-c", "set -euo pipefail\ntrap 'kill $SERVER 2>/dev/null "
                           "|| true' EXIT\nSERVER=\n" + script],
                          cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_the_readme_sets_a_city_up(tmp_path):
    script = _section("Setting up a city")
    assert "govex departments add jinjiang-civil" in script and "--rows 区划代码=510104" in script
    out = _run(script, port="8090", cwd=tmp_path)
    assert "jinjiang-civil: 锦江区民政局 · district 510104 (四川省 锦江区), under jinjiang" in out
    assert "proposed: --rows 区划代码=510104" in out
    delivered = list(csv.DictReader(io.StringIO(
        (tmp_path / "jinjiang-dibao.csv").read_text(encoding="utf-8"))))
    assert [r["区划代码"] for r in delivered] == ["510104", "510104"]
    assert [r["月救助金额"] for r in delivered] == ["780", "1150"]
    for row in delivered:  # masked at L3: no name or phone number as published
        assert row["姓名"] not in ("张伟", "李娜") and "1381234" not in row["手机号码"]
    assert "王芳" not in out and "13812340002" not in out  # another district's row
    receipt = (tmp_path / "jinjiang-dibao.csv.receipt.jws").read_text()
    assert receipt.count(".") == 2
    assert "区划代码 in 510104" in out  # the pull and the audit entry say the scope
    assert re.search(r"exchange .*rows=2 区划代码 in 510104", out)
    # 回流: both district departments of 锦江区 at once, 武侯区's bureau when it is added
    assert re.search(r"granted gr_\w+ to jinjiang; 区划代码 in 510104", out)
    assert re.search(r"granted gr_\w+ to jinjiang-civil; 区划代码 in 510104", out)
    assert re.search(r"added wuhou-civil: .*; 回流: 1 decision\(s\) above it, its grants "
                     r"queued for govex worker", out)
    assert "timer.done: 2" in out  # the derivation, and the delivered version's subject index
    assert re.search(r"gr_\w+  active +civil→wuhou-civil ", out)


def test_the_readme_walks_a_request_through_the_process(tmp_path):
    """"The sharing process" as written: refusal, appeal returned by the data authority,
    approval, timeline, rating, error report answered, the bureau's figures."""
    script = _section("The sharing process")
    assert "govex appeal-decide $REQ --return" in script and "govex metrics" in script
    out = _run(script, port="8091", cwd=tmp_path)
    assert re.search(r"\* \S+\+08:00  A request waits for your reply  rq_\w+", out)
    assert re.search(r"rq_\w+ appealed; the data authority decides by \S+T23:59:59\+08:00", out)
    assert re.search(r"\* \S+  A refusal was appealed  rq_\w+", out)
    assert re.search(r"rq_\w+ pending, due \S+T23:59:59\+08:00", out)
    steps = re.findall(r"^  \S+\+08:00  (\w+) +(\S+)", out, re.M)
    assert steps == [("asked", "tax-requester"), ("denied", "civil-steward"),
                     ("appealed", "tax-requester"), ("appeal_returned", "data-authority"),
                     ("granted", "civil-steward")]
    assert re.search(r"rated ex_\w+: 4 of 5", out)
    assert re.search(r"obj_\w+  open +tax→civil .*\[服务次数\] rows 2", out)
    assert re.search(r"obj_\w+ explained", out)
    assert re.search(r"civil +\d{4} +1 +1/1 .* 100% +1 +4\.0 +1/1", out)
    assert "timer: pending 6" in out
