"""The identifier path gives what it gave before its kernels were rewritten: the same masked
values, the same pseudonyms per receiving department, the same counts, from UTF-8 or GBK input.

The expected values below were produced by the code before the bulk kernels (commit 9292635)
on these cases; the plan is fixed by a policy, so the profiler's verdicts do not enter.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from click.testing import CliRunner

from exchange.cli import cli
from masking import ChunkedMasker, rules_from_policy

from .conftest import ID_A, ID_B, USCC, wrong_check

BAD_ID = wrong_check(ID_B)
BAD_USCC = wrong_check(USCC)
COLUMNS = ["姓名", "身份证号", "手机号", "住址", "统一社会信用代码"]
ROWS = [
 ("张伟", ID_A, "13812345678", "四川省成都市锦江区春熙路1号", USCC),
 ("欧阳娜娜", ID_B.lower(), "+86 138-1234-5678", "北京市朝阳区建国路88号", BAD_USCC),
 ("阿依古丽·买买提", BAD_ID, "008613912345678", "春熙路1号", "91510100MA6CXX8B"),
 ("John Smith", "110105 19491231 002X", "139 1234 5678",
  "新疆维吾尔自治区乌鲁木齐市天山区解放南路5号", USCC.lower()),
 ("李", "1101051949123100", "028-85123456", "香港特别行政区中西区皇后大道中100号",
  "123456789012345678"),
 (None, None, None, None, None),
 ("  刘洋 ", ID_A, "无", "四川省 成都市 武侯区 人民南路四段12号", USCC),
 ("王 芳", "unknown", "13812345678", "\u3000四川省成都市青羊区小南街110号2栋1单元2804室", USCC),
 ("陈静", ID_B, "1381234567", "四川省成都市锦江区", BAD_USCC),
 ("赵敏", ID_A, "15912345678", "成都市高新区天府大道北段1700号", USCC),
 ("孙丽", ID_B, "18612345678", "Room 5, 12 Main St", USCC),
 ("周杰", ID_A, "13712345678", "四川省成都市锦江区红星路街道东风路3号", USCC),
 ("吴磊", ID_B, "13612345678", "四川省", USCC),
 ("郑爽", ID_A, "+8613512345678", "广西壮族自治区南宁市青秀区民族大道100号", USCC),
 ("冯巩", ID_B, "13412345678", "四川省成都市简阳市雄州大道1号", USCC),
]
MASK_POLICY = {"姓名": {"operator": "mask", "entity": "PERSON"},
               "身份证号": {"operator": "mask", "entity": "CN_RESIDENT_ID"},
               "手机号": {"operator": "mask", "entity": "CN_MOBILE"},
               "住址": {"operator": "mask", "entity": "LOCATION"},
               "统一社会信用代码": {"operator": "mask", "entity": "CN_USCC"}}
HASH_POLICY = {"姓名": {"operator": "hash", "entity": "PERSON"},
               "身份证号": {"operator": "hash", "entity": "CN_RESIDENT_ID"},
               "手机号": {"operator": "hash", "entity": "CN_MOBILE"},
               "住址": {"operator": "generalize", "entity": "LOCATION"},
               "统一社会信用代码": {"operator": "hash", "entity": "CN_USCC"}}
KEY_A = b"hotline-department-key-0123456789"
KEY_B = b"police-department-key-9876543210"
SECRET = "golden-case-secret-not-for-production"

MASKED = [
    ("张*", "110105********002X", "138****5678", "四川省成都市锦江区*****", "915101**********0G"),
    ("欧阳**",  # a compound surname is kept whole (DESIGN: a name keeps its surname)
     "510104********3452", "138****5678", "北京市朝阳区******", "915101**********00"),
    ("阿*******", "510104********3450", "139****5678", "*****", "915101********8B"),
    ("J*** S****", "110105********002X", "139****5678", "新疆维吾尔自治区乌鲁木齐市天山区******",
     "915101**********0g"),
    ("*", "110105******3100", "028****3456", "香港特别行政区中西区*********", "123456**********78"),
    (None, None, None, None, None),
    ("  ** ", "110105********002X", "*", "四川省 成都市 武侯区**********", "915101**********0G"),
    ("王 *", "*******", "138****5678", "　四川省成都市青羊区*****************",
     "915101**********0G"),
    ("陈*", "510104********3452", "138***4567", "四川省成都市锦江区", "915101**********00"),
    ("赵*", "110105********002X", "159****5678", "成都市高新区***********", "915101**********0G"),
    ("孙*", "510104********3452", "186****5678", "******************", "915101**********0G"),
    ("周*", "110105********002X", "137****5678", "四川省成都市锦江区**********",
     "915101**********0G"),
    ("吴*", "510104********3452", "136****5678", "四川省", "915101**********0G"),
    ("郑*", "110105********002X", "135****5678", "广西壮族自治区南宁市青秀区********",
     "915101**********0G"),
    ("冯*", "510104********3452", "134****5678", "四川省成都市简阳市******", "915101**********0G"),
]
HASHED_A = [
    ("2uoaiiq36nf2udik", "qvjekqf3burqblk6", "v4rlba73y2cg3l5m", "四川省成都市锦江区",
     "opv36akgl6ei3ihf"),
    ("g37xloxbglmph347", "bfvb5mdstiry4lvs", "v4rlba73y2cg3l5m", "北京市朝阳区",
     "qbgxvasfj6qp3uud"),
    ("kdnhajldcbrzwatm", "qrrrkmllavlxbzhc", "c2s7tuks7ucnuib2", None, "nmmxqg4vcugzajlp"),
    ("lgorctrqrxmwkcdy", "qvjekqf3burqblk6", "c2s7tuks7ucnuib2", "新疆维吾尔自治区乌鲁木齐市天山区",
     "opv36akgl6ei3ihf"),
    ("n75nd357dc3fqztj", "s75cfe5j6yizel3t", "fxsbzfgnwdyzpqt4", "香港特别行政区中西区",
     "kas3w4jl3xyzred7"),
    (None, None, None, None, None),
    ("7ps5luiast3ff2ek", "qvjekqf3burqblk6", "esdboxwqao42zlib", "四川省 成都市 武侯区",
     "opv36akgl6ei3ihf"),
    ("wrthqva7yh5mxu5e", "qpaxzsmha2hn6fdl", "v4rlba73y2cg3l5m", "四川省成都市青羊区",
     "opv36akgl6ei3ihf"),
    ("7jrs26vlmgpr2d5z", "bfvb5mdstiry4lvs", "sje24emb6mk7bk5k", "四川省成都市锦江区",
     "qbgxvasfj6qp3uud"),
    ("csekwqic5chqyvmh", "qvjekqf3burqblk6", "jytk3b3gyinn6w7h", "成都市高新区",
     "opv36akgl6ei3ihf"),
    ("35mznjeyouzdupoq", "bfvb5mdstiry4lvs", "42blqkdrjqapvltb", None, "opv36akgl6ei3ihf"),
    ("5xnmyvvax4zhpv2d", "qvjekqf3burqblk6", "z3aykzp4iudvb6ov", "四川省成都市锦江区",
     "opv36akgl6ei3ihf"),
    ("z7x3hg32bmry6icp", "bfvb5mdstiry4lvs", "skyg366yfafipzx6", "四川省", "opv36akgl6ei3ihf"),
    ("o4rtig22p5gdfmiy", "qvjekqf3burqblk6", "svrxb5qxfe3ymtmi", "广西壮族自治区南宁市青秀区",
     "opv36akgl6ei3ihf"),
    ("fpl7hx5pd5v3e243", "bfvb5mdstiry4lvs", "opudvkenla2fsxx2", "四川省成都市简阳市",
     "opv36akgl6ei3ihf"),
]
HASHED_B_MOBILES = ["3xr2c4t72efwz5mf", "3xr2c4t72efwz5mf", "65ay2mfesnilsar5", "65ay2mfesnilsar5",
                    "h6vf4m7bhigmrpwn", None, "4ts2krn2dvpjmjuu", "3xr2c4t72efwz5mf",
                    "bjcjvx36g6e4g53q", "fleu2crzgupdpr5n", "v4abf6aq7p6x2ojs", "foknw7sjbskflreq",
                    "kfw6xohxbittmvfl", "k3ustw4kf2xibmll", "r67i2kpkobjj3ukk"]
CLI_OUT = "".join(line + "\r\n" for line in """\
姓名,身份证号,手机号,住址,统一社会信用代码
"rmurjnmgfqa5r2qm","khluevlvzbahaohm","tr6rz2p5qpmzn66y","四川省成都市锦江区","ukombwfqdei776bz"
"qvq6con35j64jhpf","ml5i2mpui6xyqfij","tr6rz2p5qpmzn66y","北京市朝阳区","jskov23vif6c46df"
"2wixhqmrn7ateemi","khkwotbfxgniupa6","lh2yl52wyed7b3wi",,"rmb23o3vyjya23s3"
"urjgvu636xbqgtbl","khluevlvzbahaohm","lh2yl52wyed7b3wi","新疆维吾尔自治区乌鲁木齐市天山区","ukombwfqdei776bz"
"bzn3xvbpwetzvtzw","or7dusibt3dm54ul","ooufb6mab3itk3q3","香港特别行政区中西区","4njlfc37sckoo4o6"
,,,,
"jct7v2usdeb7u5tw","khluevlvzbahaohm","rxh7oapnsja7vrlv","四川省 成都市 武侯区","ukombwfqdei776bz"
"kdked74ql7yamxxl","aqhyrjfxd7lbmyj2","tr6rz2p5qpmzn66y","四川省成都市青羊区","ukombwfqdei776bz"
"lvum5xss3wdamxpr","ml5i2mpui6xyqfij","2jgbrgmruzoywmmz","四川省成都市锦江区","jskov23vif6c46df"
"aontri7l6sbibd2n","khluevlvzbahaohm","ji3kj7bvc5qy4b5x","成都市高新区","ukombwfqdei776bz"
"mb26jngpuzounq6s","ml5i2mpui6xyqfij","7so52lpacslbwouz",,"ukombwfqdei776bz"
"jyv347o2o74mlikp","khluevlvzbahaohm","hjhm75z5cvwc4boh","四川省成都市锦江区","ukombwfqdei776bz"
"3sianyldwqbltnsx","ml5i2mpui6xyqfij","hwjeinamwoyqodbd","四川省","ukombwfqdei776bz"
"t7mkr2l6lmpjyz4k","khluevlvzbahaohm","fapk6i6dbg3j2ba2","广西壮族自治区南宁市青秀区","ukombwfqdei776bz"
"yvt44memfoh2qck5","ml5i2mpui6xyqfij","iextwkatensa2243","四川省成都市简阳市","ukombwfqdei776bz"
""".splitlines())


def _table() -> pa.Table:
    return pa.table({c: [row[i] for row in ROWS] for i, c in enumerate(COLUMNS)})


def _masked(policy: dict, analyzer, key: bytes | None = None) -> tuple[list[tuple], list[tuple]]:
    masker = ChunkedMasker(policy=rules_from_policy(policy), hash_key=key, analyzer=analyzer)
    table = _table()
    out = pa.concat_tables([masker.mask(table.slice(0, 9)), masker.mask(table.slice(9))])
    counts = [(r.operator, r.rows, r.nulls, r.changed) for r in masker.report()]
    return list(zip(*(out.column(c).to_pylist() for c in COLUMNS))), counts


def test_display_masks_are_unchanged(analyzer):
    rows, counts = _masked(MASK_POLICY, analyzer)
    assert rows == MASKED
    assert counts == [("mask", 15, 1, 14)] * 3 + [("mask", 15, 1, 12), ("mask", 15, 1, 14)]


def test_pseudonyms_are_unchanged_and_differ_per_department(analyzer):
    rows, counts = _masked(HASH_POLICY, analyzer, KEY_A)
    assert rows == HASHED_A
    assert counts[3] == ("generalize", 15, 1, 12)
    other, _ = _masked(HASH_POLICY, analyzer, KEY_B)
    assert [r[2] for r in other] == HASHED_B_MOBILES
    assert not {r[2] for r in other} & {r[2] for r in rows} - {None}


@pytest.mark.parametrize("encoding", ["gbk", "utf-8"])
def test_govex_mask_file_is_unchanged(tmp_path, analyzer, encoding):
    lines = [",".join(COLUMNS)] + [",".join(_csv_cell(v) for v in row) for row in ROWS]
    source = tmp_path / "in.csv"
    source.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    (tmp_path / "policy.json").write_text(json.dumps(HASH_POLICY, ensure_ascii=False))
    result = CliRunner().invoke(cli, [
        "mask", str(source), "-o", str(tmp_path / "out.csv"),
        "--policy", str(tmp_path / "policy.json"),
        "--recipient", "公安局", "--home", str(tmp_path / "home"), "--chunk-rows", "7",
        "--report", str(tmp_path / "report.json")], env={"GOVEX_SECRET": SECRET},
        catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out.csv").read_bytes().decode("utf-8") == CLI_OUT
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["encoding"] == ("utf8" if encoding == "utf-8" else "gb18030")
    assert [(c["operator"], c["rows"], c["nulls"], c["changed"]) for c in report["columns"]] == [
        ("hash", 15, 1, 14)] * 3 + [("generalize", 15, 1, 12), ("hash", 15, 1, 14)]


def _csv_cell(value: str | None) -> str:
    if value is None:
        return ""
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value
