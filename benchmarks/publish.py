"""Publishing a city's resident register and delivering it, on one machine, in bounded memory.

    .venv/bin/python benchmarks/publish.py [--rows 21000000] [--formats parquet,csv]
                                           [--anchor-rows 1000000] [--repeat 3] [--workdir DIR]
                                           [--no-server]

A generated register of ``--rows`` residents (default 21 M, 成都's size; fake data): 姓名, 性别,
出生日期, 身份证号 (GB 11643, valid check characters, 成都 area codes), 手机号 (real carrier
prefixes), 住址 (成都 district, road, house number, building, unit, room). It is generated
vectorised with numpy and pyarrow a million rows at a time and written as Parquet (a row group
per million rows) and as CSV. Then, each step in a process of its own (its peak RSS is the
process's ``ru_maxrss``, imports and the analyzer included; rows/s is timed after a warm-up on
100 rows):

- publish:    ``exchange.usecases.publishing.publish`` on the file on disk (as the API hands it
              the spooled upload): read in chunks, the first 100,000 rows profiled and checked by
              Great Expectations, every row counted, the file stored encrypted, recorded, logged;
- server:     the CSV uploaded to a real ``govex serve`` by ``govex``'s client (streamed from disk
              as multipart), received by waitress, spooled, published; the server process's peak
              RSS (VmHWM), after a warm-up upload;
- deliver:    ``exchange.usecases.delivery.deliver`` of the published CSV dataset as CSV under a
              grant that masks the name, mobile and address, hashes the ID and generalizes the
              birth date;
- whole-file: what publishing did before, at ``--anchor-rows`` (it holds the file, the table
              and Great Expectations' copies in memory): read the bytes, ``read_table``, profile,
              validate the whole frame, seal the bytes (no records); beside ``publish`` on the
              same file, ``--repeat`` times each, interleaved, medians.

Not a test: figures to read.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BATCH = 1_000_000
WARM_ROWS = 100
PLAN = {"姓名": "mask", "性别": "keep", "出生日期": "generalize", "身份证号": "hash",
        "手机号": "mask", "住址": "mask"}
RECEIVER = "tax"
DISTRICTS = {"510104": "锦江区", "510105": "青羊区", "510106": "金牛区", "510107": "武侯区",
             "510108": "成华区", "510112": "龙泉驿区", "510113": "青白江区", "510114": "新都区",
             "510115": "温江区", "510116": "双流区", "510117": "郫都区", "510118": "新津区",
             "510121": "金堂县", "510129": "大邑县", "510131": "蒲江县", "510181": "都江堰市",
             "510182": "彭州市", "510183": "邛崃市", "510184": "崇州市", "510185": "简阳市"}
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
            "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺")
GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文辉鹏飞玲燕红波宇浩然涵欣怡思雨俊"
         "梅志海春兰")
ROADS = ("人民南路", "春熙路", "天府大道", "蜀都大道", "一环路", "二环路", "科华北路", "玉林路",
         "建设路", "光华大道", "红星路", "东大街", "府青路", "金府路", "川藏路", "锦华路")
MOBILE_PREFIXES = (133, 135, 136, 137, 138, 139, 150, 151, 152, 157, 158, 159, 177, 180, 181,
                   182, 183, 186, 187, 188, 189, 199)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


# --- the register, generated ------------------------------------------------------------------


def register(rows: int, *, seed: int = 7) -> Iterator[Any]:
    """``rows`` residents as pyarrow tables of at most a million rows (seeded)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    for start in range(0, rows, BATCH):
        yield _residents(rng, min(BATCH, rows - start))


