"""``govex mask``: local files in every format, policies, reports, recipient pseudonyms."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from click.testing import CliRunner

from catalog import formats
from exchange.cli import cli
from exchange.demo.data import generate_demo_datasets
from exchange.keys import MasterKey
from masking import ColumnRule, mask_table

ROWS = 150
RAW_ID = re.compile(r"(?<![0-9])[1-9]\d{5}(?:19|20)\d{2}[01]\d[0-3]\d\d{3}[\dXx](?![0-9])")
RAW_MOBILE = re.compile(r"(?<![0-9])1[3-9]\d{9}(?![0-9])")


@pytest.fixture(scope="module")
def demo():
    sets = generate_demo_datasets(rows=ROWS)
    return {"residents": sets[0].frame, "tickets": sets[1].frame}


@pytest.fixture
def runner():
    return CliRunner()


def _write(path, frame, fmt, *, gbk=False):
    data = formats.write_table(frame, fmt=fmt)
    path.write_bytes(data.decode("utf-8").encode("gbk") if gbk else data)
    return path


def _read(path):
    return formats.read_table(path.read_bytes(),
                              fmt=formats.detect_format(path.name, path.read_bytes()))


def _invoke(runner, *args, env=None):
    return runner.invoke(cli, ["mask", *map(str, args)], env=env or {"GOVEX_SECRET": ""},
                         catch_exceptions=False)


def _no_raw_identifier(frame):
    text = frame.to_csv(index=False)
    assert not RAW_ID.search(text), RAW_ID.search(text)
    assert not RAW_MOBILE.search(text), RAW_MOBILE.search(text)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet", "jsonl"])
def test_every_format_round_trips_masked(tmp_path, runner, demo, fmt):
    source = _write(tmp_path / f"tickets.{fmt}", demo["tickets"], fmt)
    out = tmp_path / f"masked.{fmt}"
    result = _invoke(runner, source, "-o", out, "--chunk-rows", 40, "--home", tmp_path / "h")
    assert result.exit_code == 0, result.output
    masked = _read(out)
    assert list(masked.columns) == list(demo["tickets"].columns)
    assert masked["工单编号"].tolist() == demo["tickets"]["工单编号"].tolist()  # row order kept
    _no_raw_identifier(masked)
    assert masked["联系电话"].str.fullmatch(r"\d{3}\*{4}\d{4}").all()
    assert not (tmp_path / f"masked.{fmt}.partial").exists()


def test_gbk_csv_in_utf8_out(tmp_path, runner, demo):
    source = _write(tmp_path / "residents.csv", demo["residents"], "csv", gbk=True)
    out = tmp_path / "masked.csv"
    result = _invoke(runner, source, "-o", out, "--chunk-rows", 64)
    assert result.exit_code == 0, result.output
    assert "output is UTF-8" in result.output
    masked = pd.read_csv(out, dtype=str, encoding="utf-8")
    assert masked["姓名"].str.fullmatch(r"\w\*+").all()
    assert masked["身份证号"].str.fullmatch(r"\d{6}\*{8}\d{3}[\dX]").all()
    assert masked["性别"].tolist() == demo["residents"]["性别"].tolist()
    _no_raw_identifier(masked)


def test_policy_drop_and_hash_match_the_servers_pseudonyms(tmp_path, runner, demo):
    home = tmp_path / "home"
    master = MasterKey.load(secret=None, home=home)  # creates home/master.key like `govex init`
    source = _write(tmp_path / "residents.parquet", demo["residents"], "parquet")
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps({"身份证号": "hash", "住址": {"operator": "drop"},
                                  "姓名": {"operator": "mask", "params": {"keep_first": 0}}}))
    out = tmp_path / "masked.parquet"
    result = _invoke(runner, source, "-o", out, "--policy", policy, "--recipient", "civil",
                     "--home", home)
    assert result.exit_code == 0, result.output
    masked = _read(out)
    assert "住址" not in masked.columns
    assert list(masked.columns) == ["姓名", "性别", "身份证号", "出生日期", "手机号", "所属区划"]
    assert masked["姓名"].str.fullmatch(r"\*+").all()
    server = mask_table(demo["residents"][["身份证号"]],
                        {"身份证号": ColumnRule("hash", "CN_RESIDENT_ID")},
                        hash_key=master.pseudonym_key("civil"))
    assert masked["身份证号"].tolist() == server["身份证号"].tolist()
    other = tmp_path / "other.parquet"
    assert _invoke(runner, source, "-o", other, "--policy", policy, "--recipient", "health",
                   "--home", home).exit_code == 0
    assert not set(_read(other)["身份证号"]) & set(masked["身份证号"])


def test_secret_from_environment_keys_the_pseudonyms(tmp_path, runner, demo):
    source = _write(tmp_path / "r.jsonl", demo["residents"], "jsonl")
    policy = tmp_path / "p.json"
    policy.write_text('{"手机号": "hash"}')
    secret = "a-long-enough-instance-secret"
    env = {"GOVEX_SECRET": secret}
    result = _invoke(runner, source, "-o", tmp_path / "o.jsonl", "--policy", policy,
                     "--recipient", "civil", "--home", tmp_path / "nowhere", env=env)
    assert result.exit_code == 0, result.output
    key = MasterKey.load(secret=secret, home=tmp_path).pseudonym_key("civil")
    expected = mask_table(demo["residents"][["手机号"]],
                          {"手机号": ColumnRule("hash", "CN_MOBILE")}, hash_key=key)
    assert _read(tmp_path / "o.jsonl")["手机号"].tolist() == expected["手机号"].tolist()
    assert not (tmp_path / "nowhere").exists()


def test_report_describes_every_column(tmp_path, runner, demo):
    source = _write(tmp_path / "tickets.xlsx", demo["tickets"], "xlsx")
    report = tmp_path / "report.json"
    result = _invoke(runner, source, "-o", tmp_path / "o.xlsx", "--report", report)
    assert result.exit_code == 0, result.output
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["rows"] == ROWS and data["format"] == "xlsx"
    by_name = {c["column"]: c for c in data["columns"]}
    assert list(by_name) == list(demo["tickets"].columns)
    phone = by_name["联系电话"]
    assert (phone["kind"], phone["entity"], phone["operator"]) == (
        "identifier", "CN_MOBILE", "mask")
    assert phone["confidence"] >= 0.9 and phone["rows"] == ROWS and phone["changed"] == ROWS
    assert by_name["诉求内容"]["kind"] == "free_text" and by_name["诉求内容"]["operator"] == "scrub"
    assert 0 < by_name["诉求内容"]["changed"] <= ROWS
    assert by_name["处理部门"]["operator"] == "keep" and by_name["处理部门"]["changed"] == 0


@pytest.mark.parametrize(("policy", "message"), [
    ("{not json", "not a JSON policy"),
    ('["hash"]', "JSON object"),
    ('{"姓名": "shred"}', "no masking operator named 'shred'"),
    ('{"没有这列": "drop"}', "does not have"),
    ('{"姓名": {"operator": "mask", "params": {"keep_frist": 1}}}', "keep_frist"),
    ('{"姓名": {"op": "mask"}}', "expected an operator name"),
    ('{"身份证号": "hash"}', "--recipient"),
])
def test_bad_policy_is_one_clear_error(tmp_path, runner, demo, policy, message):
    source = _write(tmp_path / "r.csv", demo["residents"], "csv")
    path = tmp_path / "policy.json"
    path.write_text(policy, encoding="utf-8")
    result = runner.invoke(cli, ["mask", str(source), "-o", str(tmp_path / "o.csv"),
                                 "--policy", str(path)])
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o.csv").exists()


def test_bad_paths_are_refused(tmp_path, runner, demo):
    source = _write(tmp_path / "r.csv", demo["residents"], "csv")
    wrong = runner.invoke(cli, ["mask", str(source), "-o", str(tmp_path / "o.parquet")])
    assert wrong.exit_code == 1 and "must be csv like INPUT" in wrong.output
    same = runner.invoke(cli, ["mask", str(source), "-o", str(source)])
    assert same.exit_code == 1 and "must not be INPUT" in same.output
    broken = tmp_path / "broken.csv"
    broken.write_bytes("姓名,手机号\n张伟,13812345678\n李娜\n".encode())
    ragged = runner.invoke(cli, ["mask", str(broken), "-o", str(tmp_path / "b.csv")])
    assert ragged.exit_code == 1 and "malformed CSV" in ragged.output
    assert not (tmp_path / "b.csv").exists() and not (tmp_path / "b.csv.partial").exists()


def test_recipient_without_an_instance_key_is_refused(tmp_path, runner, demo):
    source = _write(tmp_path / "r.csv", demo["residents"], "csv")
    result = runner.invoke(cli, ["mask", str(source), "-o", str(tmp_path / "o.csv"),
                                 "--recipient", "civil", "--home", str(tmp_path / "empty")],
                           env={"GOVEX_SECRET": ""})
    assert result.exit_code == 1 and "no master key" in result.output


def test_progress_bar_on_request(tmp_path, runner, demo):
    source = _write(tmp_path / "r.csv", demo["residents"], "csv")
    result = runner.invoke(cli, ["mask", str(source), "-o", str(tmp_path / "o.csv"),
                                 "--progress", "--chunk-rows", "50"])
    assert result.exit_code == 0
    assert "masking (bytes)" in result.output


@pytest.mark.parametrize(("recipient", "ok"), [("civil", True), ("nosuchdept", False)])
def test_a_recipient_must_be_a_department_of_the_instance(tmp_path, runner, demo, recipient,
                                                          ok, settings_for):
    from exchange.config import load_settings
    from exchange.services import Services
    from exchange.usecases.admin import ensure_department, init_instance
    settings = load_settings(settings_for(tmp_path / "home"), environ={})
    init_instance(settings)
    ensure_department(Services(settings), "civil", "市民政局", "Civil Affairs Bureau")
    source = _write(tmp_path / "r.csv", demo["residents"], "csv")
    out = tmp_path / "o.csv"
    result = _invoke(runner, source, "-o", out, "--policy", _hash_policy(tmp_path),
                     "--recipient", recipient, "--home", settings.home,
                     env={"GOVEX_SECRET": "", "GOVEX_DATABASE_URL": settings.database_url})
    assert (result.exit_code == 0) is ok, result.output
    assert out.exists() is ok
    if not ok:
        assert "unknown department 'nosuchdept'" in result.output and "civil" in result.output


def _hash_policy(tmp_path):
    policy = tmp_path / "hash.json"
    policy.write_text('{"手机号": "hash"}')
    return policy
