"""End to end: the real server (``govex serve``, waitress) on a free port, driven by the real
``govex`` command, exactly as the README's walkthrough does."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import requests
from jwcrypto import jwk, jws

GOVEX = str(Path(sys.executable).with_name("govex"))

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
RESIDENT_ID = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")


def govex(server, user: str | None, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "GOVEX_URL": server["url"]}
    env.pop("GOVEX_TOKEN", None)
    if user:
        env["GOVEX_TOKEN"] = server["users"][user]["token"]
    done = subprocess.run([GOVEX, *args], env=env, capture_output=True, text=True, timeout=300)
    if ok:
        assert done.returncode == 0, done.stderr + done.stdout
    return done


def test_help_does_not_import_the_heavy_libraries():
    code = ("import sys, exchange.cli; heavy = [m for m in ('pandas', 'presidio_analyzer', "
            "'great_expectations', 'spacy') if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert "Usage" in subprocess.run([GOVEX, "--help"], capture_output=True, text=True).stdout


def test_walkthrough(server, tmp_path):
    found = json.loads(govex(server, "civil-requester", "--json", "datasets", "--q", "热线").stdout)
    tickets = found["datasets"][0]["id"]
    req = json.loads(govex(server, "civil-requester", "--json", "request", tickets, "--purpose",
                           "核查低保申请人近一年的诉求记录", "--columns",
                           "受理时间,来电人,联系电话,诉求内容").stdout)
    assert req["status"] == "pending"
    pending = govex(server, "hotline-steward", "requests", "--status", "pending").stdout
    assert req["id"] in pending
    approved = json.loads(govex(server, "hotline-steward", "--json", "approve", req["id"],
                                "--mask", "联系电话=hash").stdout)
    grant = approved["grant_id"]

    out = tmp_path / "tickets.csv"
    govex(server, "civil-requester", "pull", grant, "-o", str(out))
    text = out.read_text(encoding="utf-8")
    assert text.count("\n") > 100
    assert not MOBILE.search(text) and not RESIDENT_ID.search(text)
    _no_source_value_survives(text)

    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(requests.get(server["url"] + "/.well-known/jwks.json").text)
    receipt = Path(str(out) + ".receipt.jws")
    verified = govex(server, None, "verify", str(out), "--receipt", str(receipt), "--jwks",
                     str(jwks_file))
    assert verified.stdout.startswith("OK")
    _verify_with_jwcrypto(receipt.read_text().strip(), jwks_file.read_text(), out.read_bytes())

    tampered = tmp_path / "tampered.csv"
    tampered.write_bytes(out.read_bytes().replace(b"\n", b"\r\n", 1))
    bad = govex(server, None, "verify", str(tampered), "--receipt", str(receipt), "--jwks",
                str(jwks_file), ok=False)
    assert bad.returncode == 1 and "does not match" in bad.stderr


def _no_source_value_survives(delivered: str) -> None:
    """Every mobile and resident ID of the published source is absent from the delivery,
    whatever its separators were."""
    from exchange.demo.data import generate_demo_datasets
    tickets = next(d for d in generate_demo_datasets(rows=300) if d.key == "hotline_tickets")
    source = " ".join(tickets.frame["联系电话"]) + " " + " ".join(tickets.frame["诉求内容"])
    compact = re.sub(r"(?<=\d)[- ](?=\d)", "", source.replace("+86", " "))
    planted = set(MOBILE.findall(compact)) | set(RESIDENT_ID.findall(compact))
    assert len(planted) > 100
    flat = re.sub(r"(?<=\d)[- ](?=\d)", "", delivered)
    assert [v for v in planted if v in flat] == []


def _verify_with_jwcrypto(token: str, jwks_text: str, data: bytes) -> None:
    import hashlib
    keyset = jwk.JWKSet.from_json(jwks_text)
    obj = jws.JWS()
    obj.deserialize(token)
    obj.verify(keyset.get_key(obj.jose_header["kid"]), alg="EdDSA")
    assert json.loads(obj.payload)["sha256"] == hashlib.sha256(data).hexdigest()


def test_audit_verify_consistency_and_offline_export(server, tmp_path):
    saved = tmp_path / "checkpoint.txt"
    first = govex(server, "audit-auditor", "audit", "verify", "--save-checkpoint", str(saved))
    assert first.stdout.startswith("OK")
    vkey = requests.get(server["url"] + "/api/v1/audit/key").json()["vkey"]
    market = json.loads(govex(server, "civil-requester", "--json", "datasets", "--q",
                              "市场主体").stdout)["datasets"][0]["id"]
    govex(server, "civil-requester", "request", market, "--purpose", "核验企业法人信息",
          "--columns", "企业名称,统一社会信用代码")
    later = govex(server, "audit-auditor", "audit", "verify", "--checkpoint", str(saved),
                  "--key", vkey)
    assert "consistent with the earlier checkpoint" in later.stdout

    bundle = tmp_path / "evidence.jsonl"
    govex(server, "audit-auditor", "audit", "export", "-o", str(bundle))
    # the key pinned as the README says: the document GET /audit/key serves, saved to a file
    key_file = tmp_path / "log-key.json"
    key_file.write_text(requests.get(server["url"] + "/api/v1/audit/key").text)
    offline = govex(server, None, "--url", "http://127.0.0.1:9", "audit", "verify", "--export",
                    str(bundle), "--key", str(key_file))
    assert offline.stdout.startswith("OK") and "pin it" not in offline.stdout
    key_file.write_text('{"origin": "govex.local/audit"}')
    no_key = govex(server, None, "audit", "verify", "--export", str(bundle), "--key",
                   str(key_file), ok=False)
    assert no_key.returncode != 0 and '"vkey"' in no_key.stderr

    header, *lines = bundle.read_text().splitlines()
    assert json.loads(header)["format"] == "govex-evidence/2"
    lines[1] = lines[1].replace('"actor":"', '"actor":"x', 1)  # one entry edited
    forged = tmp_path / "forged.jsonl"
    forged.write_text("\n".join([header, *lines]) + "\n")
    bad = govex(server, None, "audit", "verify", "--export", str(forged), "--key", vkey, ok=False)
    assert bad.returncode != 0 and "root" in bad.stderr.lower()


def test_audit_log_lists_deliveries(server):
    out = govex(server, "audit-auditor", "audit", "log", "--type", "exchange").stdout
    assert "exchange" in out and "civil" in out
    denied = govex(server, "civil-requester", "audit", "log", ok=False)
    assert denied.returncode == 1 and "HTTP 403" in denied.stderr


def test_a_request_refused_at_once_exits_3_with_the_legal_basis(server):
    cases = json.loads(govex(server, "civil-requester", "--json", "datasets", "--q",
                             "刑事案件").stdout)["datasets"][0]
    refused = govex(server, "civil-requester", "request", cases["id"], "--purpose", "核查",
                    "--columns", "案件编号", ok=False)
    assert refused.returncode == 3 and " refused — " in refused.stdout
    assert cases["legal_basis"] and cases["legal_basis"] in refused.stdout


def test_server_log_has_no_personal_data_or_tokens(server):
    text = server["log"].read_text(encoding="utf-8", errors="replace")
    assert not MOBILE.search(text) and not RESIDENT_ID.search(text)
    assert "gvx_" not in text


def test_a_new_version_reaches_a_following_grant_not_a_pinned_one(server, tmp_path):
    """The steward's commands for a dataset's life: publish, --new-version, edit, withdraw."""
    first, second = tmp_path / "stations.csv", tmp_path / "stations-2.csv"
    first.write_text("街道,服务次数\n" + "".join(f"街道{i},{i}\n" for i in range(8)),
                     encoding="utf-8")
    second.write_text("街道,服务次数\n" + "".join(f"新街道{i},{i}\n" for i in range(11)),
                      encoding="utf-8")
    made = json.loads(govex(server, "civil-steward", "--json", "publish", str(first), "--title",
                            "社区服务站台账", "--sharing", "conditional", "--level",
                            "L2").stdout)
    grants = {}
    for follows in ("pinned", "latest"):
        asked = json.loads(govex(server, "hotline-requester", "--json", "request", made["id"],
                                 "--purpose", "统计服务量", "--columns", "街道,服务次数").stdout)
        grants[follows] = json.loads(govex(server, "civil-steward", "--json", "approve",
                                           asked["id"], "--follows", follows).stdout)["grant_id"]
    mixed = govex(server, "civil-steward", "publish", str(second), "--new-version", made["id"],
                  "--title", "x", ok=False)
    assert mixed.returncode == 2 and "--title" in mixed.stderr
    added = govex(server, "civil-steward", "publish", str(second), "--new-version", made["id"])
    assert f"published {made['id']} version 2 (11 rows" in added.stdout

    for follows, version, rows in (("pinned", 1, 8), ("latest", 2, 11)):
        out = tmp_path / f"{follows}.csv"
        govex(server, "hotline-requester", "pull", grants[follows], "-o", str(out))
        manifest = json.loads(base64url(Path(f"{out}.receipt.jws").read_text().split(".")[1]))
        assert (manifest["dataset_version"], manifest["row_count"]) == (version, rows)

    edited = govex(server, "civil-steward", "edit", made["id"], "--level", "L3")
    assert edited.stdout.strip() == f"{made['id']}: changed level"
    done = govex(server, "civil-steward", "withdraw", made["id"], "--reason", "并入新系统")
    assert "2 grant(s) ended" in done.stdout
    late = govex(server, "hotline-requester", "pull", grants["latest"], "-o",
                 str(tmp_path / "late.csv"), ok=False)
    assert late.returncode == 1


def base64url(text: str) -> bytes:
    import base64
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_lookups_and_checks_from_the_command_line(server, tmp_path):
    """接口共享 through the CLI: a query request, the worker's index, a lookup, checks."""
    from masking import resident_id_check_char

    base = "51010419800101123"
    person = base + resident_id_check_char(base)
    register = tmp_path / "register.csv"
    register.write_text(f"身份证号,姓名,户籍地址\n{person},李娜,成都市锦江区红星路二段1号\n",
                        encoding="utf-8")
    published = govex(server, "civil-steward", "publish", str(register), "--title",
                      "户籍核验测试", "--sharing", "conditional", "--level", "L3").stdout
    dataset = re.search(r"published (ds_\w+)", published).group(1)
    asked = govex(server, "health-requester", "request", dataset, "--purpose", "窗口核验户籍",
                  "--columns", "姓名,户籍地址", "--lookup-by", "身份证号").stdout
    request_id = asked.split()[0]
    granted = govex(server, "civil-steward", "approve", request_id).stdout
    grant = re.search(r"granted (gr_\w+)", granted).group(1)
    env = {**server["env"]}
    env.pop("GOVEX_TOKEN", None)
    built = subprocess.run([GOVEX, "worker", "--once"], env=env, capture_output=True,
                           text=True, timeout=300)
    assert "timer.done" in built.stdout, built.stdout + built.stderr
    found = govex(server, "health-requester", "lookup", grant,
                  f"身份证号={person.lower()}").stdout
    assert '"姓名": "李*"' in found and person not in found
    yes = govex(server, "health-requester", "check", grant, f"身份证号={person}", "姓名=李娜")
    assert yes.stdout.startswith("match")
    no = govex(server, "health-requester", "check", grant, f"身份证号={person}", "姓名=王芳",
               ok=False)
    assert no.returncode == 4 and no.stdout.startswith("no match")
    other = govex(server, "jinjiang-requester", "lookup", grant, f"身份证号={person}", ok=False)
    assert other.returncode == 1