def _residents(rng: Any, n: int) -> Any:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    def pick(pool: Any, size: int = n) -> Any:
        return pa.array(list(pool)).take(pa.array(rng.integers(0, len(pool), size)))

    def text(values: Any) -> Any:
        return pc.cast(pa.array(values), pa.string())

    join = pc.binary_join_element_wise
    district = rng.integers(0, len(DISTRICTS), n)
    area = np.array([int(c) for c in DISTRICTS], dtype=np.int64)[district]
    births = np.datetime64("1930-01-01") + rng.integers(0, 34_700, n).astype("timedelta64[D]")
    months = births.astype("datetime64[M]")
    ymd = ((months.astype("datetime64[Y]").astype(np.int64) + 1970) * 10_000
           + (months.astype(np.int64) % 12 + 1) * 100
           + (births - months.astype("datetime64[D]")).astype(np.int64) + 1)
    sequence = rng.integers(0, 1000, n)  # its last digit odd: a man
    body = area * 10**11 + ymd * 1000 + sequence
    weighted = sum(((body // 10 ** (16 - i)) % 10) * w for i, w in enumerate(_ID_WEIGHTS))
    check = np.array(list("10X98765432"))[weighted % 11]
    second = pa.array([""] * 4 + list(GIVEN)).take(pa.array(rng.integers(0, len(GIVEN) + 4, n)))
    mobile = np.array(MOBILE_PREFIXES, dtype=np.int64)[rng.integers(0, len(MOBILE_PREFIXES), n)]
    names = pa.array(list(DISTRICTS.values())).take(pa.array(district))
    return pa.table({
        "姓名": join(pick(SURNAMES), pick(GIVEN), second, ""),
        "性别": pa.array(np.where(sequence % 2 == 1, "男", "女")),
        "出生日期": pc.cast(pa.array(births.astype("datetime64[D]")), pa.string()),
        "身份证号": join(text(body), pa.array(check), ""),
        "手机号": text(mobile * 10**8 + rng.integers(0, 10**8, n)),
        "住址": join(pa.scalar("四川省成都市"), names, pick(ROADS),
                   text(rng.integers(1, 400, n)), pa.scalar("号"), text(rng.integers(1, 30, n)),
                   pa.scalar("栋"), text(rng.integers(1, 6, n)), pa.scalar("单元"),
                   text(rng.integers(101, 3300, n)), pa.scalar("室"), ""),
    })


def write_register(rows: int, folder: Path, formats: list[str], *, seed: int = 7) -> dict:
    """The register written in each of ``formats`` into ``folder``: {format: path}."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    paths = {fmt: folder / f"户籍人口-{rows}.{fmt}" for fmt in formats}
    writers: dict[str, Any] = {}
    for table in register(rows, seed=seed):
        if not writers:
            if "parquet" in paths:
                writers["parquet"] = pq.ParquetWriter(paths["parquet"], table.schema)
            if "csv" in paths:
                writers["csv"] = pacsv.CSVWriter(paths["csv"], table.schema)
        for fmt, writer in writers.items():
            if fmt == "parquet":
                writer.write_table(table, row_group_size=BATCH)
            else:
                writer.write_table(table)
    for writer in writers.values():
        writer.close()
    return paths


def check_sample(path: Path) -> None:
    """The generated IDs carry valid check characters and real dates (checked on a sample)."""
    import pyarrow.parquet as pq

    from masking.checksums import is_valid_resident_id
    first = pq.ParquetFile(path).read_row_group(0, columns=["身份证号"]).column(0)
    assert all(is_valid_resident_id(v) for v in first.slice(0, 10_000).to_pylist())


# --- the instance -----------------------------------------------------------------------------


def _settings(home: Path) -> Any:
    from exchange.config import load_settings
    return load_settings({"home": home, "max_upload_bytes": 1 << 36,
                          "max_upload_rows": 10**9}, environ={})


def build_instance(home: Path) -> str:
    """A fresh instance: departments civil (provider) and tax, a steward and a requester.
    Returns the steward's token."""
    from exchange.services import Services
    from exchange.usecases.admin import create_user, ensure_department, init_instance

    settings = _settings(home)
    init_instance(settings)
    svc = Services(settings)
    for code, name in (("civil", "民政局"), (RECEIVER, "税务局")):
        ensure_department(svc, code, name, code)
    tokens = [create_user(svc, username=user, password="bench-" + user, role=role,
                          department=dept)
              for user, dept, role in (("civil-steward", "civil", "steward"),
                                       ("tax-requester", RECEIVER, "requester"))]
    svc.engine.dispose()
    return tokens[0]


def through_server(home: Path, token: str, path: Path, small: Path) -> dict[str, Any]:
    """Publish ``path`` through a real ``govex serve`` on ``home``: rate, and the server's peak
    RSS (warmed up by publishing ``small`` first)."""
    import requests

    from exchange.client import Client

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "GOVEX_HOME": str(home), "GOVEX_MAX_UPLOAD_BYTES": str(1 << 36),
           "GOVEX_MAX_UPLOAD_ROWS": str(10**9)}
    govex = str(Path(sys.executable).with_name("govex"))
    server = subprocess.Popen([govex, "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(url + "/healthz", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        client = Client(url, token=token, timeout=3600)
        meta = {"title": "经服务器", "sharing": "conditional", "level": "L3"}
        client.publish(small.name, small, meta)
        before = _status_mb(server.pid, "VmRSS")
        start = time.perf_counter()
        done = client.publish(path.name, path, meta)
        seconds = time.perf_counter() - start
        return {"rows": done["row_count"], "seconds": seconds,
                "rows_per_s": done["row_count"] / seconds, "rss_before_mb": before,
                "peak_mb": _status_mb(server.pid, "VmHWM")}
    finally:
        server.terminate()
        server.wait(timeout=60)


def _status_mb(pid: int | str, field: str) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines()
                    if line.startswith(field)).split()[1]) / 1024


# --- the steps, each in a child process --------------------------------------------------------


def _principals() -> tuple[Any, Any]:
    from exchange.auth import Principal
    return (Principal("civil-steward", "", "civil", "steward"),
            Principal("tax-requester", "", RECEIVER, "requester"))


def _timed(step: Any) -> dict[str, Any]:
    rss_before = _rss_mb()
    start = time.perf_counter()
    rows, extra = step()
    seconds = time.perf_counter() - start
    return {"rows": rows, "seconds": seconds, "rows_per_s": rows / seconds,
            "rss_before_mb": rss_before, **extra}


def _publish(svc: Any, path: Path) -> tuple[int, dict]:
    from exchange.usecases.publishing import publish
    steward, _ = _principals()
    done = publish(svc, steward, filename=path.name, data=path, metadata={
        "title": path.name, "sharing": "conditional", "level": "L3"})
    return done["row_count"], {"dataset_id": done["id"], "quality_passed": done["quality_passed"]}


def _whole_file(svc: Any, path: Path) -> tuple[int, dict]:
    """Publishing as it was before chunks: the whole file, table and checks in memory."""
    from catalog import formats, quality
    from exchange.usecases.publishing import EXPANSION_LIMIT, IDENTIFIER_PATTERNS
    from masking import profile_table

    data = path.read_bytes()
    fmt = formats.detect_format(path.name, data)
    frame = formats.read_table(data, fmt=fmt, max_rows=svc.settings.max_upload_rows,
                               max_bytes=EXPANSION_LIMIT * svc.settings.max_upload_bytes)
    profiles = profile_table(frame, analyzer=svc.analyzer())
    report = quality.validate_table(
        frame, columns=list(frame.columns), not_null=[],
        patterns={p.column: IDENTIFIER_PATTERNS[p.entity] for p in profiles
                  if p.kind == "identifier" and p.entity in IDENTIFIER_PATTERNS})
    svc.store.put(data)
    return len(frame), {"quality_passed": report.success}


def _deliver(svc: Any, dataset_id: str) -> tuple[int, dict]:
    from exchange.usecases.access import approve, create_request
    from exchange.usecases.delivery import deliver
    steward, requester = _principals()
    asked = create_request(svc, requester, dataset_id=dataset_id, purpose="benchmark",
                           columns=list(PLAN))
    grant = approve(svc, steward, asked["id"], masking=PLAN)["grant_id"]
    done = deliver(svc, requester, grant, fmt="csv")
    return done["row_count"], {}


def child(args: argparse.Namespace) -> dict[str, Any]:
    """One step after a warm-up on the small file, with this process's peak RSS."""
    from exchange.services import Services

    svc = Services(_settings(Path(args.home)))
    small, big = Path(args.small), Path(args.file or args.small)
    warm = _publish(svc, small)[1]["dataset_id"]
    if args.child == "publish":
        result = _timed(lambda: _publish(svc, big))
    elif args.child == "whole-file":
        result = _timed(lambda: _whole_file(svc, big))
    else:
        _deliver(svc, warm)
        result = _timed(lambda: _deliver(svc, args.dataset))
    return {**result, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _rss_mb() -> float:
    return _status_mb("self", "VmRSS")


# --- the parent -------------------------------------------------------------------------------


def run_child(args: argparse.Namespace, step: str, **more: str) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", step, "--home", str(args.home),
               "--small", str(args.small)]
    for key, value in more.items():
        command += [f"--{key}", value]
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def show(label: str, r: dict[str, Any]) -> None:
    print(f"  {label:<30} {r['rows']:>11,} rows  {r['rows_per_s']:>9,.0f} rows/s  "
          f"{r['seconds']:7.1f} s  peak RSS {r['peak_mb']:6.0f} MB "
          f"(before the step {r['rss_before_mb']:.0f} MB)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=21_000_000)
    parser.add_argument("--formats", default="parquet,csv")
    parser.add_argument("--anchor-rows", type=int, default=1_000_000,
                        help="rows of the old whole-file path against the new (0: skip)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--no-server", action="store_true",
                        help="leave out publishing through a real govex serve")
    for hidden in ("child", "home", "small", "file", "dataset"):
        parser.add_argument(f"--{hidden}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    with tempfile.TemporaryDirectory(prefix="govex-bench-publish-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        run(args, workdir)


def run(args: argparse.Namespace, workdir: Path) -> None:
    formats = args.formats.split(",")
    start = time.perf_counter()
    files = write_register(args.rows, workdir, formats)
    sizes = ", ".join(f"{fmt} {p.stat().st_size / 2**20:,.0f} MB" for fmt, p in files.items())
    print(f"register of {args.rows:,} residents generated in {time.perf_counter() - start:.0f} s"
          f" ({sizes})", flush=True)
    args.small = write_register(WARM_ROWS, workdir, ["csv"], seed=8)["csv"]
    if "parquet" in files:
        check_sample(files["parquet"])
    args.home = workdir / "home"
    token = build_instance(args.home)
    published = {}
    for fmt, path in files.items():
        r = run_child(args, "publish", file=str(path))
        published[fmt] = r["dataset_id"]
        show(f"publish {fmt}", r)
    if not args.no_server:
        fmt = "csv" if "csv" in files else formats[0]
        show(f"publish {fmt} via govex serve", through_server(args.home, token, files[fmt],
                                                              args.small))
    delivered = published.get("csv") or next(iter(published.values()))
    show("deliver (CSV out)", run_child(args, "deliver", dataset=delivered))
    if args.anchor_rows:
        anchor(args, workdir, formats[-1])


def anchor(args: argparse.Namespace, workdir: Path, fmt: str) -> None:
    """The whole-file path against the chunked one on the same file, interleaved, medians."""
    path = write_register(args.anchor_rows, workdir, [fmt], seed=9)[fmt]
    print(f"at {args.anchor_rows:,} rows ({fmt}, {path.stat().st_size / 2**20:,.0f} MB), "
          f"{args.repeat} rounds each, interleaved:", flush=True)
    runs: dict[str, list[dict]] = {"publish": [], "whole-file": []}
    for _ in range(args.repeat):
        for step in runs:
            runs[step].append(run_child(args, step, file=str(path)))
    for step, done in runs.items():
        median = {key: statistics.median(r[key] for r in done)
                  for key in ("rows", "seconds", "rows_per_s", "peak_mb", "rss_before_mb")}
        show(f"{step} (median)", median)
        rates = ", ".join(f"{r['rows_per_s']:,.0f}" for r in done)
        peaks = ", ".join(f"{r['peak_mb']:.0f}" for r in done)
        print(f"    rounds: {rates} rows/s; peak {peaks} MB", flush=True)


if __name__ == "__main__":
    main()
