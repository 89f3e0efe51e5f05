"""Which encodings a CSV may be in: real text written with Python's codecs, read or refused.

The exchange reads UTF-8 and GBK/GB18030. Big5 and Shift-JIS bytes also decode as GB18030, into
garbled text; they must be refused, not published as mojibake.
"""

from __future__ import annotations

import codecs
import io

import pytest

from catalog import formats
from catalog._csv import scan_csv
from catalog._text import MIN_EVIDENCE
from catalog.errors import InvalidUpload

HEADER = "姓名,住址,诉求内容\n"
SIMPLIFIED = HEADER + (
    "张伟,北京市朝阳区建国路88号院3号楼2单元501室,市民反映小区门口道路积水严重，请尽快处理。\n"
    "王芳,江苏省南京市玄武区中山路1号,投诉楼上邻居夜间装修噪音扰民，影响休息。\n"
    "李娜,广东省广州市天河区体育西路103号,咨询新生儿户口登记需要准备哪些材料？\n"
    "刘喆,四川省成都市锦江区春熙路步行街,反映公交车站台破损，存在安全隐患（附照片）。\n"
    "陈堃,浙江省杭州市西湖区文三路,建议在学校周边增设人行横道和减速带——“越快越好”。\n"
)
TRADITIONAL = "姓名,地址,陳情內容\n" + (
    "陳志明,臺北市信義區市府路1號,市民反映社區門口道路積水嚴重，請儘速處理。\n"
    "林淑芬,新北市板橋區中山路一段161號,檢舉樓上鄰居夜間裝修噪音擾民，影響休息。\n"
    "黃建國,臺中市西屯區臺灣大道三段99號,諮詢新生兒戶籍登記需要準備哪些文件。\n"
)
JAPANESE = "氏名,住所,問い合わせ内容\n" + (
    "山田太郎,東京都新宿区西新宿二丁目8番1号,住民票の写しを取得したいのですが、必要な書類を教えてください。\n"
    "佐藤花子,大阪府大阪市北区中之島一丁目3番20号,道路の陥没について連絡します。早急に対応をお願いします。\n"
    "鈴木一郎,愛知県名古屋市中区三の丸三丁目1番1号,ゴミの収集日が変わったと聞きましたが、いつからですか。\n"
)
# a roster whose names use characters outside GB2312's common ones (喆 堃 赟 玥 昇 珺), as names do
RARE_NAMES = HEADER + "".join(f"{name},成都市锦江区,无\n" for name in (
    "刘喆", "陈堃", "王赟", "李玥", "张昇", "赵珺", "孙伟", "周芳", "吴娜", "郑敏") * 3)


def _scan(data: bytes):
    return scan_csv(lambda: io.BytesIO(data))


@pytest.mark.parametrize(("data", "encoding"), [
    (SIMPLIFIED.encode("utf-8"), "utf8"),
    (codecs.BOM_UTF8 + SIMPLIFIED.encode("utf-8"), "utf8"),
    (SIMPLIFIED.encode("gbk"), "gb18030"),
    (SIMPLIFIED.encode("gb18030"), "gb18030"),
    ((HEADER + "䶮,广州市,无\n").encode("gb18030"), "gb18030"),   # a GB18030-only character
    (TRADITIONAL.encode("gbk"), "gb18030"),      # traditional Chinese written in GBK is Chinese
    (RARE_NAMES.encode("gbk"), "gb18030"),
    (JAPANESE.encode("utf-8"), "utf8"),          # UTF-8 holds any script: nothing to guess
    ((HEADER + "刘喆,无,无\n").encode("gbk"), "gb18030"),  # too little beyond ASCII to judge
], ids=["utf8", "utf8-bom", "gbk", "gb18030", "gb18030-only-char", "traditional-in-gbk",
        "rare-name-characters", "japanese-in-utf8", "below-min-evidence"])
def test_text_in_an_accepted_encoding_reads_as_written(data, encoding):
    assert _scan(data).encoding == encoding
    text = data.decode("utf-8-sig" if encoding == "utf8" else "gb18030")
    frame = formats.read_table(data, fmt="csv")
    assert frame.to_csv(index=False, lineterminator="\n") == text


@pytest.mark.parametrize(("data", "message"), [
    (TRADITIONAL.encode("big5"), "read as GBK it is garbled .* is it Big5 or Shift-JIS"),
    (JAPANESE.encode("shift_jis"), "read as GBK it is garbled .* is it Big5 or Shift-JIS"),
    (JAPANESE.encode("cp932"), "read as GBK it is garbled"),
    (JAPANESE.encode("euc_jp"), "read as GBK it is garbled"),  # kana survive as GBK kana
    (codecs.BOM_UTF8 + SIMPLIFIED.encode("gbk"),
     "starts with a UTF-8 byte-order mark, but line 1 holds bytes that are not UTF-8"),
    (SIMPLIFIED.encode("utf-8") + "赵敏,无,无\n".encode("gbk"),
     "it is UTF-8 up to line 7, which holds bytes that are not"),
    (SIMPLIFIED.encode("utf-16"), "it is UTF-16"),
    (SIMPLIFIED.encode("utf-16-le"), "holds a NUL byte, as binary files and UTF-16 text do"),
    (b"a,b\n1,2\n3,\x1b[31m\n", r"line 3 holds a control character \(U\+001B\)"),
    (SIMPLIFIED.encode("gbk") + b"9,\x81\x20,x\n", "line 7 holds a byte that is neither"),
], ids=["big5", "shift-jis", "cp932", "euc-jp", "bom-then-gbk", "utf8-then-gbk", "utf-16",
        "utf-16-without-bom", "escape-sequence", "not-gbk-either"])
def test_other_encodings_are_refused_saying_which_are_read(data, message):
    with pytest.raises(InvalidUpload, match=message) as refused:
        _scan(data)
    assert str(refused.value).startswith("the file is not UTF-8 or GBK text")
    assert "UTF-8 or GBK/GB18030" in str(refused.value)


def test_the_judgement_needs_evidence():
    """Below MIN_EVIDENCE characters beyond ASCII nothing is judged; from it on, all count."""
    few = (HEADER + "喆堃赟,无,无\n").encode("gbk")  # all three outside GB2312
    assert _scan(few).encoding == "gb18030"
    many = (HEADER + "喆堃赟" * MIN_EVIDENCE + ",无,无\n").encode("gbk")
    with pytest.raises(InvalidUpload, match="garbled"):
        _scan(many)


def test_gbk_is_judged_on_what_follows_a_long_ascii_start():
    """The encoding is the whole file's: a Big5 part after 2 MiB of ASCII is still found."""
    ascii_rows = "".join(f"{i},x,y\n" for i in range(250_000)).encode()
    assert len(ascii_rows) > 2 << 20
    data = b"name,address,text\n" + ascii_rows + TRADITIONAL.split("\n", 1)[1].encode("big5")
    with pytest.raises(InvalidUpload, match="is it Big5"):
        _scan(data)
